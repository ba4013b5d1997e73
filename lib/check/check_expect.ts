/**
 * What a check expects of a response: HAProxy's `http-check expect` and
 * `tcp-check expect` matches (`[!] status|rstatus|string|rstring|binary|
 * rbinary PATTERN`), compiled once when the configuration loads so that a
 * bad pattern is a load-time error and a check only runs the matcher.
 *
 * Matching follows HAProxy's tcpcheck.c: `string` and `binary` look for the
 * exact bytes anywhere in what was read, `rstring` runs the regular
 * expression (unanchored) on it, `rbinary` on its upper-case hexadecimal
 * dump, `status` tests the HTTP status against a list of codes and ranges,
 * `rstatus` runs the regular expression on the three status digits. `!`
 * negates the result. Regular expressions are JavaScript's (HAProxy uses
 * PCRE; the common syntax is the same).
 *
 * @module
 */

/** HAProxy's match keywords; `status` and `rstatus` are HTTP only, `binary` and `rbinary` TCP only. */
export type CheckExpectMatch = "status" | "rstatus" | "string" | "rstring" | "binary" | "rbinary";

/** One expectation as configured. */
export interface CheckExpectSpec {
  /** How to look for the pattern. */
  match: CheckExpectMatch;
  /**
   * The pattern: status codes and ranges (`200-399,404`), a regular
   * expression, text, or hexadecimal digits (`binary`, an even count).
   */
  pattern: string;
  /** `!`: the response is bad when the pattern is found. Default false. */
  negate?: boolean;
  /**
   * TCP checks: bytes needed before the rule is judged; with it, a
   * mismatch is final instead of waiting for more data (HAProxy's
   * `min-recv`). Default: wait for more data until the end or a full buffer.
   */
  minRecv?: number;
  /** TCP checks: text added to the failure's report (HAProxy's `comment`). */
  comment?: string;
}

/** An expectation ready to run. */
export interface CompiledExpect {
  readonly spec: Readonly<CheckExpectSpec>;
  readonly negate: boolean;
  /** The exact bytes of `string`/`binary` (their length is the least to read first), else null. */
  readonly bytes: Uint8Array | null;
  /** True when the pattern is found in `b[0, len)` (before negation). */
  found(b: Uint8Array, len: number): boolean;
  /** True when the status matches (before negation); `status`/`rstatus` only. */
  foundStatus(status: number): boolean;
}

/** Longest pattern accepted: a match can never be longer than a check's buffer. */
const MAX_PATTERN = 16384;

/** Bytes of the hexadecimal digits `hex` (even count), or null. */
export function hexBytes(hex: string): Uint8Array | null {
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Parses a `status` list: codes and ranges separated by commas
 * (`200-399,404`). Returns the ranges, or why the text is refused.
 */
export function statusRanges(text: string): [number, number][] | string {
  const out: [number, number][] = [];
  for (const part of text.split(",")) {
    const m = /^([1-5][0-9]{2})(?:-([1-5][0-9]{2}))?$/.exec(part);
    if (m === null) {
      return `invalid status "${part}": expected codes or ranges such as 200-399,404`;
    }
    const lo = Number(m[1]), hi = Number(m[2] ?? m[1]);
    if (lo > hi) return `invalid status range "${part}": the first code is above the second`;
    out.push([lo, hi]);
  }
  return out;
}

/** Index of `needle` in `hay[0, len)`, or -1. */
export function indexOfBytes(hay: Uint8Array, len: number, needle: Uint8Array): number {
  const n = needle.length;
  if (n === 0) return 0;
  const first = needle[0];
  const h = hay.subarray(0, len);
  outer: for (let i = h.indexOf(first); i >= 0 && i + n <= len; i = h.indexOf(first, i + 1)) {
    for (let j = 1; j < n; j++) if (h[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** `b[0, len)` as a string, one character per byte. */
function latin1(b: Uint8Array, len: number): string {
  let s = "";
  for (let i = 0; i < len; i += 4096) {
    s += String.fromCharCode(...b.subarray(i, Math.min(len, i + 4096)));
  }
  return s;
}

const HEX = "0123456789ABCDEF";

/** `b[0, len)` as upper-case hexadecimal digits (HAProxy's dump_binary()). */
function hexDump(b: Uint8Array, len: number): string {
  const out: string[] = [];
  for (let i = 0; i < len; i++) out.push(HEX[b[i] >> 4] + HEX[b[i] & 15]);
  return out.join("");
}

function regex(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (err) {
    throw new Error(`invalid regular expression "${pattern}": ${(err as Error).message}`);
  }
}

/**
 * Compiles `spec` for a check of `kind`. Throws an Error saying what is
 * wrong (a match the check kind has not, an empty or bad pattern, odd hex
 * digits, a bad status list, a bad `minRecv`).
 *
 * @example
 * ```ts
 * import { compileExpect } from "./check_expect.ts";
 * const e = compileExpect({ match: "status", pattern: "200-299,302" }, "http");
 * e.foundStatus(302); // true
 * ```
 */
export function compileExpect(spec: CheckExpectSpec, kind: "http" | "tcp"): CompiledExpect {
  const { match, pattern } = spec;
  const http = match === "status" || match === "rstatus";
  const tcpOnly = match === "binary" || match === "rbinary";
  if (!http && !tcpOnly && match !== "string" && match !== "rstring") {
    throw new Error(
      `unknown match "${match}" (expected ${
        kind === "http"
          ? "status, rstatus, string or rstring"
          : "string, rstring, binary or rbinary"
      })`,
    );
  }
  if ((kind === "tcp" && http) || (kind === "http" && tcpOnly)) {
    throw new Error(`"${match}" is not a match of ${kind === "http" ? "HTTP" : "TCP"} checks`);
  }
  if (typeof pattern !== "string" || pattern === "") throw new Error(`"${match}" needs a pattern`);
  if (pattern.length > MAX_PATTERN) {
    throw new Error(`pattern longer than ${MAX_PATTERN} characters (a check reads at most that)`);
  }
  const m = spec.minRecv;
  if (m !== undefined && (!Number.isInteger(m) || m < -1 || m > MAX_PATTERN)) {
    throw new Error(`invalid min-recv "${m}": expected -1 to ${MAX_PATTERN}`);
  }
  const negate = spec.negate === true;
  const never = () => false;
  const base = { spec: { ...spec }, negate };
  switch (match) {
    case "status": {
      const ranges = statusRanges(pattern);
      if (typeof ranges === "string") throw new Error(ranges);
      return {
        ...base,
        bytes: null,
        found: never,
        foundStatus: (s) => ranges.some(([lo, hi]) => s >= lo && s <= hi),
      };
    }
    case "rstatus": {
      const re = regex(pattern);
      return { ...base, bytes: null, found: never, foundStatus: (s) => re.test(String(s)) };
    }
    case "string":
    case "binary": {
      const bytes = match === "string" ? new TextEncoder().encode(pattern) : hexBytes(pattern);
      if (bytes === null) {
        throw new Error(
          `invalid hexadecimal string "${pattern}": expected an even count of digits`,
        );
      }
      return {
        ...base,
        bytes,
        found: (b, len) => indexOfBytes(b, len, bytes) >= 0,
        foundStatus: never,
      };
    }
    default: {
      const re = regex(pattern);
      const text = match === "rstring" ? latin1 : hexDump;
      return { ...base, bytes: null, found: (b, len) => re.test(text(b, len)), foundStatus: never };
    }
  }
}

/**
 * How HAProxy names a failed expectation in a check's report:
 * `TCPCHK did not match content 'x'`, `TCPCHK matched unwanted content
 * (regex)`... `found` is what the matcher said (before negation).
 */
export function expectFailText(e: CompiledExpect, found: boolean): string {
  const head = found ? "TCPCHK matched unwanted content" : "TCPCHK did not match content";
  switch (e.spec.match) {
    case "string":
      return `${head} '${e.spec.pattern}'`;
    case "binary":
      return `${head} (binary)`;
    case "rstring":
    case "rstatus":
      return `${head} (regex)`;
    case "rbinary":
      return `${head} (binary regex)`;
    default:
      return `${head}(status codes)`;
  }
}
