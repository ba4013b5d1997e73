/**
 * `static-rr`: weighted round robin over a precomputed schedule (HAProxy
 * "static-rr", its map-based algorithm). The weights are taken when the
 * schedule is built, at construction and after an update() that changed a
 * server's state or weight; a weight changed without update() has no effect,
 * as in HAProxy where such changes apply only on a state change.
 *
 * A pick does no weight arithmetic: a cursor walks the schedule and returns
 * the first entry that is up and not full, so it costs O(1) while servers are
 * free, against O(n) for `roundrobin`.
 *
 * The schedule holds each server `w / g` times (g: the gcd of the weights)
 * in virtual-time order: a server's k-th entry sits at time (k + 1/2) / w,
 * so entries of each server are evenly spread (weights 5,1,1 give
 * a,a,a,b,c,a,a). Smooth WRR would order it slightly better but costs
 * O(n × total weight) to generate, 256 million steps for 1000 servers of
 * mixed weights; sorting the entries costs O(total log total).
 *
 * @module
 */
import { type LbAlgo, lbLock, type LbServer, type LbShared, lbUnlock } from "./lb_types.ts";

/** Weighted round robin with weights fixed at the last state change. */
export class StaticRr implements LbAlgo {
  readonly name = "static-rr";
  readonly hashed = false;
  readonly #servers: readonly LbServer[];
  /** Weight of each server as of its last update() (0 when it was down). */
  readonly #weight: Int32Array;
  /** Server indices in serving order; rebuilt on the next pick when #dirty. */
  #sched: Int32Array = new Int32Array(0);
  #pos = 0;
  #dirty = true;
  /** With worker threads: the cursor is every thread's (`words[1]`), and picks take the lock. */
  readonly #shared: LbShared | null;

  /** `servers[i].lbIndex` must be `i`. */
  constructor(servers: readonly LbServer[], shared: LbShared | null = null) {
    this.#shared = shared;
    if (servers.length > IDX_SPAN) throw new RangeError(`Too many servers: ${servers.length}`);
    this.#servers = servers;
    this.#weight = new Int32Array(servers.length);
    for (let i = 0; i < servers.length; i++) this.#weight[i] = liveWeight(servers[i]);
  }

  /** Takes the server's weight and state now; rebuilds on the next pick if either changed. */
  update(srv: LbServer): void {
    const w = liveWeight(srv);
    if (this.#weight[srv.lbIndex] !== w) {
      this.#weight[srv.lbIndex] = w;
      this.#dirty = true;
    }
  }

  takeConn(_srv: LbServer): void {}

  dropConn(_srv: LbServer): void {}

  /**
   * Walks the schedule from the cursor to the first server that is up, not
   * full and not `avoid`. The walk is bounded to one entry per server; past
   * that the free servers are a light minority and one scan finds the next
   * of them after the cursor's server, so a pick never costs more than
   * O(n) even when all are full. `avoid` is returned only when it is the
   * sole candidate.
   */
  pick(_key: number, avoid: LbServer | null): LbServer | null {
    const sh = this.#shared;
    if (sh === null) return this.#pick(avoid);
    lbLock(sh.words);
    try {
      this.#pos = sh.words[1];
      const s = this.#pick(avoid);
      sh.words[1] = this.#pos;
      return s;
    } finally {
      lbUnlock(sh.words);
    }
  }

  #pick(avoid: LbServer | null): LbServer | null {
    if (this.#dirty) this.#rebuild();
    const sched = this.#sched, servers = this.#servers, len = sched.length;
    if (len === 0) return null;
    let pos = this.#pos, avoidOk = false;
    const steps = Math.min(len, servers.length);
    for (let k = 0; k < steps; k++) {
      const s = servers[sched[pos]];
      if (++pos === len) pos = 0;
      if (!usable(s)) continue;
      if (s === avoid) {
        avoidOk = true;
        continue;
      }
      this.#pos = pos;
      return s;
    }
    this.#pos = pos;
    // Slow path: scan the scheduled servers once, starting after the last one tried.
    const n = servers.length, weight = this.#weight;
    const start = sched[pos === 0 ? len - 1 : pos - 1] + 1;
    for (let k = 0; k < n; k++) {
      let i = start + k;
      if (i >= n) i -= n;
      const s = servers[i];
      if (weight[i] === 0 || !usable(s)) continue;
      if (s === avoid) {
        avoidOk = true;
        continue;
      }
      return s;
    }
    return avoidOk ? avoid : null;
  }

  /** Builds the schedule from the recorded weights (see the module doc for the order). */
  #rebuild(): void {
    this.#dirty = false;
    const weight = this.#weight, n = weight.length;
    let g = 0, total = 0;
    for (let i = 0; i < n; i++) if (weight[i] > 0) g = gcd(g, weight[i]);
    for (let i = 0; i < n; i++) total += g > 0 ? weight[i] / g : 0;
    // Each entry packed as time × 2^21 + index into one float (exact below
    // 2^53) so a native typed-array sort orders it. Times (2k+1)/(2w) with
    // w <= 256 differ by at least 2^-18, well above the 2^-32 quantum.
    const packed = new Float64Array(total);
    let j = 0;
    for (let i = 0; i < n; i++) {
      const w = g > 0 ? weight[i] / g : 0;
      for (let k = 0; k < w; k++) {
        packed[j++] = Math.floor((k + 0.5) / w * 2 ** 32) * IDX_SPAN + i;
      }
    }
    packed.sort();
    const sched = new Int32Array(total);
    for (let k = 0; k < total; k++) sched[k] = packed[k] % IDX_SPAN;
    this.#sched = sched;
    // Keep the cursor where it was rather than restarting at the head, which
    // would favour the first entries when updates come often (slowstart).
    this.#pos = total > 0 ? this.#pos % total : 0;
  }
}

/** Index field width of a packed schedule entry: up to 2^21 servers. */
const IDX_SPAN = 2 ** 21;

/** The weight a server would get now: its effective weight when up, else 0. */
function liveWeight(s: LbServer): number {
  // The schedule needs whole weights (a slowstart ramp is fractional).
  return s.lbUp() && s.effWeight > 0 ? Math.max(1, Math.round(s.effWeight)) : 0;
}

/** Up and not full (lbFull() inlined for the walk). */
function usable(s: LbServer): boolean {
  return (s.maxconn === 0 || s.cur < s.maxconn) && s.lbUp();
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
