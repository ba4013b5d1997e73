/**
 * What every converter shares: the sink interface it implements and a base
 * class that turns integer samples into their decimal text (HAProxy casts
 * integers and booleans to strings before a string converter) and owns the
 * bounded scratch bytes converted samples are written to.
 *
 * @module
 */
import { DEFAULT_BUFSIZE } from "../core/pool.ts";
import type { AclSampleSink } from "./acl_types.ts";

/** A compiled converter: takes the samples before it, hands what it makes of each to `next`. */
export interface AclConv extends AclSampleSink {
  /** Where converted samples go; set before each run of the fetch it follows. */
  next: AclSampleSink;
}

/**
 * The most bytes a converter may produce for one sample (HAProxy's trash
 * chunk is one buffer): a longer result fails the conversion, as HAProxy's.
 */
export const CONV_MAX = DEFAULT_BUFSIZE;

/** A sink that forwards nothing: `next` before the first run. */
const NOWHERE: AclSampleSink = { matchBytes: () => false, matchInt: () => false };

/**
 * A converter of bytes: `conv()` reads a sample and hands its result to
 * `next`. Integer samples are converted from their decimal text.
 */
export abstract class BytesConv implements AclConv {
  next: AclSampleSink = NOWHERE;
  /** Scratch output, grown on demand up to CONV_MAX, reused for every sample. */
  #out = new Uint8Array(256);
  #num = new Uint8Array(24);

  /** Converts `a[pos, pos + len)`; true stops the fetch (the next sink said so). */
  abstract conv(a: Uint8Array, pos: number, len: number): boolean;

  matchBytes(a: Uint8Array, pos: number, len: number): boolean {
    return this.conv(a, pos, len);
  }

  matchInt(n: number): boolean {
    const s = String(n);
    const b = this.#num;
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
    return this.conv(b, 0, s.length);
  }

  /** Scratch bytes of at least `n` bytes, or null when `n` exceeds CONV_MAX. */
  protected out(n: number): Uint8Array | null {
    if (n > CONV_MAX) return null;
    if (n > this.#out.length) {
      this.#out = new Uint8Array(Math.min(CONV_MAX, Math.max(n, 2 * this.#out.length)));
    }
    return this.#out;
  }
}
