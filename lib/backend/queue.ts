/**
 * Queues of streams waiting for a server slot (HAProxy's pendconns): one per
 * server (streams that must go to that server: hashed or sticky) and one per
 * backend (streams any server may take). FIFO, doubly linked, so a stream
 * that gives up (queue timeout, client gone) leaves in O(1).
 *
 * @module
 */
import type { Stream } from "../stream/stream.ts";
import type { StreamPend } from "../stream/stream_types.ts";
import { sharedAdd, type SharedCount, sharedGet } from "../core/shared_count.ts";

/** A stream's place in a queue. */
export class Pend implements StreamPend {
  readonly strm: Stream;
  /** Tick it was queued, to serve the older of the server and backend queue heads first. */
  readonly since: number;
  prev: Pend | null = null;
  next: Pend | null = null;
  /** The queue it is in, null once out. */
  queue: PendQueue | null = null;

  constructor(strm: Stream, since: number) {
    this.strm = strm;
    this.since = since;
  }

  /** Leaves the queue it is in, if any. */
  leave(): void {
    this.queue?.remove(this);
  }
}

/** A FIFO of waiting streams. */
export class PendQueue {
  #head: Pend | null = null;
  #tail: Pend | null = null;
  #length = 0;
  /**
   * With worker threads: streams waiting in this queue in every thread, so
   * that a thread freeing a slot knows whether another thread waits for it.
   */
  shared: SharedCount | null = null;

  /** Streams waiting in this queue in every thread (this thread's alone without threads). */
  get total(): number {
    return this.shared === null ? this.#length : sharedGet(this.shared);
  }

  /** Streams of other threads waiting in their copy of this queue. */
  othersWaiting(): number {
    return this.shared === null ? 0 : sharedGet(this.shared) - this.#length;
  }

  /** Streams waiting. */
  get length(): number {
    return this.#length;
  }

  /** The oldest waiting stream's entry, or null. */
  peek(): Pend | null {
    return this.#head;
  }

  /** Appends `p` (not in any queue). */
  push(p: Pend): void {
    p.queue = this;
    p.prev = this.#tail;
    p.next = null;
    if (this.#tail !== null) this.#tail.next = p;
    else this.#head = p;
    this.#tail = p;
    this.#length++;
    if (this.shared !== null) sharedAdd(this.shared, 1);
  }

  /** Removes `p`, which must be in this queue. */
  remove(p: Pend): void {
    if (p.prev !== null) p.prev.next = p.next;
    else this.#head = p.next;
    if (p.next !== null) p.next.prev = p.prev;
    else this.#tail = p.prev;
    p.prev = p.next = null;
    p.queue = null;
    this.#length--;
    if (this.shared !== null) sharedAdd(this.shared, -1);
  }

  /**
   * Inserts `p` in `since` order (walking from the tail: the entries moved
   * here are usually among the newest ones), so the queue stays FIFO by
   * arrival when streams move between queues.
   */
  insertBySince(p: Pend): void {
    let after = this.#tail;
    while (after !== null && after.since > p.since) after = after.prev;
    if (after === this.#tail) {
      this.push(p);
      return;
    }
    p.queue = this;
    p.prev = after;
    p.next = after === null ? this.#head : after.next;
    if (after === null) this.#head = p;
    else after.next = p;
    p.next!.prev = p;
    this.#length++;
    if (this.shared !== null) sharedAdd(this.shared, 1);
  }

  /** Removes and returns the oldest entry, or null. */
  shift(): Pend | null {
    const p = this.#head;
    if (p !== null) this.remove(p);
    return p;
  }
}
