/**
 * Seeded fuzzing of the HTTP/1 parsers: random and mutated request heads,
 * response heads and chunked bodies (from a corpus of valid messages, with
 * bytes flipped, inserted, deleted, CR/LF/NUL/SP/colon/HTAB inserted,
 * header lines duplicated, messages truncated). For every input:
 * h1ParseHead() and bodyForward() never throw, finish in a bounded number of
 * calls, return a well-formed result, and give the same result whatever the
 * split; accepted heads rewrite to heads that parse again with the same
 * framing; bodyForward() agrees with a regex-based reference of the chunked
 * grammar. Every case is reproducible from its index (the seed).
 */
import assert from "node:assert/strict";
import { Channel, chnRcvd } from "../../lib/buf/channel.ts";
import { TCHAR, VALCHAR } from "../../lib/http/h1_chars.ts";
import {
  BODY_CHUNK_CRLF,
  BODY_CHUNK_DATA,
  BODY_CHUNK_SIZE,
  BODY_DONE,
  BODY_TRAILERS,
  bodyForward,
  BodyState,
} from "../../lib/http/h1_body.ts";
import { h1ParseHead } from "../../lib/http/h1_parser.ts";
import { h1Rewrite } from "../../lib/http/h1_rewrite.ts";
import {
  H1_MF_CHNK,
  H1_MF_CLEN,
  H1_MF_HOST,
  H1_MF_RESP,
  H1_MF_TE,
  H1_MF_VER_11,
  H1_ST_CHUNK,
  H1_ST_HDRS,
  H1_ST_START,
  H1_ST_TRAILERS,
  type H1Limits,
  HttpMsg,
} from "../../lib/http/h1_types.ts";
import { bin, mulberry32 } from "../helpers/bytes.ts";

/** Latin-1 text of `a`. */
function text(a: Uint8Array): string {
  let s = "";
  for (let i = 0; i < a.length; i += 4096) {
    s += String.fromCharCode(...a.subarray(i, Math.min(a.length, i + 4096)));
  }
  return s;
}

type Rnd = () => number;

function int(rnd: Rnd, n: number): number {
  return Math.floor(rnd() * n);
}

function pick<T>(rnd: Rnd, a: readonly T[]): T {
  return a[int(rnd, a.length)];
}

/** The input of the case being run, for the failure message. */
let current = "";

/** Runs `n` cases, naming the failing one (its index and salt give its seed) and its input. */
function cases(n: number, salt: number, fn: (rnd: Rnd) => void): void {
  for (let i = 0; i < n; i++) {
    current = "";
    try {
      fn(mulberry32(salt * 1_000_003 + i));
    } catch (e) {
      const m = e instanceof Error ? e.message : String(e);
      throw new Error(`case ${i} (salt ${salt}), input ${JSON.stringify(current)}: ${m}`, {
        cause: e,
      });
    }
  }
}

// -- corpus and mutations ---------------------------------------------------------

function head(line: string, ...hdrs: string[]): string {
  return line + "\r\n" + hdrs.map((h) => h + "\r\n").join("") + "\r\n";
}

const REQUESTS: readonly string[] = [
  head("GET / HTTP/1.1", "Host: example.com"),
  head("GET /a/b?c=d&e HTTP/1.1", "Host: example.com:8080", "Accept: */*", "User-Agent: fz/1"),
  head("HEAD / HTTP/1.0"),
  head("POST /form HTTP/1.1", "Host: a", "Content-Length: 5", "Content-Type: text/plain") +
  "hello",
  head("PUT /up HTTP/1.1", "Host: a", "Transfer-Encoding: chunked") + "5\r\nhello\r\n0\r\n\r\n",
  head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: gzip, chunked", "Expect: 100-continue"),
  head("GET http://a.example:81/p?q HTTP/1.1", "Host: a.example:81", "Proxy-Connection: x"),
  head("GET https://[2001:db8::1]/ HTTP/1.0", "Connection: keep-alive"),
  head("OPTIONS * HTTP/1.1", "Host: a"),
  head("GET /ws HTTP/1.1", "Host: a", "Connection: keep-alive, Upgrade", "Upgrade: websocket"),
  head("GET / HTTP/1.1", "Host: a", "Connection: close, X-A", "X-A: 1", "Keep-Alive: 5"),
  head("DELETE /x HTTP/1.1", "host: a", "TE: trailers", "Trailer: X", "X: \t v\xe9 \t"),
  head("M-SEARCH * HTTP/1.1", "Host: 239.255.255.250:1900", "Content-Length: 0"),
  // Valid, but naming the framing headers as hop-by-hop.
  head("POST /s HTTP/1.1", "Host: a", "Connection: Content-Length, X-A", "Content-Length: 3") +
  "abc",
  head(
    "PATCH /s HTTP/1.1",
    "Connection: host, transfer-encoding",
    "Host: a",
    "Transfer-Encoding: chunked",
  ) +
  "0\r\n\r\n",
];

const RESPONSES: readonly string[] = [
  head("HTTP/1.1 200 OK", "Content-Length: 2", "Content-Type: text/plain") + "ok",
  head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked") + "2\r\nok\r\n0\r\n\r\n",
  head("HTTP/1.1 204 No Content", "Connection: keep-alive"),
  head("HTTP/1.0 304"),
  head("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade"),
  head("HTTP/1.1 404 Not \xe9 Found", "Content-Length: 0", "Connection: close, X-B", "X-B: b"),
  head("HTTP/1.1 100 Continue"),
  head("HTTP/1.1 200 OK", "Transfer-Encoding: gzip", "Server: x"),
  head("HTTP/1.1 500 ", "Content-Length: 10", "Trailer: X", "Keep-Alive: timeout=1"),
  head("HTTP/1.1 200 OK", "Connection: transfer-encoding", "Transfer-Encoding: chunked") +
  "0\r\n\r\n",
];

const BODIES: readonly string[] = [
  "5\r\nhello\r\n0\r\n\r\n",
  "0\r\n\r\n",
  "a\r\n0123456789\r\n1\r\n!\r\n0\r\n\r\n",
  '3;ext=1;q="a \\"b\\""\r\nabc\r\n0;last\r\n\r\n',
  "4 ; a = b\r\nwxyz\r\n0\r\nX-Trailer: v\r\nY:\r\n\r\n",
  "000F\r\n0123456789abcde\r\n0\r\nExpires: \xe9\t\r\n\r\n",
  "1\r\n\r\r\n2\r\n\r\n\r\n0\r\n\r\n",
  "5\r\nhello\r\n",
  '2;q="\\\\";r="\\""\r\nab\r\n0\r\n\r\n',
];

const NAMES = [
  "Host",
  "Content-Length",
  "Transfer-Encoding",
  "Connection",
  "Upgrade",
  "Expect",
  "Keep-Alive",
  "TE",
  "Trailer",
  "Proxy-Connection",
  "X-Forwarded-For",
  "Accept",
  "x",
];
const VALUES = [
  "a",
  "example.com:80",
  "[::1]:8080",
  "0",
  "5",
  "chunked",
  "gzip, chunked",
  "chunked, gzip",
  "close",
  "keep-alive",
  "upgrade",
  "content-length",
  "transfer-encoding, host",
  "100-continue",
  "websocket",
  "",
  " \t",
  "\xe9\xff",
  "99999999999999999",
];
const METHODS = ["GET", "HEAD", "POST", "PUT", "OPTIONS", "CONNECT", "get", "X-Y", "G T", ""];
const TARGETS = ["/", "/p?q", "*", "http://h/", "https://h:1/x", "ftp://h/", "h:80", "", "/\x7f"];
const VERSIONS = ["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.2", "http/1.1", "HTTP/1", ""];
const STATUSES = ["200 OK", "204", "101 Switching", "99 Low", "1000", "2x0 Bad", "304 ", "200\tOK"];

/** A head built from random parts, often wrong. */
function randomHead(rnd: Rnd, resp: boolean): string {
  let line = resp
    ? `${pick(rnd, VERSIONS)} ${pick(rnd, STATUSES)}`
    : `${pick(rnd, METHODS)} ${pick(rnd, TARGETS)} ${pick(rnd, VERSIONS)}`;
  // Mostly a valid start line, so that the headers get parsed.
  if (rnd() < 0.7) {
    line = resp ? "HTTP/1.1 200 OK" : pick(rnd, ["POST / HTTP/1.1", "GET / HTTP/1.0"]);
  }
  const hdrs: string[] = [];
  if (!resp && rnd() < 0.8) hdrs.push("Host: a");
  for (let n = int(rnd, 6); n > 0; n--) {
    hdrs.push(`${pick(rnd, NAMES)}:${rnd() < 0.8 ? " " : ""}${pick(rnd, VALUES)}`);
  }
  return head(line, ...hdrs);
}

const INSERTS = ["\r", "\n", "\x00", " ", ":", "\t", ",", ";", '"', "\\", "=", "\x7f", "\xff"];
const SNIPPETS = [
  "\r\n",
  "\r\n\r\n",
  "Content-Length: 3\r\n",
  "Transfer-Encoding: chunked\r\n",
  "Host: x\r\n",
  "Connection: content-length\r\n",
  " folded\r\n",
  "0\r\n",
  "ffffffffffffff\r\n",
  ";a=b",
];

/** Applies 1 to 4 random mutations to `s` (from NAMES and VALUES for a header line). */
function mutate(rnd: Rnd, s: string): string {
  for (let n = 1 + int(rnd, 4); n > 0; n--) {
    const at = int(rnd, s.length + 1);
    switch (int(rnd, 11)) {
      case 0: // flip a byte
        if (at < s.length) {
          const c = (s.charCodeAt(at) ^ (1 << int(rnd, 8))) & 0xff;
          s = s.slice(0, at) + String.fromCharCode(c) + s.slice(at + 1);
        }
        break;
      case 1: // insert a random byte
        s = s.slice(0, at) + String.fromCharCode(int(rnd, 256)) + s.slice(at);
        break;
      case 2: // insert an interesting byte
      case 3:
        s = s.slice(0, at) + pick(rnd, INSERTS) + s.slice(at);
        break;
      case 4: // delete a few bytes
        s = s.slice(0, at) + s.slice(at + 1 + int(rnd, 3));
        break;
      case 5: { // duplicate a line
        const start = s.lastIndexOf("\n", at - 1) + 1;
        const end = s.indexOf("\n", at);
        if (end > 0) s = s.slice(0, end + 1) + s.slice(start, end + 1) + s.slice(end + 1);
        break;
      }
      case 6: // truncate
        s = s.slice(0, at);
        break;
      case 7: // insert a snippet
        s = s.slice(0, at) + pick(rnd, SNIPPETS) + s.slice(at);
        break;
      case 8: { // replace a digit with another
        const d = s.slice(at).search(/[0-9a-fA-F]/);
        if (d >= 0) {
          const k = at + d;
          s = s.slice(0, k) + pick(rnd, [..."0123456789abcdefF"]) + s.slice(k + 1);
        }
        break;
      }
      case 10: // replace a byte with an interesting one
        s = s.slice(0, at) + pick(rnd, INSERTS) + s.slice(at + 1);
        break;
      case 9: { // insert a header line at the start of a line
        const k = s.indexOf("\n", at) + 1;
        if (k > 0) s = s.slice(0, k) + `${pick(rnd, NAMES)}: ${pick(rnd, VALUES)}\r\n` + s.slice(k);
        break;
      }
    }
  }
  return s;
}

// -- heads --------------------------------------------------------------------------

const HEAD_ERRORS = new Set([400, 405, 413, 414, 431, 501, 505, 502]);

/** What a head parse ended with, for comparing ways of feeding the same bytes. */
function headOutcome(r: number, m: HttpMsg) {
  return {
    r,
    headLen: m.headLen,
    errCode: m.errCode,
    errState: m.errState,
    errPos: m.errPos,
    errMsg: m.errMsg,
    flags: m.flags,
    nHdrs: m.nHdrs,
    bodyLen: m.bodyLen,
    startLineEnd: m.startLineEnd,
    meth: m.meth,
    uri: [m.uriPos, m.uriLen],
    status: m.status,
    reason: [m.reasonPos, m.reasonLen],
    hdrs: Array.from(m.hdrs.subarray(0, m.nHdrs * 4)),
  };
}

/**
 * Feeds `bytes` in steps given by `next()`: the buffer holds what arrived at
 * `base`, after junk, and a poison of line ends after it (a read past
 * `avail` would change the answer).
 */
function headFeed(
  bytes: Uint8Array,
  resp: boolean,
  lim: H1Limits,
  base: number,
  next: () => number,
) {
  const a = new Uint8Array(base + bytes.length + 8);
  a.fill(0x0a);
  a.fill(0x78, 0, base);
  const msg = new HttpMsg(lim.maxHdrs);
  if (resp) msg.flags |= H1_MF_RESP;
  let avail = 0, r = 0, calls = 0;
  while (r === 0 && avail < bytes.length) {
    const n = Math.min(bytes.length - avail, Math.max(1, next()));
    a.set(bytes.subarray(avail, avail + n), base + avail);
    avail += n;
    r = h1ParseHead(msg, a, base, avail, lim);
    calls++;
  }
  assert.ok(calls <= bytes.length, "more calls than bytes");
  return { r, msg, a, base };
}

/** Asserts everything a head parse result promises. */
function headCheck(r: number, m: HttpMsg, bytes: Uint8Array, resp: boolean, lim: H1Limits): void {
  const s = text(bytes);
  assert.ok(Number.isInteger(r) && r >= -1, `r=${r}`);
  if (r === -1) {
    assert.ok(HEAD_ERRORS.has(m.errCode), `errCode ${m.errCode}`);
    if (resp) assert.equal(m.errCode, 502, "a bad response is always 502");
    // At most the length: a limit error points just past the last byte scanned.
    assert.ok(m.errPos >= 0 && m.errPos <= bytes.length, `errPos ${m.errPos} of ${bytes.length}`);
    assert.ok(m.errState >= H1_ST_START && m.errState <= H1_ST_HDRS, `errState ${m.errState}`);
    assert.ok(m.errMsg.length > 0);
    assert.equal(m.headLen, 0);
    return;
  }
  assert.equal(m.errCode, 0);
  if (r === 0) {
    assert.equal(m.headLen, 0);
    assert.ok(bytes.length < lim.maxHead, "waits although maxHead is reached");
    assert.equal(s.indexOf("\r\n\r\n"), -1, "waits although the head is complete");
    assert.ok(!/\n/.test(s.replaceAll("\r\n", "")), "waits despite a bare LF");
    assert.ok(!/\r[^\n]/.test(s), "waits despite a CR not followed by LF");
    return;
  }
  // A complete head: its length, its start line, its headers.
  assert.equal(m.headLen, r);
  assert.ok(r <= bytes.length && r <= lim.maxHead, `headLen ${r}`);
  assert.equal(s.indexOf("\r\n\r\n") + 4, r, "the head ends at the first empty line");
  assert.ok(m.nHdrs >= 0 && m.nHdrs <= lim.maxHdrs, `nHdrs ${m.nHdrs}`);
  const sle = m.startLineEnd;
  assert.ok(sle > 0 && sle < r && s[sle] === "\n" && s[sle - 1] === "\r", `startLineEnd ${sle}`);
  assert.equal(s.indexOf("\n"), sle);
  if (resp) {
    assert.ok(m.status >= 100 && m.status <= 999, `status ${m.status}`);
    assert.ok(m.reasonPos >= 12 && m.reasonPos + m.reasonLen <= sle - 1, "reason in the line");
  } else {
    assert.ok(m.methLen > 0 && m.methPos === 0, "method");
    assert.equal(m.uriPos, m.methLen + 1);
    assert.ok(m.uriLen > 0 && m.uriPos + m.uriLen + 9 === sle - 1, "target then version");
  }
  let prev = sle + 1;
  for (let h = 0; h < m.nHdrs; h++) {
    const [np, nl, vp, vl] = m.hdrs.subarray(h * 4, h * 4 + 4);
    assert.equal(np, prev, `header ${h} starts a line`);
    assert.ok(nl > 0 && vp >= np + nl + 1 && vl >= 0, `header ${h} lengths`);
    for (let i = np; i < np + nl; i++) assert.ok(TCHAR[bytes[i]], `header ${h} name byte`);
    assert.equal(s[np + nl], ":");
    assert.ok(vp + vl <= r - 2, `header ${h} value inside the head`);
    for (let i = vp; i < vp + vl; i++) assert.ok(VALCHAR[bytes[i]], `header ${h} value byte`);
    prev = s.indexOf("\r\n", vp + vl) + 2;
  }
  assert.equal(prev, r - 2, "headers cover the head");
  const f = m.flags;
  assert.ok(!((f & H1_MF_TE) && (f & H1_MF_CLEN)), "both TE and CLEN");
  if (f & H1_MF_CHNK) assert.ok(f & H1_MF_TE);
  if (f & H1_MF_CLEN) assert.ok(m.bodyLen >= 0 && m.bodyLen <= Number.MAX_SAFE_INTEGER);
  else assert.equal(m.bodyLen, -1);
  if (!resp) {
    if (f & H1_MF_VER_11) assert.ok(f & H1_MF_HOST, "HTTP/1.1 request without Host");
    if (f & H1_MF_TE) assert.ok(f & H1_MF_CHNK, "request TE without chunked");
    if (lim.maxBody > 0) assert.ok(m.bodyLen <= lim.maxBody, "bodyLen above maxBody");
  }
}

/** An accepted head rewrites into one that parses with the same framing. */
function rewriteCheck(m: HttpMsg, a: Uint8Array, base: number, resp: boolean, rnd: Rnd): void {
  const add: [string, string][] = rnd() < 0.5 ? [["X-Forwarded-For", "192.0.2.1"]] : [];
  const out = h1Rewrite(m, a, base, {
    upgrade: false,
    connection: pick(rnd, [null, "close", "keep-alive"]),
    add,
  }).slice();
  const lim: H1Limits = { maxHead: out.length + 1, maxHdrs: m.nHdrs + 4, maxBody: 0 };
  const m2 = new HttpMsg(lim.maxHdrs);
  if (resp) m2.flags |= H1_MF_RESP;
  const r2 = h1ParseHead(m2, out, 0, out.length, lim);
  assert.equal(
    r2,
    out.length,
    `rewritten head rejected: ${m2.errMsg} in ${JSON.stringify(text(out))}`,
  );
  const framing = H1_MF_CLEN | H1_MF_CHNK | H1_MF_TE | H1_MF_VER_11;
  assert.equal(m2.flags & framing, m.flags & framing, "framing flags after rewrite");
  assert.equal(m2.bodyLen, m.bodyLen, "Content-Length after rewrite");
  assert.equal(m2.meth, m.meth);
  assert.equal(m2.status, m.status);
  const o = text(out).toLowerCase();
  for (const hop of ["\nkeep-alive:", "\nproxy-connection:", "\ntrailer:", "\nupgrade:"]) {
    assert.ok(!o.includes(hop), `hop-by-hop ${hop.trim()} forwarded`);
  }
}

function headCase(rnd: Rnd, resp: boolean): void {
  const corpus = resp ? RESPONSES : REQUESTS;
  let s = rnd() < 0.25 ? randomHead(rnd, resp) : pick(rnd, corpus);
  if (rnd() < 0.85) s = mutate(rnd, s);
  current = s;
  const bytes = bin(s);
  const lim: H1Limits = {
    maxHead: pick(rnd, [8192, 8192, 200, 48]),
    maxHdrs: pick(rnd, [32, 32, 3]),
    maxBody: pick(rnd, [0, 0, 4]),
  };
  const base = int(rnd, 5);
  const whole = headFeed(bytes, resp, lim, base, () => bytes.length);
  headCheck(whole.r, whole.msg, bytes, resp, lim);
  const expect = headOutcome(whole.r, whole.msg);
  const byByte = headFeed(bytes, resp, lim, 0, () => 1);
  assert.deepEqual(headOutcome(byByte.r, byByte.msg), expect, "byte by byte");
  const split = headFeed(bytes, resp, lim, 7, () => 1 + int(rnd, 16));
  assert.deepEqual(headOutcome(split.r, split.msg), expect, "random splits");
  if (whole.r > 0) rewriteCheck(whole.msg, whole.a, whole.base, resp, rnd);
}

Deno.test("h1ParseHead() fuzz: request heads get well-formed results, the same whatever the split", () => {
  cases(2000, 1, (rnd) => headCase(rnd, false));
});

Deno.test("h1ParseHead() fuzz: response heads get well-formed results, the same whatever the split", () => {
  cases(1200, 2, (rnd) => headCase(rnd, true));
});

// -- chunked bodies -------------------------------------------------------------------

/** What feeding a body ended with, for comparing ways of feeding the same bytes. */
interface BodyOutcome {
  r: number;
  st: number;
  errCode: number;
  errState: number;
  errMsg: string;
  total: number;
  trailers: number;
  fwd: string;
}

/** Feeds `bytes` to a channel in steps, calling bodyForward() after each, sending the output. */
function bodyFeed(
  bytes: Uint8Array,
  maxBody: number,
  bad: number,
  ring: number,
  next: () => number,
): BodyOutcome {
  const chn = new Channel();
  chn.buf.attach(new Uint8Array(ring));
  const bs = new BodyState();
  bs.start(chn, BODY_CHUNK_SIZE, -1);
  let fwd = "";
  let r = bodyForward(chn, bs, maxBody, bad);
  let done = 0, calls = 1;
  while (r === 0 && done < bytes.length) {
    const want = Math.min(bytes.length - done, Math.max(1, next()));
    const n = chn.buf.putIn(bytes.subarray(done, done + want));
    assert.ok(n > 0, "test ring too small");
    chnRcvd(chn, n);
    done += n;
    r = bodyForward(chn, bs, maxBody, bad);
    fwd += text(chn.buf.peekOut());
    chn.buf.sndCommit(chn.buf.out);
    assert.ok(++calls <= bytes.length + 1, "more calls than bytes");
  }
  const o = {
    r,
    st: bs.st,
    errCode: bs.errCode,
    errState: bs.errState,
    errMsg: bs.errMsg,
    total: bs.total,
    trailers: bs.trailers,
    fwd,
  };
  if (r >= 0) {
    // The analyser runs again on any event: without new bytes, nothing changes.
    const again = bodyForward(chn, bs, maxBody, bad);
    assert.deepEqual({ ...o, r: again, st: bs.st, total: bs.total }, o, "a second call differs");
    assert.equal(chn.buf.out, 0, "a second call forwarded bytes");
  }
  return o;
}

// The chunked grammar (RFC 9112 §7.1) as regular expressions over latin-1
// text, as a reference written independently of h1_body.ts.
const TOK = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const QSTR = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x20-\\x7e\\x80-\\xff])*"';
const EXT = `[ \\t]*;[ \\t]*${TOK}(?:[ \\t]*=[ \\t]*(?:${TOK}|${QSTR}))?`;
/** A chunk-size line without its CRLF; at most 13 hex digits (below 2^52). */
const RE_SIZE = new RegExp(`^([0-9A-Fa-f]{1,13})(?:${EXT})*[ \\t]*$`);
const RE_TRAILER = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*$/;
/** A complete line at the start. */
const RE_LINE = /^([^\r\n]*)\r\n/;
/** The start of a line that may still end well. */
const RE_PARTIAL = /^[^\r\n]*\r?$/;

/** What a correct chunked parser does with `s` whole: result, bytes forwarded, totals. */
function reference(s: string, maxBody: number) {
  let pos = 0, total = 0, trailers = 0;
  const end = (r: number) => ({ r, fwd: pos, total, trailers });
  const line = (): string | number => {
    const rest = s.slice(pos);
    const m = RE_LINE.exec(rest);
    if (m) {
      pos += m[0].length;
      return m[1];
    }
    return RE_PARTIAL.test(rest) ? 0 : -1;
  };
  for (;;) {
    const l = line();
    if (typeof l === "number") return end(l);
    const m = RE_SIZE.exec(l);
    if (!m) return { ...end(-1), fwd: pos - l.length - 2 };
    const size = parseInt(m[1], 16);
    total += size;
    if (maxBody > 0 && total > maxBody) return { ...end(-1), fwd: pos - l.length - 2 };
    if (size === 0) break;
    if (pos + size > s.length) {
      pos = s.length;
      return end(0);
    }
    pos += size;
    const crlf = s.slice(pos, pos + 2);
    if (crlf !== "\r\n") return end(crlf === "" || crlf === "\r" ? 0 : -1);
    pos += 2;
  }
  for (;;) {
    const at = pos;
    const l = line();
    if (typeof l === "number") return end(l);
    if (l === "") return end(1);
    if (!RE_TRAILER.test(l)) return { ...end(-1), fwd: at };
    trailers++;
  }
}

Deno.test("bodyForward() fuzz: mutated chunked bodies get well-formed results, the same whatever the split", () => {
  cases(2000, 3, (rnd) => {
    let s = pick(rnd, BODIES);
    if (rnd() < 0.3) {
      // The chunks of two bodies.
      const a = pick(rnd, BODIES);
      s = (a.endsWith("0\r\n\r\n") ? a.slice(0, -5) : a) + s;
    }
    if (rnd() < 0.9) s = mutate(rnd, s);
    if (rnd() < 0.2) s += "GET / HTTP/1.1\r\n"; // the next message
    current = s;
    const bytes = bin(s);
    const maxBody = pick(rnd, [0, 0, 0, 12]);
    const bad = pick(rnd, [400, 502]);
    const whole = bodyFeed(bytes, maxBody, bad, bytes.length + 1, () => bytes.length);
    // Well-formed.
    assert.ok([-1, 0, 1].includes(whole.r), `r=${whole.r}`);
    if (whole.r === -1) {
      const codes = bad === 400 ? [400, 413] : [502];
      assert.ok(codes.includes(whole.errCode), `errCode ${whole.errCode}`);
      assert.ok([H1_ST_CHUNK, H1_ST_TRAILERS].includes(whole.errState), "errState");
      assert.ok(whole.errMsg.length > 0);
    } else {
      assert.equal(whole.errCode, 0);
      const states = [BODY_CHUNK_SIZE, BODY_CHUNK_DATA, BODY_CHUNK_CRLF, BODY_TRAILERS];
      if (whole.r === 0) assert.ok(states.includes(whole.st), `state ${whole.st}`);
      else assert.equal(whole.st, BODY_DONE);
    }
    assert.ok(s.startsWith(whole.fwd), "forwarded bytes are not the input's first bytes");
    // The same as the reference grammar.
    const ref = reference(s, maxBody);
    assert.deepEqual(
      { r: whole.r, fwd: whole.fwd.length, total: whole.total, trailers: whole.trailers },
      ref,
      "against the reference",
    );
    // Split-independent, also in a small ring where lines wrap.
    assert.deepEqual(bodyFeed(bytes, maxBody, bad, bytes.length + 1, () => 1), whole, "by byte");
    // A small ring (when every line fits) so that lines wrap around its end.
    const ring = s.split("\n").every((l) => l.length < 50) ? 61 : bytes.length + 1;
    const split = bodyFeed(bytes, maxBody, bad, ring, () => 1 + int(rnd, 16));
    assert.deepEqual(split, whole, "random splits");
  });
});

Deno.test("bodyForward() fuzz: random bytes after a valid chunk agree with the reference", () => {
  cases(500, 4, (rnd) => {
    let s = "5\r\nhello\r\n";
    for (let n = int(rnd, 40); n > 0; n--) {
      s += rnd() < 0.5 ? String.fromCharCode(int(rnd, 256)) : pick(rnd, [...INSERTS, "0", "a"]);
    }
    current = s;
    const bytes = bin(s);
    const whole = bodyFeed(bytes, 0, 400, bytes.length + 1, () => bytes.length);
    const ref = reference(s, 0);
    assert.deepEqual(
      { r: whole.r, fwd: whole.fwd.length, total: whole.total, trailers: whole.trailers },
      ref,
      "against the reference",
    );
    assert.deepEqual(bodyFeed(bytes, 0, 400, 61, () => 1 + int(rnd, 8)), whole, "random splits");
  });
});

const TCHARS = "!#$%&'*+-.^_`|~09azAZ";
const HEX = "0123456789abcdefABCDEF";

/** Mostly a token, sometimes with a byte that is not a tchar. */
function randomToken(rnd: Rnd): string {
  let t = "";
  for (let n = 1 + int(rnd, 4); n > 0; n--) {
    t += rnd() < 0.05 ? String.fromCharCode(int(rnd, 256)) : pick(rnd, [...TCHARS]);
  }
  return rnd() < 0.03 ? "" : t;
}

/** Mostly a quoted-string, with quoted-pairs escaping any byte now and then. */
function randomQuoted(rnd: Rnd): string {
  let q = '"';
  for (let n = int(rnd, 5); n > 0; n--) {
    const x = rnd();
    if (x < 0.3) {
      q += "\\" + String.fromCharCode(rnd() < 0.6 ? 0x20 + int(rnd, 0x60) : int(rnd, 256));
    } else if (x < 0.35) q += String.fromCharCode(int(rnd, 256));
    else q += pick(rnd, [..."ab \t=;,\xe9"]);
  }
  return rnd() < 0.9 ? q + '"' : q;
}

function bws(rnd: Rnd): string {
  return pick(rnd, ["", "", "", " ", "\t", " \t "]);
}

/** A chunk-size line for `size`, from the grammar's pieces, sometimes bent. */
function randomSizeLine(rnd: Rnd, size: number): string {
  let hex = size.toString(16);
  if (rnd() < 0.3) hex = hex.toUpperCase();
  if (rnd() < 0.2) hex = "0".repeat(1 + int(rnd, 3)) + hex;
  if (rnd() < 0.05) hex = pick(rnd, [...HEX]).repeat(12 + int(rnd, 4)); // near the overflow bound
  let line = hex;
  for (let n = rnd() < 0.5 ? 0 : 1 + int(rnd, 3); n > 0; n--) {
    line += bws(rnd) + ";" + bws(rnd) + randomToken(rnd);
    if (rnd() < 0.6) {
      line += bws(rnd) + "=" + bws(rnd) + (rnd() < 0.5 ? randomToken(rnd) : randomQuoted(rnd));
    }
  }
  if (rnd() < 0.1) line += bws(rnd);
  return line + (rnd() < 0.97 ? "\r\n" : pick(rnd, ["\n", "\r", "\rx"]));
}

/** A chunked body built from the grammar: chunks, last chunk, trailers. */
function randomChunked(rnd: Rnd): string {
  let s = "";
  for (let n = int(rnd, 4); n > 0; n--) {
    const size = 1 + int(rnd, 12);
    s += randomSizeLine(rnd, size);
    for (let i = 0; i < size; i++) s += String.fromCharCode(int(rnd, 256));
    s += rnd() < 0.95 ? "\r\n" : pick(rnd, ["\n", "\r", "", "xx"]);
  }
  s += randomSizeLine(rnd, 0);
  for (let n = int(rnd, 3); n > 0; n--) {
    const v = rnd() < 0.9 ? "v a\t\xe9" : String.fromCharCode(int(rnd, 256));
    s += randomToken(rnd) + pick(rnd, [":", ": ", ": ", " :", ""]) + v + "\r\n";
  }
  return s + (rnd() < 0.9 ? "\r\n" : "");
}

Deno.test("bodyForward() fuzz: chunked bodies built from the grammar agree with the reference", () => {
  cases(1500, 5, (rnd) => {
    const s = randomChunked(rnd);
    current = s;
    const bytes = bin(s);
    const whole = bodyFeed(bytes, 0, 400, bytes.length + 1, () => bytes.length);
    assert.deepEqual(
      { r: whole.r, fwd: whole.fwd.length, total: whole.total, trailers: whole.trailers },
      reference(s, 0),
      "against the reference",
    );
    const ring = s.split("\n").every((l) => l.length < 90) ? 101 : bytes.length + 1;
    assert.deepEqual(bodyFeed(bytes, 0, 400, ring, () => 1 + int(rnd, 8)), whole, "random splits");
  });
});
