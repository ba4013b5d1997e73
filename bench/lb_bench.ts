/**
 * Server selection cost: `pick()` per algorithm with 2, 100 and 1000
 * servers, grouped by algorithm.
 *
 *     deno bench bench/lb_bench.ts
 *
 * Servers have weights 1 to 4 (so static-rr has a real schedule and the
 * ring is capped at 1000 servers) and no maxconn. Balanced algorithms run
 * pick + takeConn with 64 streams held, the oldest dropped (dropConn) each
 * time, so leastconn and random see changing loads; hashed ones pick a key
 * from 4096 precomputed hashes. Rings and schedules are built before timing.
 * bench/run.ts runs this file with --json and prints ns per pick.
 */
import { createLb, LB_ALGOS } from "../lib/lb/lb_algos.ts";
import { hashStr } from "../lib/lb/hash.ts";
import type { LbServer } from "../lib/lb/lb_types.ts";

/** A server as the backend would show it to an algorithm. */
class BenchSrv implements LbServer {
  cur = 0;
  readonly maxconn = 0;
  constructor(readonly name: string, readonly lbIndex: number, readonly effWeight: number) {}
  lbUp(): boolean {
    return this.effWeight > 0;
  }
}

const SIZES = [2, 100, 1000];
const HOLD = 64;
const KEYS = Array.from({ length: 4096 }, (_, i) => hashStr(`/item/${i}?v=${i * 7}`));

for (const algo of Object.keys(LB_ALGOS)) {
  for (const n of SIZES) {
    const servers = Array.from({ length: n }, (_, i) => new BenchSrv(`srv${i}`, i, 1 + (i % 4)));
    const lb = createLb({ algo, hdr: "x-user", param: "uid" }, servers);
    lb.pick(KEYS[0], null); // builds the ring or schedule outside the timing
    const name = `${algo} n=${n}`;
    if (lb.hashed) {
      let k = 0;
      Deno.bench({ name, group: algo, baseline: n === 2 }, () => {
        lb.pick(KEYS[k++ & 4095], null);
      });
    } else {
      const open = new Array<BenchSrv>(HOLD);
      let at = 0;
      Deno.bench({ name, group: algo, baseline: n === 2 }, () => {
        const old = open[at];
        if (old !== undefined) {
          old.cur--;
          lb.dropConn(old);
        }
        const s = lb.pick(0, null) as BenchSrv;
        s.cur++;
        lb.takeConn(s);
        open[at] = s;
        at = (at + 1) % HOLD;
      });
    }
  }
}
