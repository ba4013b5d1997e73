/**
 * Key hashing for the hashed algorithms (source, uri, hdr) and for placing
 * servers on the consistent-hash ring.
 *
 * FNV-1a is cheap and byte-at-a-time, so it can run over a header value in a
 * receive buffer without first making a string; but its high bits are poorly
 * mixed for short, similar keys ("s1#0", "s1#1", "/a", "/b"), and the ring
 * compares whole 32-bit values. The murmur3 `fmix32` finaliser fixes that:
 * every input bit then flips each output bit with probability close to 1/2.
 *
 * Strings are hashed as latin-1, the way HTTP header bytes are decoded into
 * strings, so `hashStr(s)` equals `hashBytes()` over the same bytes.
 *
 * @module
 */

/** FNV-1a 32-bit offset basis. */
const FNV_OFFSET = 0x811c9dc5;
/** FNV-1a 32-bit prime. */
const FNV_PRIME = 0x01000193;

/** murmur3 finaliser: avalanche all 32 bits of `h`; returns an unsigned value. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Hashes a string read as latin-1 bytes to an unsigned 32-bit value.
 * A code unit above 0xff (not latin-1) is hashed as its low then high byte,
 * so such strings still hash well but match no `hashBytes()` input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashBytes, hashStr } from "./hash.ts";
 * const h = hashStr("/index.html");
 * assert(h === hashBytes(new TextEncoder().encode("/index.html"), 0, 11));
 * ```
 */
export function hashStr(s: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) {
      h = Math.imul(h ^ (c & 0xff), FNV_PRIME);
      h = Math.imul(h ^ (c >>> 8), FNV_PRIME);
    } else {
      h = Math.imul(h ^ c, FNV_PRIME);
    }
  }
  return fmix32(h);
}

/**
 * Hashes `len` bytes of `a` from `pos` (a header value still in its receive
 * buffer) to an unsigned 32-bit value; the caller keeps `pos + len` within `a`.
 *
 * @example
 * ```ts
 * import { hashBytes } from "./hash.ts";
 * const buf = new TextEncoder().encode("Host: example.com\r\n");
 * const h = hashBytes(buf, 6, 11); // "example.com"
 * ```
 */
export function hashBytes(a: Uint8Array, pos: number, len: number): number {
  let h = FNV_OFFSET;
  const end = pos + len;
  for (let i = pos; i < end; i++) h = Math.imul(h ^ a[i], FNV_PRIME);
  return fmix32(h);
}

/**
 * Hashes a client IP address (`balance source`). An IPv4 address seen as
 * IPv4-mapped IPv6 ("::ffff:10.0.0.1", as dual-stack sockets report it) is
 * hashed as plain IPv4, so one client keeps its server whichever socket
 * family accepted it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashAddr } from "./hash.ts";
 * assert(hashAddr("::ffff:10.0.0.1") === hashAddr("10.0.0.1"));
 * ```
 */
export function hashAddr(ip: string): number {
  // Cheap prefix test first: almost all addresses are not mapped.
  if (
    ip.length > 7 && ip.charCodeAt(0) === 0x3a && ip.charCodeAt(6) === 0x3a &&
    ip.slice(0, 7).toLowerCase() === "::ffff:" && ip.indexOf(".", 7) > 0
  ) {
    return hashStr(ip.slice(7));
  }
  return hashStr(ip);
}
