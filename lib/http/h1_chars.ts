/**
 * Byte classes for HTTP/1 parsing (RFC 9110 §5.6, RFC 9112) as lookup tables,
 * and case-insensitive comparison of header names against lowercase
 * constants, by length first.
 *
 * @module
 */

/** tchar: characters allowed in tokens (methods, header names, codings). */
export const TCHAR = new Uint8Array(256);
/** Bytes allowed in a request target (visible ASCII, no SP/CTL). */
export const URICHAR = new Uint8Array(256);
/** Bytes allowed in a field value: VCHAR, obs-text, SP, HTAB. */
export const VALCHAR = new Uint8Array(256);
/** Hex digit values + 1 (0 means not a hex digit). */
export const HEXVAL = new Uint8Array(256);

for (let c = 0; c < 256; c++) {
  const alpha = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  const digit = c >= 0x30 && c <= 0x39;
  if (alpha || digit || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c))) TCHAR[c] = 1;
  if (c > 0x20 && c < 0x7f) URICHAR[c] = 1;
  if ((c > 0x20 && c !== 0x7f) || c === 0x20 || c === 0x09) VALCHAR[c] = 1;
  if (digit) HEXVAL[c] = c - 0x30 + 1;
  else if (c >= 0x61 && c <= 0x66) HEXVAL[c] = c - 0x61 + 11;
  else if (c >= 0x41 && c <= 0x46) HEXVAL[c] = c - 0x41 + 11;
}

/** ASCII bytes of a lowercase constant. */
export function lc(s: string): Uint8Array {
  return new TextEncoder().encode(s.toLowerCase());
}

/** True when `a[pos, pos+len)` equals the lowercase `name`, ignoring ASCII case. */
export function eqNoCase(a: Uint8Array, pos: number, len: number, name: Uint8Array): boolean {
  if (len !== name.length) return false;
  for (let i = 0; i < len; i++) {
    let c = a[pos + i];
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== name[i]) return false;
  }
  return true;
}

/** Latin-1 string of a byte range (for logs and rules only, never on the hot path). */
export function bytesToStr(a: Uint8Array, pos: number, len: number): string {
  let s = "";
  for (let i = 0; i < len; i += 4096) {
    s += String.fromCharCode(...a.subarray(pos + i, pos + Math.min(len, i + 4096)));
  }
  return s;
}
