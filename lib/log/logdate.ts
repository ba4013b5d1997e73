/**
 * Dates in logs, as HAProxy prints them: `22/Nov/2026:07:40:15.123` in local
 * time for text logs, ISO 8601 for JSON.
 *
 * @module
 */
import type { LogBuf } from "./log_buf.ts";

const MONTHS = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
];

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** Formats epoch milliseconds as `dd/Mon/yyyy:HH:MM:SS.mmm` (local time). */
export function logDate(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getDate(), 2)}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:` +
    `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}` +
    `.${pad(d.getMilliseconds(), 3)}`;
}

/** `dd/Mon/yyyy:HH:MM:SS.` of the second last formatted (one Date per second, not per line). */
let cacheSec = -1;
const cachePrefix = new Uint8Array(21);

/**
 * Writes `logDate(ms)` into `out` as bytes, the part before the milliseconds
 * from a per-second cache.
 */
export function logDateInto(out: LogBuf, date: number): void {
  const ms = Math.floor(date);
  const sec = Math.floor(ms / 1000);
  if (sec !== cacheSec) {
    const text = logDate(sec * 1000);
    for (let i = 0; i < 21; i++) cachePrefix[i] = text.charCodeAt(i);
    cacheSec = sec;
  }
  if (!out.room(24)) return;
  const a = out.a;
  a.set(cachePrefix, out.n);
  let n = out.n + 21;
  const m = ms - sec * 1000;
  const h = Math.floor(m / 100), t = Math.floor(m / 10) % 10;
  a[n++] = 0x30 + h;
  a[n++] = 0x30 + t;
  a[n++] = 0x30 + (m % 10);
  out.n = n;
}
