/**
 * `roundrobin`: smooth weighted round robin. Each pick adds every usable
 * server's weight to its credit and takes the server with the most credit,
 * which then pays the total. With weights 5,1,1 the order is a,a,b,a,c,a,a:
 * spread out, not bursts. Weights may change at run time.
 *
 * @module
 */
import type { LbAlgo, LbServer } from "./lb_types.ts";

/** Smooth weighted round robin over a fixed list of servers. */
export class RoundRobin implements LbAlgo {
  readonly name = "roundrobin";
  readonly #servers: readonly LbServer[];
  readonly #credit: Float64Array;

  constructor(servers: readonly LbServer[]) {
    this.#servers = servers;
    this.#credit = new Float64Array(servers.length);
  }

  serverUp(srv: LbServer): void {
    this.#credit[srv.lbIndex] = 0;
  }

  serverDown(srv: LbServer): void {
    this.#credit[srv.lbIndex] = 0;
  }

  takeConn(_srv: LbServer): void {}

  dropConn(_srv: LbServer): void {}

  pick(): LbServer | null {
    const servers = this.#servers, credit = this.#credit;
    let best = -1, total = 0;
    for (let i = 0; i < servers.length; i++) {
      const s = servers[i];
      const w = s.effWeight;
      if (w <= 0 || !s.lbUsable()) continue;
      credit[i] += w;
      total += w;
      if (best < 0 || credit[i] > credit[best]) best = i;
    }
    if (best < 0) return null;
    credit[best] -= total;
    return servers[best];
  }
}
