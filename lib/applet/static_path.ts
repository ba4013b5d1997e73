/**
 * The request target of a static-file request made safe: query dropped,
 * split into segments on the raw slashes, each segment percent-decoded once
 * (an encoded `/`, `\` or NUL refuses the request instead of becoming a
 * separator), `.` skipped, `..` popping within the root and refused above
 * it. The result names a place under the root whatever the input; the file
 * system is never asked about anything else. Symbolic links are the
 * resolver's business (static_lookup.ts).
 *
 * @module
 */

/** A normalised request path: segments under the root, and whether it ended with `/`. */
export interface StaticPath {
  readonly segments: readonly string[];
  readonly trailingSlash: boolean;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Value of a hex digit, -1 when not one. */
function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/** Percent-decodes one segment (once); null for a bad escape or bytes that are not UTF-8. */
function decodeSegment(raw: string): string | null {
  if (!raw.includes("%")) return raw;
  const out = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c > 0x7f) return null; // the request line is checked ASCII; be strict anyway
    if (c !== 0x25) {
      out[n++] = c;
      continue;
    }
    const h = i + 2 < raw.length ? hexVal(raw.charCodeAt(i + 1)) : -1;
    const l = h < 0 ? -1 : hexVal(raw.charCodeAt(i + 2));
    if (l < 0) return null;
    out[n++] = h * 16 + l;
    i += 2;
  }
  try {
    return UTF8.decode(out.subarray(0, n));
  } catch {
    return null;
  }
}

/**
 * Normalises an origin-form request target (`/a/b%20c?x`). Returns null for
 * a target that cannot name a file under the root: not starting with `/`,
 * a bad escape, an encoded `/` or `\`, a backslash, a control byte, or `..`
 * above the root.
 */
export function staticPath(target: string): StaticPath | null {
  let end = target.length;
  const q = target.indexOf("?");
  if (q >= 0) end = q;
  const h = target.indexOf("#");
  if (h >= 0 && h < end) end = h;
  const path = target.slice(0, end);
  if (path.length === 0 || path.charCodeAt(0) !== 0x2f) return null;
  const segments: string[] = [];
  const raws = path.split("/");
  for (let i = 1; i < raws.length; i++) {
    const seg = decodeSegment(raws[i]);
    if (seg === null) return null;
    // Separators and control bytes only ever come from an escape here:
    // refuse rather than guess what the client meant.
    // deno-lint-ignore no-control-regex
    if (/[\x00-\x1f\x7f/\\]/.test(seg)) return null;
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (segments.length === 0) return null;
      segments.pop();
      continue;
    }
    segments.push(seg);
  }
  const last = raws[raws.length - 1];
  return { segments, trailingSlash: raws.length > 1 && (last === "" || last === ".") };
}

/** The URL path of `segments` (each percent-encoded), for a Location or a listing. */
export function staticUrlPath(segments: readonly string[], dir: boolean): string {
  const p = segments.map(encodeURIComponent).join("/");
  return `/${p}${dir && p !== "" ? "/" : ""}`;
}
