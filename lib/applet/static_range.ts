/**
 * `Range: bytes=...` of a static-file request (RFC 9110 §14.1-14.2):
 * first-last, first- (open) and -suffix ranges, several separated by commas.
 * A header that is not a valid byte range set is ignored (the whole file is
 * sent, which RFC 9110 allows); one whose ranges all start past the end is
 * unsatisfiable (416).
 *
 * @module
 */

/** One satisfiable range, both ends included. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** More ranges than this and the header is ignored (many small or overlapping ranges are a known abuse). */
export const MAX_RANGES = 32;

const SPEC = /^(?:(\d{1,15})-(\d{0,15})|-(\d{1,15}))$/;

/**
 * The ranges of `header` in a file of `size` bytes, clipped to it:
 * a list (in the client's order), "unsatisfiable", or null to ignore the
 * header.
 */
export function parseRange(header: string, size: number): ByteRange[] | "unsatisfiable" | null {
  const eq = header.indexOf("=");
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== "bytes") return null;
  const specs = header.slice(eq + 1).split(",");
  if (specs.length > MAX_RANGES) return null;
  const out: ByteRange[] = [];
  let total = 0;
  for (const raw of specs) {
    const s = raw.trim();
    if (s === "") continue; // RFC 9110 list syntax tolerates empty elements
    const m = SPEC.exec(s);
    if (m === null) return null;
    if (m[3] !== undefined) {
      const n = Number(m[3]);
      if (n === 0 || size === 0) continue;
      out.push({ start: Math.max(0, size - n), end: size - 1 });
    } else {
      const first = Number(m[1]);
      const last = m[2] === "" ? Infinity : Number(m[2]);
      if (last < first) return null;
      if (first >= size) continue;
      out.push({ start: first, end: Math.min(last, size - 1) });
    }
    total += out[out.length - 1].end - out[out.length - 1].start + 1;
  }
  if (out.length === 0) return specs.some((s) => s.trim() !== "") ? "unsatisfiable" : null;
  // Overlapping ranges that add up to more than the file: send the file.
  if (out.length > 1 && total > size) return null;
  return out;
}
