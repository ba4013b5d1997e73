/**
 * `first` (HAProxy "first"): the first server in list order that is up and
 * has a free slot. Servers fill one after the other up to their maxconn,
 * which lets idle trailing servers be powered down; weights only matter in
 * that weight 0 takes a server out. Meant for servers with a maxconn: without
 * one, the first server takes everything.
 *
 * @module
 */
import type { LbAlgo, LbServer } from "./lb_types.ts";

/** Fills servers in lbIndex order. */
export class First implements LbAlgo {
  readonly name = "first";
  readonly hashed = false;
  readonly #servers: readonly LbServer[];

  /** `servers[i].lbIndex` must be `i`: list order is fill order. */
  constructor(servers: readonly LbServer[]) {
    this.#servers = servers;
  }

  update(_srv: LbServer): void {}

  takeConn(_srv: LbServer): void {}

  dropConn(_srv: LbServer): void {}

  /**
   * The lowest-index server that is up, not full and weighted above 0;
   * `avoid` only when it is the sole candidate; null when there is none.
   * O(1) while the first server has room, O(n) at worst.
   */
  pick(_key: number, avoid: LbServer | null): LbServer | null {
    const servers = this.#servers;
    let avoidOk = false;
    for (let i = 0; i < servers.length; i++) {
      const s = servers[i];
      if (s.effWeight <= 0 || (s.maxconn > 0 && s.cur >= s.maxconn) || !s.lbUp()) continue;
      if (s !== avoid) return s;
      avoidOk = true;
    }
    return avoidOk ? avoid : null;
  }
}
