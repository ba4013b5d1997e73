/**
 * `random` (HAProxy "random(2)"): power of two choices. Two servers are drawn
 * at random in proportion to their weights and the less loaded one (lower
 * cur / weight) takes the stream. One draw alone spreads by weight but lets
 * unlucky servers pile up; the second draw caps the pile-up (the maximum
 * load grows as log log n instead of log n) at the cost of one more draw.
 *
 * Draws use a cumulative-weight array and a binary search, O(log n). The
 * array covers the servers that were up with a weight when it was built and
 * is rebuilt on the next pick after update() reports a changed state or
 * weight. A drawn server that is down, full or `avoid` is redrawn a few
 * times; when most of the weight is unavailable the redraws would keep
 * missing, so after MAX_DRAWS misses one scan over the servers draws among
 * the candidates only.
 *
 * @module
 */
import type { LbAlgo, LbServer } from "./lb_types.ts";

/** Draws per choice before falling back to a scan. */
const MAX_DRAWS = 8;

/** Power-of-two-choices weighted random. */
export class Random implements LbAlgo {
  readonly name = "random";
  readonly hashed = false;
  readonly #servers: readonly LbServer[];
  readonly #rng: () => number;
  /** Weight of each server as of its last update() (0 when it was down). */
  readonly #weight: Float64Array;
  /** cum[j]: total weight of drawable servers 0..j; idx[j]: the server. */
  #cum: Float64Array = new Float64Array(0);
  #idx: Int32Array = new Int32Array(0);
  #dirty = true;

  /**
   * `servers[i].lbIndex` must be `i`. `rng` returns a number in [0, 1)
   * (default Math.random); tests pass a seeded one.
   */
  constructor(servers: readonly LbServer[], rng: () => number = Math.random) {
    this.#servers = servers;
    this.#rng = rng;
    this.#weight = new Float64Array(servers.length);
    for (let i = 0; i < servers.length; i++) this.#weight[i] = liveWeight(servers[i]);
  }

  /** Rebuilds the draw table on the next pick if the server's state or weight changed. */
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
   * The less loaded of two weighted draws among servers that are up, not
   * full and not `avoid`; `avoid` when it is the sole candidate; null when
   * there is none. Both draws may land on the same server.
   */
  pick(_key: number, avoid: LbServer | null): LbServer | null {
    if (this.#dirty) this.#rebuild();
    const a = this.#draw(avoid);
    if (a === null) return this.#scan(avoid);
    const b = this.#draw(avoid);
    if (b === null || b === a) return a;
    // b.cur/b.w < a.cur/a.w without dividing; a tie keeps the first draw.
    return b.cur * a.effWeight < a.cur * b.effWeight ? b : a;
  }

  /** One weighted draw, retried up to MAX_DRAWS times; null when all missed. */
  #draw(avoid: LbServer | null): LbServer | null {
    const cum = this.#cum, idx = this.#idx, n = cum.length;
    if (n === 0) return null;
    const total = cum[n - 1];
    for (let d = 0; d < MAX_DRAWS; d++) {
      const r = this.#rng() * total;
      // First j with cum[j] > r.
      let lo = 0, hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cum[mid] > r) hi = mid;
        else lo = mid + 1;
      }
      const s = this.#servers[idx[lo]];
      if (s !== avoid && candidate(s)) return s;
    }
    return null;
  }

  /**
   * Slow path: two weighted draws among the current candidates, by scanning
   * (the live weights, since these servers may have changed since the
   * table was built). Costs O(n) and two random numbers.
   */
  #scan(avoid: LbServer | null): LbServer | null {
    const servers = this.#servers;
    let total = 0, avoidOk = false;
    for (let i = 0; i < servers.length; i++) {
      const s = servers[i];
      if (!candidate(s)) continue;
      if (s === avoid) avoidOk = true;
      else total += s.effWeight;
    }
    if (total === 0) return avoidOk ? avoid : null;
    const a = this.#walk(this.#rng() * total, avoid);
    const b = this.#walk(this.#rng() * total, avoid);
    return b.cur * a.effWeight < a.cur * b.effWeight ? b : a;
  }

  /** The candidate where the running weight first exceeds `r` (r < total of candidates). */
  #walk(r: number, avoid: LbServer | null): LbServer {
    const servers = this.#servers;
    let last: LbServer | null = null;
    for (let i = 0; i < servers.length; i++) {
      const s = servers[i];
      if (s === avoid || !candidate(s)) continue;
      last = s;
      r -= s.effWeight;
      if (r < 0) return s;
    }
    return last!; // Only reached through rounding: the last candidate.
  }

  #rebuild(): void {
    this.#dirty = false;
    const weight = this.#weight;
    let n = 0;
    for (let i = 0; i < weight.length; i++) if (weight[i] > 0) n++;
    const cum = new Float64Array(n), idx = new Int32Array(n);
    let acc = 0, j = 0;
    for (let i = 0; i < weight.length; i++) {
      if (weight[i] <= 0) continue;
      acc += weight[i];
      cum[j] = acc;
      idx[j++] = i;
    }
    this.#cum = cum;
    this.#idx = idx;
  }
}

/** The weight a server would get now: its effective weight when up, else 0. */
function liveWeight(s: LbServer): number {
  return s.lbUp() && s.effWeight > 0 ? s.effWeight : 0;
}

/** Up, weighted and not full. */
function candidate(s: LbServer): boolean {
  return s.effWeight > 0 && (s.maxconn === 0 || s.cur < s.maxconn) && s.lbUp();
}
