/**
 * LatencyHistogram: percentiles within the stated error against an exact
 * reference on several distributions, exact count/sum/max, clamping,
 * ignored values, exact cumulative Prometheus buckets, reset, and a
 * record() that does not allocate; raws merged bucket by bucket equal the
 * histogram that recorded every sample.
 */
import assert from "node:assert/strict";
import {
  HISTOGRAM_BOUNDS_MS,
  HISTOGRAM_MAX_ABS_ERROR_MS,
  HISTOGRAM_MAX_MS,
  HISTOGRAM_MAX_REL_ERROR,
  LatencyHistogram,
} from "../../lib/stats/histogram.ts";

/** mulberry32: a seeded PRNG so that a failure can be replayed. */
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

/** A standard normal deviate (Box-Muller). */
function gauss(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

const N = 100_000;

/** Sample generators in ms, each from its own seed. */
const DISTRIBUTIONS: Record<string, (rand: () => number) => number> = {
  "uniform 0-1000 ms": (r) => r() * 1000,
  "exponential, mean 20 ms": (r) => -Math.log(1 - r()) * 20,
  "bimodal, 90% near 2 ms and 10% near 300 ms": (r) =>
    r() < 0.9 ? Math.max(0, 2 + 0.3 * gauss(r)) : Math.max(0, 300 + 30 * gauss(r)),
  "log-uniform 0.0001 ms to 1 h": (r) => Math.exp(Math.log(1e-4) + r() * Math.log(3.6e6 / 1e-4)),
  "sub-millisecond, 0-0.05 ms": (r) => r() * 0.05,
  "all equal, 42.123 ms": () => 42.123,
  "all zero": () => 0,
};

const PERCENTILES = [0, 0.01, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100];

/** The nearest-rank percentile of sorted samples, as the histogram defines it. */
function exactPercentile(sorted: Float64Array, p: number): number {
  const rank = Math.ceil((p * sorted.length) / 100);
  return sorted[Math.max(1, rank) - 1];
}

/** Asserts the module's stated bound (plus float noise far below a µs). */
function assertWithinError(est: number, exact: number, what: string): void {
  const bound = Math.max(HISTOGRAM_MAX_REL_ERROR * exact, HISTOGRAM_MAX_ABS_ERROR_MS) +
    exact * 1e-12;
  assert.ok(
    Math.abs(est - exact) <= bound,
    `${what}: estimate ${est} vs exact ${exact}, error ${Math.abs(est - exact)} > ${bound}`,
  );
}

/** Records `n` samples from `gen` and returns the histogram and the sorted samples. */
function fill(
  gen: (rand: () => number) => number,
  n: number,
  seed: number,
): { h: LatencyHistogram; sorted: Float64Array; sum: number } {
  const rand = rng(seed);
  const h = new LatencyHistogram();
  const samples = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    samples[i] = gen(rand);
    sum += samples[i];
    h.record(samples[i]);
  }
  return { h, sorted: samples.sort(), sum };
}

Deno.test("LatencyHistogram states a relative error of at most 1/62 and 0.5 µs", () => {
  assert.ok(HISTOGRAM_MAX_REL_ERROR <= 0.0162);
  assert.equal(HISTOGRAM_MAX_ABS_ERROR_MS, 0.0005);
  assert.ok(HISTOGRAM_MAX_MS >= 3_600_000);
});

Deno.test("LatencyHistogram with no sample reports zeros and empty buckets", () => {
  const h = new LatencyHistogram();
  assert.equal(h.count, 0);
  assert.equal(h.sum, 0);
  assert.equal(h.max, 0);
  for (const p of PERCENTILES) assert.equal(h.percentile(p), 0);
  const s = h.snapshot();
  assert.deepEqual(
    { ...s, buckets: undefined },
    { count: 0, sum: 0, max: 0, p50: 0, p90: 0, p99: 0, p999: 0, buckets: undefined },
  );
  assert.deepEqual(s.buckets, HISTOGRAM_BOUNDS_MS.map((b) => [b, 0]));
});

let seed = 1;
for (const [name, gen] of Object.entries(DISTRIBUTIONS)) {
  const distSeed = seed++;
  Deno.test(`LatencyHistogram percentiles are within the stated error: ${name}`, () => {
    const { h, sorted, sum } = fill(gen, N, distSeed);
    for (const p of PERCENTILES) {
      assertWithinError(h.percentile(p), exactPercentile(sorted, p), `p${p}`);
    }
    assert.equal(h.count, N);
    assert.equal(h.sum, sum); // same additions in the same order
    assert.equal(h.max, sorted[N - 1]);
    const s = h.snapshot();
    assert.equal(s.p50, h.percentile(50));
    assert.equal(s.p90, h.percentile(90));
    assert.equal(s.p99, h.percentile(99));
    assert.equal(s.p999, h.percentile(99.9));
  });
}

Deno.test("LatencyHistogram is exact on all-equal samples and at p0 and p100", () => {
  const { h } = fill(() => 42.123, 1000, 0);
  for (const p of PERCENTILES) assert.equal(h.percentile(p), 42.123);
  const { h: h2, sorted } = fill((r) => r() * 1000, 5000, 99);
  assert.equal(h2.percentile(0), sorted[0]);
  assert.equal(h2.percentile(100), sorted[sorted.length - 1]);
});

Deno.test("LatencyHistogram percentiles hold on tiny sample counts", () => {
  for (let n = 1; n <= 12; n++) {
    const { h, sorted } = fill((r) => r() * 300, n, 1000 + n);
    for (const p of PERCENTILES) {
      assertWithinError(h.percentile(p), exactPercentile(sorted, p), `n=${n} p${p}`);
    }
  }
});

Deno.test("LatencyHistogram clamps huge samples but keeps count, sum and max exact", () => {
  const h = new LatencyHistogram();
  for (let i = 0; i < 97; i++) h.record(10);
  h.record(3_600_000); // 1 h: still inside the range
  h.record(HISTOGRAM_MAX_MS + 1);
  h.record(1e12);
  assert.equal(h.count, 100);
  assert.equal(h.sum, 97 * 10 + 3_600_000 + HISTOGRAM_MAX_MS + 1 + 1e12);
  assert.equal(h.max, 1e12);
  assert.equal(h.percentile(100), 1e12);
  assertWithinError(h.percentile(50), 10, "p50");
  assertWithinError(h.percentile(98), 3_600_000, "p98");
  // Among clamped samples the estimate is only known to be past the range, up to max.
  const p99 = h.percentile(99);
  assert.ok(p99 >= 3_600_000 && p99 <= 1e12, `p99 ${p99}`);
  const b = h.snapshot().buckets;
  assert.deepEqual(b.at(-2), [60000, 97]);
  assert.deepEqual(b.at(-1), [Infinity, 100]);
});

Deno.test("LatencyHistogram record() ignores negative, NaN and infinite values", () => {
  const h = new LatencyHistogram();
  h.record(5);
  for (const v of [-1, -0.001, -Infinity, NaN, Infinity, Number.NaN]) h.record(v);
  assert.equal(h.count, 1);
  assert.equal(h.sum, 5);
  assert.equal(h.max, 5);
  assert.equal(h.percentile(50), 5);
  h.record(-0); // a zero, counted
  assert.equal(h.count, 2);
  assert.equal(h.percentile(0), 0);
  assert.deepEqual(h.snapshot().buckets[0], [0.5, 1]);
});

Deno.test("LatencyHistogram percentile() rejects p outside 0..100", () => {
  const h = new LatencyHistogram();
  for (const p of [-1, 100.01, NaN]) assert.throws(() => h.percentile(p), RangeError);
});

Deno.test("LatencyHistogram cumulative buckets are monotonic, exact and end at count", () => {
  const { h, sorted } = fill(DISTRIBUTIONS["log-uniform 0.0001 ms to 1 h"], N, 7);
  const b = h.snapshot().buckets;
  assert.deepEqual(b.map(([le]) => le), [...HISTOGRAM_BOUNDS_MS]);
  for (let i = 1; i < b.length; i++) assert.ok(b[i][1] >= b[i - 1][1], `bucket ${i}`);
  assert.equal(b.at(-1)![1], h.count);
  for (const [le, cum] of b) {
    assert.equal(cum, sorted.filter((v) => v <= le).length, `le=${le}`);
  }
});

Deno.test("LatencyHistogram files a sample at a bound under it and 1 µs more above it", () => {
  const h = new LatencyHistogram();
  const finite = HISTOGRAM_BOUNDS_MS.slice(0, -1);
  for (const le of finite) {
    h.record(le);
    h.record(le + 0.001);
  }
  const b = h.snapshot().buckets;
  // Bound i holds the samples at bounds 0..i and the "+1 µs" ones of bounds 0..i-1.
  finite.forEach((le, i) => assert.deepEqual(b[i], [le, 2 * i + 1], `le=${le}`));
  assert.deepEqual(b.at(-1), [Infinity, 2 * finite.length]);
});

Deno.test("LatencyHistogram reset() forgets every sample and keeps working", () => {
  const { h } = fill((r) => r() * 100, 1000, 3);
  h.reset();
  assert.equal(h.count, 0);
  assert.equal(h.sum, 0);
  assert.equal(h.max, 0);
  assert.equal(h.percentile(99), 0);
  assert.ok(h.snapshot().buckets.every(([, c]) => c === 0));
  h.record(7);
  assert.equal(h.count, 1);
  assert.equal(h.max, 7);
  assert.equal(h.percentile(0), 7);
  assert.deepEqual(h.snapshot().buckets.at(-1), [Infinity, 1]);
});

/** Records every sample; a separate function so that V8 optimizes it like a caller would be. */
function recordAll(h: LatencyHistogram, samples: Float64Array): void {
  for (let i = 0; i < samples.length; i++) h.record(samples[i]);
}

/** Heap growth in bytes while recording `samples` once. */
function heapGrowth(h: LatencyHistogram, samples: Float64Array): number {
  const before = Deno.memoryUsage().heapUsed;
  recordAll(h, samples);
  return Deno.memoryUsage().heapUsed - before;
}

Deno.test("LatencyHistogram record() does not allocate", () => {
  // Loose, no timing: 1e6 records in a row (10 chunks) must leave the heap
  // as it was. The unoptimized tiers box every double passed around (16 bytes
  // a call, 1.6 MB a chunk), and V8 moves between tiers in the background at
  // moments it picks (Maglev to TurboFan goes back through them), so the
  // test waits, within a bound, for 10 quiet chunks in a row. A record() that
  // allocates in optimized code never gets there: a chunk would need a
  // scavenge freeing just what it allocated, 10 times running.
  const QUIET = 64 * 1024;
  const rand = rng(11);
  const samples = new Float64Array(100_000);
  for (let i = 0; i < samples.length; i++) {
    samples[i] = i % 10 === 0 ? 1e7 * rand() : -Math.log(1 - rand()) * 20;
  }
  const h = new LatencyHistogram();
  const recent: number[] = [];
  let chunks = 0;
  for (let quiet = 0; quiet < 10 && chunks < 400; chunks++) {
    const g = heapGrowth(h, samples);
    quiet = Math.abs(g) < QUIET ? quiet + 1 : 0;
    recent.push(g);
    if (recent.length > 20) recent.shift();
  }
  assert.equal(h.count, chunks * samples.length);
  assert.ok(chunks < 400, `heap growth per 1e5 records, last chunks: ${recent}`);
});

/** Records `n` samples from `gen` into one histogram and, each at random, into one of `k` parts. */
function fillSplit(
  gen: (rand: () => number) => number,
  n: number,
  k: number,
  seed: number,
): { whole: LatencyHistogram; parts: LatencyHistogram[] } {
  const rand = rng(seed);
  const whole = new LatencyHistogram();
  const parts = Array.from({ length: k }, () => new LatencyHistogram());
  for (let i = 0; i < n; i++) {
    const ms = gen(rand);
    whole.record(ms);
    parts[Math.floor(rand() * k)].record(ms);
  }
  return { whole, parts };
}

for (const [name, gen] of Object.entries(DISTRIBUTIONS)) {
  Deno.test(`LatencyHistogram merged from 4 raws equals the one that recorded all: ${name}`, () => {
    const { whole, parts } = fillSplit(gen, 20_000, 4, name.length * 7919);
    // Through structured clone, as a worker's postMessage carries it.
    const merged = LatencyHistogram.fromRaws(parts.map((p) => structuredClone(p.raw())));
    const a = merged.snapshot();
    const b = whole.snapshot();
    // The sum adds in another order: equal up to float rounding.
    assert.ok(Math.abs(a.sum - b.sum) <= Math.abs(b.sum) * 1e-12, `sum ${a.sum} vs ${b.sum}`);
    assert.deepEqual({ ...a, sum: 0 }, { ...b, sum: 0 });
    for (const p of PERCENTILES) assert.equal(merged.percentile(p), whole.percentile(p), `p${p}`);
    assert.deepEqual({ ...merged.raw(), sum: 0 }, { ...whole.raw(), sum: 0 });
  });
}

Deno.test("LatencyHistogram merge of dyadic samples is exact to the last bit, sum included", () => {
  // Multiples of 1/1024 ms below 2^20 ms add exactly in any order.
  const { whole, parts } = fillSplit((r) => Math.floor(r() * 2 ** 30) / 1024, 10_000, 4, 5);
  assert.deepEqual(
    LatencyHistogram.fromRaws(parts.map((p) => p.raw())).snapshot(),
    whole.snapshot(),
  );
});

Deno.test("LatencyHistogram raw() is a copy; empty raws merge to an empty histogram", () => {
  const h = new LatencyHistogram();
  h.record(3);
  const r = h.raw();
  h.record(5);
  h.reset();
  assert.equal(r.count, 1);
  assert.equal(r.fine.reduce((a, b) => a + b, 0), 1);
  const empty = LatencyHistogram.fromRaws([
    new LatencyHistogram().raw(),
    new LatencyHistogram().raw(),
  ]);
  assert.deepEqual(empty.snapshot(), new LatencyHistogram().snapshot());
  assert.deepEqual(empty.raw(), new LatencyHistogram().raw()); // min stays Infinity
  const one = LatencyHistogram.fromRaws([new LatencyHistogram().raw(), r]);
  assert.equal(one.percentile(0), 3);
  assert.equal(one.max, 3);
  assert.deepEqual(LatencyHistogram.fromRaws([]).snapshot(), new LatencyHistogram().snapshot());
});

Deno.test("LatencyHistogram addRaw() refuses a raw of another layout and adds nothing", () => {
  const h = new LatencyHistogram();
  h.record(1);
  const bad = { ...h.raw(), fine: new Float64Array(10) };
  assert.throws(() => h.addRaw(bad), /expected 896 fine buckets and 16 bounds, got 10 and 16/);
  const plain = { ...h.raw(), above: Array.from(h.raw().above) as unknown as Float64Array };
  assert.throws(() => h.addRaw(plain), RangeError);
  assert.equal(h.count, 1);
});
