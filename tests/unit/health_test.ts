/**
 * Health: HAProxy's rise/fall counter, counted result by result, the choice
 * of interval, and the random spreading of checks (jitter, first delay).
 */
import assert from "node:assert/strict";
import { firstDelay, Health, jitter } from "../../lib/check/health.ts";

/** Reports `n` results of one kind; returns the transitions seen, in order, with their index. */
function feed(h: Health, ok: boolean, n: number): [number, string][] {
  const seen: [number, string][] = [];
  for (let i = 1; i <= n; i++) {
    const tr = h.report(ok);
    if (tr !== null) seen.push([i, tr]);
  }
  return seen;
}

const SHAPES = [[2, 3], [1, 1], [3, 1], [1, 5], [5, 2]] as const;

Deno.test("Health starts fully up, with health at rise+fall-1", () => {
  const h = new Health(2, 3);
  assert.equal(h.up, true);
  assert.equal(h.health, 4);
  assert.equal(h.max, 4);
});

Deno.test("Health goes down on exactly the fall-th consecutive failure, once", () => {
  for (const [rise, fall] of SHAPES) {
    const h = new Health(rise, fall);
    assert.deepEqual(feed(h, false, fall + 3), [[fall, "down"]], `rise ${rise} fall ${fall}`);
    assert.equal(h.up, false);
    assert.equal(h.health, 0);
  }
});

Deno.test("Health comes up on exactly the rise-th consecutive success, once", () => {
  for (const [rise, fall] of SHAPES) {
    const h = new Health(rise, fall, "fully-down");
    assert.equal(h.up, false);
    assert.deepEqual(feed(h, true, rise + 3), [[rise, "up"]], `rise ${rise} fall ${fall}`);
    assert.equal(h.up, true);
    assert.equal(h.health, rise + fall - 1);
  }
});

Deno.test("Health.report() needs the failures consecutive: one success restores full health", () => {
  const h = new Health(2, 3);
  assert.deepEqual(feed(h, false, 2), []);
  assert.equal(h.health, 2);
  assert.equal(h.report(true), null);
  assert.equal(h.health, 4, "back to the top");
  assert.deepEqual(feed(h, false, 2), [], "two more failures are not enough");
  assert.equal(h.report(false), "down");
});

Deno.test("Health.report() needs the successes consecutive: one failure restarts from 0", () => {
  const h = new Health(3, 2, "fully-down");
  assert.deepEqual(feed(h, true, 2), []);
  assert.equal(h.health, 2);
  assert.equal(h.report(false), null);
  assert.equal(h.health, 0);
  assert.deepEqual(feed(h, true, 3), [[3, "up"]]);
});

Deno.test("Health init states follow HAProxy's init-state", () => {
  const up = new Health(2, 3, "up");
  assert.equal(up.up, true);
  assert.equal(up.report(false), "down", "one failure turns an 'up' server down");
  const down = new Health(2, 3, "down");
  assert.equal(down.up, false);
  assert.equal(down.report(true), "up", "one success turns a 'down' server up");
  const fullyDown = new Health(2, 3, "fully-down");
  assert.equal(fullyDown.health, 0);
  assert.equal(fullyDown.report(false), null);
});

Deno.test("Health.forceDown() drops to 0 and reports down only once", () => {
  const h = new Health(2, 3);
  assert.equal(h.forceDown(), "down");
  assert.equal(h.health, 0);
  assert.equal(h.forceDown(), null);
  assert.deepEqual(feed(h, true, 2), [[2, "up"]]);
});

Deno.test("Health.nextInterval() is inter when fully up, downinter fully down, fastinter between", () => {
  const cfg = { inter: 1000, fastinter: 100, downinter: 5000 };
  const h = new Health(2, 3);
  assert.equal(h.nextInterval(cfg), 1000);
  h.report(false);
  assert.equal(h.nextInterval(cfg), 100, "going down");
  h.report(false);
  h.report(false);
  assert.equal(h.up, false);
  assert.equal(h.nextInterval(cfg), 5000);
  h.report(true);
  assert.equal(h.nextInterval(cfg), 100, "coming up");
  h.report(true);
  assert.equal(h.nextInterval(cfg), 1000);
});

Deno.test("Health.nextInterval() falls back to inter, then to 2000 ms", () => {
  const h = new Health(2, 3);
  h.report(false);
  assert.equal(h.nextInterval({ inter: 700 }), 700);
  assert.equal(h.nextInterval({}), 2000);
  h.forceDown();
  assert.equal(h.nextInterval({ inter: 700 }), 700);
});

Deno.test("jitter() stays within ±10% and covers the range", () => {
  assert.equal(jitter(1000, () => 0), 900);
  assert.equal(jitter(1000, () => 0.5), 1000);
  // The top is 1100 within float rounding (1100 - 2e-14 rounds to 1100).
  assert.ok(jitter(1000, () => 1 - Number.EPSILON) <= 1100);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < 10_000; i++) {
    const v = jitter(2000);
    assert.ok(v >= 1800 && v <= 2200, `${v}`);
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  assert.ok(lo < 1850 && hi > 2150, "spread over the range");
  assert.equal(jitter(0), 0);
});

Deno.test("firstDelay() is uniform in [0, inter)", () => {
  assert.equal(firstDelay(2000, () => 0), 0);
  assert.equal(firstDelay(2000, () => 0.25), 500);
  assert.ok(firstDelay(2000, () => 1 - Number.EPSILON) < 2000);
  const buckets = [0, 0, 0, 0];
  for (let i = 0; i < 10_000; i++) {
    const v = firstDelay(1000);
    assert.ok(v >= 0 && v < 1000, `${v}`);
    buckets[Math.floor(v / 250)]++;
  }
  for (const b of buckets) assert.ok(b > 2000, `buckets ${buckets}`);
});
