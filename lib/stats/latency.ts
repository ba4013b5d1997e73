/**
 * The four latency distributions a frontend, backend or server keeps —
 * HAProxy's log timers as histograms: queue (Tw), connect (Tc), response
 * (Tr: request sent to response head) and total (Ta, or Tt for TCP).
 * Recording is O(1) and allocation-free.
 *
 * @module
 */
import { LatencyHistogram } from "./histogram.ts";
import type { LatencyStats } from "./stats_types.ts";

/** Queue, connect, response and total time histograms. */
export class LatencySet {
  readonly queue = new LatencyHistogram();
  readonly connect = new LatencyHistogram();
  readonly response = new LatencyHistogram();
  readonly total = new LatencyHistogram();

  /** Records one request (or TCP session); a negative time means "did not happen" and is skipped. */
  record(queue: number, connect: number, response: number, total: number): void {
    if (queue >= 0) this.queue.record(queue);
    if (connect >= 0) this.connect.record(connect);
    if (response >= 0) this.response.record(response);
    if (total >= 0) this.total.record(total);
  }

  snapshot(): LatencyStats {
    return {
      queue: this.queue.snapshot(),
      connect: this.connect.snapshot(),
      response: this.response.snapshot(),
      total: this.total.snapshot(),
    };
  }
}
