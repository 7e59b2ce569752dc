import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createLogSink, type LogSink } from '../ivm/log-sink.ts';

/** Takes the container's stdout up to `max` bytes; `onOverflow` fires once past that. */
export class CappedBytes extends Writable {
  readonly #chunks: Buffer[] = [];
  readonly #max: number;
  readonly #onOverflow: () => void;
  #size = 0;
  overflowed = false;

  constructor(max: number, onOverflow: () => void) {
    super();
    this.#max = max;
    this.#onOverflow = onOverflow;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    if (!this.overflowed) {
      this.#size += chunk.length;
      if (this.#size > this.#max) {
        this.overflowed = true;
        this.#chunks.length = 0;
        this.#onOverflow();
      } else {
        this.#chunks.push(chunk);
      }
    }
    done();
  }

  bytes(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.#chunks));
  }
}

/** Splits stderr into log lines, kept within the log caps; the rest is drained and dropped. */
export class LogLines extends Writable {
  readonly #sink: LogSink = createLogSink();
  // Docker frames what the engine wrote as it wrote it: a frame may end inside a character,
  // whose other bytes the decoder keeps for the next one.
  readonly #decoder = new StringDecoder('utf8');
  #partial = '';
  #full = false;

  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    if (!this.#full) {
      const parts = (this.#partial + this.#decoder.write(chunk)).split('\n');
      this.#partial = (parts.pop() ?? '').slice(0, 70_000);
      for (const line of parts) if (!this.#add(line)) break;
    }
    done();
  }

  #add(line: string): boolean {
    if (!this.#sink.add(line.slice(0, 10_000))) this.#full = true;
    return !this.#full;
  }

  lines(): string[] {
    if (!this.#full) this.#partial += this.#decoder.end();
    if (this.#partial && !this.#full) this.#add(this.#partial);
    this.#partial = '';
    return this.#sink.lines();
  }
}
