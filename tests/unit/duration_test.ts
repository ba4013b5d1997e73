/**
 * parseDuration()/formatDuration(): HAProxy-style durations in milliseconds.
 */
import assert from "node:assert/strict";
import { SluiceError } from "../../lib/core/errors.ts";
import { formatDuration, MAX_DURATION_MS, parseDuration } from "../../lib/cfg/duration.ts";

/** Asserts that parsing `text` fails with ERR_DURATION and a message matching `re`. */
function rejects(text: string, re: RegExp): void {
  assert.throws(
    () => parseDuration(text),
    (err: unknown) => {
      assert.ok(err instanceof SluiceError, "a SluiceError");
      assert.equal(err.code, "ERR_DURATION");
      assert.match(err.message, re);
      assert.equal(err.where, undefined);
      return true;
    },
    `parseDuration(${JSON.stringify(text)}) should throw`,
  );
}

Deno.test("parseDuration() reads every unit into milliseconds", () => {
  assert.equal(parseDuration("1000us"), 1);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("2s"), 2000);
  assert.equal(parseDuration("3m"), 180_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("2d"), 172_800_000);
});

Deno.test("parseDuration() without a unit means milliseconds", () => {
  assert.equal(parseDuration("1500"), 1500);
  assert.equal(parseDuration("1"), 1);
  assert.equal(parseDuration("007"), 7, "leading zeros are digits like any other");
});

Deno.test("parseDuration() of 0 is 0 in every unit (0 means no timeout)", () => {
  for (const u of ["", "us", "ms", "s", "m", "h", "d"]) {
    assert.equal(parseDuration(`0${u}`), 0, `0${u}`);
  }
});

Deno.test("parseDuration() rounds microseconds up to whole milliseconds", () => {
  assert.equal(parseDuration("1us"), 1, "any positive duration is at least 1 ms");
  assert.equal(parseDuration("999us"), 1);
  assert.equal(parseDuration("1001us"), 2);
  assert.equal(parseDuration("1500us"), 2);
  assert.equal(parseDuration("2000us"), 2);
  // Exact multiples never round up through floating-point error.
  for (let k = 1; k <= 10_000; k++) {
    if (parseDuration(`${k * 1000}us`) !== k) assert.fail(`${k * 1000}us is not ${k} ms`);
  }
});

Deno.test("parseDuration() rejects an unknown unit, naming it", () => {
  rejects("5x", /^Cannot parse duration "5x": unknown unit "x"$/);
  rejects("5sec", /unknown unit "sec"/);
  rejects("5ns", /unknown unit "ns"/);
});

Deno.test("parseDuration() rejects text that is not a number with a unit", () => {
  for (const text of ["", "-1", "1.5s", " 1s", "1s ", "s", "1 s", "+1", "1e3", "5S", "0x10"]) {
    rejects(text, /^Cannot parse duration ".*": expected a number and an optional unit/);
  }
  rejects("1.5s", /"1\.5s"/);
});

Deno.test("parseDuration() rejects durations longer than a timer can wait (~24.8 days)", () => {
  assert.equal(parseDuration("24d"), 24 * 86_400_000);
  assert.equal(parseDuration(`${MAX_DURATION_MS}`), MAX_DURATION_MS);
  assert.equal(MAX_DURATION_MS, 2 ** 31 - 1);
  rejects(`${MAX_DURATION_MS + 1}`, /^Duration "2147483648" is too large: the maximum is 24d$/);
  rejects("25d", /too large/);
  rejects("597h", /too large/);
  rejects("99999999999999999999999s", /too large/);
});

Deno.test("formatDuration() uses the largest unit that divides exactly", () => {
  assert.equal(formatDuration(86_400_000), "1d");
  assert.equal(formatDuration(2 * 3_600_000), "2h");
  assert.equal(formatDuration(90 * 60_000), "90m");
  assert.equal(formatDuration(60_000), "1m");
  assert.equal(formatDuration(90_000), "90s");
  assert.equal(formatDuration(5000), "5s");
  assert.equal(formatDuration(1500), "1500ms");
  assert.equal(formatDuration(1), "1ms");
  assert.equal(formatDuration(0), "0ms");
});

Deno.test("formatDuration() output parses back to the same milliseconds", () => {
  for (const ms of [0, 1, 999, 1000, 1001, 59_000, 60_000, 3_600_000, 5_400_000, 86_400_000]) {
    assert.equal(parseDuration(formatDuration(ms)), ms);
  }
});
