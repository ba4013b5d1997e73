/**
 * Shapes of the statistics snapshots the outputs (JSON, CSV, Prometheus,
 * HTML page, runtime API) are built from. Instance.stats() fills them.
 *
 * @module
 */

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
