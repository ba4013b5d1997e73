import assert from "node:assert/strict";
import { FreqCtr } from "../../lib/stats/freq_ctr.ts";

Deno.test("FreqCtr counts events of the last second, weighting the previous one", () => {
  const f = new FreqCtr();
  for (let i = 0; i < 10; i++) f.add(5_000 + i * 10);
  assert.equal(f.rate(5_500), 10);
  // Half-way through the next second: half of the previous second still counts.
  f.add(6_500);
  assert.equal(f.rate(6_500), 1 + 5);
  // Two seconds later nothing is left.
  assert.equal(f.rate(8_100), 0);
  assert.equal(f.max, 10);
});

Deno.test("FreqCtr max follows the highest rate seen", () => {
  const f = new FreqCtr();
  for (let i = 0; i < 50; i++) f.add(1_000 + i);
  for (let i = 0; i < 5; i++) f.add(3_000 + i);
  assert.equal(f.max, 50);
  assert.equal(f.rate(3_010), 5);
});
