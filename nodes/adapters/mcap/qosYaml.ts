/**
 * `offered_qos_profiles` as rosbag2 ≤ Iron writes it (metadata v ≤ 8): a YAML list with integer enums
 * (history 1 keep_last; reliability 1 reliable / 2 best_effort; durability 1 transient_local / 2 volatile;
 * liveliness 1 automatic) and "infinite" durations. Humble accepts only integers; Jazzy reads both.
 */
import type { QosProfile } from '../../core/qos.js';

const INFINITE = '    sec: 9223372036\n    nsec: 854775807';

export function qosProfilesYaml(qos: QosProfile): string {
  return [
    '- history: 1',
    `  depth: ${qos.depth}`,
    `  reliability: ${qos.reliability === 'reliable' ? 1 : 2}`,
    `  durability: ${qos.durability === 'transient_local' ? 1 : 2}`,
    `  deadline:\n${INFINITE}`,
    `  lifespan:\n${INFINITE}`,
    '  liveliness: 1',
    `  liveliness_lease_duration:\n${INFINITE}`,
    '  avoid_ros_namespace_conventions: false',
  ].join('\n');
}
