/** Quality of service, reduced to what rclnodejs 2.2 can actually set: depth, reliability, durability (no deadline, lifespan or liveliness). */
export interface QosProfile {
  reliability: 'reliable' | 'best_effort';
  durability: 'volatile' | 'transient_local';
  /** KEEP_LAST depth. */
  depth: number;
}

/** Camera and other high-rate sensor streams: the newest sample matters, losing one is fine. */
export const QOS_SENSOR: QosProfile = Object.freeze({ reliability: 'best_effort', durability: 'volatile', depth: 5 });
/** Commands, plans and state: every message is delivered while the link is up. */
export const QOS_COMMAND: QosProfile = Object.freeze({ reliability: 'reliable', durability: 'volatile', depth: 10 });
/** Latched information (e.g. the last reasoning text for late joiners). */
export const QOS_LATCHED: QosProfile = Object.freeze({
  reliability: 'reliable',
  durability: 'transient_local',
  depth: 1,
});

export const QOS_PRESETS = { sensor: QOS_SENSOR, command: QOS_COMMAND, latched: QOS_LATCHED } as const;
export type QosPresetName = keyof typeof QOS_PRESETS;
