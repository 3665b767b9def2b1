export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Logging port. Messages are single lines; context goes in brackets at the end, e.g. "[node=ar1_planner]". */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface LogRecord {
  level: LogLevel;
  message: string;
}

/** Keeps records in memory (tests, replay reports) and optionally forwards them. */
export class MemoryLogger implements Logger {
  readonly records: LogRecord[] = [];
  constructor(
    private readonly forward?: Logger,
    private readonly limit = 10_000,
  ) {}
  #push(level: LogLevel, message: string): void {
    if (this.records.length >= this.limit) this.records.shift();
    this.records.push({ level, message });
    this.forward?.[level](message);
  }
  debug(m: string): void {
    this.#push('debug', m);
  }
  info(m: string): void {
    this.#push('info', m);
  }
  warn(m: string): void {
    this.#push('warn', m);
  }
  error(m: string): void {
    this.#push('error', m);
  }
}

/** Writes "[LEVEL] [name]: message" lines to stderr, like ROS 2's console output, at or above minLevel. */
export function consoleLogger(
  name: string,
  minLevel: LogLevel = 'info',
  write: (line: string) => void = (l) => process.stderr.write(l + '\n'),
): Logger {
  const min = LOG_LEVELS.indexOf(minLevel);
  const at = (level: LogLevel) => (message: string) => {
    if (LOG_LEVELS.indexOf(level) >= min) write(`[${level.toUpperCase()}] [${name}]: ${message}`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
