/**
 * HAProxy's `monitor-uri`: which requests are monitor requests. A URI
 * starting with "/" is compared with the request's path and query (the
 * target in origin form, or what follows the authority of an absolute
 * one); any other is compared with the whole target as received. Exact,
 * case-sensitive comparisons, as HAProxy's.
 *
 * @module
 */
import { H1_MF_ABS_URI, type HttpMsg } from "./h1_types.ts";

const SLASH = 0x2f, QM = 0x3f;

/** True when the request head `msg` (offsets from `base` in `a`) targets the monitor URI `uri`. */
export function monitorUriMatch(
  msg: HttpMsg,
  a: Uint8Array,
  base: number,
  uri: Uint8Array,
): boolean {
  let p = base + msg.uriPos;
  const end = p + msg.uriLen;
  if (uri[0] === SLASH && (msg.flags & H1_MF_ABS_URI)) {
    // scheme://authority: the parser checked the form; the path starts at
    // the first "/" or "?" after the authority.
    while (p < end && a[p] !== 0x3a) p++;
    p += 3;
    while (p < end && a[p] !== SLASH && a[p] !== QM) p++;
  }
  if (end - p !== uri.length) return false;
  for (let i = 0; i < uri.length; i++) if (a[p + i] !== uri[i]) return false;
  return true;
}
