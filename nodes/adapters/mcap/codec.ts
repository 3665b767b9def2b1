/**
 * CDR codecs per channel. Decoding prefers the definition embedded in the file (schema text, `ros2msg`), and
 * falls back to the bundled one when the embedded text is missing, empty, unparsable, or fails on a message.
 * Encoding always uses bundled definitions (what we write is ours).
 */
import { parse } from '@foxglove/rosmsg';
import { MessageReader, MessageWriter } from '@foxglove/rosmsg2-serialization';
import { bundledDefinition, bundledDefinitionList, fullTypeName } from './definitions.js';
import { BagError } from './errors.js';

export interface ChannelSchema {
  topic: string;
  /** Type as recorded (schema name). */
  type: string;
  /** Schema encoding (`ros2msg` expected; anything else is not parsed). */
  encoding: string;
  /** Schema text, possibly empty. */
  text: string;
}

export type DefinitionSource = 'embedded' | 'bundled';

/** A payload whose decode stopped more than this many bytes before the end is suspect (CDR pads to 4). */
const MAX_PADDING_BYTES = 3;

/** Decodes one channel's messages; knows which definition it used. */
export class ChannelDecoder {
  #embedded: MessageReader | undefined;
  #bundled: MessageReader | undefined;
  #source: DefinitionSource;
  #embeddedProblem: string | undefined;

  private constructor(
    readonly schema: ChannelSchema,
    embedded: MessageReader | undefined,
    bundled: MessageReader | undefined,
    embeddedProblem: string | undefined,
  ) {
    this.#embedded = embedded;
    this.#bundled = bundled;
    this.#embeddedProblem = embeddedProblem;
    this.#source = embedded ? 'embedded' : 'bundled';
  }

  /** Throws BagError naming the topic and type when neither an embedded nor a bundled definition works. */
  static create(schema: ChannelSchema, file: string): ChannelDecoder {
    let embedded: MessageReader | undefined;
    let problem: string | undefined;
    if (schema.encoding !== 'ros2msg') problem = `schema encoding '${schema.encoding}' (expected 'ros2msg')`;
    else if (schema.text.trim() === '') problem = 'empty schema text';
    else {
      try {
        embedded = new MessageReader(parse(schema.text, { ros2: true }));
      } catch (e) {
        problem = `embedded definition does not parse: ${(e as Error).message}`;
      }
    }
    let bundled: MessageReader | undefined;
    if (bundledDefinition(schema.type)) {
      try {
        bundled = new MessageReader(bundledDefinitionList(schema.type));
      } catch (e) {
        if (!embedded)
          throw new BagError(`topic ${schema.topic}: type ${schema.type}: ${(e as Error).message} [file=${file}]`);
      }
    }
    if (!embedded && !bundled) {
      throw new BagError(
        `topic ${schema.topic}: no usable message definition for type ${schema.type} ` +
          `(${problem ?? 'none in the file'}; not a bundled type) [file=${file}]`,
      );
    }
    return new ChannelDecoder(schema, embedded, bundled, problem);
  }

  get source(): DefinitionSource {
    return this.#source;
  }
  /** Why the embedded definition is not used, if it is not. */
  get embeddedProblem(): string | undefined {
    return this.#embeddedProblem;
  }

  decode(data: Uint8Array, file: string, logTimeNs: bigint): unknown {
    if (this.#source === 'embedded' && this.#embedded) {
      try {
        const msg = this.#embedded.readMessage(data);
        if (this.#embedded.lastReadByteLength() + MAX_PADDING_BYTES >= data.byteLength) return msg;
        this.#embeddedProblem = `embedded definition left ${data.byteLength - this.#embedded.lastReadByteLength()} bytes unread`;
      } catch (e) {
        this.#embeddedProblem = `embedded definition fails to decode: ${(e as Error).message}`;
      }
      if (!this.#bundled) {
        throw new BagError(
          `topic ${this.schema.topic}: cannot decode ${this.schema.type} message at log time ${logTimeNs} ns: ` +
            `${this.#embeddedProblem}; no bundled definition [file=${file}]`,
        );
      }
      this.#source = 'bundled';
    }
    const reader = this.#bundled!;
    try {
      return reader.readMessage(data);
    } catch (e) {
      throw new BagError(
        `topic ${this.schema.topic}: cannot decode ${this.schema.type} message at log time ${logTimeNs} ns ` +
          `(${data.byteLength} bytes): ${(e as Error).message} [file=${file}]`,
      );
    }
  }
}

const writers = new Map<string, MessageWriter>();

/** CDR encoder for a bundled type (either spelling); cached per type. */
export function encoderFor(type: string): MessageWriter {
  const key = fullTypeName(type);
  let w = writers.get(key);
  if (!w) {
    w = new MessageWriter(bundledDefinitionList(type));
    writers.set(key, w);
  }
  return w;
}
