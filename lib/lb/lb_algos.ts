/**
 * The algorithm registry: one row per `balance` algorithm, in the order
 * messages and docs list them. The CLI's usage text, every "expected …"
 * message, the `BalanceAlgo` type and docs/keywords.md derive from it.
 * Adding an algorithm is one file implementing `LbAlgo` and one row here;
 * the shared contract suite (tests/unit/lb_contract_test.ts) runs it.
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

/** One row of LB_ALGOS. */
export interface LbAlgoDef {
  /**
   * The argument written in parentheses after the name (`hdr(NAME)`): its
   * name as docs show it, and how its text becomes the spec (or why it
   * cannot). Undefined when the algorithm takes none.
   */
  readonly arg?: { readonly name: string; parse(text: string): LbSpec | string };
  /** True when the key is in the HTTP request (the backend must be in http mode). */
  readonly http: boolean;
  /** One line for docs/keywords.md. */
  readonly doc: string;
  /** Creates the algorithm over one group of servers (`spec.algo` is this row's name). */
  create(spec: LbSpec, servers: readonly LbServer[]): LbAlgo;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Every algorithm, by the name `balance` takes. */
export const LB_ALGOS = {
  "roundrobin": {
    http: false,
    doc: "Smooth weighted round robin: weights 5,1,1 give a,a,b,a,c,a,a (spread, not bursts); " +
      "weight changes apply at once. The default",
    create: (_spec, servers) => new RoundRobin(servers),
  },
  "static-rr": {
    http: false,
    doc: "Weighted round robin over a precomputed schedule, rebuilt when a weight or state " +
      "changes; flat cost per pick",
    create: (_spec, servers) => new StaticRr(servers),
  },
  "leastconn": {
    http: false,
    doc: "The server with the fewest current streams relative to its weight, `(cur+1)/weight`; " +
      "ties rotate",
    create: (_spec, servers) => new LeastConn(servers),
  },
  "first": {
    http: false,
    doc: "The first server (configuration order) with a free slot: fills servers up to " +
      "`maxconn` one after the other, so idle ones can be turned off",
    create: (_spec, servers) => new First(servers),
  },
  "source": {
    http: false,
    doc: "Hash of the client address (consistent hashing)",
    create: (spec, servers) => new ConsistentHash(spec.algo, servers),
  },
  "uri": {
    http: true,
    doc: "Hash of the request path, query string ignored (consistent hashing)",
    create: (spec, servers) => new ConsistentHash(spec.algo, servers),
  },
  "random": {
    http: false,
    doc: "Two random servers drawn by weight, the less loaded one wins (power of two choices)",
    create: (_spec, servers) => new Random(servers),
  },
  "hdr": {
    arg: {
      name: "NAME",
      parse: (text) =>
        TOKEN.test(text)
          ? { algo: "hdr", hdr: text.toLowerCase() }
          : `invalid header name ${JSON.stringify(text)}`,
    },
    http: true,
    doc: "Hash of the first value of header NAME (consistent hashing); requests without it " +
      "are spread over the servers",
    create(spec, servers) {
      if (!spec.hdr) {
        throw new SluiceError("ERR_CONFIG", `Balance algorithm "hdr" needs a header name`);
      }
      return new ConsistentHash(spec.algo, servers);
    },
  },
} as const satisfies Readonly<Record<string, LbAlgoDef>>;

/** An algorithm name (`"hdr"` for `hdr(NAME)`). */
export type LbAlgoName = keyof typeof LB_ALGOS;

/** The row of `name`, or undefined (own rows only: "constructor" is no algorithm). */
export function lbAlgoDef(name: string): LbAlgoDef | undefined {
  return Object.hasOwn(LB_ALGOS, name) ? LB_ALGOS[name as LbAlgoName] : undefined;
}

/** Every algorithm as written in a configuration: `roundrobin`, …, `hdr(NAME)`. */
export function lbAlgoSyntaxes(): string[] {
  return Object.entries(LB_ALGOS).map(([name, d]: [string, LbAlgoDef]) =>
    d.arg === undefined ? name : `${name}(${d.arg.name})`
  );
}

/** `"roundrobin, static-rr, … or hdr(NAME)"`, for "expected …" messages. */
export function lbAlgoExpected(): string {
  const all = lbAlgoSyntaxes();
  return `${all.slice(0, -1).join(", ")} or ${all[all.length - 1]}`;
}

/**
 * Parses a `balance` value: `roundrobin`, …, or `hdr(NAME)` (the header
 * name lowercased). Returns the spec, or why the value is refused: `unknown
 * algorithm "x" (expected …)` listing every algorithm, or what is wrong
 * with the argument (`invalid header name "a b"`).
 *
 * @example
 * ```ts
 * import { parseBalance } from "./lb_algos.ts";
 * console.assert(JSON.stringify(parseBalance("hdr(X-User)")) === '{"algo":"hdr","hdr":"x-user"}');
 * console.assert(typeof parseBalance("weighted") === "string");
 * ```
 */
export function parseBalance(text: string): LbSpec | string {
  const m = /^([^()]+)(?:\(([^()]*)\))?$/.exec(text);
  const def = m === null ? undefined : lbAlgoDef(m[1]);
  if (m === null || def === undefined || (def.arg === undefined) !== (m[2] === undefined)) {
    return `unknown algorithm ${JSON.stringify(text)} (expected ${lbAlgoExpected()})`;
  }
  return def.arg === undefined ? { algo: m[1] } : def.arg.parse(m[2]);
}

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
  const def = lbAlgoDef(spec.algo);
  if (def === undefined) {
    throw new SluiceError(
      "ERR_CONFIG",
      `Unknown balance algorithm ${JSON.stringify(spec.algo)}: expected one of ${
        Object.keys(LB_ALGOS).join(", ")
      }`,
    );
  }
  return def.create(spec, servers);
}
