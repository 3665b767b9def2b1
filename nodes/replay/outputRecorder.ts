/**
 * Recording, one of replay's three concerns (beside scoring, replayEvaluation.ts, and reporting, reportFiles.ts):
 * every message published on the in-process bus, except the topics it is told to skip, goes into the output bag in
 * publication order. Writes run behind the replay and never block a publication; replay waits for them
 * (drain()) whenever too many are queued, so memory stays bounded.
 */
import type { Subscription } from 'rxjs';
import type { BusMessage, InProcessBus } from '../adapters/inprocess/bus.js';
import type { BagWriter, WrittenBag } from '../adapters/mcap/index.js';
import { QOS_COMMAND } from '../core/qos.js';

export class OutputRecorder {
  readonly #writer: BagWriter;
  readonly #skip: ReadonlySet<string>;
  readonly #subscription: Subscription;
  readonly #declared = new Set<string>();
  /** Messages waiting to be written, oldest first; #head indexes the next one. */
  #queue: Array<BusMessage | undefined> = [];
  #head = 0;
  #draining: Promise<void> | undefined;
  #error: unknown;
  #recorded = 0;

  constructor(bus: InProcessBus, writer: BagWriter, skipTopics: ReadonlySet<string>) {
    this.#writer = writer;
    this.#skip = skipTopics;
    this.#subscription = bus.published$.subscribe((m) => {
      this.#record(m);
    });
  }

  /** Messages recorded so far (written or queued). */
  get recorded(): number {
    return this.#recorded;
  }

  /** Messages queued and not yet written. */
  get backlog(): number {
    return this.#queue.length - this.#head;
  }

  /** Resolves once every message recorded so far is written (or writing has failed: close() says so). */
  async drain(): Promise<void> {
    await this.#draining;
  }

  /** Stops recording: messages published from now on are not in the bag. */
  stop(): void {
    this.#subscription.unsubscribe();
  }

  /** Writes what is queued and closes the bag; throws the first write error, if any. */
  async close(): Promise<WrittenBag> {
    this.stop();
    await this.drain();
    if (this.#error !== undefined) throw this.#error;
    return await this.#writer.close();
  }

  #record(m: BusMessage): void {
    if (this.#skip.has(m.topic)) return;
    this.#recorded++;
    this.#queue.push(m);
    this.#draining ??= this.#write();
  }

  /** One loop writes the queue in order; a write error is kept and the rest of the queue is discarded. */
  async #write(): Promise<void> {
    // Let the publishing callback finish first, as a chained promise did.
    await Promise.resolve();
    while (this.#head < this.#queue.length) {
      const m = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined; // written messages are not held
      if (this.#error !== undefined) continue;
      try {
        if (!this.#declared.has(m.topic)) {
          this.#declared.add(m.topic);
          await this.#writer.addTopic(m.topic, m.type, QOS_COMMAND);
        }
        await this.#writer.write(m.topic, BigInt(Math.round(m.timeMs * 1e6)), m.message);
      } catch (e) {
        this.#error = e;
      }
    }
    this.#queue = [];
    this.#head = 0;
    this.#draining = undefined;
  }
}
