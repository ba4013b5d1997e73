/**
 * mergeInstanceStats(): one process-wide InstanceStats from the snapshots of
 * several instances of the same configuration (worker threads), so that the
 * outputs (CSV, JSON, page, Prometheus) show one proxy, not N.
 *
 * Rules, per field (the tables below name every field of the rows, so a new
 * field does not compile until it is given a rule):
 *
 * - **Counters and current values sum**: sessions, bytes, errors, denials,
 *   retries, aborts, requests, responses per class, current sessions and
 *   queue lengths, health-check failures and DOWN transitions (a check runs
 *   in one thread, so only that thread's counters move), `actconn`, and the
 *   pool, scheduler, idle-connection and log counters (each thread has its
 *   own pool, so `limit` sums too; `size` is the same everywhere and comes
 *   from the first part).
 * - **Rates sum**: `rate` and `req_rate` count the last second in every
 *   thread, so the process-wide rate over that second is their sum.
 * - **Maxima are summed, an upper bound**: `smax`, `qmax`, `rate_max` and
 *   `req_rate_max` peaked in each thread at moments of its own; the sum is
 *   the most the process can have seen. Where an exact process-wide value
 *   exists (a shared counter), pass it in `overrides`: it replaces the merged
 *   value of that row (or of `actconn`).
 * - **Latency merges bucket by bucket**: the rows' `latRaw`
 *   (`Instance.stats({ raw: true })`) are added into one LatencySet whose
 *   snapshot becomes `lat`; percentiles are never averaged. Parts without
 *   `latRaw` cannot be merged exactly, so more than one such part with `lat`
 *   throws. `latRaw` is left out of the result (it would bloat the JSON
 *   output) unless `keepRaw` is set, to merge the result again.
 * - **State comes from the first part**: names, `status`, `weight`,
 *   `eweight`, `backup`, `check_status`, `check_desc`, `check_health`,
 *   `lastchg`, `downtime`, `act`, `bck`, `stick_entries`. The caller puts the
 *   view that owns the state (the control thread's) first.
 *
 * Rows are matched by position and name: parts of different configurations
 * (another frontend, backend or server at some position, or another count)
 * throw a StatsShapeError rather than add unrelated counters.
 *
 * @module
 */
import type { PoolCounters } from "../core/pool.ts";
import type { SchedCounters } from "../sched/scheduler.ts";
import { LatencySet } from "./latency.ts";
import type {
  BackendStats,
  CacheStats,
  InstanceStats,
  LatencySetRaw,
  ProxyStats,
  ServerStats,
} from "./stats_types.ts";

/**
 * How a field merges: add the values ("sum"), add per-thread maxima as an
 * upper bound ("peak", which an override makes exact), take the first part's
 * ("first"), or merged by hand ("own": latency, the server list).
 */
type Rule = "sum" | "peak" | "first" | "own";

const PROXY_RULES: Record<keyof ProxyStats, Rule> = {
  name: "first",
  scur: "sum",
  smax: "peak",
  stot: "sum",
  bin: "sum",
  bout: "sum",
  econ: "sum",
  eresp: "sum",
  ereq: "sum",
  wretr: "sum",
  cli_abrt: "sum",
  srv_abrt: "sum",
  dcon: "sum",
  dreq: "sum",
  dresp: "sum",
  rate: "sum",
  rate_max: "peak",
  req_rate: "sum",
  req_rate_max: "peak",
  req_tot: "sum",
  hrsp_1xx: "sum",
  hrsp_2xx: "sum",
  hrsp_3xx: "sum",
  hrsp_4xx: "sum",
  hrsp_5xx: "sum",
  hrsp_other: "sum",
  lat: "own",
  latRaw: "own",
  cache_lookups: "sum",
  cache_hits: "sum",
  comp_in: "sum",
  comp_out: "sum",
  comp_byp: "sum",
  comp_rsp: "sum",
};

/** Each thread has its own cache memory: every figure sums (the sizes too). */
const CACHE_RULES: Record<keyof CacheStats, Rule> = {
  name: "first",
  lookups: "sum",
  hits: "sum",
  entries: "sum",
  used: "sum",
  size: "sum",
  evictions: "sum",
};

const SERVER_RULES: Record<keyof ServerStats, Rule> = {
  ...PROXY_RULES,
  status: "first",
  weight: "first",
  eweight: "first",
  backup: "first",
  qcur: "sum",
  qmax: "peak",
  wredis: "sum",
  chkfail: "sum",
  chkdown: "sum",
  check_status: "first",
  check_desc: "first",
  check_health: "first",
  lastchg: "first",
  downtime: "first",
};

const BACKEND_RULES: Record<keyof BackendStats, Rule> = {
  ...PROXY_RULES,
  status: "first",
  act: "first",
  bck: "first",
  qcur: "sum",
  qmax: "peak",
  wredis: "sum",
  stick_entries: "first",
  servers: "own",
};

const POOL_RULES: Record<keyof PoolCounters, Rule> = {
  inUse: "sum",
  free: "sum",
  allocated: "sum",
  waits: "sum",
  waiting: "sum",
  limit: "sum",
  size: "first",
};

const SCHED_RULES: Record<keyof SchedCounters, Rule> = {
  turns: "sum",
  runs: "sum",
  budgetHits: "sum",
  crashes: "sum",
  queued: "sum",
  timers: "sum",
  breaths: "sum",
};

/** The numeric fields of a row an override may set (counters, current values, maxima). */
export type RowOverride = Partial<
  Pick<BackendStats & ServerStats, "scur" | "smax" | "qcur" | "qmax" | "rate_max" | "req_rate_max">
>;

/**
 * Exact process-wide values that replace merged ones, from shared counters:
 * frontends and backends by name, servers by "backend/server" (as the
 * runtime API names them), and `actconn`. A name that matches no row, or a
 * field a row does not have (qcur on a frontend), throws a RangeError.
 */
export interface StatsOverrides {
  frontends?: Record<string, RowOverride>;
  backends?: Record<string, RowOverride>;
  servers?: Record<string, RowOverride>;
  actconn?: number;
}

/** Options of mergeInstanceStats(). */
export interface MergeOptions {
  /** Exact values from shared counters (see StatsOverrides). */
  overrides?: StatsOverrides;
  /** Keep the merged `latRaw` in each row (to merge the result again); default false. */
  keepRaw?: boolean;
}

/** Parts that are not snapshots of one configuration (different rows or row order). */
export class StatsShapeError extends Error {
  override name = "StatsShapeError";
}

/**
 * One InstanceStats from the snapshots of several instances of the same
 * configuration, by the rules of the module documentation. `parts[0]` gives
 * the state fields; the parts are not modified.
 *
 * @example
 * ```ts ignore
 * const parts = await Promise.all(workers.map((w) => w.stats({ raw: true })));
 * const stats = mergeInstanceStats([control.stats({ raw: true }), ...parts], {
 *   overrides: { frontends: { web: { scur: shared.scur("web"), smax: shared.smax("web") } } },
 * });
 * ```
 */
export function mergeInstanceStats(
  parts: readonly InstanceStats[],
  opts: MergeOptions = {},
): InstanceStats {
  if (parts.length === 0) throw new RangeError("Cannot merge statistics: no part given");
  const keepRaw = opts.keepRaw === true;
  const first = parts[0];
  checkCount(parts, (p) => p.frontends, "frontends");
  checkCount(parts, (p) => p.backends, "backends");
  const frontends = first.frontends.map((_, i) =>
    mergeRow(PROXY_RULES, rowsAt(parts, (p) => p.frontends, i, "frontend"), keepRaw)
  );
  const backends = first.backends.map((be, i) => {
    const rows = rowsAt(parts, (p) => p.backends, i, "backend");
    const merged = mergeRow(BACKEND_RULES, rows, keepRaw);
    checkCount(rows, (b) => b.servers, `servers in backend "${be.name}"`);
    merged.servers = be.servers.map((_, j) =>
      mergeRow(
        SERVER_RULES,
        rowsAt(rows, (b) => b.servers, j, `server of backend "${be.name}"`),
        keepRaw,
      )
    );
    return merged;
  });
  const largePools = parts.map((p) => p.largePool).filter((p) => p !== null);
  const out: InstanceStats = {
    frontends,
    backends,
    actconn: sum(parts.map((p) => p.actconn)),
    pool: mergeFlat(POOL_RULES, parts.map((p) => p.pool)),
    largePool: largePools.length === 0 ? null : mergeFlat(POOL_RULES, largePools),
    sched: mergeFlat(SCHED_RULES, parts.map((p) => p.sched)),
    idle: mergeFlat({ reused: "sum", expired: "sum", parked: "sum" }, parts.map((p) => p.idle)),
    log: mergeFlat({ lines: "sum", dropped: "sum" }, parts.map((p) => p.log)),
  };
  // Certificates are the same files in every thread: the first part's view.
  if (first.sslCerts !== undefined) out.sslCerts = first.sslCerts;
  if (first.caches !== undefined) {
    out.caches = first.caches.map((_, i) =>
      mergeFlat(CACHE_RULES, rowsAt(parts, (p) => p.caches ?? [], i, "cache"))
    );
  }
  if (opts.overrides !== undefined) applyOverrides(out, opts.overrides);
  return out;
}

/** Row `i` of every part; throws StatsShapeError when a part has another name there or none. */
function rowsAt<P, R extends { name: string }>(
  parts: readonly P[],
  list: (p: P) => readonly R[],
  i: number,
  what: string,
): R[] {
  const name = list(parts[0])[i].name;
  return parts.map((p, k) => {
    const row = list(p)[i];
    if (row?.name !== name) {
      throw new StatsShapeError(
        `Cannot merge statistics of different configurations: part ${k} has ${
          row === undefined ? "no " + what : `${what} "${row.name}"`
        } at position ${i} where part 0 has "${name}"`,
      );
    }
    return row;
  });
}

/** Throws StatsShapeError when a part has another number of rows than the first. */
function checkCount<P>(
  parts: readonly P[],
  list: (p: P) => readonly unknown[],
  what: string,
): void {
  const n = list(parts[0]).length;
  parts.forEach((p, k) => {
    if (list(p).length !== n) {
      throw new StatsShapeError(
        `Cannot merge statistics of different configurations: part ${k} has ${
          list(p).length
        } ${what} where part 0 has ${n}`,
      );
    }
  });
}

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/** Merges plain objects field by field: "sum" and "peak" add, anything else is the first's. */
function mergeFlat<T extends object>(rules: Record<keyof T, Rule>, objs: readonly T[]): T {
  const out = { ...objs[0] } as Record<string, unknown>;
  for (const key of Object.keys(out)) {
    const rule = (rules as Record<string, Rule | undefined>)[key];
    // A field no table names (added at run time) sums when it is a number.
    const adds = rule === "sum" || rule === "peak" ||
      (rule === undefined && typeof out[key] === "number");
    if (adds) out[key] = sum(objs.map((o) => (o as Record<string, number>)[key]));
  }
  return out as T;
}

/** Merges the rows of one proxy or server: fields by the rules, latency from the raws. */
function mergeRow<T extends ProxyStats>(
  rules: Record<keyof T, Rule>,
  rows: readonly T[],
  keepRaw: boolean,
): T {
  const out = mergeFlat(rules, rows);
  delete out.latRaw;
  const raws = rows.map((r) => r.latRaw).filter((r): r is LatencySetRaw => r !== undefined);
  if (raws.length === rows.length) {
    const set = LatencySet.fromRaws(raws);
    out.lat = set.snapshot();
    if (keepRaw) out.latRaw = set.raw();
  } else if (rows.length > 1 && rows.some((r) => r.lat !== undefined)) {
    throw new TypeError(
      `Cannot merge the latency of "${
        rows[0].name
      }" exactly: every part needs latRaw (Instance.stats({ raw: true }))`,
    );
  }
  return out;
}

/** Replaces merged values by the exact ones given; unknown names or fields throw. */
function applyOverrides(out: InstanceStats, o: StatsOverrides): void {
  const apply = (rows: readonly ProxyStats[], by: Record<string, RowOverride>, what: string) => {
    for (const [name, values] of Object.entries(by)) {
      const row = rows.find((r) => r.name === name);
      if (row === undefined) {
        throw new RangeError(
          `Cannot override the statistics of ${what} "${name}": no such ${what}`,
        );
      }
      for (const [field, v] of Object.entries(values)) {
        if (typeof (row as unknown as Record<string, unknown>)[field] !== "number") {
          throw new RangeError(`Cannot override "${field}" of ${what} "${name}": no such counter`);
        }
        (row as unknown as Record<string, number>)[field] = v as number;
      }
    }
  };
  if (o.frontends !== undefined) apply(out.frontends, o.frontends, "frontend");
  if (o.backends !== undefined) apply(out.backends, o.backends, "backend");
  if (o.servers !== undefined) {
    // Proxy names cannot hold a "/" (HAProxy's name characters), so the first one splits.
    for (const [key, values] of Object.entries(o.servers)) {
      const slash = key.indexOf("/");
      const be = slash < 0 ? undefined : out.backends.find((b) => b.name === key.slice(0, slash));
      if (be === undefined) {
        throw new RangeError(
          `Cannot override the statistics of server "${key}": expected "backend/server" naming a backend`,
        );
      }
      apply(be.servers, { [key.slice(slash + 1)]: values }, `server of backend "${be.name}"`);
    }
  }
  if (o.actconn !== undefined) out.actconn = o.actconn;
}
