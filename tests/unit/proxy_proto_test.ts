/**
 * The PROXY protocol parser and header builders (lib/conn/proxy_proto.ts)
 * against HAProxy's proxy-protocol.txt. Every parse goes through
 * `expectOk()` / `expectError()`, which feed every prefix length 0..len and
 * check that a valid header says "need" until its last byte and then
 * exactly what the whole says, that an invalid one says "need" until the
 * first byte that rules it out and then the same error as the whole (never
 * "ok" on the way), and that bytes past `n` in the buffer change nothing.
 * v1 field errors are due at the CRLF: the spec has the receiver wait for
 * it before decoding addresses (2.1). Seeded fuzzing (random soup and
 * mutated valid headers) checks the parser against a small reference model
 * written here from the spec; the builders are checked on exact bytes and by
 * round trips through the parser.
 */
import assert from "node:assert/strict";
import {
  PP1_MAX,
  PP2_SIG,
  PP_MAX,
  type PpAddr,
  ppHeaderV1,
  ppHeaderV2,
  type PpParse,
  ppParse,
} from "../../lib/conn/proxy_proto.ts";
import { bin, mulberry32 } from "../helpers/bytes.ts";
import { concat } from "../helpers/net.ts";

// ---------------------------------------------------------------------------
// Building inputs

type Part = Uint8Array | readonly number[] | string;

/** The bytes of `parts` one after the other (strings as latin-1). */
function cat(...parts: Part[]): Uint8Array {
  return concat(parts.map((p) => typeof p === "string" ? bin(p) : Uint8Array.from(p)));
}

/** Latin-1 text of `a`. */
function text(a: Uint8Array): string {
  let s = "";
  for (let i = 0; i < a.length; i += 4096) s += String.fromCharCode(...a.subarray(i, i + 4096));
  return s;
}

/** The v2 signature, written out here rather than taken from the module. */
const SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

function u16(x: number): number[] {
  return [(x >> 8) & 0xff, x & 0xff];
}

interface V2Parts {
  /** Version and command byte (default 0x21: v2 PROXY). */
  vc?: number;
  /** Family and transport byte (default 0x11: TCP over IPv4). */
  fp?: number;
  /** Everything after the 16-byte head: address block and TLVs. */
  body?: Part[];
  /** The length field (default: the body's length). */
  len?: number;
}

/** A v2 header from its parts, right or wrong. */
function v2(p: V2Parts): Uint8Array {
  const body = cat(...(p.body ?? []));
  return cat(SIG, [p.vc ?? 0x21, p.fp ?? 0x11, ...u16(p.len ?? body.length)], body);
}

/** A TLV: type, 2-byte length, value. */
function tlv(type: number, value: Part = []): Uint8Array {
  const v = cat(value);
  return cat([type, ...u16(v.length)], v);
}

/** An IPv4 address block: 4 + 4 address bytes, 2 + 2 port bytes. */
function inet4(src: string, dst: string, sp: number, dp: number): number[] {
  const q = (s: string) => s.split(".").map(Number);
  return [...q(src), ...q(dst), ...u16(sp), ...u16(dp)];
}

/** An IPv6 address block: 16 + 16 address bytes, 2 + 2 port bytes. */
function inet6(src: string, dst: string, sp: number, dp: number): number[] {
  return [...v6Bytes(src), ...v6Bytes(dst), ...u16(sp), ...u16(dp)];
}

/** The 16 bytes of IPv6 text (throws on text refV6Groups() refuses). */
function v6Bytes(s: string): number[] {
  const g = refV6Groups(s);
  if (g === null) throw new Error(`bad IPv6 in test: ${s}`);
  return g.flatMap(u16);
}

/** The canonical (RFC 5952) text of an IPv6 address, by way of the URL parser. */
function canon6(s: string): string {
  const h = new URL(`http://[${s}]`).hostname.slice(1, -1);
  // WHATWG writes mapped addresses in hex; sockets (and the spec) use the dotted quad.
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
  if (m === null) return h;
  const a = parseInt(m[1], 16), b = parseInt(m[2], 16);
  return `::ffff:${a >> 8}.${a & 0xff}.${b >> 8}.${b & 0xff}`;
}

// ---------------------------------------------------------------------------
// A reference model of the spec, kept apart from the module's code

const V4_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])";
const REF_V4 = new RegExp(`^${V4_OCTET}(?:\\.${V4_OCTET}){3}$`);

/** The 8 groups of an IPv6 address as inet_pton reads it (no zone), or null. */
function refV6Groups(s: string): number[] | null {
  let t = s, tail: number[] = [];
  const q = /(?:^|:)([0-9.]+)$/.exec(s);
  if (q !== null && q[1].includes(".")) {
    if (!REF_V4.test(q[1])) return null;
    const o = q[1].split(".").map(Number);
    tail = [(o[0] << 8) | o[1], (o[2] << 8) | o[3]];
    t = s.slice(0, s.length - q[1].length);
    // "::1.2.3.4" leaves "::"; "1:2:3:4:5:6:1.2.3.4" leaves "1:2:3:4:5:6:" (drop that colon).
    if (t.endsWith(":") && !t.endsWith("::")) t = t.slice(0, -1);
    if (t === "") return null;
  }
  const halves = t.split("::");
  if (halves.length > 2) return null;
  const groups = (h: string) => h === "" ? [] : h.split(":");
  const hs = halves.map(groups);
  for (const g of hs.flat()) if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return null;
  const got = hs.flat().length + tail.length;
  if (halves.length === 1 ? got !== 8 : got > 7) return null;
  const num = (h: string[]) => h.map((g) => parseInt(g, 16));
  const head = num(hs[0]), rest = halves.length === 2 ? num(hs[1]) : [];
  return [...head, ...Array(8 - got).fill(0), ...rest, ...tail];
}

type Ref =
  | { st: "ok"; len: number; version: 1 | 2; src: PpAddr | null; dst: PpAddr | null }
  | { st: "bad" }
  | { st: "short" };

/** What the spec says of `a` as a whole: a header of `len` bytes, never one, or too short to tell. */
function refParse(a: Uint8Array): Ref {
  if (a.length === 0) return { st: "short" };
  return a[0] === 0x0d ? refV2(a) : refV1(a);
}

function refV1(a: Uint8Array): Ref {
  const s = text(a.subarray(0, PP1_MAX));
  const m = /^PROXY ([ -~]*)\r\n/.exec(s);
  if (m === null) {
    const prefix = /^(?:P(?:R(?:O(?:X(?:Y(?: [ -~]*\r?)?)?)?)?)?)?$/.test(s);
    // The CR must be at index 105 at the latest.
    const room = s.length <= 105 || (s.length === 106 && s.endsWith("\r"));
    return prefix && room ? { st: "short" } : { st: "bad" };
  }
  const len = m[0].length, f = m[1].split(" ");
  if (f[0] === "UNKNOWN") return { st: "ok", len, version: 1, src: null, dst: null };
  if (f.length !== 5) return { st: "bad" };
  const [proto, src, dst, sp, dp] = f;
  const ok = proto === "TCP4"
    ? (x: string) => REF_V4.test(x)
    : proto === "TCP6"
    ? (x: string) => refV6Groups(x) !== null
    : null;
  if (ok === null || !ok(src) || !ok(dst)) return { st: "bad" };
  const port = (p: string) => /^(?:0|[1-9][0-9]*)$/.test(p) && Number(p) <= 65535;
  if (!port(sp) || !port(dp)) return { st: "bad" };
  const canon = proto === "TCP6" ? refCanonV6 : (x: string) => x;
  return {
    st: "ok",
    len,
    version: 1,
    src: { addr: canon(src), port: Number(sp) },
    dst: { addr: canon(dst), port: Number(dp) },
  };
}

/**
 * RFC 5952 text of an IPv6 address, as ppParse() gives v1 addresses (one
 * spelling whichever version carried them): the URL parser's form, with
 * an IPv4-mapped address written back as a dotted quad.
 */
function refCanonV6(x: string): string {
  const h = new URL(`http://[${x}]/`).hostname.slice(1, -1);
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
  if (m === null) return h;
  const a = parseInt(m[1], 16), b = parseInt(m[2], 16);
  return `::ffff:${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
}

function refV2(a: Uint8Array): Ref {
  for (let i = 0; i < Math.min(a.length, 12); i++) if (a[i] !== SIG[i]) return { st: "bad" };
  if (a.length < 16) return { st: "short" };
  const ver = a[12] >> 4, cmd = a[12] & 15, fam = a[13] >> 4, tr = a[13] & 15;
  if (ver !== 2 || cmd > 1 || fam > 3 || tr > 2) return { st: "bad" };
  const local = cmd === 0 || fam === 0 || tr === 0;
  if (!local && tr !== 1) return { st: "bad" };
  const len = 16 + ((a[14] << 8) | a[15]);
  if (len > PP_MAX) return { st: "bad" };
  const alen = [0, 12, 36, 216][fam];
  if (cmd === 1 && len - 16 < alen) return { st: "bad" };
  // TLVs after the address block (none when a LOCAL block is shorter than its family's).
  for (let p = 16 + alen; p < len;) {
    if (len - p < 3) return { st: "bad" };
    if (a.length < p + 3) return { st: "short" };
    p += 3 + ((a[p + 1] << 8) | a[p + 2]);
    if (p > len) return { st: "bad" };
  }
  if (a.length < len) return { st: "short" };
  if (local || fam === 3) return { st: "ok", len, version: 2, src: null, dst: null };
  const port = (i: number) => (a[i] << 8) | a[i + 1];
  if (fam === 1) {
    const ip = (i: number) => Array.from(a.subarray(i, i + 4)).join(".");
    return {
      st: "ok",
      len,
      version: 2,
      src: { addr: ip(16), port: port(24) },
      dst: { addr: ip(20), port: port(26) },
    };
  }
  const ip = (i: number) => {
    const g: string[] = [];
    for (let j = 0; j < 16; j += 2) g.push(((a[i + j] << 8) | a[i + j + 1]).toString(16));
    return canon6(g.join(":"));
  };
  return {
    st: "ok",
    len,
    version: 2,
    src: { addr: ip(16), port: port(48) },
    dst: { addr: ip(32), port: port(50) },
  };
}

// ---------------------------------------------------------------------------
// Checking parses

const NEED: PpParse = { st: "need" };

/**
 * ppParse(a, k), also checked to be the same whatever lies in the buffer
 * past `k` (other bytes, or none at all).
 */
function parseAt(a: Uint8Array, k: number, label: string): PpParse {
  const r = ppParse(a, k);
  assert.deepEqual(ppParse(a.slice(0, k), k), r, `${label}: n=${k} on an exact-size buffer`);
  for (const fill of [0x00, 0x0a, 0x0d, 0x20, 0xff]) {
    const b = new Uint8Array(a.length + 300).fill(fill);
    b.set(a.subarray(0, k));
    assert.deepEqual(ppParse(b, k), r, `${label}: n=${k} depends on bytes past n (0x${fill})`);
  }
  return r;
}

type Want = { len: number; version: 1 | 2; src: PpAddr | null; dst: PpAddr | null };

/** `a` starts with a valid header: "need" for every proper prefix, then `want` (also with what follows). */
function expectOk(a: Uint8Array, want: Want, label = text(a).slice(0, 60)): void {
  assert.ok(a.length >= want.len, `${label}: input shorter than the header`);
  const ok: PpParse = { st: "ok", ...want };
  for (let k = 0; k <= a.length; k++) {
    const r = parseAt(a, k, label);
    assert.deepEqual(r, k < want.len ? NEED : ok, `${label}: prefix of ${k} bytes`);
  }
}

/**
 * `a` can never start a valid header, and `errAt` bytes are enough to tell:
 * "need" before (never "ok"), then the same error as the whole input.
 */
function expectError(a: Uint8Array, errAt: number, why?: RegExp, label = text(a).slice(0, 60)) {
  const whole = ppParse(a, a.length);
  assert.equal(whole.st, "error", `${label}: whole input`);
  if (why !== undefined && whole.st === "error") assert.match(whole.why, why, label);
  assert.ok(errAt <= a.length, `${label}: errAt past the input`);
  for (let k = 0; k <= a.length; k++) {
    const r = parseAt(a, k, label);
    assert.deepEqual(r, k < errAt ? NEED : whole, `${label}: prefix of ${k} bytes`);
  }
}

/** Shortcut for a v1 line whose fields are wrong: decided at its CRLF. */
function expectV1Error(line: string, why?: RegExp): void {
  assert.ok(line.endsWith("\r\n"), line);
  expectError(bin(line), line.length, why, JSON.stringify(line));
}

function a4(addr: string, port: number): PpAddr {
  return { addr, port };
}

// ---------------------------------------------------------------------------
// v1

Deno.test("ppParse() says need on nothing and refuses a first byte that starts no header", () => {
  assert.deepEqual(ppParse(new Uint8Array(0), 0), NEED);
  assert.deepEqual(ppParse(bin("PROXY"), 0), NEED);
  for (const s of ["G", "p", "\n", "\x00", "\x16\x03\x01", " PROXY UNKNOWN\r\n", "\x0a\x0d"]) {
    expectError(bin(s), 1, /not a PROXY protocol header/, JSON.stringify(s));
  }
});

Deno.test("ppParse() reads the spec's TCP4 example and leaves the request after it alone", () => {
  const head = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";
  const a = bin(`${head}GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n`);
  const copy = a.slice();
  assert.equal(head.length, 47);
  expectOk(a, {
    len: 47,
    version: 1,
    src: a4("192.168.0.1", 56324),
    dst: a4("192.168.0.11", 443),
  });
  assert.deepEqual(a, copy, "the input is not written to");
  assert.equal(text(a.subarray(47, 61)), "GET / HTTP/1.1");
});

Deno.test("ppParse() reads TCP6 lines, the spec's 104-byte longest one included", () => {
  expectOk(bin("PROXY TCP6 2001:db8::1 2001:db8::2 1234 443\r\nGET"), {
    len: 45,
    version: 1,
    src: a4("2001:db8::1", 1234),
    dst: a4("2001:db8::2", 443),
  });
  const f = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const line = `PROXY TCP6 ${f} ${f} 65535 65535\r\n`;
  assert.equal(line.length, 104);
  expectOk(bin(line), { len: 104, version: 1, src: a4(f, 65535), dst: a4(f, 65535) });
  for (const [s, d] of [["::", "::"], ["::1", "1::"], ["1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8"]]) {
    expectOk(bin(`PROXY TCP6 ${s} ${d} 1 2\r\n`), {
      len: 18 + s.length + d.length,
      version: 1,
      src: a4(refCanonV6(s), 1),
      dst: a4(refCanonV6(d), 2),
    });
  }
  expectOk(bin("PROXY TCP6 ::ffff:10.0.0.1 ::1 1 2\r\n"), {
    len: 36,
    version: 1,
    src: a4("::ffff:10.0.0.1", 1),
    dst: a4("::1", 2),
  });
});

Deno.test("ppParse() accepts upper-case hex digits in TCP6 addresses and gives them in RFC 5952 form", () => {
  const a = bin("PROXY TCP6 2001:DB8::A FE80:0:0::1 1 2\r\n");
  const r = ppParse(a, a.length);
  assert.equal(r.st, "ok");
  if (r.st !== "ok") return;
  // The same text as a v2 header gives: one spelling per client in logs and ACLs.
  assert.equal(r.src!.addr, "2001:db8::a");
  assert.equal(r.dst!.addr, "fe80::1");
});

Deno.test("ppParse() reads the longest TCP4 line and the extreme ports and addresses", () => {
  const line = "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n";
  assert.equal(line.length, 56);
  expectOk(bin(line), {
    len: 56,
    version: 1,
    src: a4("255.255.255.255", 65535),
    dst: a4("255.255.255.255", 65535),
  });
  expectOk(bin("PROXY TCP4 0.0.0.0 10.0.0.0 0 0\r\n"), {
    len: 33,
    version: 1,
    src: a4("0.0.0.0", 0),
    dst: a4("10.0.0.0", 0),
  });
});

Deno.test("ppParse() takes UNKNOWN with or without addresses and ignores the rest of its line", () => {
  for (
    const line of [
      "PROXY UNKNOWN\r\n",
      "PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY UNKNOWN ::1 ::1 99999 -1\r\n",
      "PROXY UNKNOWN  two  spaces and !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\r\n",
      "PROXY UNKNOWN \r\n",
    ]
  ) {
    expectOk(bin(`${line}PROXY UNKNOWN\r\n`), {
      len: line.length,
      version: 1,
      src: null,
      dst: null,
    }, JSON.stringify(line));
  }
});

Deno.test("ppParse() takes a 107-byte v1 line and refuses a 108-byte one as soon as it runs past", () => {
  const f = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  // The spec's worst case (2.1).
  const worst = `PROXY UNKNOWN ${f} ${f} 65535 65535\r\n`;
  assert.equal(worst.length, PP1_MAX);
  expectOk(bin(worst + "X"), { len: 107, version: 1, src: null, dst: null });
  // One byte more: the 106 bytes before where the CR would have to be hold none.
  const over = `PROXY UNKNOWN ${f} ${f} 65535 655350\r\n`;
  assert.equal(over.length, 108);
  expectError(bin(over), 106, /longer than 107/);
  // A TCP6 line can reach 107 bytes too (long forms with a dotted quad).
  const x = "0000:0000:0000:0000:0000:ffff:255.255.255.255";
  const y = "0000:0000:0000:0000:0000:ffff:1.2.3.4";
  const tcp6 = `PROXY TCP6 ${x} ${y} 65535 6553\r\n`;
  assert.equal(tcp6.length, 107);
  expectOk(bin(tcp6), {
    len: 107,
    version: 1,
    src: a4("::ffff:255.255.255.255", 65535),
    dst: a4("::ffff:1.2.3.4", 6553),
  });
  expectError(bin(`PROXY TCP6 ${x} ${y} 65535 65535\r\n`), 106, /longer than 107/);
  // A CR as byte 106 (the last possible) with something else than LF after it.
  expectError(bin(`${worst.slice(0, 105)}\rX`), 107, /CR not followed by LF/);
});

Deno.test("ppParse() refuses a long UNKNOWN line without waiting for its end", () => {
  const long = `PROXY UNKNOWN ${"x".repeat(300)}\r\n`;
  expectError(bin(long), 106, /longer than 107/);
  // Not even 107 bytes needed: byte 106 (index 105) not being a CR settles it.
  expectError(bin(`PROXY UNKNOWN ${"y".repeat(92)}`), 106);
});

Deno.test("ppParse() refuses a CR without LF and a bare LF in a v1 line", () => {
  expectError(bin("PROXY UNKNOWN\rGET / HTTP/1.1\r\n"), 15, /CR not followed by LF/);
  expectError(bin("PROXY UNKNOWN\r\r\n"), 15, /CR not followed by LF/);
  expectError(bin("PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n"), 20, /CR not followed by LF/);
  expectError(bin("PROXY UNKNOWN\n"), 14, /invalid character/);
  expectError(bin("PROXY UNKNOWN\n\r\n"), 14, /invalid character/);
  expectError(bin("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n\r"), 31, /invalid character/);
  expectError(bin("PROXY\n"), 6);
  expectError(bin("PROXY\r\n"), 6);
});

Deno.test("ppParse() refuses NUL, controls, DEL and non-ASCII bytes in a v1 line where they appear", () => {
  const base = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";
  for (const c of [0x00, 0x01, 0x08, 0x09, 0x0b, 0x0c, 0x1b, 0x1f, 0x7f, 0x80, 0xa0, 0xc3, 0xff]) {
    for (const at of [6, 13, 20, 29]) {
      const a = bin(base);
      a[at] = c;
      expectError(a, at + 1, /invalid character/, `0x${c.toString(16)} at ${at}`);
    }
    // Also in the part of an UNKNOWN line that is otherwise ignored.
    expectError(bin(`PROXY UNKNOWN ab${String.fromCharCode(c)}cd\r\n`), 17, /invalid character/);
  }
  // UTF-8 digits look like digits to some parsers.
  expectError(cat("PROXY TCP4 1.2.3.4 5.6.7.8 ", [0xef, 0xbc, 0x98], " 2\r\n"), 28);
});

Deno.test("ppParse() refuses a v1 signature that is wrong at any byte, at that byte", () => {
  expectError(bin("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), 1);
  expectError(bin("Proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), 2);
  expectError(bin("PRI * HTTP/2.0\r\n"), 3);
  expectError(bin("PROXy UNKNOWN\r\n"), 5);
  expectError(bin("PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n"), 6);
  expectError(bin("PROXY\tUNKNOWN\r\n"), 6);
  expectError(bin("PROXY UNKNOWN\r\n".replace("OX", "0X")), 3);
});

Deno.test("ppParse() refuses lower-case, unknown and misspelt protocols at the CRLF", () => {
  for (
    const line of [
      "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY Tcp6 ::1 ::1 1 2\r\n",
      "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY TCP 1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY TCP4\r\n",
      "PROXY \r\n",
      "PROXY unknown\r\n",
      "PROXY UNKNOWNX\r\n",
      "PROXY UNKNOWN-\r\n",
      "PROXY  UNKNOWN\r\n",
      "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
    ]
  ) expectV1Error(line);
});

Deno.test("ppParse() refuses extra, missing and empty v1 fields (double and trailing spaces)", () => {
  for (
    const line of [
      "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8\r\n",
      "PROXY TCP4 1.2.3.4\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2  \r\n",
      "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8  1 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 PROXY\r\n",
      "PROXY TCP6 ::1 ::1 1 2 \r\n",
    ]
  ) expectV1Error(line, /expected PROXY TCP4/);
});

Deno.test("ppParse() takes ports 0 and 65535 but no other spelling or range", () => {
  for (const p of ["0", "1", "80", "65535"]) {
    expectOk(bin(`PROXY TCP4 1.2.3.4 5.6.7.8 ${p} ${p}\r\n`), {
      len: 30 + 2 * p.length,
      version: 1,
      src: a4("1.2.3.4", Number(p)),
      dst: a4("5.6.7.8", Number(p)),
    });
  }
  const bad = ["65536", "99999", "100000", "080", "00", "01", "+80", "-1", "-0", "1e3", "0x50"];
  bad.push("80.0", "8O", "4294967376", "Infinity", "NaN", "1_000");
  for (const p of bad) {
    expectV1Error(`PROXY TCP4 1.2.3.4 5.6.7.8 ${p} 80\r\n`, /invalid port/);
    expectV1Error(`PROXY TCP6 ::1 ::2 80 ${p}\r\n`, /invalid port/);
  }
});

Deno.test("ppParse() refuses IPv4 addresses with leading zeros, out of range or malformed", () => {
  const bad = [
    "01.2.3.4",
    "1.2.3.04",
    "1.02.3.4",
    "00.0.0.0",
    "0.0.0.00",
    "010.0.0.1",
    "256.0.0.0",
    "1.2.3.256",
    "999.1.1.1",
    "1.2.3",
    "1.2.3.4.5",
    "1..3.4",
    ".1.2.3",
    "1.2.3.",
    "0x7f.0.0.1",
    "1.2.3.-4",
    "+1.2.3.4",
    "1.2.3.4/24",
    "1.2.3.4:80",
    "127.1",
    "2130706433",
    "localhost",
  ];
  for (const ip of bad) {
    expectV1Error(`PROXY TCP4 ${ip} 5.6.7.8 1 2\r\n`, /invalid TCP4 address/);
    expectV1Error(`PROXY TCP4 5.6.7.8 ${ip} 1 2\r\n`, /invalid TCP4 address/);
  }
});

Deno.test("ppParse() refuses malformed IPv6 addresses and zones in TCP6 lines", () => {
  const bad = [
    "1::2::3",
    "12345::1",
    "00001::",
    ":1::",
    "1:",
    ":::",
    "1:::2",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4::5:6:7:8",
    "1:2:3:4:5:6:7:8::",
    "g::1",
    "[::1]",
    "::1.2.3",
    "::ffff:01.2.3.4",
    "::ffff:256.1.1.1",
    "1:2:3:4:5:6:7:1.2.3.4",
    "1:2:3:4:5:6::1.2.3.4",
    "::1.2.3.4:5",
    // Zones are no part of the v1 grammar (node:net's isIPv6() takes them).
    "fe80::1%eth0",
    "::1%1",
    "::1%a:b",
  ];
  for (const ip of bad) {
    expectV1Error(`PROXY TCP6 ${ip} ::1 1 2\r\n`, /invalid TCP6 address/);
    expectV1Error(`PROXY TCP6 ::1 ${ip} 1 2\r\n`, /invalid TCP6 address/);
  }
});

Deno.test("ppParse() refuses a family mismatch between the protocol and either address", () => {
  for (
    const line of [
      "PROXY TCP4 ::1 ::1 1 2\r\n",
      "PROXY TCP4 1.2.3.4 ::1 1 2\r\n",
      "PROXY TCP4 ::1 1.2.3.4 1 2\r\n",
      "PROXY TCP4 ::ffff:1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY TCP6 ::1 1.2.3.4 1 2\r\n",
      "PROXY TCP6 1.2.3.4 ::1 1 2\r\n",
    ]
  ) expectV1Error(line, /invalid TCP[46] address/);
});

// ---------------------------------------------------------------------------
// v2

Deno.test("PP2_SIG is the spec's 12-byte signature", () => {
  assert.deepEqual([...PP2_SIG], SIG);
});

Deno.test("ppParse() reads a v2 TCP over IPv4 header and leaves what follows alone", () => {
  const a = cat(v2({ body: [inet4("1.2.3.4", "5.6.7.8", 1, 2)] }), [0x16, 0x03, 0x01, 0x00]);
  expectOk(a, { len: 28, version: 2, src: a4("1.2.3.4", 1), dst: a4("5.6.7.8", 2) });
  expectOk(v2({ body: [inet4("0.0.0.0", "255.255.255.255", 65535, 0)] }), {
    len: 28,
    version: 2,
    src: a4("0.0.0.0", 65535),
    dst: a4("255.255.255.255", 0),
  });
});

Deno.test("ppParse() reads a v2 TCP over IPv6 header and gives canonical (RFC 5952) text", () => {
  const cases: [string, string][] = [
    ["2001:db8::1", "2001:db8::1"],
    ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["fe80::1:2", "fe80::1:2"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"], // a single zero group stays
    ["1:0:0:4:5:0:0:8", "1::4:5:0:0:8"], // the first of equal runs
    ["1:0:0:4:0:0:0:8", "1:0:0:4::8"], // the longest run
    ["::ffff:1.2.3.4", "::ffff:1.2.3.4"], // mapped: dotted quad, as sockets show it
    ["::ffff:0:0", "::ffff:0.0.0.0"],
    ["::1.2.3.4", "::102:304"], // IPv4-compatible (deprecated): plain hex
    ["ffff::", "ffff::"],
  ];
  for (const [given, want] of cases) {
    assert.equal(canon6(given), want, `the test's own canonical form of ${given}`);
    expectOk(v2({ fp: 0x21, body: [inet6(given, "::1", 443, 8443)] }), {
      len: 52,
      version: 2,
      src: a4(want, 443),
      dst: a4("::1", 8443),
    }, given);
  }
});

Deno.test("ppParse() takes v2 LOCAL whatever the family's block, and gives no addresses", () => {
  const none = { version: 2 as const, src: null, dst: null };
  expectOk(v2({ vc: 0x20, fp: 0x00 }), { len: 16, ...none });
  // "Receivers ... must not assume zero is presented for LOCAL connections."
  expectOk(v2({ vc: 0x20, fp: 0x11, body: [inet4("1.2.3.4", "5.6.7.8", 1, 2)] }), {
    len: 28,
    ...none,
  });
  expectOk(v2({ vc: 0x20, fp: 0x21, body: [inet6("::1", "::2", 1, 2), tlv(4, "pad")] }), {
    len: 58,
    ...none,
  });
  expectOk(v2({ vc: 0x20, fp: 0x00, body: [tlv(1, "h2"), tlv(2, "example.com")] }), {
    len: 16 + 5 + 14,
    ...none,
  });
  // DGRAM is no reason to refuse LOCAL.
  expectOk(v2({ vc: 0x20, fp: 0x12, body: [inet4("1.2.3.4", "5.6.7.8", 1, 2)] }), {
    len: 28,
    ...none,
  });
  // LOCAL discards the block "including the family which is ignored" (2.2):
  // a family with a shorter (or no) block is still a LOCAL header.
  for (const fp of [0x11, 0x21, 0x31]) expectOk(v2({ vc: 0x20, fp }), { len: 16, ...none });
  expectOk(v2({ vc: 0x20, fp: 0x21, body: [new Uint8Array(12)] }), { len: 28, ...none });
});

Deno.test("ppParse() takes v2 UNSPEC family or transport and AF_UNIX, giving no addresses", () => {
  const none = { version: 2 as const, src: null, dst: null };
  expectOk(v2({ fp: 0x00 }), { len: 16, ...none });
  expectOk(v2({ fp: 0x01 }), { len: 16, ...none });
  expectOk(v2({ fp: 0x02 }), { len: 16, ...none });
  expectOk(v2({ fp: 0x00, body: [tlv(0xe0, [1, 2, 3])] }), { len: 22, ...none });
  expectOk(v2({ fp: 0x10, body: [inet4("1.2.3.4", "5.6.7.8", 1, 2)] }), { len: 28, ...none });
  expectOk(v2({ fp: 0x20, body: [inet6("::1", "::2", 1, 2)] }), { len: 52, ...none });
  // AF_UNIX: two 108-byte paths.
  const path = (p: string) => cat(p, new Uint8Array(108 - p.length));
  const unix = [path("/run/client.sock"), path("/run/sluice.sock")];
  expectOk(v2({ fp: 0x31, body: unix }), { len: 232, ...none });
  expectOk(v2({ fp: 0x30, body: unix }), { len: 232, ...none });
  expectOk(cat(v2({ fp: 0x31, body: [...unix, tlv(5, "id-1")] }), "GET"), {
    len: 239,
    ...none,
  });
});

Deno.test("ppParse() refuses v2 DGRAM for a PROXY command once the family byte is in", () => {
  for (const fp of [0x12, 0x22, 0x32]) {
    const alen = [0, 12, 36, 216][fp >> 4];
    const label = `fp 0x${fp.toString(16)}`;
    expectError(v2({ fp, body: [new Uint8Array(alen)] }), 14, /only stream/, label);
  }
});

Deno.test("ppParse() refuses a v2 version other than 2 from the 13th byte on", () => {
  for (const ver of [0x0, 0x1, 0x3, 0x4, 0xf]) {
    const a = v2({ vc: (ver << 4) | 1, body: [inet4("1.2.3.4", "5.6.7.8", 1, 2)] });
    expectError(a, 13, /unsupported version/, `version ${ver}`);
    // With only 13, 14 or 15 bytes there.
    for (const n of [13, 14, 15]) {
      assert.deepEqual(ppParse(a.slice(0, n), n), ppParse(a, a.length), `version ${ver}, n=${n}`);
    }
  }
});

Deno.test("ppParse() refuses a v2 command above 1 from the 13th byte on", () => {
  for (let cmd = 2; cmd < 16; cmd++) {
    const a = v2({ vc: 0x20 | cmd, body: [inet4("1.2.3.4", "5.6.7.8", 1, 2)] });
    expectError(a, 13, /unknown command/, `command ${cmd}`);
  }
});

Deno.test("ppParse() refuses a v2 family above 3 or transport above 2 from the 14th byte on", () => {
  for (const vc of [0x20, 0x21]) {
    for (let fam = 4; fam < 16; fam++) {
      const a = v2({ vc, fp: (fam << 4) | 1, body: [new Uint8Array(36)] });
      expectError(a, 14, /unknown address family/, `family ${fam}`);
    }
    for (let tr = 3; tr < 16; tr++) {
      for (const fam of [0, 1, 2, 3]) {
        const a = v2({ vc, fp: (fam << 4) | tr, body: [new Uint8Array(216)] });
        expectError(a, 14, /unknown transport/, `family ${fam} transport ${tr}`);
      }
    }
  }
});

Deno.test("ppParse() refuses a v2 PROXY length shorter than its family's address block at 16 bytes", () => {
  for (const [fp, alen] of [[0x11, 12], [0x21, 36], [0x31, 216]]) {
    for (const len of [0, 1, 3, alen - 3, alen - 1]) {
      // The bytes there are what the length would have left: a TLV-looking block.
      const a = v2({ fp, len, body: [new Uint8Array(alen + 3)] });
      expectError(a, 16, /address block shorter/, `fp 0x${fp.toString(16)} len ${len}`);
    }
  }
});

Deno.test("ppParse() takes v2 TLVs that exactly fill the header, nested SSL ones included", () => {
  const addr = inet4("10.0.0.1", "10.0.0.2", 40000, 443);
  const want = { version: 2 as const, src: a4("10.0.0.1", 40000), dst: a4("10.0.0.2", 443) };
  const ssl = tlv(0x20, cat([0x01, 0, 0, 0, 0], tlv(0x21, "TLSv1.3"), tlv(0x22, "client")));
  const sets: Uint8Array[][] = [
    [tlv(0x04)],
    [tlv(0x01, "h2")],
    [tlv(0x01, "h2"), tlv(0x02, "example.com"), tlv(0x05, "x".repeat(128))],
    [tlv(0x03, [0, 0, 0, 0]), tlv(0x04, new Uint8Array(7))],
    [ssl, tlv(0x30, "ns"), tlv(0xe0), tlv(0xf7, [9]), tlv(0xff, [1, 2])],
    [tlv(0x04), tlv(0x04), tlv(0x04)],
  ];
  for (const set of sets) {
    const tl = cat(...set);
    expectOk(cat(v2({ body: [addr, tl] }), "GET / HTTP/1.1\r\n"), { len: 28 + tl.length, ...want });
  }
  // IPv6 and LOCAL too.
  expectOk(v2({ fp: 0x21, body: [inet6("::1", "::2", 1, 2), tlv(1, "http/1.1")] }), {
    len: 63,
    version: 2,
    src: a4("::1", 1),
    dst: a4("::2", 2),
  });
});

Deno.test("ppParse() refuses a truncated v2 TLV header as soon as it cannot fit", () => {
  const addr = inet4("1.2.3.4", "5.6.7.8", 1, 2);
  // One or two bytes after the address block: too few for any TLV, known from the length.
  expectError(v2({ body: [addr, [0x04]] }), 16, /truncated TLV/);
  expectError(v2({ body: [addr, [0x04, 0x00]] }), 16, /truncated TLV/);
  expectError(v2({ vc: 0x20, fp: 0x00, body: [[0x00, 0x00]] }), 16, /truncated TLV/);
  // After a whole TLV: known once that TLV's header (bytes 28..30) is in.
  expectError(v2({ body: [addr, tlv(1, "h2"), [0x04, 0x00]] }), 31, /truncated TLV/);
  expectError(v2({ body: [addr, tlv(4), tlv(4), [0x04]] }), 34, /truncated TLV/);
});

Deno.test("ppParse() refuses a v2 TLV running past the header once its length is in", () => {
  const addr = inet4("1.2.3.4", "5.6.7.8", 1, 2);
  // A TLV claiming 6 value bytes with 5 left.
  expectError(v2({ body: [addr, [0x01, 0x00, 0x06], "abcde"] }), 31, /TLV longer/);
  expectError(v2({ body: [addr, [0x01, 0xff, 0xff], "abcde"] }), 31, /TLV longer/);
  // The second one overruns.
  expectError(v2({ body: [addr, tlv(2, "ab"), [0x04, 0x00, 0x01]] }), 36, /TLV longer/);
  // The length field ends the header inside a TLV's value.
  const a = v2({ body: [addr, tlv(2, "example.com")] });
  a[15] -= 1;
  expectError(a, 31, /TLV longer/);
  // A TLV over an AF_UNIX block.
  expectError(v2({ fp: 0x31, body: [new Uint8Array(216), [0x04, 0x00, 0x09], "x"] }), 235);
});

Deno.test("ppParse() takes a v2 header of exactly PP_MAX bytes and refuses PP_MAX + 1 at 16 bytes", () => {
  assert.equal(PP_MAX, 4096);
  const addr = inet4("1.2.3.4", "5.6.7.8", 1, 2);
  const fill = (total: number) => tlv(0x04, new Uint8Array(total - 16 - 12 - 3));
  const max = v2({ body: [addr, fill(PP_MAX)] });
  assert.equal(max.length, PP_MAX);
  expectOk(cat(max, "after"), {
    len: PP_MAX,
    version: 2,
    src: a4("1.2.3.4", 1),
    dst: a4("5.6.7.8", 2),
  }, "PP_MAX");
  expectError(v2({ body: [addr, fill(PP_MAX + 1)] }), 16, /at most 4096/, "PP_MAX + 1");
  // Refused on the head alone, with nothing behind it.
  for (const len of [PP_MAX - 15, 0x8000, 0xffff]) {
    const head = v2({ len });
    expectError(head, 16, /at most 4096/, `length ${len}`);
  }
  // LOCAL is held to the same bound.
  expectError(v2({ vc: 0x20, fp: 0x00, len: PP_MAX - 15 }), 16, /at most 4096/);
});

Deno.test("ppParse() refuses a v2 signature wrong at any one byte, at that byte", () => {
  const good = v2({ body: [inet4("1.2.3.4", "5.6.7.8", 1, 2)] });
  for (let i = 0; i < 12; i++) {
    for (const x of [0x01, 0x20, 0x80, 0xff]) {
      const a = good.slice();
      a[i] ^= x;
      expectError(a, i + 1, /not a PROXY protocol header/, `byte ${i} ^ 0x${x.toString(16)}`);
    }
  }
  // The v1 and v2 signatures crossed.
  expectError(bin("\r\nPROXY UNKNOWN\r\n"), 3);
  expectError(bin("PROXY\r\n\r\n\x00\r\nQUIT\n"), 6);
});

// ---------------------------------------------------------------------------
// Incremental arrival

Deno.test("ppParse() gives the same answer whatever the split, byte by byte into a growing buffer", () => {
  const inputs = [
    bin("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n\r\n"),
    bin("PROXY TCP6 2001:db8::1 ::1 1 2\r\n"),
    bin("PROXY UNKNOWN\r\n"),
    bin("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"),
    bin("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\rX"),
    v2({ body: [inet4("1.2.3.4", "5.6.7.8", 1, 2), tlv(1, "h2")] }),
    v2({ fp: 0x21, body: [inet6("::1", "::2", 1, 2)] }),
    v2({ vc: 0x22, body: [inet4("1.2.3.4", "5.6.7.8", 1, 2)] }),
    v2({ body: [inet4("1.2.3.4", "5.6.7.8", 1, 2), [4, 0, 9]] }),
  ];
  for (const a of inputs) {
    const whole = ppParse(a, a.length);
    // A connection buffer that grows as bytes arrive, with stale bytes past n.
    const buf = new Uint8Array(a.length + 64).fill(0x0d);
    let last: PpParse = NEED;
    for (let k = 0; k <= a.length; k++) {
      if (k > 0) buf[k - 1] = a[k - 1];
      last = ppParse(buf, k);
      if (last.st !== "need") break;
    }
    if (whole.st === "ok") assert.deepEqual(last, whole, text(a));
    else assert.equal(last.st, whole.st, text(a));
  }
});

Deno.test("ppParse() says need for every truncation of the fuzz corpus's headers", () => {
  const corpus = fuzzCorpus();
  for (const a of corpus) {
    const whole = ppParse(a, a.length);
    assert.equal(whole.st, "ok", text(a));
    for (let k = 0; k < (whole as { len: number }).len; k++) {
      assert.deepEqual(ppParse(a, k), NEED, `${text(a)} n=${k}`);
    }
  }
});

// ---------------------------------------------------------------------------
// Fuzzing against the reference model

/** Valid headers to mutate (each followed by a few bytes of "data"). */
function fuzzCorpus(): Uint8Array[] {
  const v1 = [
    "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
    "PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n",
    "PROXY TCP6 2001:db8::1 ::1 1 2\r\n",
    "PROXY TCP6 ::ffff:10.0.0.1 fe80::1:2 8080 80\r\n",
    "PROXY TCP6 1:2:3:4:5:6:7:8 :: 10 20\r\n",
    "PROXY UNKNOWN\r\n",
    "PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n",
  ].map((s) => bin(s + "GET /"));
  const a4b = inet4("1.2.3.4", "5.6.7.8", 1, 2), a6b = inet6("2001:db8::1", "::1", 443, 80);
  const two = [
    v2({ body: [a4b] }),
    v2({ body: [a4b, tlv(1, "h2"), tlv(4)] }),
    v2({ fp: 0x21, body: [a6b] }),
    v2({ fp: 0x21, body: [a6b, tlv(2, "example.com")] }),
    v2({ vc: 0x20, fp: 0x00 }),
    v2({ vc: 0x20, fp: 0x11, body: [a4b] }),
    v2({ fp: 0x31, body: [new Uint8Array(216), tlv(5, "u")] }),
    v2({ fp: 0x10, body: [a4b] }),
  ].map((a) => cat(a, [0x16, 0x03]));
  return [...v1, ...two];
}

type Rnd = () => number;

function int(rnd: Rnd, n: number): number {
  return Math.floor(rnd() * n);
}

const INTERESTING = [0x00, 0x0a, 0x0d, 0x20, 0x2e, 0x3a, 0x30, 0x31, 0x39, 0x7f, 0x80, 0xff];

/** `a` with a few random edits: flips, interesting bytes, insertions, deletions, truncation. */
function mutate(rnd: Rnd, a: Uint8Array): Uint8Array {
  let b = Array.from(a);
  const edits = 1 + int(rnd, 3);
  for (let e = 0; e < edits; e++) {
    const i = int(rnd, b.length + 1);
    switch (int(rnd, 7)) {
      case 0:
        if (i < b.length) b[i] ^= 1 << int(rnd, 8);
        break;
      case 1:
        if (i < b.length) b[i] = INTERESTING[int(rnd, INTERESTING.length)];
        break;
      case 2:
        b.splice(i, 0, INTERESTING[int(rnd, INTERESTING.length)]);
        break;
      case 3:
        b.splice(i, 1 + int(rnd, 3));
        break;
      case 4:
        b = b.slice(0, i);
        break;
      case 5:
        if (i < b.length) b[i] = int(rnd, 256);
        break;
      default:
        // Duplicate a run (a repeated field, a repeated TLV).
        b.splice(i, 0, ...b.slice(i, i + 1 + int(rnd, 8)));
    }
  }
  return Uint8Array.from(b);
}

const ALPHA = "PROXYTCP46UNKNOWN0123456789abcdef:. \r\n";

/** Random bytes, mostly starting like a header so the parse goes somewhere. */
function soup(rnd: Rnd): Uint8Array {
  const n = int(rnd, 120);
  const tail = Array.from({ length: n }, () => {
    const r = rnd();
    if (r < 0.3) return INTERESTING[int(rnd, INTERESTING.length)];
    if (r < 0.6) return ALPHA.charCodeAt(int(rnd, ALPHA.length));
    return int(rnd, 256);
  });
  switch (int(rnd, 4)) {
    case 0:
      return Uint8Array.from(tail);
    case 1:
      return cat("PROXY ", tail);
    case 2:
      return cat(SIG, tail);
    default:
      return cat(
        SIG,
        [0x20 | int(rnd, 2), (int(rnd, 4) << 4) | int(rnd, 3), 0, int(rnd, 60)],
        tail,
      );
  }
}

/** Every property that must hold for any input: checked for each prefix of `a`. */
function checkAny(a: Uint8Array, label: string): void {
  let prev: PpParse = NEED;
  for (let k = 0; k <= a.length; k++) {
    let r: PpParse;
    try {
      r = ppParse(a, k);
    } catch (e) {
      throw new Error(`${label}: ppParse threw at n=${k}: ${e}`);
    }
    if (k === 0) assert.deepEqual(r, NEED, label);
    if (prev.st === "error" || prev.st === "ok") {
      assert.deepEqual(r, prev, `${label}: a decided answer changed at n=${k}`);
    } else if (r.st === "ok") {
      assert.equal(r.len, k, `${label}: ok at n=${k} for a header of ${r.len} bytes`);
    }
    if (r.st === "error") assert.ok(r.why.length > 0);
    prev = r;
  }
  // The whole input against the reference model.
  const want = refParse(a), got = prev;
  if (want.st === "ok") assert.deepEqual(got, want, `${label}: the spec says ok`);
  else if (want.st === "bad") assert.equal(got.st, "error", `${label}: the spec says invalid`);
  else assert.notEqual(got.st, "ok", `${label}: too short to be a header`);
}

Deno.test("ppParse() agrees with the reference model on mutated valid headers", () => {
  const corpus = fuzzCorpus();
  for (const a of corpus) checkAny(a, text(a));
  let oks = 0;
  for (let i = 0; i < 4000; i++) {
    const rnd = mulberry32(0x5eed0000 + i);
    const a = mutate(rnd, corpus[int(rnd, corpus.length)]);
    checkAny(a, `mutation #${i} ${JSON.stringify(text(a))}`);
    if (ppParse(a, a.length).st === "ok") oks++;
  }
  // The corpus and edits are such that some mutations stay valid (else this tests little).
  assert.ok(oks > 200, `only ${oks} mutations parsed`);
});

Deno.test("ppParse() never throws on random byte soup and says ok only for real headers", () => {
  for (let i = 0; i < 3000; i++) {
    const rnd = mulberry32(0xb0b0 + i);
    const a = soup(rnd);
    checkAny(a, `soup #${i} ${JSON.stringify(text(a))}`);
  }
});

// ---------------------------------------------------------------------------
// Builders

Deno.test("ppHeaderV1() and ppHeaderV2() write the known bytes", () => {
  const src = a4("1.2.3.4", 1), dst = a4("5.6.7.8", 2);
  assert.equal(text(ppHeaderV1(src, dst)), "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n");
  assert.deepEqual(
    [...ppHeaderV2(src, dst)],
    [...SIG, 0x21, 0x11, 0x00, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8, 0x00, 0x01, 0x00, 0x02],
  );
  assert.deepEqual(
    [...ppHeaderV2(a4("192.168.0.1", 56324), a4("192.168.0.11", 443))].slice(12),
    [0x21, 0x11, 0x00, 0x0c, 192, 168, 0, 1, 192, 168, 0, 11, 0xdc, 0x04, 0x01, 0xbb],
  );
  assert.equal(
    text(ppHeaderV1(a4("192.168.0.1", 56324), a4("192.168.0.11", 443))),
    "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
  );
  const six = ppHeaderV2(a4("::1", 443), a4("2001:db8::1", 8443));
  assert.deepEqual([...six.subarray(0, 16)], [...SIG, 0x21, 0x21, 0x00, 0x24]);
  assert.deepEqual([...six.subarray(16, 32)], [...new Uint8Array(15), 1]);
  assert.deepEqual([...six.subarray(32, 48)], [0x20, 0x01, 0x0d, 0xb8, ...new Uint8Array(11), 1]);
  assert.deepEqual([...six.subarray(48)], [0x01, 0xbb, 0x20, 0xfb]);
  assert.equal(six.length, 52);
  assert.equal(text(ppHeaderV1(null, null)), "PROXY UNKNOWN\r\n");
  assert.deepEqual([...ppHeaderV2(null, null)], [...SIG, 0x20, 0x00, 0x00, 0x00]);
});

Deno.test("ppHeaderV1() and ppHeaderV2() round-trip through ppParse()", () => {
  const pairs: [PpAddr, PpAddr][] = [
    [a4("1.2.3.4", 1), a4("5.6.7.8", 2)],
    [a4("0.0.0.0", 0), a4("255.255.255.255", 65535)],
    [a4("2001:db8::1", 40000), a4("2001:db8::2", 443)],
    [a4("::1", 1), a4("::", 0)],
    [a4("fe80::1:2", 65535), a4("1::", 80)],
    [a4("1:2:3:4:5:6:7:8", 10), a4("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 20)],
    [a4("1::4:5:0:0:8", 10), a4("1:0:3:4:5:6:7:8", 20)],
    [a4("::ffff:1.2.3.4", 5), a4("2001:db8::5", 6)],
    [a4("2001:db8::5", 6), a4("::ffff:1.2.3.4", 5)],
  ];
  for (const [src, dst] of pairs) {
    for (const [version, build] of [[1, ppHeaderV1], [2, ppHeaderV2]] as const) {
      const h = build(src, dst);
      expectOk(cat(h, "GET / HTTP/1.1\r\n"), { len: h.length, version, src, dst }, `v${version}`);
    }
  }
});

Deno.test("ppHeaderV1() and ppHeaderV2() write one IPv4 and one IPv6 address as IPv6, the IPv4 one mapped", () => {
  const v4 = a4("10.1.2.3", 1000), v6 = a4("2001:db8::7", 2000);
  const mapped = a4("::ffff:10.1.2.3", 1000);
  for (const [src, dst, wsrc, wdst] of [[v4, v6, mapped, v6], [v6, v4, v6, mapped]]) {
    const one = ppHeaderV1(src, dst);
    assert.match(text(one), /^PROXY TCP6 /);
    expectOk(one, { len: one.length, version: 1, src: wsrc, dst: wdst });
    const two = ppHeaderV2(src, dst);
    assert.equal(two[13], 0x21);
    expectOk(two, { len: 52, version: 2, src: wsrc, dst: wdst });
  }
});

Deno.test("ppHeaderV1() and ppHeaderV2() write a pair of IPv4-mapped addresses as IPv4", () => {
  for (const [s, d] of [["::ffff:1.2.3.4", "::ffff:5.6.7.8"], ["::FFFF:1.2.3.4", "5.6.7.8"]]) {
    const src = a4(s, 1), dst = a4(d, 2);
    const want = { src: a4("1.2.3.4", 1), dst: a4("5.6.7.8", 2) };
    assert.equal(text(ppHeaderV1(src, dst)), "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n");
    expectOk(ppHeaderV1(src, dst), { len: 32, version: 1, ...want });
    const two = ppHeaderV2(src, dst);
    assert.deepEqual([...two.subarray(12, 16)], [0x21, 0x11, 0x00, 0x0c]);
    expectOk(two, { len: 28, version: 2, ...want });
  }
});

Deno.test("ppHeaderV2() writes IPv6 addresses in any spelling as their canonical form", () => {
  const spellings: [string, string][] = [
    ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:0::1", "2001:db8::1"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["::0.0.0.1", "::1"],
    ["1:2:3:4:5:6:0.0.0.8", "1:2:3:4:5:6:0:8"],
    ["FE80::1:2", "fe80::1:2"],
  ];
  for (const [given, want] of spellings) {
    const h = ppHeaderV2(a4(given, 1), a4("::2", 2));
    assert.deepEqual([...h.subarray(16, 32)], v6Bytes(want), given);
    expectOk(h, { len: 52, version: 2, src: a4(want, 1), dst: a4("::2", 2) }, given);
  }
});

Deno.test("ppHeaderV1() and ppHeaderV2() round-trip random addresses and ports", () => {
  const rnd = mulberry32(42);
  for (let i = 0; i < 300; i++) {
    const addr = (): string => {
      if (rnd() < 0.4) return Array.from({ length: 4 }, () => int(rnd, 256)).join(".");
      // Runs of zeros are likely, so that :: lands in all places.
      const g = Array.from({ length: 8 }, () => rnd() < 0.4 ? 0 : int(rnd, 0x10000));
      return canon6(g.map((x) => x.toString(16)).join(":"));
    };
    const src = a4(addr(), int(rnd, 65536)), dst = a4(addr(), int(rnd, 65536));
    const both4 = !src.addr.includes(":") && !dst.addr.includes(":");
    const as6 = (p: PpAddr) => p.addr.includes(":") ? p : a4(`::ffff:${p.addr}`, p.port);
    const ws = both4 ? src : as6(src), wd = both4 ? dst : as6(dst);
    for (const [version, build] of [[1, ppHeaderV1], [2, ppHeaderV2]] as const) {
      const h = build(src, dst);
      const r = ppParse(h, h.length);
      assert.deepEqual(
        r,
        { st: "ok", len: h.length, version, src: ws, dst: wd },
        `${i} v${version}`,
      );
      assert.deepEqual(refParse(h), r, `${i} v${version} against the reference`);
    }
  }
});

Deno.test("ppHeaderV1() and ppHeaderV2() write UNKNOWN / LOCAL for a missing or non-IP address", () => {
  const ip = a4("1.2.3.4", 1);
  const cases: [PpAddr | null, PpAddr | null][] = [
    [null, ip],
    [ip, null],
    [null, null],
    [a4("/run/sluice.sock", 0), ip],
    [ip, a4("localhost", 80)],
    [a4("", 0), a4("", 0)],
    [a4("01.2.3.4", 1), ip],
    [a4("::ffff:999.1.1.1", 1), a4("::1", 2)],
  ];
  for (const [src, dst] of cases) {
    assert.equal(text(ppHeaderV1(src, dst)), "PROXY UNKNOWN\r\n", JSON.stringify([src, dst]));
    assert.deepEqual([...ppHeaderV2(src, dst)], [...SIG, 0x20, 0x00, 0x00, 0x00]);
    expectOk(ppHeaderV1(src, dst), { len: 15, version: 1, src: null, dst: null });
    expectOk(ppHeaderV2(src, dst), { len: 16, version: 2, src: null, dst: null });
  }
});

Deno.test("ppHeaderV1() and ppHeaderV2() drop an IPv6 zone, which the peer could not use", () => {
  const src = a4("fe80::1%eth0", 1), dst = a4("fe80::2%2", 2);
  const want = { src: a4("fe80::1", 1), dst: a4("fe80::2", 2) };
  assert.equal(text(ppHeaderV1(src, dst)), "PROXY TCP6 fe80::1 fe80::2 1 2\r\n");
  expectOk(ppHeaderV1(src, dst), { len: 32, version: 1, ...want });
  expectOk(ppHeaderV2(src, dst), { len: 52, version: 2, ...want });
});
