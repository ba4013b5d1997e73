/**
 * LatencyHistogram: a fixed-memory latency distribution (HdrHistogram-like
 * log-linear buckets) that the stats outputs turn into a LatencySnapshot.
 *
 * Layout. A sample in ms is rounded up to whole microseconds (µs). Values
 * 0..63 µs each have their own bucket; above that, every power-of-two range
 * [2^e, 2^(e+1)) µs is cut into 32 equal sub-buckets, so no bucket is wider
 * than 1/32 of its lower edge. 896 buckets cover 0 to {@link HISTOGRAM_MAX_MS}
 * (2^32 - 1 µs, about 71.6 minutes); a larger sample is clamped into the last
 * bucket but still counts exactly in `count`, `sum` and `max`. Counts are a
 * Float64Array (exact up to 2^53, where a Uint32Array would wrap after
 * 4.3e9 samples in one bucket, about 12 h at 100k req/s): 7 KiB per histogram.
 *
 * Error bound. `percentile(p)` is the nearest-rank percentile (the
 * ceil(p/100 × count)-th smallest sample). The histogram finds the bucket
 * holding that sample and returns the bucket's midpoint, clamped to the
 * smallest and largest sample seen. For an exact percentile v ≤
 * HISTOGRAM_MAX_MS:
 *
 *     |estimate - v| ≤ max(HISTOGRAM_MAX_REL_ERROR × v, HISTOGRAM_MAX_ABS_ERROR_MS)
 *
 * with HISTOGRAM_MAX_REL_ERROR = 1/62 (≈ 1.61%) and HISTOGRAM_MAX_ABS_ERROR_MS
 * = 0.0005 ms. Why: a bucket [m·2^s, (m+1)·2^s) µs with m ≥ 32 holds samples
 * in (m·2^s - 1, (m+1)·2^s - 1] µs before rounding up; its midpoint is at most
 * half a width, 2^(s-1), from any of them, and 2^(s-1) / (m·2^s - 1) ≤ 1/62
 * (worst at m = 32, s = 0). Below 32 µs buckets are 1 µs wide, so the error
 * is at most 0.5 µs. p = 0 and p = 100 are exact (the smallest and largest
 * sample). A percentile landing among clamped samples (above HISTOGRAM_MAX_MS)
 * has no bound: it is reported as about 4.26e6 ms (71 min), or max if smaller.
 *
 * Prometheus buckets. `snapshot().buckets` uses the fixed human bounds
 * {@link HISTOGRAM_BOUNDS_MS}. They cannot be fine-bucket edges (500 µs =
 * 125 × 2^2 and 125 is above 63, so no m·2^s edge hits it; every bound has
 * such a factor 5^3), so summing whole fine buckets would misfile the
 * samples of the one fine bucket straddling each bound: a sample of exactly
 * 250 ms would land above `le="250"`. So the counts are the fine buckets up
 * to the one holding the bound, less a per-bound counter of that bucket's
 * samples above the bound, which record() keeps: it compares every sample
 * with a per-fine-bucket split value (Infinity except in the 16 straddling
 * buckets). The counts are therefore exact at 1 µs resolution (a sample is
 * under `le` when its ms value rounded up to a µs is), for one table load
 * and one well-predicted compare per sample.
 *
 * Merging. `raw()` copies the buckets and statistics out as plain data (a
 * worker thread posts it to the control thread); `addRaw()` adds one in
 * bucket by bucket: counts, sums, fine buckets and the per-bound `above`
 * counters add, max and min take the larger and smaller. Every sample stays
 * in the bucket it was recorded in, so the merged histogram is the one that
 * would have recorded all the samples: same buckets, same percentiles (never
 * an average of percentiles); only `sum` may differ in its last bits, float
 * addition not being associative.
 *
 * Cost. record() is O(1): a handful of integer operations and increments in
 * typed arrays, no allocation, no throw; it ignores negative, NaN and
 * infinite values. percentile() scans at most 896 buckets. snapshot()
 * allocates its result; it is meant for the stats outputs, not the hot path.
 *
 * @example
 * ```ts
 * import { LatencyHistogram } from "./histogram.ts";
 *
 * const h = new LatencyHistogram();
 * for (const ms of [1.2, 3.4, 250, 12]) h.record(ms);
 * h.count; // 4
 * h.max; // 250
 * h.percentile(50); // ≈ 3.4 (within 1/62)
 * h.snapshot().buckets.at(-1); // [Infinity, 4]
 * ```
 *
 * @module
 */
import type { HistogramRaw, LatencySnapshot } from "./stats_types.ts";

/**
 * Largest relative error of percentile() for percentiles of 0.032 ms and
 * more, up to HISTOGRAM_MAX_MS (see the module documentation for the proof).
 *
 * @example
 * ```ts
 * import { HISTOGRAM_MAX_REL_ERROR } from "./histogram.ts";
 * (HISTOGRAM_MAX_REL_ERROR * 100).toFixed(2); // "1.61" (%)
 * ```
 */
export const HISTOGRAM_MAX_REL_ERROR = 1 / 62;

/**
 * Largest absolute error of percentile() in ms, which dominates below
 * 0.032 ms where buckets are 1 µs wide.
 *
 * @example
 * ```ts
 * import { HISTOGRAM_MAX_ABS_ERROR_MS } from "./histogram.ts";
 * HISTOGRAM_MAX_ABS_ERROR_MS; // 0.0005
 * ```
 */
export const HISTOGRAM_MAX_ABS_ERROR_MS = 0.0005;

/**
 * Largest sample, in ms, that lands in its own bucket (2^32 - 1 µs, about
 * 71.6 min); larger ones are clamped into the last bucket.
 *
 * @example
 * ```ts
 * import { HISTOGRAM_MAX_MS } from "./histogram.ts";
 * HISTOGRAM_MAX_MS > 3_600_000; // true: covers an hour
 * ```
 */
export const HISTOGRAM_MAX_MS = 4_294_967.295;

/**
 * Upper bounds (ms) of the cumulative buckets in `snapshot().buckets`, the
 * `le` labels of a Prometheus histogram; the last is +Infinity.
 *
 * @example
 * ```ts
 * import { HISTOGRAM_BOUNDS_MS } from "./histogram.ts";
 * HISTOGRAM_BOUNDS_MS.length; // 17
 * ```
 */
export const HISTOGRAM_BOUNDS_MS: readonly number[] = Object.freeze([
  0.5,
  1,
  2.5,
  5,
  10,
  25,
  50,
  100,
  250,
  500,
  1000,
  2500,
  5000,
  10000,
  30000,
  60000,
  Infinity,
]);

/** Sub-buckets per power of two (2^SUB_BITS); fixes the error bound. */
const SUB_BITS = 5;
/** Fine buckets: 64 one-µs buckets, then 32 per power of two from 2^6 to 2^31 µs. */
const FINE_N = 896;
/** First µs value past the last bucket; samples from here on are clamped. */
const LIMIT_US = 2 ** 32;

/**
 * Fine bucket of a sample in whole µs (≥ 0, -0 allowed). Below 64 µs the
 * index is the value; above, the top 6 bits of the value (32..63) are the
 * sub-bucket and the bits shifted out (the value's exponent - 5) pick the
 * power-of-two range: index = shift × 32 + top bits, which goes on from 63 to
 * 64 without a gap. Branch-free `Math.max` rather than an `if (us < 64)`: about
 * 3 ns a record faster here.
 */
function fineIndex(us: number): number {
  if (us >= LIMIT_US) return FINE_N - 1;
  const u = us >>> 0;
  const shift = Math.max(0, 31 - SUB_BITS - Math.clz32(u));
  return (shift << SUB_BITS) + (u >>> shift);
}

/** Lowest µs value of fine bucket `i` (multiplication: 63 × 2^26 overflows an int32 shift). */
function fineLow(i: number): number {
  if (i < 64) return i;
  const shift = (i >> SUB_BITS) - 1;
  return ((i & 31) + 32) * 2 ** shift;
}

/** Width in µs of fine bucket `i`. */
function fineWidth(i: number): number {
  return i < 64 ? 1 : 2 ** ((i >> SUB_BITS) - 1);
}

/** Finite Prometheus bounds (the +Infinity one is `count`). */
const BOUNDS_N = HISTOGRAM_BOUNDS_MS.length - 1;

/** Percentile estimate (ms) per fine bucket: the midpoint of the ms values that round up into it. */
const FINE_MID_MS = new Float64Array(FINE_N);
/** Per finite bound: the fine bucket holding it (its value in µs). */
const BOUND_FINE = new Uint16Array(BOUNDS_N);
/**
 * Per fine bucket: the bound in µs when the bucket holds that bound and
 * values above it (it straddles the bound), else Infinity, so that record()
 * tests every sample with one load and one well-predicted compare.
 */
const FINE_SPLIT_US = new Float64Array(FINE_N).fill(Infinity);
/** Per straddling fine bucket: the index of the bound it straddles. */
const FINE_SPLIT_BOUND = new Uint8Array(FINE_N);

for (let i = 0; i < FINE_N; i++) {
  const lo = fineLow(i);
  // Values in (lo - 1, lo + width - 1] µs round up into bucket i; bucket 0 holds exactly 0.
  FINE_MID_MS[i] = i === 0 ? 0 : (lo - 1 + fineWidth(i) / 2) / 1000;
}
for (let c = 0; c < BOUNDS_N; c++) {
  const us = HISTOGRAM_BOUNDS_MS[c] * 1000; // exact: an integer below 2^53
  const i = fineIndex(us);
  BOUND_FINE[c] = i;
  if (fineLow(i) + fineWidth(i) - 1 > us) {
    FINE_SPLIT_US[i] = us;
    FINE_SPLIT_BOUND[i] = c;
  }
}

const S_COUNT = 0;
const S_SUM = 1;
const S_MAX = 2;
const S_MIN = 3;

/**
 * A latency distribution in milliseconds with fixed memory, O(1)
 * allocation-free recording and percentiles within
 * HISTOGRAM_MAX_REL_ERROR (see the module documentation).
 *
 * @example
 * ```ts
 * import { LatencyHistogram } from "./histogram.ts";
 *
 * const h = new LatencyHistogram();
 * h.record(0.8);
 * h.record(42);
 * h.record(-1); // ignored
 * const s = h.snapshot(); // { count: 2, sum: 42.8, max: 42, p50: 0.8, ... }
 * h.reset();
 * ```
 */
export class LatencyHistogram {
  /** Samples per fine bucket. */
  #fine = new Float64Array(FINE_N);
  /** Per finite bound: samples in the fine bucket holding the bound that are above it. */
  #above = new Float64Array(BOUNDS_N);
  /** count, sum, max, min: in a typed array so that record() never boxes a double. */
  #stats = new Float64Array([0, 0, 0, Infinity]);

  /**
   * Adds one sample in ms (fractions welcome, kept at 1 µs resolution).
   * Negative, NaN and infinite values are ignored: they are not latencies,
   * and an Infinity would make `sum` useless for good.
   */
  record(ms: number): void {
    if (!(ms >= 0 && ms < Infinity)) return;
    const st = this.#stats;
    st[S_COUNT]++;
    st[S_SUM] += ms;
    if (ms > st[S_MAX]) st[S_MAX] = ms;
    if (ms < st[S_MIN]) st[S_MIN] = ms + 0; // + 0 turns -0 into 0
    const us = Math.ceil(ms * 1000);
    const i = fineIndex(us);
    this.#fine[i]++;
    if (us > FINE_SPLIT_US[i]) this.#above[FINE_SPLIT_BOUND[i]]++;
  }

  /** Samples recorded. */
  get count(): number {
    return this.#stats[S_COUNT];
  }

  /** Sum of the samples in ms, exact (as a float sum), clamped ones included. */
  get sum(): number {
    return this.#stats[S_SUM];
  }

  /** Largest sample in ms, exact; 0 when none. */
  get max(): number {
    return this.#stats[S_MAX];
  }

  /**
   * The nearest-rank `p`th percentile in ms (0 when empty), within the
   * module's error bound. `p` is from 0 to 100; anything else is a caller
   * bug and throws a RangeError. Scans at most 896 buckets.
   */
  percentile(p: number): number {
    if (!(p >= 0 && p <= 100)) {
      throw new RangeError(`Cannot compute percentile "${p}": expected a number from 0 to 100`);
    }
    const st = this.#stats;
    const n = st[S_COUNT];
    if (n === 0) return 0;
    const rank = Math.ceil((p * n) / 100);
    if (rank <= 1) return st[S_MIN];
    if (rank >= n) return st[S_MAX];
    const fine = this.#fine;
    let acc = 0;
    let i = 0;
    for (; i < FINE_N - 1; i++) {
      acc += fine[i];
      if (acc >= rank) break;
    }
    const est = FINE_MID_MS[i];
    // The exact answer lies in [min, max], so clamping can only bring the estimate closer.
    return est < st[S_MIN] ? st[S_MIN] : est > st[S_MAX] ? st[S_MAX] : est;
  }

  /**
   * The distribution as the stats outputs want it: count, sum, max, p50,
   * p90, p99, p99.9 and cumulative `[le_ms, count]` pairs over
   * HISTOGRAM_BOUNDS_MS (exact; the last is `[Infinity, count]`).
   */
  snapshot(): LatencySnapshot {
    const buckets: [number, number][] = [];
    const fine = this.#fine;
    let acc = 0;
    let i = 0;
    for (let c = 0; c < BOUNDS_N; c++) {
      // Samples <= bound: every fine bucket up to the one holding the bound,
      // less those of its samples counted above the bound.
      for (; i <= BOUND_FINE[c]; i++) acc += fine[i];
      buckets.push([HISTOGRAM_BOUNDS_MS[c], acc - this.#above[c]]);
    }
    buckets.push([Infinity, this.count]);
    return {
      count: this.count,
      sum: this.sum,
      max: this.max,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
      buckets,
    };
  }

  /**
   * A copy of the contents as plain data that survives structured clone
   * (postMessage): the arrays are copies, so later records do not show.
   */
  raw(): HistogramRaw {
    const st = this.#stats;
    return {
      count: st[S_COUNT],
      sum: st[S_SUM],
      max: st[S_MAX],
      min: st[S_MIN],
      fine: this.#fine.slice(),
      above: this.#above.slice(),
    };
  }

  /**
   * Adds the samples of another histogram, from its raw(), bucket by bucket
   * (see the module documentation: exact). A raw of another layout (not
   * 896 fine buckets and 16 bounds) throws a RangeError and adds nothing.
   */
  addRaw(raw: HistogramRaw): void {
    LatencyHistogram.checkRaw(raw);
    const st = this.#stats;
    st[S_COUNT] += raw.count;
    st[S_SUM] += raw.sum;
    if (raw.max > st[S_MAX]) st[S_MAX] = raw.max;
    if (raw.min < st[S_MIN]) st[S_MIN] = raw.min;
    const fine = this.#fine;
    for (let i = 0; i < FINE_N; i++) fine[i] += raw.fine[i];
    const above = this.#above;
    for (let c = 0; c < BOUNDS_N; c++) above[c] += raw.above[c];
  }

  /** Throws a RangeError unless `raw` has this layout's 896 fine buckets and 16 bounds. */
  static checkRaw(raw: HistogramRaw): void {
    if (
      !(raw.fine instanceof Float64Array) || raw.fine.length !== FINE_N ||
      !(raw.above instanceof Float64Array) || raw.above.length !== BOUNDS_N
    ) {
      throw new RangeError(
        `Cannot merge a latency histogram: expected ${FINE_N} fine buckets and ${BOUNDS_N} bounds, got ${raw.fine?.length} and ${raw.above?.length}`,
      );
    }
  }

  /** A new histogram holding the samples of every raw in `raws` (merged by addRaw()). */
  static fromRaws(raws: readonly HistogramRaw[]): LatencyHistogram {
    const h = new LatencyHistogram();
    for (const r of raws) h.addRaw(r);
    return h;
  }

  /** Forgets every sample, keeping the memory. */
  reset(): void {
    this.#fine.fill(0);
    this.#above.fill(0);
    const st = this.#stats;
    st[S_COUNT] = 0;
    st[S_SUM] = 0;
    st[S_MAX] = 0;
    st[S_MIN] = Infinity;
  }
}
