/**
 * The buffer pool: fixed-size byte areas, bounded in number, reused so that a
 * steady state allocates nothing. A requester that cannot be served waits in a
 * FIFO and is handed its areas the moment enough are released, so an
 * exhausted pool delays streams instead of failing or growing.
 *
 * Requests are all-or-nothing (`need` areas at once): a stream takes its two
 * channel buffers together, so streams can never deadlock holding one each.
 *
 * @module
 */

/** Default size of one buffer, like HAProxy's `tune.bufsize`. */
export const DEFAULT_BUFSIZE = 16384;

/** Something waiting for buffers; handed them synchronously by `release()`. */
export interface BufWaiter {
  /** How many areas the waiter needs at once. */
  readonly bufNeed: number;
  /** Receives one area; called `bufNeed` times in a row. */
  bufGranted(area: Uint8Array): void;
}

/** Counters for stats and tests. */
export interface PoolCounters {
  /** Areas handed out and not yet released. */
  inUse: number;
  /** Areas allocated and sitting in the free list. */
  free: number;
  /** Areas ever allocated (never exceeds the limit). */
  allocated: number;
  /** Requests that had to wait. */
  waits: number;
  /** Requesters waiting right now. */
  waiting: number;
  /** Maximum number of areas. */
  limit: number;
  /** Size of each area in bytes. */
  size: number;
}

/**
 * Areas are carved from slabs of about this many bytes. A slab this large
 * comes from the allocator's mmap, so its pages are zero without being
 * written and only the pages a buffer actually uses become resident: a
 * keep-alive connection moving 200-byte messages holds one 4 KiB page of its
 * 16 KiB buffer, where one allocation per area is zeroed (all of it resident)
 * at once (measured: 2,000 buffers, 32 MiB resident one by one, 8 MiB from
 * slabs after writing to each).
 */
const SLAB_BYTES = 1 << 20;

/** A bounded pool of equally sized byte areas. */
export class BufferPool {
  /** Size in bytes of every area. */
  readonly size: number;
  /** Maximum number of areas that may exist. */
  readonly limit: number;
  #free: Uint8Array[] = [];
  #allocated = 0;
  #inUse = 0;
  #waits = 0;
  #waiters: BufWaiter[] = [];
  #slab: ArrayBuffer | null = null;
  #slabUsed = 0;

  constructor(size = DEFAULT_BUFSIZE, limit = 4096) {
    if (!Number.isInteger(size) || size < 1024) {
      throw new RangeError(`Buffer size ${size} is below 1024`);
    }
    if (!Number.isInteger(limit) || limit < 2) {
      throw new RangeError(`Buffer limit ${limit} is below 2`);
    }
    this.size = size;
    this.limit = limit;
  }

  /** Areas that could be handed out now without waiting. */
  available(): number {
    return this.#free.length + (this.limit - this.#allocated);
  }

  /**
   * Takes one area, or returns null when none is available or others are
   * already waiting (FIFO: newcomers never overtake waiters).
   */
  tryGet(): Uint8Array | null {
    if (this.#waiters.length > 0 || this.available() === 0) return null;
    return this.#take();
  }

  /**
   * Grants `w.bufNeed` areas now (returns true) or queues `w` and returns
   * false; a queued waiter is granted its areas later by `release()`.
   */
  acquire(w: BufWaiter): boolean {
    if (this.#waiters.length === 0 && this.available() >= w.bufNeed) {
      for (let i = 0; i < w.bufNeed; i++) w.bufGranted(this.#take());
      return true;
    }
    this.#waits++;
    this.#waiters.push(w);
    return false;
  }

  /**
   * Removes a waiter that no longer needs buffers (e.g. its stream died); the
   * ones behind it may now fit.
   */
  cancel(w: BufWaiter): void {
    const i = this.#waiters.indexOf(w);
    if (i < 0) return;
    this.#waiters.splice(i, 1);
    this.#serve();
  }

  /** Gives an area back; serves waiters in order while enough are free. */
  release(area: Uint8Array): void {
    this.#inUse--;
    this.#free.push(area);
    this.#serve();
  }

  #serve(): void {
    const waiters = this.#waiters;
    while (waiters.length > 0 && this.available() >= waiters[0].bufNeed) {
      const w = waiters.shift()!;
      for (let i = 0; i < w.bufNeed; i++) w.bufGranted(this.#take());
    }
  }

  /** A snapshot of the counters. */
  counters(): PoolCounters {
    return {
      inUse: this.#inUse,
      free: this.#free.length,
      allocated: this.#allocated,
      waits: this.#waits,
      waiting: this.#waiters.length,
      limit: this.limit,
      size: this.size,
    };
  }

  #take(): Uint8Array {
    this.#inUse++;
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    this.#allocated++;
    const size = this.size;
    let slab = this.#slab;
    if (slab === null || this.#slabUsed + size > slab.byteLength) {
      const areas = Math.min(
        Math.max(1, Math.floor(SLAB_BYTES / size)),
        this.limit - this.#allocated + 1,
      );
      slab = this.#slab = new ArrayBuffer(areas * size);
      this.#slabUsed = 0;
    }
    const area = new Uint8Array(slab, this.#slabUsed, size);
    this.#slabUsed += size;
    return area;
  }
}
