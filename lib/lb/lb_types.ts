/**
 * The load-balancing interface. Every algorithm is one implementation of
 * `LbAlgo` in its own file and passes the shared contract suite
 * (tests/unit/lb_contract_test.ts). A backend keeps one algorithm instance
 * over its active servers and one over its backup servers.
 *
 * Two kinds of algorithm:
 * - balanced (`hashed` false: roundrobin, static-rr, leastconn, first,
 *   random) pick among servers that are up and not full; null means "none
 *   free now" and the backend queues the stream in the backend queue;
 * - hashed (`hashed` true: source, uri, url_param, hdr) map a key to a server that is
 *   up, full or not; the backend then queues the stream on that server when
 *   it is full, so a key keeps going to the same server.
 *
 * @module
 */

/** What an algorithm needs to know about a server. */
export interface LbServer {
  /** Server name (unique in its backend); hashed algorithms place it on the ring by name. */
  readonly name: string;
  /** Position in the list given to the algorithm, fixed for the server's life. */
  readonly lbIndex: number;
  /** Effective weight for new traffic, 0 to 256 (0: none). Changes at run time. */
  readonly effWeight: number;
  /** Streams currently assigned to the server. */
  readonly cur: number;
  /** Maximum concurrent streams, 0 for no limit. */
  readonly maxconn: number;
  /** True when the server may take new traffic (up, admin ready, weight above 0). */
  lbUp(): boolean;
}

/** True when `srv` has no free connection slot. */
export function lbFull(srv: LbServer): boolean {
  return srv.maxconn > 0 && srv.cur >= srv.maxconn;
}

/** A load-balancing algorithm over one group (active or backup) of a backend's servers. */
export interface LbAlgo {
  /** Algorithm name as in the configuration ("roundrobin", "hdr"). */
  readonly name: string;
  /** True for key-hashing algorithms (see the module doc). */
  readonly hashed: boolean;
  /**
   * `srv` changed state (up, down, drain, maint) or effective weight. Cheap;
   * called on every slowstart step too.
   */
  update(srv: LbServer): void;
  /** A stream was assigned to `srv` (its `cur` already counts it). */
  takeConn(srv: LbServer): void;
  /** A stream left `srv` (its `cur` no longer counts it). */
  dropConn(srv: LbServer): void;
  /**
   * Picks a server for a new stream. `key` is the 32-bit hash of the
   * stream's key for hashed algorithms (ignored by the others); -1 when the
   * stream has none (the header or parameter is absent): hashed algorithms
   * then pick by round robin among servers up and not full, as HAProxy.
   * `avoid` is a server to skip if any other one qualifies (redispatch
   * after a failure). Returns null when no server qualifies.
   */
  pick(key: number, avoid: LbServer | null): LbServer | null;
}

/** Balance settings: the algorithm and its key's source. */
export interface LbSpec {
  /** "roundrobin", "static-rr", "leastconn", "first", "source", "uri", "url_param", "hdr", "random". */
  algo: string;
  /** Header name for "hdr" (lowercase). */
  hdr?: string;
  /** "hdr" with `use_domain_only`: hash only the main domain part ("1wt" of "haproxy.1wt.eu"). */
  domainOnly?: boolean;
  /** Query string parameter for "url_param". */
  param?: string;
}

/**
 * With worker threads: the state an algorithm shares with its copies in the
 * other threads (in a SharedArrayBuffer), so that the process balances as
 * one — roundrobin's credits, static-rr's cursor — and the lock its picks
 * take (HAProxy's lbprm lock). A pick is one short pass over the servers.
 */
export interface LbShared {
  /** `[0]`: the lock (0 free, 1 held); `[1]`: a cursor. */
  readonly words: Int32Array;
  /** One number per server (by lbIndex). */
  readonly nums: Float64Array;
}

/** Bytes of the shared state of a group of `n` servers (8-byte aligned). */
export function lbSharedBytes(n: number): number {
  return 8 + 8 * n;
}

/** The shared state of `n` servers at `offset` of `sab` (see lbSharedBytes()). */
export function lbSharedAt(sab: SharedArrayBuffer, offset: number, n: number): LbShared {
  return {
    words: new Int32Array(sab, offset, 2),
    nums: new Float64Array(sab, offset + 8, n),
  };
}

/** A lock held longer than this (ms) belonged to a thread that died holding it: taken over. */
const LB_LOCK_STEAL_MS = 50;
/** Tries before sleeping on the lock: a pick holds it well under a microsecond. */
const LB_LOCK_SPINS = 64;

/**
 * Takes the lock: a futex mutex (Drepper's: 0 free, 1 held, 2 held with
 * waiters). It is held for one pick, so a few tries usually get it; after
 * that the thread sleeps in Atomics.wait() until the holder lets go — not
 * spinning, which would burn the holder's CPU when threads share a core (a
 * holder preempted by the OS). A worker terminated in the middle of a pick
 * never releases it: past LB_LOCK_STEAL_MS the lock is taken over (at
 * worst, one pick's credit is counted twice).
 */
export function lbLock(words: Int32Array): void {
  let c = Atomics.compareExchange(words, 0, 0, 1);
  if (c === 0) return;
  for (let i = 0; i < LB_LOCK_SPINS; i++) {
    c = Atomics.compareExchange(words, 0, 0, 1);
    if (c === 0) return;
  }
  const start = Date.now();
  if (c !== 2) c = Atomics.exchange(words, 0, 2);
  while (c !== 0) {
    Atomics.wait(words, 0, 2, 5);
    if (Date.now() - start > LB_LOCK_STEAL_MS) {
      Atomics.store(words, 0, 2);
      return;
    }
    c = Atomics.exchange(words, 0, 2);
  }
}

/** Releases the lock, waking a thread that sleeps on it. */
export function lbUnlock(words: Int32Array): void {
  if (Atomics.exchange(words, 0, 0) === 2) Atomics.notify(words, 0, 1);
}
