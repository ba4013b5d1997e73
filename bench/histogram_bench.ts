/**
 * LatencyHistogram cost: record() per sample, and the read side
 * (percentile(), snapshot()) that the stats outputs pay.
 *
 *     deno bench bench/histogram_bench.ts
 *
 * One record() is below the timer's resolution, so each "record" iteration
 * records BATCH samples: divide by BATCH for ns per record. Samples are
 * precomputed (the PRNG is not timed): exponential latencies with a mean of
 * 20 ms, and log-uniform ones from 1 µs to 2 h that touch every bucket range
 * and the clamp. The baseline sums the same samples into a Float64Array, the
 * floor any recorder pays for the loop and the loads. The read side runs on
 * a histogram holding 1e6 exponential samples.
 */
import { LatencyHistogram } from "../lib/stats/histogram.ts";

const BATCH = 1024;

/** mulberry32: the same samples every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return function next(): number {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** BATCH samples from `gen`. */
function samples(gen: (r: () => number) => number, seed: number): Float64Array {
  const r = rng(seed);
  const s = new Float64Array(BATCH);
  for (let i = 0; i < BATCH; i++) s[i] = gen(r);
  return s;
}

const EXP = samples((r) => -Math.log(1 - r()) * 20, 1);
const WIDE = samples((r) => Math.exp(Math.log(1e-3) + r() * Math.log(7.2e6 / 1e-3)), 2);

const sink = new Float64Array(1);
Deno.bench({ name: `baseline: sum ${BATCH} samples`, group: "record", baseline: true }, () => {
  let s = 0;
  for (let i = 0; i < BATCH; i++) s += EXP[i];
  sink[0] += s;
});

const hExp = new LatencyHistogram();
Deno.bench({ name: `record() x${BATCH}, exponential`, group: "record" }, () => {
  for (let i = 0; i < BATCH; i++) hExp.record(EXP[i]);
});

const hWide = new LatencyHistogram();
Deno.bench({ name: `record() x${BATCH}, 1 µs to 2 h`, group: "record" }, () => {
  for (let i = 0; i < BATCH; i++) hWide.record(WIDE[i]);
});

const full = new LatencyHistogram();
{
  const r = rng(3);
  for (let i = 0; i < 1e6; i++) full.record(-Math.log(1 - r()) * 20);
}

Deno.bench({ name: "percentile(50)", group: "read", baseline: true }, () => {
  sink[0] += full.percentile(50);
});

Deno.bench({ name: "percentile(99.9)", group: "read" }, () => {
  sink[0] += full.percentile(99.9);
});

Deno.bench({ name: "snapshot() (4 percentiles + 17 buckets)", group: "read" }, () => {
  sink[0] += full.snapshot().p99;
});
