/** LatencySet: raw() / fromRaws() merge the four histograms exactly, and a bad raw adds nothing. */
import assert from "node:assert/strict";
import { LatencySet } from "../../lib/stats/latency.ts";

Deno.test("LatencySet merged from raws equals the set that recorded all", () => {
  const whole = new LatencySet();
  const parts = [new LatencySet(), new LatencySet(), new LatencySet()];
  for (let i = 0; i < 3000; i++) {
    // Dyadic times (multiples of 1/64 ms) so that sums are exact in any order; -1: did not happen.
    const q = i % 5 === 0 ? -1 : (i % 97) / 64;
    const c = i % 7 === 0 ? -1 : (i % 13) / 64;
    const r = (i * 37 % 4099) / 64;
    const t = r + 1;
    whole.record(q, c, r, t);
    parts[(i * 31) % 3].record(q, c, r, t);
  }
  const merged = LatencySet.fromRaws(parts.map((p) => structuredClone(p.raw())));
  assert.deepEqual(merged.snapshot(), whole.snapshot());
  assert.equal(merged.snapshot().queue.count, 2400);
});

Deno.test("LatencySet addRaw() checks all four histograms before adding any", () => {
  const set = new LatencySet();
  set.record(1, 1, 1, 1);
  const raw = set.raw();
  const bad = { ...raw, total: { ...raw.total, above: new Float64Array(3) } };
  assert.throws(() => set.addRaw(bad), RangeError);
  assert.equal(set.snapshot().queue.count, 1);
  set.addRaw(raw);
  assert.equal(set.snapshot().total.count, 2);
});
