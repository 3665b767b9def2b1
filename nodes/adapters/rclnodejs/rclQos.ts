import type { QosProfile } from '../../core/qos.js';
import type { RclnodejsModule } from './loader.js';

/** rmw policy values (rclnodejs QoS enums; numeric because its enums are ambient). */
const RMW = {
  historyKeepLast: 1,
  reliable: 1,
  bestEffort: 2,
  transientLocal: 1,
  volatile: 2,
} as const;

/**
 * Our QosProfile → an rclnodejs QoS: KEEP_LAST depth, reliability and durability. Deadline, lifespan and
 * liveliness cannot be set through rclnodejs 2.2 (its native QoS conversion leaves them 0, infinite): staleness is checked by node logic with timers.
 */
export function toRclQos(profile: QosProfile, QoS: RclnodejsModule['QoS']): InstanceType<RclnodejsModule['QoS']> {
  if (!Number.isInteger(profile.depth) || profile.depth < 1) {
    throw new RangeError(`QoS depth: expected an integer >= 1, got ${profile.depth}`);
  }
  type Q = InstanceType<RclnodejsModule['QoS']>;
  return new QoS(
    RMW.historyKeepLast as unknown as ConstructorParameters<typeof QoS>[0],
    profile.depth,
    (profile.reliability === 'reliable' ? RMW.reliable : RMW.bestEffort) as unknown as ConstructorParameters<
      typeof QoS
    >[2],
    (profile.durability === 'transient_local' ? RMW.transientLocal : RMW.volatile) as unknown as ConstructorParameters<
      typeof QoS
    >[3],
  ) as Q;
}
