/**
 * `leastconn`: weighted least connections (HAProxy "leastconn"). A pick takes
 * the candidate with the lowest (cur + 1) / weight: the load it would have
 * with the new stream, per unit of weight, so a server of weight 2 carries
 * twice the streams of one of weight 1, and an idle heavy server is
 * preferred to an idle light one.
 *
 * Ties go round robin: the scan starts after the last pick, and only a
 * strictly lower load displaces the first candidate found. Without that,
 * equal idle servers (short requests, cur back to 0 between picks) would all
 * go to the first one.
 *
 * Loads are read from `cur` and `effWeight` at pick time, so takeConn() and
 * dropConn() have nothing to do. A pick is one pass over the servers; an
 * ordered tree would make it O(log n) but must be re-keyed on every
 * take/drop, which costs more than the scan for backend-sized server lists.
 *
 * @module
 */
import type { LbAlgo, LbServer } from "./lb_types.ts";

/** Weighted least connections over a fixed list of servers. */
export class LeastConn implements LbAlgo {
  readonly name = "leastconn";
  readonly hashed = false;
  readonly #servers: readonly LbServer[];
  /** Where the next scan starts: one past the last pick. */
  #start = 0;

  /** `servers[i].lbIndex` must be `i`. */
  constructor(servers: readonly LbServer[]) {
    this.#servers = servers;
  }

  update(_srv: LbServer): void {}

  takeConn(_srv: LbServer): void {}

  dropConn(_srv: LbServer): void {}

  /**
   * The least loaded server that is up, not full and weighted above 0;
   * `avoid` only when it is the sole candidate; null when there is none.
   */
  pick(_key: number, avoid: LbServer | null): LbServer | null {
    const servers = this.#servers, n = servers.length;
    let best: LbServer | null = null, bestLoad = 0, bestW = 1, avoidOk = false;
    let i = this.#start, bestIdx = -1;
    for (let k = 0; k < n; k++, i++) {
      if (i === n) i = 0;
      const s = servers[i];
      const w = s.effWeight, cur = s.cur;
      if (w <= 0 || (s.maxconn > 0 && cur >= s.maxconn) || !s.lbUp()) continue;
      if (s === avoid) {
        avoidOk = true;
        continue;
      }
      // (cur+1)/w < bestLoad/bestW without dividing: integers stay exact.
      if (best === null || (cur + 1) * bestW < bestLoad * w) {
        best = s;
        bestLoad = cur + 1;
        bestW = w;
        bestIdx = i;
      }
    }
    if (best === null) return avoidOk ? avoid : null;
    this.#start = bestIdx + 1 === n ? 0 : bestIdx + 1;
    return best;
  }
}
