/**
 * The algorithm registry: configuration names to `LbAlgo` implementations.
 * Adding an algorithm is one file implementing `LbAlgo`, one entry here, and
 * the shared contract suite picks it up from LB_ALGOS.
 *
 * @module
 */
import type { LbAlgo, LbServer, LbSpec } from "./lb_types.ts";
import { SluiceError } from "../core/errors.ts";
import { ConsistentHash } from "./chash.ts";
import { First } from "./first.ts";
import { LeastConn } from "./leastconn.ts";
import { Random } from "./random.ts";
import { RoundRobin } from "./roundrobin.ts";
import { StaticRr } from "./static_rr.ts";

/** Every algorithm name `createLb()` accepts, as written in the configuration. */
export const LB_ALGOS: readonly string[] = Object.freeze([
  "roundrobin",
  "static-rr",
  "leastconn",
  "first",
  "random",
  "source",
  "uri",
  "hdr",
]);

/**
 * Creates the algorithm `spec.algo` over `servers` (one group of a backend:
 * active or backup), where `servers[i].lbIndex` must be `i` (a RangeError
 * otherwise: the algorithms index their tables by it). Throws a SluiceError
 * with code ERR_CONFIG for an unknown algorithm or "hdr" without a header
 * name; the configuration check reports those first, with their place.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLb } from "./lb_algos.ts";
 * const servers = [0, 1].map((i) => ({
 *   name: `s${i}`, lbIndex: i, effWeight: 1, cur: 0, maxconn: 0, lbUp: () => true,
 * }));
 * const lb = createLb({ algo: "roundrobin" }, servers);
 * assert(lb.pick(0, null)?.name === "s0");
 * ```
 */
export function createLb(spec: LbSpec, servers: readonly LbServer[]): LbAlgo {
  for (let i = 0; i < servers.length; i++) {
    if (servers[i].lbIndex !== i) {
      throw new RangeError(
        `Server "${servers[i].name}" has lbIndex ${servers[i].lbIndex}, not ${i}`,
      );
    }
  }
  switch (spec.algo) {
    case "roundrobin":
      return new RoundRobin(servers);
    case "static-rr":
      return new StaticRr(servers);
    case "leastconn":
      return new LeastConn(servers);
    case "first":
      return new First(servers);
    case "random":
      return new Random(servers);
    case "hdr":
      if (!spec.hdr) {
        throw new SluiceError("ERR_CONFIG", `Balance algorithm "hdr" needs a header name`);
      }
      return new ConsistentHash(spec.algo, servers);
    case "source":
    case "uri":
      return new ConsistentHash(spec.algo, servers);
  }
  throw new SluiceError(
    "ERR_CONFIG",
    `Unknown balance algorithm ${JSON.stringify(spec.algo)}: expected one of ${
      LB_ALGOS.join(", ")
    }`,
  );
}
