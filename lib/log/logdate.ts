/**
 * Dates in logs, as HAProxy prints them: `22/Nov/2026:07:40:15.123` in local
 * time for text logs, ISO 8601 for JSON.
 *
 * @module
 */

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
