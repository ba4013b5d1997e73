/**
 * A ring buffer over one pooled byte area.
 *
 * The bytes present are split in two consecutive parts starting at `head`:
 * `out` bytes already scheduled for sending, then `in` bytes received but not
 * yet forwarded (analysers look at these). Receiving appends to the input,
 * sending consumes the output, forwarding moves bytes from input to output.
 *
 * I/O on Deno is asynchronous: a receive in flight targets the free room and a
 * send in flight reads the output, so bytes are never moved while either is
 * pending (`rcvPending`/`sndPending`). When the buffer empties, the next
 * receive starts again at offset 0 to get the largest contiguous room.
 *
 * @module
 */

/** The area of a buffer that has none. */
export const EMPTY_AREA: Uint8Array = new Uint8Array(0);

let scratch = new Uint8Array(0);

/** A ring of bytes with an output part and an input part. */
export class Buf {
  /** The storage, from the pool, or EMPTY_AREA when detached. */
  area: Uint8Array = EMPTY_AREA;
  /** Index of the first output byte (or input byte when `out` is 0). */
  head = 0;
  /** Bytes scheduled for sending, at `head`. */
  out = 0;
  /** Bytes received and not yet forwarded, after the output. */
  in = 0;
  /** A receive is in flight into the free room. */
  rcvPending = false;
  /** Bytes of output a send in flight is reading (0 when none). */
  sndPending = 0;
  /**
   * Bytes of room kept free when receiving (HAProxy's maxrewrite): an
   * analyser waiting for a head keeps it so that rewriting the head always
   * fits.
   */
  reserve = 0;
  /**
   * Bytes the runtime delivered in the last receive, whether or not they
   * all fitted: large ones mean the peer sends in bulk (set by the data
   * layer, read by the stream to give the buffer a larger area).
   */
  lastChunk = 0;

  /** Size of the area (0 when detached). */
  get size(): number {
    return this.area.length;
  }

  /** Output plus input bytes. */
  get data(): number {
    return this.out + this.in;
  }

  /** Free bytes available for receiving (the reserve excluded). */
  room(): number {
    const r = this.area.length - this.out - this.in - this.reserve;
    return r > 0 ? r : 0;
  }

  /** True when no byte is held. */
  isEmpty(): boolean {
    return this.out + this.in === 0;
  }

  /** Gives the buffer its storage. */
  attach(area: Uint8Array): void {
    this.area = area;
    this.head = this.out = this.in = 0;
  }

  /** Takes the storage back (for the pool); the buffer must be idle. */
  detach(): Uint8Array {
    const area = this.area;
    this.area = EMPTY_AREA;
    this.head = this.out = this.in = 0;
    return area;
  }

  /**
   * Returns the contiguous free room after the data, for a receive, within
   * `room()`. Starts over at 0 when empty.
   */
  rcvView(): Uint8Array {
    const size = this.area.length;
    const data = this.out + this.in;
    const room = this.room();
    if (data === 0) {
      this.head = 0;
      return this.area.subarray(0, room);
    }
    let tail = this.head + data;
    if (tail >= size) tail -= size;
    const contig = tail >= this.head ? size - tail : this.head - tail;
    return this.area.subarray(tail, tail + (contig < room ? contig : room));
  }

  /** Accounts `n` bytes received into the view given by `rcvView()`. */
  rcvCommit(n: number): void {
    this.in += n;
  }

  /** Returns the contiguous output at `head`, for a send. */
  sndView(): Uint8Array {
    const end = this.head + this.out;
    const size = this.area.length;
    return this.area.subarray(this.head, end < size ? end : size);
  }

  /** Drops `n` bytes of output that were sent. */
  sndCommit(n: number): void {
    this.out -= n;
    this.head += n;
    if (this.head >= this.area.length) this.head -= this.area.length;
  }

  /** Moves `n` input bytes to the output. */
  forward(n: number): void {
    this.in -= n;
    this.out += n;
  }

  /** The input byte at offset `off` from the first input byte. */
  inByte(off: number): number {
    let p = this.head + this.out + off;
    const size = this.area.length;
    if (p >= size) p -= size;
    if (p >= size) p -= size;
    return this.area[p];
  }

  /**
   * Replaces the `oldLen` input bytes at the start of the input with
   * `src[0, newLen)`, moving the rest of the input. Requires no output (the
   * head of a new message); realigns when the data would not stay
   * contiguous. The reserve counts as room here. Returns false when it does
   * not fit.
   */
  replaceInHead(oldLen: number, src: Uint8Array, newLen: number): boolean {
    if (this.out !== 0) throw new Error("Buf.replaceInHead() with output pending");
    const delta = newLen - oldLen;
    const size = this.area.length;
    if (this.in + delta > size) return false;
    if (this.head + this.in + (delta > 0 ? delta : 0) > size) this.realign();
    const h = this.head;
    this.area.copyWithin(h + newLen, h + oldLen, h + this.in);
    this.area.set(src.subarray(0, newLen), h);
    this.in += delta;
    return true;
  }

  /** Index of the first input byte. */
  inPos(): number {
    const p = this.head + this.out;
    return p < this.area.length ? p : p - this.area.length;
  }

  /** Number of input bytes readable without wrapping. */
  inContig(): number {
    const p = this.inPos();
    const n = this.area.length - p;
    return n < this.in ? n : this.in;
  }

  /**
   * Makes all data contiguous from offset 0. Requires no I/O in flight. Rare
   * (a parser needing a wrapped header block), so it copies through a scratch.
   */
  realign(): void {
    if (this.rcvPending || this.sndPending) {
      throw new Error("Buf.realign() with I/O in flight");
    }
    const data = this.out + this.in;
    if (this.head === 0) return;
    const size = this.area.length;
    if (this.head + data <= size) {
      this.area.copyWithin(0, this.head, this.head + data);
    } else {
      if (scratch.length < size) scratch = new Uint8Array(size);
      const first = size - this.head;
      scratch.set(this.area.subarray(this.head, size), 0);
      scratch.set(this.area.subarray(0, data - first), first);
      this.area.set(scratch.subarray(0, data), 0);
    }
    this.head = 0;
  }

  /**
   * Appends bytes to the input (for applets and tests). Returns the number
   * copied, limited by the room.
   */
  putIn(src: Uint8Array): number {
    let done = 0;
    while (done < src.length && this.room() > 0) {
      const view = this.rcvView();
      const n = Math.min(view.length, src.length - done);
      view.set(src.subarray(done, done + n));
      this.rcvCommit(n);
      done += n;
    }
    return done;
  }

  /**
   * Copies the output bytes into `dst` (which must be large enough) without
   * consuming them; returns the count.
   */
  copyOut(dst: Uint8Array): number {
    const size = this.area.length;
    const end = this.head + this.out;
    if (end <= size) dst.set(this.area.subarray(this.head, end));
    else {
      dst.set(this.area.subarray(this.head, size));
      dst.set(this.area.subarray(0, end - size), size - this.head);
    }
    return this.out;
  }

  /** Copies out the output bytes without consuming them. */
  peekOut(): Uint8Array {
    const size = this.area.length;
    const end = this.head + this.out;
    if (end <= size) return this.area.slice(this.head, end);
    const res = new Uint8Array(this.out);
    res.set(this.area.subarray(this.head, size));
    res.set(this.area.subarray(0, end - size), size - this.head);
    return res;
  }
}
