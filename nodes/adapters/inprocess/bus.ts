import { Observable, Subject, type SchedulerLike } from 'rxjs';
import type { MessageTypeName } from '../../core/msgs.js';

export interface BusMessage {
  topic: string;
  type: MessageTypeName;
  /** Bus time at publication [ms], the scheduler's now(). */
  timeMs: number;
  message: unknown;
  publisher: string;
}

/**
 * An in-process topic graph. Publication is delivered on the scheduler (at the current time, after the
 * publishing callback returns), so delivery order is publication order and never re-entrant.
 */
export class InProcessBus {
  readonly #topics = new Map<string, { type: MessageTypeName; subject: Subject<unknown> }>();
  readonly #published = new Subject<BusMessage>();
  /** Every message published on any topic, in order (for recording a replay). */
  readonly published$: Observable<BusMessage> = this.#published.asObservable();

  constructor(readonly scheduler: SchedulerLike) {}

  #topic(topic: string, type: MessageTypeName) {
    let t = this.#topics.get(topic);
    if (!t) {
      t = { type, subject: new Subject<unknown>() };
      this.#topics.set(topic, t);
    } else if (t.type !== type) {
      throw new TypeError(`topic ${topic}: expected type ${t.type} (already in use), got ${type}`);
    }
    return t;
  }

  messages(topic: string, type: MessageTypeName): Observable<unknown> {
    return this.#topic(topic, type).subject.asObservable();
  }

  publish(topic: string, type: MessageTypeName, message: unknown, publisher: string): void {
    const t = this.#topic(topic, type);
    this.#published.next({ topic, type, timeMs: this.scheduler.now(), message, publisher });
    this.scheduler.schedule(() => t.subject.next(message));
  }

  /** Publishes immediately (used by a bag feeder already running on the scheduler). */
  deliverNow(topic: string, type: MessageTypeName, message: unknown): void {
    this.#topic(topic, type).subject.next(message);
  }

  topics(): Array<{ topic: string; type: MessageTypeName }> {
    return [...this.#topics].map(([topic, { type }]) => ({ topic, type }));
  }
}
