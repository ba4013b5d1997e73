/**
 * Shapes of the statistics snapshots the outputs (JSON, CSV, Prometheus,
 * HTML page, runtime API) are built from. Instance.stats() fills them.
 *
 * @module
 */
import type { PoolCounters } from "../core/pool.ts";
import type { SchedCounters } from "../sched/scheduler.ts";

/** A latency distribution at one instant (milliseconds). */
export interface LatencySnapshot {
  /** Samples recorded. */
  count: number;
  /** Sum of the samples, ms. */
  sum: number;
  /** Largest sample, ms (0 when none). */
  max: number;
  /** Median, ms (0 when no sample); percentiles are within the histogram's stated relative error. */
  p50: number;
  /** 90th percentile, ms. */
  p90: number;
  /** 99th percentile, ms. */
  p99: number;
  /** 99.9th percentile, ms. */
  p999: number;
  /**
   * Cumulative bucket counts for Prometheus: `[upper bound in ms, samples
   * <= bound]`, increasing, the last bound being +Infinity (= count).
   */
  buckets: [number, number][];
}

/** The four timers HAProxy logs, as distributions: queue (Tw), connect (Tc), response (Tr), total (Ta/Tt). */
export interface LatencyStats {
  /** Time spent waiting in queues (Tw). */
  queue: LatencySnapshot;
  /** Time to connect to the server (Tc). */
  connect: LatencySnapshot;
  /** Time from the request sent to the response head (Tr). */
  response: LatencySnapshot;
  /** Total time of the request or session (Ta in HTTP, Tt in TCP). */
  total: LatencySnapshot;
}

/**
 * A LatencyHistogram's exact contents, as plain data that survives
 * structured clone (postMessage between workers): copies, not views.
 * Merging raws bucket by bucket gives the histogram of all their samples.
 */
export interface HistogramRaw {
  /** Samples recorded. */
  count: number;
  /** Sum of the samples, ms. */
  sum: number;
  /** Largest sample, ms (0 when none). */
  max: number;
  /** Smallest sample, ms (Infinity when none). */
  min: number;
  /** Samples per fine bucket (896 of them). */
  fine: Float64Array;
  /** Per finite Prometheus bound: samples of the fine bucket holding it that are above it (16). */
  above: Float64Array;
}

/** A LatencySet's four histograms as raws (see HistogramRaw). */
export interface LatencySetRaw {
  /** Queue time (Tw). */
  queue: HistogramRaw;
  /** Connect time (Tc). */
  connect: HistogramRaw;
  /** Response time (Tr). */
  response: HistogramRaw;
  /** Total time (Ta/Tt). */
  total: HistogramRaw;
}

/** Counters of one proxy or server, named as HAProxy's stats fields. */
export interface ProxyStats {
  /** The frontend's, backend's or server's name. */
  name: string;
  /** Current sessions (HTTP backends and servers: requests in progress). */
  scur: number;
  /** Most sessions seen at once. */
  smax: number;
  /** Sessions since start (HTTP backends and servers: requests). */
  stot: number;
  /** Bytes received from clients. */
  bin: number;
  /** Bytes sent to clients. */
  bout: number;
  /** Failed connections to servers. */
  econ: number;
  /** Response errors: invalid or missing responses (502, 504), bodies the server cut. */
  eresp: number;
  /** Invalid requests. */
  ereq: number;
  /** Connection retries. */
  wretr: number;
  /** Sessions aborted by the client. */
  cli_abrt: number;
  /** Sessions aborted by the server. */
  srv_abrt: number;
  /** Connections refused by `tcp-request connection reject`. */
  dcon: number;
  /** Requests denied by `http-request deny`. */
  dreq: number;
  /** Responses denied by `http-response deny`. */
  dresp: number;
  /** Sessions per second over the last second. */
  rate: number;
  /** Most sessions per second seen. */
  rate_max: number;
  /** HTTP requests per second over the last second (frontends). */
  req_rate: number;
  /** Most HTTP requests per second seen (frontends). */
  req_rate_max: number;
  /** HTTP requests. */
  req_tot: number;
  /** HTTP responses with a 1xx status. */
  hrsp_1xx: number;
  /** HTTP responses with a 2xx status. */
  hrsp_2xx: number;
  /** HTTP responses with a 3xx status. */
  hrsp_3xx: number;
  /** HTTP responses with a 4xx status. */
  hrsp_4xx: number;
  /** HTTP responses with a 5xx status. */
  hrsp_5xx: number;
  /** HTTP responses with any other status. */
  hrsp_other: number;
  /** Latency distributions (queue, connect, response, total), when recorded. */
  lat?: LatencyStats;
  /**
   * The same distributions as raw histograms, only from `stats({ raw: true })`:
   * what mergeInstanceStats() merges bucket by bucket (worker threads).
   */
  latRaw?: LatencySetRaw;
  /** `http-request cache-use` lookups by this proxy's rules (absent when it has none). */
  cache_lookups?: number;
  /** Of those, the ones answered from the cache. */
  cache_hits?: number;
  /** `compression` (frontends, backends): body bytes into the compressor. */
  comp_in?: number;
  /** Bytes out of the compressor. */
  comp_out?: number;
  /** Bytes that went through `identity` (HAProxy: bypassed the compressor). */
  comp_byp?: number;
  /** Responses compressed. */
  comp_rsp?: number;
}

/** One HTTP cache (`cache NAME` section). */
export interface CacheStats {
  /** The section's name. */
  name: string;
  /** Lookups made in it, from every proxy. */
  lookups: number;
  /** Lookups answered. */
  hits: number;
  /** Objects held. */
  entries: number;
  /** Bytes held. */
  used: number;
  /** `total-max-size`, in bytes. */
  size: number;
  /** Objects evicted to make room for newer ones. */
  evictions: number;
}

/** A server's state and queue, named as HAProxy's stats fields. */
export interface ServerStats extends ProxyStats {
  /** "UP", "DOWN", "DRAIN" or "MAINT" (HAProxy adds "x/y" while changing; see check_health). */
  status: string;
  /** Configured weight (as changed at run time). */
  weight: number;
  /** Effective weight: lower than `weight` during slowstart. */
  eweight: number;
  /** True for a backup server. */
  backup: boolean;
  /** Streams waiting in this server's queue. */
  qcur: number;
  /** Longest this server's queue has been. */
  qmax: number;
  /** Retries sent elsewhere after failing here. */
  wredis: number;
  /** Failed health checks. */
  chkfail: number;
  /** Transitions from UP to DOWN. */
  chkdown: number;
  /** Last check's status code ("L7OK", "L4CON"...), "" without checks. */
  check_status: string;
  /** Last check's detail ("Connection refused"...), "" without checks. */
  check_desc: string;
  /** Check health counter (0 .. rise+fall-1), -1 without checks. */
  check_health: number;
  /** Seconds since the last state change. */
  lastchg: number;
  /** Total seconds spent DOWN. */
  downtime: number;
}

/** A backend's counters, queue and servers. */
export interface BackendStats extends ProxyStats {
  /** "UP" when at least one server can take traffic, else "DOWN". */
  status: string;
  /** Active servers able to take traffic. */
  act: number;
  /** Backup servers able to take traffic. */
  bck: number;
  /** Streams waiting in the backend queue. */
  qcur: number;
  /** Longest the backend queue has been. */
  qmax: number;
  /** Retries sent to another server than the one that failed. */
  wredis: number;
  /** Source stickiness entries, -1 without a table. */
  stick_entries: number;
  /** The backend's servers, in configuration order. */
  servers: ServerStats[];
}

/** A snapshot of an instance's counters. */
export interface InstanceStats {
  /** Every frontend, in configuration order. */
  frontends: ProxyStats[];
  /** Every backend, in configuration order. */
  backends: BackendStats[];
  /** Current connections over all frontends. */
  actconn: number;
  /** The buffer pool (two buffers per stream). */
  pool: PoolCounters;
  /** Large buffers for bulk transfers (null when disabled). */
  largePool: PoolCounters | null;
  /** The scheduler: turns, task runs, budget hits. */
  sched: SchedCounters;
  /** Idle server connections: kept now, reused, closed while idle. */
  idle: { reused: number; expired: number; parked: number };
  /** Log lines written, and dropped because the destination was too slow. */
  log: { lines: number; dropped: number };
  /** The HTTP caches, in configuration order (absent when there is none). */
  caches?: CacheStats[];
  /** The listeners' certificates by file, with their notAfter in Unix seconds (absent: none). */
  sslCerts?: { file: string; notAfter: number }[];
}
