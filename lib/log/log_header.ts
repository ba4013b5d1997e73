/**
 * The header HAProxy's `log ... format NAME` puts before each line, written
 * as bytes into the line's LogBuf (after HAProxy's build_log_header()):
 *
 * | format     | header                                                   |
 * | ---------- | -------------------------------------------------------- |
 * | `raw`      | nothing                                                  |
 * | `local`    | `<PRI>Mmm dd HH:MM:SS TAG[PID]: ` (HAProxy's default)    |
 * | `rfc3164`  | `<PRI>Mmm dd HH:MM:SS HOST TAG[PID]: `                   |
 * | `rfc5424`  | `<PRI>1 ISODATE HOST TAG PID - SD `                      |
 * | `priority` | `<PRI>`                                                  |
 * | `short`    | `<LEVEL>`                                                |
 * | `timed`    | `<LEVEL>ISODATE `                                        |
 * | `iso`      | `ISODATE `                                               |
 *
 * PRI is facility × 8 + severity; LEVEL the severity alone. Legacy dates
 * are local time, cached per second; ISO dates are UTC with milliseconds
 * (`2026-11-22T10:02:36.788Z`). TAG is "sluice"; HOST the host name when
 * the process may read it, else "-" (RFC 5424's nil; "localhost" in
 * rfc3164, as HAProxy without `log-send-hostname`).
 *
 * @module
 */
import type { LogBuf } from "./log_buf.ts";

/** A `log` line's `format` (HAProxy's syslog header formats). */
export type LogHeaderFormat =
  | "raw"
  | "local"
  | "rfc3164"
  | "rfc5424"
  | "priority"
  | "short"
  | "timed"
  | "iso";

/** Every header format, as `format` accepts them. */
export const LOG_HEADER_FORMATS: readonly LogHeaderFormat[] = [
  "local",
  "rfc3164",
  "rfc5424",
  "priority",
  "short",
  "timed",
  "iso",
  "raw",
];

/** Syslog levels, most severe first: the index is the severity (emerg = 0, debug = 7). */
export const LOG_LEVELS: readonly string[] = [
  "emerg",
  "alert",
  "crit",
  "err",
  "warning",
  "notice",
  "info",
  "debug",
];

/** How one target frames its lines. */
export interface LogHeaderSpec {
  format: LogHeaderFormat;
  /** Syslog facility number (local0 = 16). */
  facility: number;
  /** HOSTNAME field: a host name or "-". */
  host: string;
}

/** Structured data of an RFC 5424 header (`log-format-sd`), written into the line. */
export type LogSdWriter = (out: LogBuf) => void;

const ENC = new TextEncoder();
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const TAG = "sluice";

/** `Mmm dd HH:MM:SS ` of the second last written (local time). */
let legacySec = -1;
let legacyDate = new Uint8Array(0);
/** `yyyy-mm-ddTHH:MM:SS.` of the second last written (UTC). */
let isoSec = -1;
let isoPrefix = new Uint8Array(0);

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `Mmm dd HH:MM:SS ` (RFC 3164: the day padded with a space), local time. */
function legacyInto(out: LogBuf, ms: number): void {
  const sec = Math.floor(ms / 1000);
  if (sec !== legacySec) {
    const d = new Date(sec * 1000);
    const day = d.getDate();
    legacyDate = ENC.encode(
      `${MONTHS[d.getMonth()]} ${day < 10 ? " " : ""}${day} ${pad2(d.getHours())}:` +
        `${pad2(d.getMinutes())}:${pad2(d.getSeconds())} `,
    );
    legacySec = sec;
  }
  out.bytes(legacyDate, 0, legacyDate.length);
}

/** `yyyy-mm-ddTHH:MM:SS.mmmZ ` (UTC). */
function isoInto(out: LogBuf, ms: number): void {
  const t = Math.floor(ms);
  const sec = Math.floor(t / 1000);
  if (sec !== isoSec) {
    isoPrefix = ENC.encode(new Date(sec * 1000).toISOString().slice(0, 20));
    isoSec = sec;
  }
  out.bytes(isoPrefix, 0, isoPrefix.length);
  const m = t - sec * 1000;
  out.ch(0x30 + Math.floor(m / 100));
  out.ch(0x30 + (Math.floor(m / 10) % 10));
  out.ch(0x30 + (m % 10));
  out.ch(0x5a);
  out.ch(0x20);
}

/** `<N>`. */
function priInto(out: LogBuf, n: number): void {
  out.ch(0x3c);
  out.int(n);
  out.ch(0x3e);
}

/**
 * Writes the header of a line of `severity` (0-7) into `out`, stamped
 * `now` (ms since the epoch). `sd` writes RFC 5424 structured data (nothing
 * else uses it); without it, or when it writes nothing, the field is "-".
 */
export function logHeaderInto(
  out: LogBuf,
  h: LogHeaderSpec,
  severity: number,
  now: number,
  sd: LogSdWriter | null = null,
): void {
  switch (h.format) {
    case "raw":
      return;
    case "local":
    case "rfc3164":
      priInto(out, h.facility * 8 + severity);
      legacyInto(out, now);
      if (h.format === "rfc3164") {
        out.str(h.host === "-" ? "localhost" : h.host);
        out.ch(0x20);
      }
      out.str(TAG);
      out.ch(0x5b);
      out.int(Deno.pid);
      out.str("]: ");
      return;
    case "rfc5424": {
      priInto(out, h.facility * 8 + severity);
      out.str("1 ");
      isoInto(out, now);
      out.str(h.host);
      out.ch(0x20);
      out.str(TAG);
      out.ch(0x20);
      out.int(Deno.pid);
      out.str(" - ");
      const before = out.n;
      if (sd !== null) {
        sd(out);
        // Trailing spaces are not part of the field (as HAProxy trims them).
        while (out.n > before && out.a[out.n - 1] === 0x20) out.n--;
      }
      if (out.n === before) out.ch(0x2d);
      out.ch(0x20);
      return;
    }
    case "priority":
      priInto(out, h.facility * 8 + severity);
      return;
    case "short":
      priInto(out, severity);
      return;
    case "timed":
      priInto(out, severity);
      isoInto(out, now);
      return;
    case "iso":
      isoInto(out, now);
      return;
  }
}
