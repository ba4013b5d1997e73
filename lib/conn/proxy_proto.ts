/**
 * The PROXY protocol (versions 1 and 2, haproxy.org/download/2.6/doc/
 * proxy-protocol.txt): a header a load balancer in front of sluice sends
 * first on each connection to tell the client's address, and the one sluice
 * sends to servers for the same reason.
 *
 * Parsing is strict and bounded: a v1 line is at most 107 bytes, ASCII,
 * canonical addresses and ports, CRLF; a v2 header has the 12-byte
 * signature, version 2, a known command, family and transport, address
 * blocks of the right size and well-framed TLVs, at most PP_MAX bytes in
 * all. Anything else is refused with a reason. Works on bytes as they
 * arrive: "need" until the header is complete, never reading past it.
 *
 * @module
 */
import { isIPv4, isIPv6 } from "node:net";
import { ipv4Put, ipv4Text, ipv6Put, ipv6Text } from "../core/ip_bytes.ts";

/** An address and port taken from (or put in) a header. */
export interface PpAddr {
  addr: string;
  port: number;
}

/** What a PROXY header said. */
export type PpParse =
  | { st: "need" }
  | { st: "error"; why: string }
  | {
    st: "ok";
    /** Header length in bytes (what follows belongs to the connection's data). */
    len: number;
    version: 1 | 2;
    /** The client and the address it connected to, or null: use the real connection's (LOCAL, UNKNOWN). */
    src: PpAddr | null;
    dst: PpAddr | null;
  };

/** Longest v1 header (the spec's 107 bytes, CRLF included). */
export const PP1_MAX = 107;
/** Longest v2 header accepted (16-byte head plus addresses and TLVs). */
export const PP_MAX = 4096;

/** The v2 signature: \r\n\r\n\0\r\nQUIT\n. */
export const PP2_SIG: Uint8Array = new Uint8Array([
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
]);
const PP1_SIG = new TextEncoder().encode("PROXY ");

const NEED: PpParse = { st: "need" };

function error(why: string): PpParse {
  return { st: "error", why };
}

/**
 * Parses the PROXY header at the start of `a[0, n)`: "need" while what has
 * arrived is a prefix of a valid header, "error" as soon as it cannot be
 * one, "ok" with its length once complete.
 */
export function ppParse(a: Uint8Array, n: number): PpParse {
  if (n === 0) return NEED;
  if (a[0] === 0x50) return ppParseV1(a, n); // "P"
  if (a[0] === 0x0d) return ppParseV2(a, n);
  return error("not a PROXY protocol header");
}

function prefixOf(a: Uint8Array, n: number, sig: Uint8Array): boolean {
  const m = n < sig.length ? n : sig.length;
  for (let i = 0; i < m; i++) if (a[i] !== sig[i]) return false;
  return true;
}

const PORT = /^(0|[1-9][0-9]{0,4})$/;

function port(s: string): number {
  if (!PORT.test(s)) return -1;
  const p = Number(s);
  return p <= 65535 ? p : -1;
}

function ppParseV1(a: Uint8Array, n: number): PpParse {
  if (!prefixOf(a, n, PP1_SIG)) return error("not a PROXY protocol header");
  // The CR must leave room for its LF within PP1_MAX bytes.
  const lim = n < PP1_MAX - 1 ? n : PP1_MAX - 1;
  let end = -1;
  for (let i = 0; i < lim; i++) {
    const c = a[i];
    if (c === 0x0d) {
      if (i + 1 >= n) return NEED;
      if (a[i + 1] !== 0x0a) return error("v1: CR not followed by LF");
      end = i;
      break;
    }
    // Printable ASCII only: no bare LF, NUL or other controls.
    if (c < 0x20 || c > 0x7e) return error("v1: invalid character");
  }
  if (end < 0) return n >= PP1_MAX - 1 ? error("v1: line longer than 107 bytes") : NEED;
  const line = String.fromCharCode(...a.subarray(0, end));
  const len = end + 2;
  const w = line.split(" ");
  if (w[1] === "UNKNOWN") {
    // The sender does not know the addresses: the rest of the line is ignored.
    return { st: "ok", len, version: 1, src: null, dst: null };
  }
  if (w.length !== 6) return error("v1: expected PROXY TCP4|TCP6 SRC DST SPORT DPORT");
  const [, proto, src, dst, sp, dp] = w;
  const isAddr = proto === "TCP4" ? isIPv4 : proto === "TCP6" ? isIPv6 : null;
  if (isAddr === null) return error(`v1: unknown protocol "${proto}"`);
  // node:net also takes a zone ("fe80::1%eth0"), which is no part of the v1 grammar.
  if (!isAddr(src) || !isAddr(dst) || src.includes("%") || dst.includes("%")) {
    return error(`v1: invalid ${proto} address`);
  }
  if (proto === "TCP4" && (!canonicalV4(src) || !canonicalV4(dst))) {
    return error("v1: invalid TCP4 address");
  }
  const sport = port(sp), dport = port(dp);
  if (sport < 0 || dport < 0) return error("v1: invalid port");
  // One spelling per address whichever version carried it (logs, ACLs, stick tables).
  const canon = proto === "TCP6" ? canonV6 : (x: string) => x;
  return {
    st: "ok",
    len,
    version: 1,
    src: { addr: canon(src), port: sport },
    dst: { addr: canon(dst), port: dport },
  };
}

/** Dotted quad without leading zeros (which some stacks read as octal). */
function canonicalV4(s: string): boolean {
  return s.split(".").every((o) => /^(0|[1-9][0-9]{0,2})$/.test(o));
}

const AF_UNSPEC = 0, AF_INET = 1, AF_UNIX = 3;
const T_UNSPEC = 0, T_STREAM = 1;
/** Bytes of the address block per family. */
const ADDR_LEN = [0, 12, 36, 216];

function ppParseV2(a: Uint8Array, n: number): PpParse {
  if (!prefixOf(a, n, PP2_SIG)) return error("not a PROXY protocol header");
  // Each field is checked as soon as its bytes are in (not once the whole
  // header is), so a bad header is refused at once rather than after up to
  // PP_MAX bytes or a timeout.
  if (n <= 12) return NEED;
  const ver = a[12] >> 4, cmd = a[12] & 0x0f;
  if (ver !== 2) return error(`v2: unsupported version ${ver}`);
  if (cmd > 1) return error(`v2: unknown command ${cmd}`);
  if (n <= 13) return NEED;
  const fam = a[13] >> 4, proto = a[13] & 0x0f;
  if (fam > AF_UNIX) return error(`v2: unknown address family ${fam}`);
  if (proto > 2) return error(`v2: unknown transport ${proto}`);
  // LOCAL, UNSPEC family or UNSPEC transport: addresses ignored, any transport.
  const ignored = cmd === 0 || fam === AF_UNSPEC || proto === T_UNSPEC;
  if (!ignored && proto !== T_STREAM) return error("v2: only stream transport is supported");
  if (n < 16) return NEED;
  const rest = (a[14] << 8) | a[15];
  const len = 16 + rest;
  if (len > PP_MAX) return error(`v2: header of ${len} bytes (at most ${PP_MAX})`);
  const alen = ADDR_LEN[fam];
  // LOCAL discards the address block "including the family which is
  // ignored" (spec 2.2), so its length is not held to the family's.
  if (cmd === 1 && rest < alen) return error("v2: address block shorter than its family needs");
  // TLVs: type (1 byte), length (2 bytes), value; they must fill the rest
  // exactly. Each TLV header is checked as soon as it has arrived.
  for (let p = 16 + alen; p < len;) {
    if (p + 3 > len) return error("v2: truncated TLV");
    if (p + 3 > n) return NEED;
    p += 3 + ((a[p + 1] << 8) | a[p + 2]);
    if (p > len) return error("v2: TLV longer than the header");
  }
  if (n < len) return NEED;
  // LOCAL (health checks from the balancer itself): the real connection counts.
  if (ignored || fam === AF_UNIX) return { st: "ok", len, version: 2, src: null, dst: null };
  const b = 16;
  if (fam === AF_INET) {
    return {
      st: "ok",
      len,
      version: 2,
      src: { addr: ipv4Text(a, b), port: (a[b + 8] << 8) | a[b + 9] },
      dst: { addr: ipv4Text(a, b + 4), port: (a[b + 10] << 8) | a[b + 11] },
    };
  }
  // AF_INET6.
  return {
    st: "ok",
    len,
    version: 2,
    src: { addr: ipv6Text(a, b), port: (a[b + 32] << 8) | a[b + 33] },
    dst: { addr: ipv6Text(a, b + 16), port: (a[b + 34] << 8) | a[b + 35] },
  };
}

/** The RFC 5952 text of an IPv6 address (as v2 headers give them). */
function canonV6(s: string): string {
  const b = new Uint8Array(16);
  ipv6Put(b, 0, s);
  return ipv6Text(b, 0);
}

const MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** The families to write: both IPv4 (mapped addresses unmapped), both IPv6, or null (unknown). */
function families(src: PpAddr | null, dst: PpAddr | null): [string, string, 4 | 6] | null {
  if (src === null || dst === null) return null;
  // A zone ("fe80::1%eth0") means nothing to the peer and is no part of the v1 grammar.
  const sa = src.addr.replace(/%.*$/, ""), da = dst.addr.replace(/%.*$/, "");
  const s = MAPPED.exec(sa)?.[1] ?? sa, d = MAPPED.exec(da)?.[1] ?? da;
  if (isIPv4(s) && isIPv4(d)) return [s, d, 4];
  // One of each: write both as IPv6 (an IPv4 one mapped), as HAProxy does.
  const six = (x: string) => isIPv4(x) ? `::ffff:${x}` : isIPv6(x) ? canonV6(x) : null;
  const s6 = six(s), d6 = six(d);
  return s6 !== null && d6 !== null ? [s6, d6, 6] : null;
}

/**
 * The v1 header for a connection from `src` to `dst` ("PROXY UNKNOWN" when
 * either is unknown or not IP, e.g. a unix socket client).
 */
export function ppHeaderV1(src: PpAddr | null, dst: PpAddr | null): Uint8Array {
  const f = families(src, dst);
  const line = f === null
    ? "PROXY UNKNOWN\r\n"
    : `PROXY TCP${f[2]} ${f[0]} ${f[1]} ${src!.port} ${dst!.port}\r\n`;
  return new TextEncoder().encode(line);
}

/** The v2 header for a connection from `src` to `dst` (LOCAL when either is unknown). */
export function ppHeaderV2(src: PpAddr | null, dst: PpAddr | null): Uint8Array {
  const f = families(src, dst);
  const alen = f === null ? 0 : f[2] === 4 ? 12 : 36;
  const out = new Uint8Array(16 + alen);
  out.set(PP2_SIG);
  out[12] = f === null ? 0x20 : 0x21; // version 2, LOCAL or PROXY
  out[13] = f === null ? 0x00 : f[2] === 4 ? 0x11 : 0x21; // family, STREAM
  out[14] = 0;
  out[15] = alen;
  if (f === null) return out;
  const b = 16;
  if (f[2] === 4) {
    ipv4Put(out, b, f[0]);
    ipv4Put(out, b + 4, f[1]);
    putPort(out, b + 8, src!.port);
    putPort(out, b + 10, dst!.port);
  } else {
    ipv6Put(out, b, f[0]);
    ipv6Put(out, b + 16, f[1]);
    putPort(out, b + 32, src!.port);
    putPort(out, b + 34, dst!.port);
  }
  return out;
}

function putPort(out: Uint8Array, p: number, port: number): void {
  out[p] = port >> 8;
  out[p + 1] = port & 0xff;
}
