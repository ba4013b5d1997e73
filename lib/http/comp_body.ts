/**
 * Compressing a response body in its channel as it arrives. The server's
 * body (by Content-Length or chunked, validated as h1_body.ts does) is taken
 * out of the input, compressed, and the compressed bytes go out at once as
 * one chunk per pass (flushed, so a slowly streamed response reaches the
 * client progressively), followed at the end by the last chunk and the
 * server's trailers.
 *
 * Memory stays bounded: a pass takes at most the buffer's input, its
 * output goes into the same buffer, and nothing is taken while the buffer
 * lacks room for the output (the client has not drained it): the buffer
 * stays full and the server is not read, as for any forwarded body.
 * Compression can grow data: level 1 of the runtime's zlib codes
 * incompressible bytes with fixed Huffman codes, up to 9 bits a byte
 * (measured: 15,360 random bytes give 16,213 gzip bytes), plus headers,
 * flush markers and the chunk framing. So a pass takes at most 8 times the
 * free room (less a slack for the framing), and the buffer keeps
 * `compReserve()` free from receiving so that a full buffer usually goes in
 * one pass.
 *
 * @module
 */
import { type Channel, chnForward } from "../buf/channel.ts";
import type { CompAlgoName } from "./comp_algo.ts";
import { Compressor } from "./comp_algo.ts";
import {
  type ByteSrc,
  chunkSize,
  lineEnd,
  MAX_CHUNK_LINE,
  MAX_TRAILERS,
  trailerField,
} from "./h1_body.ts";

/** Bytes of output a pass may add beyond 9/8 of its input: gzip header and trailer, flush markers, framing. */
const SLACK = 256;

/** Bytes of a response buffer of `size` kept free of server input while compressing. */
export function compReserve(size: number): number {
  return (size >> 3) + SLACK;
}

const ST_CLEN = 1, ST_SIZE = 2, ST_DATA = 3, ST_CRLF = 4, ST_TRAILERS = 5, ST_DONE = 6;

/** The input of one pass, copied out of the ring, parsed from `off`. */
class Linear implements ByteSrc {
  a: Uint8Array = new Uint8Array(0);
  off = 0;
  end = 0;
  get in(): number {
    return this.end - this.off;
  }
  inByte(i: number): number {
    return this.a[this.off + i];
  }
}
const raw = new Linear();
const lineView = new Linear();
const CRLF = new Uint8Array([0x0d, 0x0a]);
const LAST = new Uint8Array([0x30, 0x0d, 0x0a]);
const enc = new TextEncoder();

const TRAILER_ERRORS = ["trailers too large", "bad line ending", "invalid trailer field"];

/**
 * Length of the trailer section at the start of `src` up to and including
 * its empty line; -1 when not all in, -2 too large, -3 bad line ending, -4
 * invalid field.
 */
function trailersEnd(src: Linear): number {
  let at = 0;
  for (;;) {
    const lf = lineEnd(src, at, MAX_TRAILERS - at > 2 ? MAX_TRAILERS - at : 2);
    if (lf === -1) return -1;
    if (lf < 0) return lf === -3 ? -2 : -3;
    if (lf + 1 - at === 2) return lf + 1;
    const line = lineView;
    line.a = src.a;
    line.off = src.off + at;
    line.end = src.off + lf + 1;
    if (!trailerField(line, lf + 1 - at)) return -4;
    at = lf + 1;
  }
}

/** Compression of one response body. */
export class CompStream {
  readonly algo: CompAlgoName;
  #z: Compressor | null;
  #st: number;
  /** Data bytes left of the current chunk or of the Content-Length. */
  #left: number;
  /** Body bytes taken in (HAProxy's comp_in, or comp_byp for identity). */
  bytesIn = 0;
  /** Encoded bytes sent out, framing excluded (comp_out). */
  bytesOut = 0;
  /** Why the body was refused (on -1). */
  errMsg = "";

  /** `chunked` or else a Content-Length of `len` (> 0). */
  constructor(algo: CompAlgoName, chunked: boolean, len: number) {
    this.algo = algo;
    this.#z = new Compressor(algo);
    this.#st = chunked ? ST_SIZE : ST_CLEN;
    this.#left = chunked ? 0 : len;
  }

  /** Releases the compression state (the response ended or was aborted). */
  close(): void {
    this.#z?.close();
    this.#z = null;
  }

  /**
   * Takes what arrived of the body, sends its compressed form. Returns 1
   * when the body is complete (all of it is in the output), 0 when more
   * input is needed, 2 when waiting for the client to drain the buffer, -1
   * on a malformed body (`errMsg`).
   */
  process(chn: Channel): number {
    if (this.#st === ST_DONE) return 1;
    const buf = chn.buf;
    if (buf.in === 0) return 0;
    let budget = (buf.size - buf.out - buf.in - SLACK) * 8;
    if (budget <= 0) return 2;
    // Take the whole input out of the ring.
    const n = buf.in;
    if (raw.a.length < n) raw.a = new Uint8Array(buf.size);
    const p = buf.inPos();
    const first = Math.min(n, buf.size - p);
    raw.a.set(buf.area.subarray(p, p + first), 0);
    if (first < n) raw.a.set(buf.area.subarray(0, n - first), first);
    raw.off = 0;
    raw.end = n;
    buf.in = 0;
    const z = this.#z!;
    let fed = 0, trailers: Uint8Array | null = null, last: Uint8Array | null = null;
    parse: for (;;) {
      switch (this.#st) {
        case ST_CLEN:
        case ST_DATA: {
          const k = Math.min(this.#left, raw.in, budget);
          if (k === 0) break parse;
          budget -= k;
          // Each piece waits for the next: the last one goes with the flush.
          if (last !== null) z.add(last);
          last = raw.a.subarray(raw.off, raw.off + k);
          raw.off += k;
          fed += k;
          this.#left -= k;
          if (this.#left === 0) this.#st = this.#st === ST_CLEN ? ST_DONE : ST_CRLF;
          break;
        }
        case ST_CRLF:
          if (raw.in < 2) {
            if (raw.in === 1 && raw.inByte(0) !== 0x0d) {
              return this.#fail("missing CRLF after chunk data");
            }
            break parse;
          }
          if (raw.inByte(0) !== 0x0d || raw.inByte(1) !== 0x0a) {
            return this.#fail("missing CRLF after chunk data");
          }
          raw.off += 2;
          this.#st = ST_SIZE;
          break;
        case ST_SIZE: {
          const lf = lineEnd(raw, 0, MAX_CHUNK_LINE);
          if (lf === -1) break parse;
          if (lf < 0) return this.#fail(lf === -3 ? "chunk size line too long" : "bad line ending");
          const size = chunkSize(raw, lf + 1);
          if (size < 0) return this.#fail("invalid chunk size line");
          raw.off += lf + 1;
          if (size === 0) this.#st = ST_TRAILERS;
          else {
            this.#left = size;
            this.#st = ST_DATA;
          }
          break;
        }
        case ST_TRAILERS: {
          // The whole trailer section goes out at once after the last
          // chunk: wait until its empty line is in.
          const end = trailersEnd(raw);
          if (end === -1) break parse;
          if (end < 0) return this.#fail(TRAILER_ERRORS[-end - 2]);
          trailers = raw.a.slice(raw.off, raw.off + end - 2);
          raw.off += end;
          this.#st = ST_DONE;
          break parse;
        }
        case ST_DONE:
          break parse;
      }
    }
    const done = this.#st === ST_DONE;
    const tail = raw.end - raw.off;
    const coded = done ? z.finish(last ?? undefined) : fed > 0 ? z.flush(last!) : null;
    if (done) this.#z = null;
    this.bytesIn += fed;
    // Write: [chunk of coded bytes] [last chunk, trailers, CRLF] [tail of input].
    const reserve = buf.reserve;
    buf.reserve = 0;
    let put = 0;
    const write = (b: Uint8Array) => {
      put += b.length;
      return buf.putIn(b) === b.length;
    };
    let ok = true;
    if (coded !== null && coded.length > 0) {
      this.bytesOut += coded.length;
      ok = write(enc.encode(coded.length.toString(16) + "\r\n")) && write(coded) && write(CRLF);
    }
    if (ok && done) ok = write(LAST) && (trailers === null || write(trailers)) && write(CRLF);
    if (ok) {
      chnForward(chn, put);
      ok = tail === 0 || buf.putIn(raw.a.subarray(raw.off, raw.end)) === tail;
    }
    buf.reserve = reserve;
    if (!ok) return this.#fail("compressed output does not fit the buffer");
    // Input left for lack of room is not a need for more input.
    return done ? 1 : budget === 0 && tail > 0 ? 2 : 0;
  }

  #fail(why: string): number {
    this.errMsg = why;
    this.close();
    return -1;
  }
}
