/**
 * The algorithm registry: one row per `balance` algorithm, in the order
 * messages and docs list them. The CLI's usage text, every "expected …"
 * message, the `BalanceAlgo` type and docs/keywords.md derive from it.
 * Adding an algorithm is one file implementing `LbAlgo` and one row here;
 * the shared contract suite (tests/unit/lb_contract_test.ts) runs it.
 *
 * @module
 */
import type { LbAlgo, LbServer, LbShared, LbSpec } from "./lb_types.ts";
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
  /**
   * The argument written as the next word (`url_param NAME`): its name as
   * docs show it, and how it becomes the spec. Undefined when none.
   */
  readonly param?: { readonly name: string; parse(text: string): LbSpec | string };
  /**
   * Optional words after the algorithm (`use_domain_only`): each sets its
   * part of the spec, or is a string saying why sluice refuses it.
   */
  readonly options?: Readonly<Record<string, ((spec: LbSpec) => LbSpec) | string>>;
  /** True when the key is in the HTTP request (the backend must be in http mode). */
  readonly http: boolean;
  /** One line for docs/keywords.md. */
  readonly doc: string;
  /**
   * Creates the algorithm over one group of servers (`spec.algo` is this
   * row's name); `shared`, with worker threads, is the state to share with
   * the other threads' copies (algorithms with state of their own use it).
   */
  create(spec: LbSpec, servers: readonly LbServer[], shared?: LbShared | null): LbAlgo;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Every algorithm, by the name `balance` takes. */
export const LB_ALGOS = {
  "roundrobin": {
    http: false,
    doc: "Smooth weighted round robin: weights 5,1,1 give a,a,b,a,c,a,a (spread, not bursts); " +
      "weight changes apply at once. The default",
    create: (_spec, servers, shared) => new RoundRobin(servers, shared ?? null),
  },
  "static-rr": {
    http: false,
    doc: "Weighted round robin over a precomputed schedule, rebuilt when a weight or state " +
      "changes; flat cost per pick",
    create: (_spec, servers, shared) => new StaticRr(servers, shared ?? null),
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
  "url_param": {
    param: {
      name: "PARAM",
      parse: (text) =>
        /^[^&=?#\s]+$/.test(text)
          ? { algo: "url_param", param: text }
          : `invalid query parameter name ${JSON.stringify(text)}`,
    },
    options: {
      check_post: "not supported: sluice does not look for the parameter in a POST body " +
        "(send it in the query string)",
    },
    http: true,
    doc: "Hash of the value of query string parameter PARAM (`?PARAM=value`, case-sensitive, " +
      "consistent hashing); requests without it go round robin",
    create(spec, servers) {
      if (!spec.param) {
        throw new SluiceError("ERR_CONFIG", `Balance algorithm "url_param" needs a parameter name`);
      }
      return new ConsistentHash(spec.algo, servers);
    },
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
    options: { use_domain_only: (spec) => ({ ...spec, domainOnly: true }) },
    http: true,
    doc: "Hash of the first value of header NAME (consistent hashing); requests without it " +
      "go round robin. `use_domain_only` hashes only the main domain part (`1wt` of " +
      "`haproxy.1wt.eu`)",
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

/** Every algorithm as written in a configuration: `roundrobin`, …, `url_param PARAM`, `hdr(NAME)`. */
export function lbAlgoSyntaxes(): string[] {
  return Object.entries(LB_ALGOS).map(([name, d]: [string, LbAlgoDef]) =>
    d.arg !== undefined
      ? `${name}(${d.arg.name})`
      : d.param !== undefined
      ? `${name} ${d.param.name}`
      : name
  );
}

/** `"roundrobin, static-rr, … or hdr(NAME)"`, for "expected …" messages. */
export function lbAlgoExpected(): string {
  const all = lbAlgoSyntaxes();
  return `${all.slice(0, -1).join(", ")} or ${all[all.length - 1]}`;
}

/**
 * Parses a `balance` value: `roundrobin`, …, `hdr(NAME)` (the header name
 * lowercased), `url_param PARAM`, then the algorithm's options
 * (`hdr(host) use_domain_only`), words separated by spaces. Returns the
 * spec, or why the value is refused: `unknown algorithm "x" (expected …)`
 * listing every algorithm, or what is wrong with an argument or option
 * (`invalid header name "a b"`).
 *
 * @example
 * ```ts
 * import { parseBalance } from "./lb_algos.ts";
 * console.assert(JSON.stringify(parseBalance("hdr(X-User)")) === '{"algo":"hdr","hdr":"x-user"}');
 * console.assert(JSON.stringify(parseBalance("url_param uid")) === '{"algo":"url_param","param":"uid"}');
 * console.assert(typeof parseBalance("weighted") === "string");
 * ```
 */
export function parseBalance(text: string): LbSpec | string {
  const m = /^([^()\s]+)(?:\(([^()]*)\))?(?:\s+([^]*))?$/.exec(text);
  const words = m?.[3]?.split(/\s+/).filter((w) => w !== "") ?? [];
  const def = m === null ? undefined : lbAlgoDef(m[1]);
  if (m === null || def === undefined || (def.arg === undefined) !== (m[2] === undefined)) {
    return `unknown algorithm ${JSON.stringify(text)} (expected ${lbAlgoExpected()})`;
  }
  let spec: LbSpec | string = { algo: m[1] };
  if (def.arg !== undefined) spec = def.arg.parse(m[2]);
  else if (def.param !== undefined) {
    const p = words.shift();
    if (p === undefined) return `"${m[1]}" needs a ${def.param.name} (${m[1]} ${def.param.name})`;
    spec = def.param.parse(p);
  }
  for (const w of words) {
    if (typeof spec === "string") break;
    const opt = def.options !== undefined && Object.hasOwn(def.options, w)
      ? def.options[w]
      : undefined;
    if (opt === undefined) {
      const known = Object.keys(def.options ?? {});
      return `unexpected word ${JSON.stringify(w)} after "${m[1]}"` +
        (known.length === 0 ? " (it takes no option)" : ` (expected ${known.join(" or ")})`);
    }
    if (typeof opt === "string") return `"${w}" ${opt}`;
    spec = opt(spec);
  }
  return spec;
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
export function createLb(
  spec: LbSpec,
  servers: readonly LbServer[],
  shared: LbShared | null = null,
): LbAlgo {
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
  return def.create(spec, servers, shared);
}
