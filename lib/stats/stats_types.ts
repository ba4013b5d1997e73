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
  /** Percentiles, ms (0 when no sample); within the histogram's stated relative error. */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  /**
   * Cumulative bucket counts for Prometheus: `[upper bound in ms, samples
   * <= bound]`, increasing, the last bound being +Infinity (= count).
   */
  buckets: [number, number][];
}

/** The four timers HAProxy logs, as distributions: queue (Tw), connect (Tc), response (Tr), total (Ta/Tt). */
export interface LatencyStats {
  queue: LatencySnapshot;
  connect: LatencySnapshot;
  response: LatencySnapshot;
  total: LatencySnapshot;
}
