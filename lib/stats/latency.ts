/**
 * The four latency distributions a frontend, backend or server keeps —
 * HAProxy's log timers as histograms: queue (Tw), connect (Tc), response
 * (Tr: request sent to response head) and total (Ta, or Tt for TCP).
 * Recording is O(1) and allocation-free. `raw()` / `addRaw()` /
 * `fromRaws()` carry them between threads and merge them exactly, bucket
 * by bucket (see histogram.ts).
 *
 * @module
 */
import { LatencyHistogram } from "./histogram.ts";
import type { LatencySetRaw, LatencyStats } from "./stats_types.ts";

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

  /** Copies of the four histograms as plain data (structured-clone friendly). */
  raw(): LatencySetRaw {
    return {
      queue: this.queue.raw(),
      connect: this.connect.raw(),
      response: this.response.raw(),
      total: this.total.raw(),
    };
  }

  /**
   * Adds another set's samples, histogram by histogram, bucket by bucket.
   * A raw of another layout throws a RangeError and adds nothing.
   */
  addRaw(raw: LatencySetRaw): void {
    for (const h of [raw.queue, raw.connect, raw.response, raw.total]) LatencyHistogram.checkRaw(h);
    this.queue.addRaw(raw.queue);
    this.connect.addRaw(raw.connect);
    this.response.addRaw(raw.response);
    this.total.addRaw(raw.total);
  }

  /** A new set holding the samples of every raw in `raws`. */
  static fromRaws(raws: readonly LatencySetRaw[]): LatencySet {
    const set = new LatencySet();
    for (const r of raws) set.addRaw(r);
    return set;
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
