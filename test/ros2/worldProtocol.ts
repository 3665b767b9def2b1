/** What the test process and the world process (worldProcess.ts) say to each other, as JSON lines. */

export interface WorldOptions {
  speedMps: number;
  obeyCommands: boolean;
  /** Publish /clock from simStartS [s] and stamp with it; otherwise stamp with system time. */
  simClock?: { startS: number };
}

export interface WorldControl {
  stopCamera?: string;
  /** The camera's next frame is not published (a frame lost on a best-effort topic). */
  dropFrame?: string;
  odometryStopped?: boolean;
  obeying?: boolean;
  stampOffsetS?: number;
  clockRunning?: boolean;
  clockStepS?: number;
  exit?: boolean;
}

export interface WorldStatus {
  speedMps: number;
  xM: number;
  nowS: number;
}
