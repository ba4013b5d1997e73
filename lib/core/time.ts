/**
 * Ticks: milliseconds read from a monotonic clock. Every expiry in sluice is
 * an absolute tick; `TICK_ETERNITY` means "never". A timeout of 0 means "not
 * set" (like HAProxy), so adding it to a tick gives eternity.
 *
 * @module
 */

/** An expiry that never comes. Comparisons with `<` work unchanged. */
export const TICK_ETERNITY = Infinity;

/** Current monotonic time in milliseconds (fractional). */
export function tickNow(): number {
  return performance.now();
}

/** Returns `now + timeout`, or eternity when the timeout is not set (0). */
export function tickAdd(now: number, timeout: number): number {
  return timeout > 0 ? now + timeout : TICK_ETERNITY;
}

/** True when the tick is set and already reached. */
export function tickIsExpired(tick: number, now: number): boolean {
  return tick <= now;
}

/** The earlier of two ticks. */
export function tickFirst(a: number, b: number): number {
  return a < b ? a : b;
}

/** Milliseconds from `start` to `end`, rounded, or -1 when `start` was never set. */
export function tickSpan(start: number, end: number): number {
  return start < 0 ? -1 : Math.round(end - start);
}
