/**
 * `roundrobin`: smooth weighted round robin (HAProxy "roundrobin", nginx's
 * smooth WRR). Each pick adds every candidate's weight to its credit and
 * takes the candidate with the most credit, which then pays the total. With
 * weights 5,1,1 the order is a,a,b,a,c,a,a: spread out, not bursts.
 *
 * Weights are read at pick time, so a run-time weight change (slowstart, the
 * CLI) applies from the next pick without update(). A pick costs one pass
 * over the servers; for the 2 to a few hundred servers of a backend that
 * beats keeping a tree ordered (HAProxy's ebtree) in JavaScript, and needs
 * no bookkeeping on takeConn/dropConn.
 *
 * @module
 */
import { type LbAlgo, lbLock, type LbServer, type LbShared, lbUnlock } from "./lb_types.ts";

/** Smooth weighted round robin over a fixed list of servers. */
export class RoundRobin implements LbAlgo {
  readonly name = "roundrobin";
  readonly hashed = false;
  readonly #servers: readonly LbServer[];
  /** Credit of each server, by lbIndex; the credits of a stable set sum to 0. */
  readonly #credit: Float64Array;
  /** lbUp() as last seen by update(), 1 or 0: only a flip resets the credit. */
  readonly #up: Uint8Array;
  /** With worker threads: the credits are every thread's, and picks take the lock. */
  readonly #shared: LbShared | null;

  /** `servers[i].lbIndex` must be `i`. */
  constructor(servers: readonly LbServer[], shared: LbShared | null = null) {
    this.#servers = servers;
    this.#shared = shared;
    this.#credit = shared?.nums ?? new Float64Array(servers.length);
    this.#up = new Uint8Array(servers.length);
    for (let i = 0; i < servers.length; i++) this.#up[i] = servers[i].lbUp() ? 1 : 0;
  }

  /**
   * A server that comes back (or leaves) starts from zero credit, so it
   * neither floods nor starves for having been away. A weight change alone
   * keeps the credit: the next picks read the new weight anyway.
   */
  update(srv: LbServer): void {
    const i = srv.lbIndex, up = srv.lbUp() ? 1 : 0;
    if (this.#up[i] !== up) {
      this.#up[i] = up;
      this.#credit[i] = 0;
    }
  }

  takeConn(_srv: LbServer): void {}

  dropConn(_srv: LbServer): void {}

  /**
   * Candidates are servers that are up, not full and weighted above 0.
   * `avoid` sits the round out (its credit is left as is) unless it is the
   * only candidate. Returns null when there is no candidate.
   */
  pick(_key: number, avoid: LbServer | null): LbServer | null {
    const sh = this.#shared;
    if (sh === null) return this.#pick(avoid);
    lbLock(sh.words);
    try {
      return this.#pick(avoid);
    } finally {
      lbUnlock(sh.words);
    }
  }

  #pick(avoid: LbServer | null): LbServer | null {
    const servers = this.#servers, credit = this.#credit;
    let best = -1, bestCredit = 0, total = 0, avoidOk = false;
    for (let i = 0; i < servers.length; i++) {
      const s = servers[i];
      const w = s.effWeight;
      // lbFull() inlined: this loop is the whole cost of a pick.
      if (w <= 0 || (s.maxconn > 0 && s.cur >= s.maxconn) || !s.lbUp()) continue;
      if (s === avoid) {
        avoidOk = true;
        continue;
      }
      const c = credit[i] + w;
      credit[i] = c;
      total += w;
      if (best < 0 || c > bestCredit) {
        best = i;
        bestCredit = c;
      }
    }
    if (best < 0) return avoidOk ? avoid : null;
    credit[best] = bestCredit - total;
    return servers[best];
  }
}
