/**
 * A byte ring in shared memory with one producer thread and one consumer
 * thread: how plaintext moves between a TLS worker and an HTTP worker
 * (`tls-isolation`) without a message per chunk.
 *
 * The header holds two running totals, written (W) and read (R), each
 * changed only by its side with Atomics (so they wrap as int32s and
 * `W - R` is what the ring holds), and a flag word: FIN (the producer has
 * nothing more to send) and BLOCKED (the producer found the ring full and
 * waits to be told of room). Waking the other side is the caller's business
 * (ring_link.ts rings a bell over a MessagePort); the flags only make sure no
 * wakeup is lost: a producer sets BLOCKED, then looks at the room again, and
 * a consumer looks for BLOCKED after it moved R, so one of them sees the
 * other (Atomics are sequentially consistent).
 *
 * @module
 */

/** Header size in bytes (four int32s: W, R, flags, spare). */
export const RING_HEADER = 16;
const W = 0, R = 1, FL = 2;
/** The producer finished (shutdown): once the ring is empty, the consumer sees the end. */
const FIN = 1;
/** The producer waits for room. */
const BLOCKED = 2;

/** One direction of a byte stream between two threads. */
export class ByteRing {
  readonly #hdr: Int32Array;
  readonly #data: Uint8Array;
  readonly #mask: number;

  /** Bytes a ring of capacity `cap` takes in a SharedArrayBuffer. */
  static bytes(cap: number): number {
    return RING_HEADER + cap;
  }

  /** The ring at `offset` of `sab`, `cap` bytes of data (a power of two). */
  constructor(sab: SharedArrayBuffer, offset: number, cap: number) {
    if (cap <= 0 || (cap & (cap - 1)) !== 0) throw new RangeError("ring capacity must be 2^n");
    this.#hdr = new Int32Array(sab, offset, 4);
    this.#data = new Uint8Array(sab, offset + RING_HEADER, cap);
    this.#mask = cap - 1;
  }

  /** Bytes held (readable). */
  avail(): number {
    return (Atomics.load(this.#hdr, W) - Atomics.load(this.#hdr, R)) | 0;
  }

  /** Free room (writable). */
  room(): number {
    return this.#data.length - this.avail();
  }

  /** Producer: copies what fits of `src`; returns how many bytes. */
  write(src: Uint8Array): number {
    const room = this.room();
    const n = src.length < room ? src.length : room;
    if (n === 0) return 0;
    const w = Atomics.load(this.#hdr, W);
    const at = w & this.#mask;
    const first = Math.min(n, this.#data.length - at);
    this.#data.set(first === src.length ? src : src.subarray(0, first), at);
    if (first < n) this.#data.set(src.subarray(first, n), 0);
    Atomics.store(this.#hdr, W, (w + n) | 0);
    return n;
  }

  /** Consumer: copies up to `dst.length` held bytes into `dst`; returns how many. */
  read(dst: Uint8Array): number {
    const avail = this.avail();
    const n = dst.length < avail ? dst.length : avail;
    if (n === 0) return 0;
    const r = Atomics.load(this.#hdr, R);
    const at = r & this.#mask;
    const first = Math.min(n, this.#data.length - at);
    dst.set(this.#data.subarray(at, at + first));
    if (first < n) dst.set(this.#data.subarray(0, n - first), first);
    Atomics.store(this.#hdr, R, (r + n) | 0);
    return n;
  }

  /** Producer: no more bytes will come (after those written). */
  finish(): void {
    Atomics.or(this.#hdr, FL, FIN);
  }

  /**
   * Consumer: the producer finished. Read this before reading the bytes: the
   * flag is set after the last write, so an empty ring after a true answer
   * is the end.
   */
  finished(): boolean {
    return (Atomics.load(this.#hdr, FL) & FIN) !== 0;
  }

  /**
   * Producer, on a full ring: asks to be told of room. Returns true when
   * room appeared meanwhile (the flag is withdrawn: write again now).
   */
  block(): boolean {
    Atomics.or(this.#hdr, FL, BLOCKED);
    if (this.room() === 0) return false;
    Atomics.and(this.#hdr, FL, ~BLOCKED);
    return true;
  }

  /** Consumer, after reading: true (once) when the producer waits for room. */
  takeBlocked(): boolean {
    return (Atomics.and(this.#hdr, FL, ~BLOCKED) & BLOCKED) !== 0;
  }
}
