/**
 * Durations as HAProxy writes them: an integer and an optional unit among
 * `us`, `ms`, `s`, `m`, `h`, `d`; no unit means milliseconds.
 *
 * @module
 */
import { SluiceError } from "../core/errors.ts";

/** Longest duration accepted, in ms: the longest a timer can wait (~24.8 days). */
export const MAX_DURATION_MS = 0x7fffffff;

const UNITS: Record<string, number> = {
  us: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a duration into milliseconds (microseconds round up to 1 ms).
 * Throws a SluiceError with code ERR_DURATION naming the problem.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * parseDuration("2s"); // 2000
 * parseDuration("1h"); // 3600000
 * ```
 */
export function parseDuration(text: string): number {
  const m = /^([0-9]+)([a-z]*)$/.exec(text);
  if (m === null) {
    throw new SluiceError(
      "ERR_DURATION",
      `Cannot parse duration "${text}": expected a number and an optional unit (us, ms, s, m, h, d)`,
    );
  }
  const unit = m[2] === "" ? "ms" : m[2];
  const mult = UNITS[unit];
  if (mult === undefined) {
    throw new SluiceError(
      "ERR_DURATION",
      `Cannot parse duration "${text}": unknown unit "${unit}"`,
    );
  }
  const ms = Math.ceil(Number(m[1]) * mult);
  if (ms > MAX_DURATION_MS) {
    throw new SluiceError(
      "ERR_DURATION",
      `Duration "${text}" is too large: the maximum is 24d`,
    );
  }
  return ms;
}

/** Renders milliseconds in the largest unit that divides them exactly. */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"]) {
    const mult = UNITS[unit];
    if (ms >= mult && ms % mult === 0) return `${ms / mult}${unit}`;
  }
  return `${ms}ms`;
}
