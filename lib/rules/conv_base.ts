/**
 * What every converter shares: the sink interface it implements and a base
 * class that turns integer samples into their decimal text (HAProxy casts
 * integers and booleans to strings before a string converter) and owns the
 * bounded scratch bytes converted samples are written to.
 *
 * @module
 */
import { DEFAULT_BUFSIZE } from "../core/pool.ts";
import { ipParse } from "./acl_ip.ts";
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

/**
 * HAProxy's casts to binary, before a converter of bytes (`hex`, `base64`,
 * `bytes`): an address becomes its 4 or 16 network-order bytes (an
 * IPv4-mapped IPv6 address its 4), an integer its 8 big-endian bytes.
 * Strings pass unchanged.
 */
export class CastBin implements AclConv {
  next: AclSampleSink = NOWHERE;
  readonly #w = new Uint32Array(4);
  readonly #b = new Uint8Array(16);
  readonly #v = new DataView(this.#b.buffer);

  constructor(readonly ip: boolean) {}

  matchBytes(a: Uint8Array, pos: number, len: number): boolean {
    if (!this.ip) return this.next.matchBytes(a, pos, len);
    const kind = ipParse(a, pos, len, this.#w);
    if (kind === 0) return false;
    const n = kind === 4 ? 1 : 4;
    for (let i = 0; i < n; i++) this.#v.setUint32(4 * i, this.#w[i]);
    return this.next.matchBytes(this.#b, 0, 4 * n);
  }

  matchInt(n: number): boolean {
    this.#v.setBigInt64(0, BigInt(Math.trunc(n)));
    return this.next.matchBytes(this.#b, 0, 8);
  }
}
