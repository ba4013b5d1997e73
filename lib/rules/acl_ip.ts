/**
 * IP addresses and networks for the `ip` matching method (`src`,
 * `hdr_ip(x-forwarded-for)`): parsing from bytes without allocating, CIDR
 * networks, and HAProxy's IPv4/IPv6 mixing rules.
 *
 * - An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is an IPv4 address, as a
 *   sample and as a pattern (`::ffff:10.0.0.0/104` is `10.0.0.0/8`).
 * - An IPv4 sample matches an IPv6 network through its mapped form, so
 *   `::/0` and `::ffff:0:0/96` match every IPv4 address; an IPv6 sample never
 *   matches an IPv4 network.
 * - Samples may carry brackets (`[::1]`) and a zone (`fe80::1%eth0`), which
 *   are ignored. IPv4 parts must be decimal without leading zeros (as
 *   inet_pton); host names are not resolved.
 *
 * @module
 */
import { HEXVAL } from "../http/h1_chars.ts";

const DOT = 0x2e, COLON = 0x3a, SLASH = 0x2f, PCT = 0x25, LBR = 0x5b, RBR = 0x5d;

/** Groups of the IPv6 address being parsed, then the expanded groups (scratch, no state kept). */
const G = new Uint16Array(8);
const H = new Uint16Array(8);

/** Value of the dotted IPv4 address `a[p, end)` (0 to 2^32-1), or -1 when it is not one. */
function v4At(a: Uint8Array, p: number, end: number): number {
  let val = 0;
  let parts = 0;
  let i = p;
  for (;;) {
    const s = i;
    let n = 0;
    while (i < end && a[i] >= 0x30 && a[i] <= 0x39 && i - s < 4) {
      n = n * 10 + a[i] - 0x30;
      i++;
    }
    const d = i - s;
    if (d === 0 || d > 3 || n > 255 || (d > 1 && a[s] === 0x30)) return -1;
    val = val * 256 + n;
    if (++parts === 4) return i === end ? val : -1;
    if (i >= end || a[i] !== DOT) return -1;
    i++;
  }
}

/** Parses the IPv6 address `a[p, end)` into four big-endian words; false when it is not one. */
function v6At(a: Uint8Array, p: number, end: number, out: Uint32Array): boolean {
  let n = 0;
  let dbl = -1; // index in G where "::" stands
  let i = p;
  if (i < end && a[i] === COLON) {
    if (i + 1 >= end || a[i + 1] !== COLON) return false;
    dbl = 0;
    i += 2;
  }
  while (i < end) {
    if (n >= 8) return false;
    const s = i;
    let v = 0;
    while (i < end && i - s < 5) {
      const h = HEXVAL[a[i]];
      if (h === 0) break;
      v = (v << 4) | (h - 1);
      i++;
    }
    const d = i - s;
    if (d === 0 || d > 4) return false;
    if (i < end && a[i] === DOT) {
      // Embedded IPv4 in the last 32 bits ("::ffff:10.0.0.1", "64:ff9b::1.2.3.4").
      if (n > 6) return false;
      const v4 = v4At(a, s, end);
      if (v4 < 0) return false;
      G[n++] = v4 >>> 16;
      G[n++] = v4 & 0xffff;
      break;
    }
    G[n++] = v;
    if (i === end) break;
    if (a[i] !== COLON) return false;
    i++;
    if (i < end && a[i] === COLON) {
      if (dbl >= 0) return false;
      dbl = n;
      i++;
    } else if (i === end) return false; // "1:2:" ends with a lone colon
  }
  if (dbl < 0 ? n !== 8 : n > 7) return false;
  if (dbl < 0) {
    H.set(G);
  } else {
    H.fill(0);
    for (let k = 0; k < dbl; k++) H[k] = G[k];
    const tail = n - dbl;
    for (let k = 0; k < tail; k++) H[8 - tail + k] = G[dbl + k];
  }
  for (let j = 0; j < 4; j++) out[j] = (H[2 * j] << 16) | H[2 * j + 1];
  return true;
}

/**
 * Parses an IPv4 or IPv6 address, without mapping: 4 (in `out[0]`), 6 (in
 * `out[0..3]`) or 0 when `a[pos, pos + len)` is not an address.
 */
function ipParseRaw(a: Uint8Array, pos: number, len: number, out: Uint32Array): number {
  let p = pos;
  let end = pos + len;
  if (len >= 2 && a[p] === LBR && a[end - 1] === RBR) {
    p++;
    end--;
  }
  let colon = false;
  for (let i = p; i < end; i++) {
    if (a[i] === COLON) colon = true;
    else if (a[i] === PCT && colon) {
      end = i; // zone index: "fe80::1%eth0"
      break;
    }
  }
  if (!colon) {
    const v = v4At(a, p, end);
    if (v < 0) return 0;
    out[0] = v;
    return 4;
  }
  return v6At(a, p, end, out) ? 6 : 0;
}

/** True when the IPv6 words in `w` are an IPv4-mapped address (`::ffff:0:0/96`). */
function isMapped(w: Uint32Array): boolean {
  return w[0] === 0 && w[1] === 0 && w[2] === 0xffff;
}

/**
 * Parses an address in `a[pos, pos + len)` into `out`: returns 4 (address
 * in `out[0]`), 6 (four big-endian words in `out`), or 0 when it is not an
 * address. IPv4-mapped IPv6 addresses come back as 4. Never allocates.
 *
 * @example
 * ```ts
 * import { ipParse } from "./acl_ip.ts";
 * const w = new Uint32Array(4);
 * ipParse(new TextEncoder().encode("::ffff:10.0.0.1"), 0, 15, w); // 4, w[0] === 0x0a000001
 * ```
 */
export function ipParse(a: Uint8Array, pos: number, len: number, out: Uint32Array): number {
  const k = ipParseRaw(a, pos, len, out);
  if (k === 6 && isMapped(out)) {
    out[0] = out[3];
    return 4;
  }
  return k;
}

/** A network to match addresses against: address and mask, both already ANDed. */
export class IpNet {
  /** True for an IPv4 network (only `a0`/`m0` are used). */
  readonly v4: boolean;
  readonly a0: number;
  readonly a1: number;
  readonly a2: number;
  readonly a3: number;
  readonly m0: number;
  readonly m1: number;
  readonly m2: number;
  readonly m3: number;
  /** Prefix length (0 to 32 or 0 to 128), for dumps. */
  readonly prefix: number;

  constructor(v4: boolean, w: Uint32Array, prefix: number) {
    this.v4 = v4;
    this.prefix = prefix;
    const m = [0, 0, 0, 0];
    for (let j = 0; j < (v4 ? 1 : 4); j++) {
      const bits = Math.max(0, Math.min(32, prefix - 32 * j));
      m[j] = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    }
    [this.m0, this.m1, this.m2, this.m3] = m;
    this.a0 = (w[0] & m[0]) >>> 0;
    this.a1 = v4 ? 0 : (w[1] & m[1]) >>> 0;
    this.a2 = v4 ? 0 : (w[2] & m[2]) >>> 0;
    this.a3 = v4 ? 0 : (w[3] & m[3]) >>> 0;
  }

  /**
   * True when the address `w` of kind `kind` (as ipParse() returns it) is in
   * this network. An IPv4 address is compared with an IPv6 network through
   * its mapped form.
   */
  has(kind: number, w: Uint32Array): boolean {
    if (kind === 4) {
      if (this.v4) return ((w[0] & this.m0) >>> 0) === this.a0;
      return this.a0 === 0 && this.a1 === 0 && ((0xffff & this.m2) >>> 0) === this.a2 &&
        ((w[0] & this.m3) >>> 0) === this.a3;
    }
    if (kind !== 6 || this.v4) return false;
    return ((w[0] & this.m0) >>> 0) === this.a0 && ((w[1] & this.m1) >>> 0) === this.a1 &&
      ((w[2] & this.m2) >>> 0) === this.a2 && ((w[3] & this.m3) >>> 0) === this.a3;
  }
}

/** ASCII bytes of a pattern (other characters become 0xff, which no address contains). */
function ascii(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    b[i] = c < 0x80 ? c : 0xff;
  }
  return b;
}

/** Prefix length of a contiguous IPv4 netmask, or -1. */
function maskPrefix(m: number): number {
  let n = 0;
  while (n < 32 && (m & (0x80000000 >>> n)) !== 0) n++;
  return ((m << n) | 0) === 0 || n === 32 ? n : -1;
}

/**
 * Parses a network pattern: `addr`, `addr/prefix`, or `a.b.c.d/m.m.m.m`.
 * An address alone is a host (/32 or /128). Returns the network, or a string
 * saying why the text is not one.
 *
 * @example
 * ```ts
 * import { ipNetParse } from "./acl_ip.ts";
 * ipNetParse("10.0.0.0/8"); // IpNet { v4: true, prefix: 8, ... }
 * ipNetParse("10.0.0.0/33"); // "prefix length must be 0 to 32"
 * ```
 */
export function ipNetParse(text: string): IpNet | string {
  const b = ascii(text);
  const slash = b.indexOf(SLASH);
  const alen = slash < 0 ? b.length : slash;
  const w = new Uint32Array(4);
  const kind = ipParseRaw(b, 0, alen, w);
  if (kind === 0) return "not an IP address (host names are not resolved)";
  const max = kind === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const ptext = text.slice(slash + 1);
    if (kind === 4 && ptext.includes(".")) {
      const mw = new Uint32Array(4);
      if (ipParseRaw(b, slash + 1, b.length - slash - 1, mw) !== 4) {
        return `invalid netmask "${ptext}"`;
      }
      prefix = maskPrefix(mw[0]);
      if (prefix < 0) return `the netmask "${ptext}" is not contiguous`;
    } else {
      if (!/^[0-9]{1,3}$/.test(ptext) || Number(ptext) > max) {
        return `prefix length must be 0 to ${max}`;
      }
      prefix = Number(ptext);
    }
  }
  if (kind === 6 && isMapped(w) && prefix >= 96) {
    w[0] = w[3];
    return new IpNet(true, w, prefix - 96);
  }
  return new IpNet(kind === 4, w, prefix);
}
