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
  /** The listeners' certificates by file, with their notAfter in Unix seconds (absent: none). */
  sslCerts?: { file: string; notAfter: number }[];
}
