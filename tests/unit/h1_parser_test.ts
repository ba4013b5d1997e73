/**
 * h1ParseHead(): the request and status line grammar, header fields, framing
 * (Content-Length, Transfer-Encoding), Host, Connection, limits, and the
 * promise that a head gives the same result however its bytes are split.
 */
import assert from "node:assert/strict";
import { h1ParseHead } from "../../lib/http/h1_parser.ts";
import {
  H1_MF_ABS_URI,
  H1_MF_CHNK,
  H1_MF_CLEN,
  H1_MF_CONN_CLOSE,
  H1_MF_CONN_HDRS,
  H1_MF_CONN_KAL,
  H1_MF_CONN_UPG,
  H1_MF_EXPECT_100,
  H1_MF_HOST,
  H1_MF_RESP,
  H1_MF_TE,
  H1_MF_UPGRADE,
  H1_MF_VER_11,
  H1_ST_HDR_NAME,
  H1_ST_HDR_VAL,
  H1_ST_HDRS,
  H1_ST_START,
  type H1Limits,
  HTTP_METH_CONNECT,
  HTTP_METH_DELETE,
  HTTP_METH_GET,
  HTTP_METH_HEAD,
  HTTP_METH_OPTIONS,
  HTTP_METH_OTHER,
  HTTP_METH_PATCH,
  HTTP_METH_POST,
  HTTP_METH_PUT,
  HTTP_METH_TRACE,
  HttpMsg,
} from "../../lib/http/h1_types.ts";
import { bin, mulberry32 } from "../helpers/bytes.ts";

const LIM: H1Limits = { maxHead: 8192, maxHdrs: 32, maxBody: 0 };

/** Latin-1 text of `a[pos, pos + len)`. */
function text(a: Uint8Array, pos: number, len: number): string {
  return String.fromCharCode(...a.subarray(pos, pos + len));
}

interface Parsed {
  r: number;
  msg: HttpMsg;
  a: Uint8Array;
}

interface ParseOpts {
  resp?: boolean;
  lim?: Partial<H1Limits>;
}

/** Parses `s` whole, as a request (or a response with `resp`). */
function parse(s: string, opts: ParseOpts = {}): Parsed {
  const lim = { ...LIM, ...opts.lim };
  const msg = new HttpMsg(lim.maxHdrs);
  if (opts.resp) msg.flags |= H1_MF_RESP;
  const a = bin(s);
  const r = h1ParseHead(msg, a, 0, a.length, lim);
  return { r, msg, a };
}

function parseRes(s: string, lim?: Partial<H1Limits>): Parsed {
  return parse(s, { resp: true, lim });
}

/** A request with the given start line and header lines, then the empty line. */
function req(line: string, ...hdrs: string[]): string {
  return line + "\r\n" + hdrs.map((h) => h + "\r\n").join("") + "\r\n";
}

/** An HTTP/1.1 GET of "/" with Host and the given extra header lines. */
function get(...hdrs: string[]): string {
  return req("GET / HTTP/1.1", "Host: example.com", ...hdrs);
}

function resp(line: string, ...hdrs: string[]): string {
  return req(line, ...hdrs);
}

function assertOk(p: Parsed, why = ""): void {
  assert.equal(
    p.r,
    p.a.length,
    `expected a complete head ${why}, got r=${p.r} ${p.msg.errCode} "${p.msg.errMsg}" ` +
      `at ${p.msg.errPos}`,
  );
  assert.equal(p.msg.headLen, p.a.length);
  assert.equal(p.msg.errCode, 0);
}

/** Asserts a rejection with this status and state, and the offending byte when given. */
function assertFail(p: Parsed, code: number, state: number, pos?: number, why = ""): void {
  assert.equal(p.r, -1, `expected a rejection ${why}, got r=${p.r}`);
  assert.equal(p.msg.errCode, code, `errCode ${why} ("${p.msg.errMsg}")`);
  assert.equal(p.msg.errState, state, `errState ${why} ("${p.msg.errMsg}")`);
  if (pos !== undefined) assert.equal(p.msg.errPos, pos, `errPos ${why} ("${p.msg.errMsg}")`);
  assert.equal(p.msg.headLen, 0);
}

/** Header `i` as [name, value] text. */
function hdr(p: Parsed, i: number): [string, string] {
  const h = p.msg.hdrs;
  return [text(p.a, h[i * 4], h[i * 4 + 1]), text(p.a, h[i * 4 + 2], h[i * 4 + 3])];
}

function hasFlag(p: Parsed, f: number): boolean {
  return (p.msg.flags & f) !== 0;
}

// -- request line -------------------------------------------------------------

Deno.test("h1ParseHead() parses a simple GET into method, target and header offsets", () => {
  const s = get("Accept: */*");
  const p = parse(s);
  assertOk(p);
  assert.equal(p.msg.meth, HTTP_METH_GET);
  assert.equal(text(p.a, p.msg.methPos, p.msg.methLen), "GET");
  assert.equal(text(p.a, p.msg.uriPos, p.msg.uriLen), "/");
  assert.equal(p.msg.startLineEnd, s.indexOf("\n"));
  assert.equal(p.msg.nHdrs, 2);
  assert.deepEqual(hdr(p, 0), ["Host", "example.com"]);
  assert.deepEqual(hdr(p, 1), ["Accept", "*/*"]);
  assert.ok(hasFlag(p, H1_MF_VER_11 | H1_MF_HOST));
  assert.equal(p.msg.bodyLen, -1);
});

Deno.test("h1ParseHead() recognises the well-known methods, case-sensitively", () => {
  const codes: [string, number][] = [
    ["GET", HTTP_METH_GET],
    ["HEAD", HTTP_METH_HEAD],
    ["POST", HTTP_METH_POST],
    ["PUT", HTTP_METH_PUT],
    ["DELETE", HTTP_METH_DELETE],
    ["OPTIONS", HTTP_METH_OPTIONS],
    ["TRACE", HTTP_METH_TRACE],
    ["PATCH", HTTP_METH_PATCH],
    ["get", HTTP_METH_OTHER],
    ["Post", HTTP_METH_OTHER],
    ["GETS", HTTP_METH_OTHER],
  ];
  for (const [m, code] of codes) {
    const p = parse(req(`${m} / HTTP/1.1`, "Host: a"));
    assertOk(p, m);
    assert.equal(p.msg.meth, code, m);
    assert.equal(p.msg.methLen, m.length);
  }
});

Deno.test("h1ParseHead() accepts an extension method made of any tchar", () => {
  const p = parse(req("M-SEARCH!#$%&'*+.^_`|~09 / HTTP/1.1", "Host: a"));
  assertOk(p);
  assert.equal(p.msg.meth, HTTP_METH_OTHER);
  assert.equal(p.msg.methLen, "M-SEARCH!#$%&'*+.^_`|~09".length);
});

Deno.test("h1ParseHead() rejects a method with a non-token character", () => {
  for (
    const [m, at] of [["GE(T", 2], ["GE/T", 2], ["G\x00T", 1], ["G\xc9T", 1], ['GE"T', 2]] as const
  ) {
    const s = req(`${m} / HTTP/1.1`, "Host: a");
    assertFail(parse(s), 400, H1_ST_START, at, JSON.stringify(m));
  }
});

Deno.test("h1ParseHead() rejects a request line that starts with a space (empty method)", () => {
  assertFail(parse(req(" GET / HTTP/1.1", "Host: a")), 400, H1_ST_START, 0);
});

Deno.test("h1ParseHead() rejects two spaces between the method and the target", () => {
  assertFail(parse(req("GET  / HTTP/1.1", "Host: a")), 400, H1_ST_START, 4);
});

Deno.test("h1ParseHead() rejects two spaces between the target and the version", () => {
  // The second space is where the version should start.
  assertFail(parse(req("GET /  HTTP/1.1", "Host: a")), 400, H1_ST_START, 6);
});

Deno.test("h1ParseHead() rejects HTAB as a request line separator", () => {
  assertFail(parse(req("GET\t/ HTTP/1.1", "Host: a")), 400, H1_ST_START, 3);
  assertFail(parse(req("GET /\tHTTP/1.1", "Host: a")), 400, H1_ST_START, 5);
});

Deno.test("h1ParseHead() rejects a trailing space after the version", () => {
  assertFail(parse(req("GET / HTTP/1.1 ", "Host: a")), 400, H1_ST_START, 14);
});

Deno.test("h1ParseHead() rejects an empty request target", () => {
  // "GET " then the version directly: the target is empty.
  assertFail(parse(req("GET  HTTP/1.1", "Host: a")), 400, H1_ST_START, 4);
});

Deno.test("h1ParseHead() rejects a space inside the request target", () => {
  // "/a" is read as the target, "b HTTP/1.1" cannot be a version.
  assertFail(parse(req("GET /a b HTTP/1.1", "Host: a")), 400, H1_ST_START, 7);
});

Deno.test("h1ParseHead() rejects control characters in the request target", () => {
  for (let c = 0; c < 0x20; c++) {
    if (c === 0x0a || c === 0x0d) continue; // line endings, checked elsewhere
    const s = req(`GET /a${String.fromCharCode(c)}b HTTP/1.1`, "Host: a");
    assertFail(parse(s), 400, H1_ST_START, 6, `0x${c.toString(16)}`);
  }
  assertFail(parse(req("GET /a\x7fb HTTP/1.1", "Host: a")), 400, H1_ST_START, 6, "DEL");
});

Deno.test("h1ParseHead() rejects bytes >= 0x80 in the request target", () => {
  for (const c of [0x80, 0xa0, 0xc3, 0xff]) {
    const s = req(`GET /caf${String.fromCharCode(c)} HTTP/1.1`, "Host: a");
    assertFail(parse(s), 400, H1_ST_START, 8, `0x${c.toString(16)}`);
  }
});

Deno.test("h1ParseHead() accepts an origin-form target with a query and visible ASCII", () => {
  const target = "/a/b;c?x=1&y=%20#!$'()*+,:@~[]{}|^`\"<>\\";
  const p = parse(req(`GET ${target} HTTP/1.1`, "Host: a"));
  assertOk(p);
  assert.equal(text(p.a, p.msg.uriPos, p.msg.uriLen), target);
  assert.ok(!hasFlag(p, H1_MF_ABS_URI));
});

Deno.test("h1ParseHead() accepts absolute-form targets and flags them", () => {
  for (
    const t of [
      "http://example.com/path?q=1",
      "https://example.com",
      "HTTP://Example.COM:8080/",
      "http://127.0.0.1:80?x",
      "http://[::1]:8080/p",
      "http://a-b_c.d~e/",
    ]
  ) {
    const p = parse(req(`GET ${t} HTTP/1.1`, "Host: a"));
    assertOk(p, t);
    assert.ok(hasFlag(p, H1_MF_ABS_URI), t);
    assert.equal(text(p.a, p.msg.uriPos, p.msg.uriLen), t);
  }
});

Deno.test("h1ParseHead() rejects absolute-form targets with another scheme or a bad authority", () => {
  for (
    const t of [
      "ftp://example.com/",
      "httpx://example.com/",
      "http:/example.com/",
      "http:///path",
      "http://user@example.com/",
      "http://exa%mple.com/",
      "http://[::1/",
      "http://a:123456/",
      "http://a:8x/",
    ]
  ) {
    assertFail(parse(req(`GET ${t} HTTP/1.1`, "Host: a")), 400, H1_ST_START, 4, t);
  }
});

Deno.test("h1ParseHead() rejects a target that is neither origin, absolute nor asterisk form", () => {
  for (const t of ["example.com", "example.com:80", "*x", "?q", "%2F"]) {
    assertFail(parse(req(`GET ${t} HTTP/1.1`, "Host: a")), 400, H1_ST_START, 4, t);
  }
});

Deno.test("h1ParseHead() accepts the asterisk form for OPTIONS", () => {
  const p = parse(req("OPTIONS * HTTP/1.1", "Host: a"));
  assertOk(p);
  assert.equal(p.msg.meth, HTTP_METH_OPTIONS);
  assert.equal(text(p.a, p.msg.uriPos, p.msg.uriLen), "*");
});

Deno.test("h1ParseHead() rejects the asterisk form for methods other than OPTIONS", () => {
  for (const m of ["GET", "HEAD", "POST", "options"]) {
    assertFail(
      parse(req(`${m} * HTTP/1.1`, "Host: a")),
      400,
      H1_ST_START,
      m.length + 1,
      m,
    );
  }
});

Deno.test("h1ParseHead() answers CONNECT with 405 whatever its target", () => {
  for (const t of ["example.com:443", "/", "http://a/"]) {
    const p = parse(req(`CONNECT ${t} HTTP/1.1`, "Host: a"));
    assertFail(p, 405, H1_ST_START, 0, t);
    assert.equal(p.msg.meth, HTTP_METH_CONNECT);
  }
});

// -- versions -----------------------------------------------------------------

Deno.test("h1ParseHead() accepts HTTP/1.0 and HTTP/1.1 and flags 1.1", () => {
  const p10 = parse(req("GET / HTTP/1.0"));
  assertOk(p10);
  assert.ok(!hasFlag(p10, H1_MF_VER_11));
  const p11 = parse(req("GET / HTTP/1.1", "Host: a"));
  assertOk(p11);
  assert.ok(hasFlag(p11, H1_MF_VER_11));
});

Deno.test("h1ParseHead() rejects an HTTP/0.9 request line (no version) with 400", () => {
  const s = req("GET /index.html");
  assertFail(parse(s), 400, H1_ST_START, s.indexOf("\r"));
});

Deno.test("h1ParseHead() answers HTTP/2.0 and HTTP/1.2 requests with 505", () => {
  for (const v of ["HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/3.0", "HTTP/1.9"]) {
    assertFail(parse(req(`GET / ${v}`, "Host: a")), 505, H1_ST_START, 6, v);
  }
});

Deno.test("h1ParseHead() rejects a malformed version with 400", () => {
  for (
    const v of [
      "http/1.1",
      "HTTP/1",
      "HTTP/1.",
      "HTTP/11",
      "HTTP/1,1",
      "HTTP/a.b",
      "HTTP/1.1x",
      "HTTP/1.10",
      "HTTP/10.1",
      "HTTP 1.1",
      "HTTPS/1.1",
      "HTTP/-1.1",
    ]
  ) {
    const p = parse(req(`GET / ${v}`, "Host: a"));
    assert.equal(p.r, -1, v);
    assert.equal(p.msg.errCode, 400, `${v}: "${p.msg.errMsg}"`);
    assert.equal(p.msg.errState, H1_ST_START, v);
  }
});

// -- status line --------------------------------------------------------------

Deno.test("h1ParseHead() parses a status line into status and reason", () => {
  const p = parseRes(resp("HTTP/1.1 404 Not Found", "Content-Length: 0"));
  assertOk(p);
  assert.equal(p.msg.status, 404);
  assert.equal(text(p.a, p.msg.reasonPos, p.msg.reasonLen), "Not Found");
  assert.ok(hasFlag(p, H1_MF_VER_11 | H1_MF_RESP | H1_MF_CLEN));
  assert.equal(p.msg.bodyLen, 0);
});

Deno.test("h1ParseHead() accepts a status line without reason, with or without the space", () => {
  for (const line of ["HTTP/1.1 204", "HTTP/1.1 204 ", "HTTP/1.0 204"]) {
    const p = parseRes(resp(line));
    assertOk(p, line);
    assert.equal(p.msg.status, 204);
    assert.equal(p.msg.reasonLen, 0);
  }
});

Deno.test("h1ParseHead() accepts interim and unusual three-digit status codes", () => {
  for (const code of [100, 101, 103, 599, 999]) {
    const p = parseRes(resp(`HTTP/1.1 ${code} X`));
    assertOk(p, String(code));
    assert.equal(p.msg.status, code);
  }
});

Deno.test("h1ParseHead() rejects a status code that is not three digits with 502", () => {
  for (
    const line of [
      "HTTP/1.1 20 OK",
      "HTTP/1.1 2000 OK",
      "HTTP/1.1 2x0 OK",
      "HTTP/1.1 099 Low",
      "HTTP/1.1 +20 OK",
      "HTTP/1.1  200 OK",
      "HTTP/1.1",
      "HTTP/1.1 ",
      "HTTP/1.1\t200 OK",
      "HTTP/1.1 200\tOK",
    ]
  ) {
    const p = parseRes(resp(line));
    assertFail(p, 502, H1_ST_START, undefined, JSON.stringify(line));
  }
});

Deno.test("h1ParseHead() answers 502 for a response with an unsupported or malformed version", () => {
  for (const v of ["HTTP/2.0", "HTTP/1.2", "http/1.1", "HTTP/1", "ICY"]) {
    assertFail(parseRes(resp(`${v} 200 OK`)), 502, H1_ST_START, 0, v);
  }
});

Deno.test("h1ParseHead() accepts HTAB and obs-text in a reason phrase but not control characters", () => {
  const ok = parseRes(resp("HTTP/1.1 200 Tr\xe8s\tbien"));
  assertOk(ok);
  assert.equal(text(ok.a, ok.msg.reasonPos, ok.msg.reasonLen), "Tr\xe8s\tbien");
  assertFail(parseRes(resp("HTTP/1.1 200 O\x00K")), 502, H1_ST_START, 14);
  assertFail(parseRes(resp("HTTP/1.1 200 O\x7fK")), 502, H1_ST_START, 14);
});

// -- header fields --------------------------------------------------------------

Deno.test("h1ParseHead() accepts header names made of any tchar", () => {
  const p = parse(get("X-a!#$%&'*+.^_`|~09: v"));
  assertOk(p);
  assert.deepEqual(hdr(p, 1), ["X-a!#$%&'*+.^_`|~09", "v"]);
});

Deno.test("h1ParseHead() rejects a header name with a non-token character", () => {
  for (const name of ["X(a", "X/a", "X@a", "X\x80a", "X\x00a", 'X"a', "X[a"]) {
    const s = get(`${name}: v`);
    const at = s.indexOf(name) + 1;
    assertFail(parse(s), 400, H1_ST_HDR_NAME, at, JSON.stringify(name));
  }
});

Deno.test("h1ParseHead() rejects a header line without a colon", () => {
  const s = get("NoColonHere");
  assertFail(parse(s), 400, H1_ST_HDR_NAME, s.indexOf("NoColonHere") + 11);
});

Deno.test("h1ParseHead() rejects an empty header name", () => {
  const s = get(": value");
  assertFail(parse(s), 400, H1_ST_HDR_NAME, s.indexOf(": value"));
});

Deno.test("h1ParseHead() rejects whitespace between the header name and the colon", () => {
  for (const ws of [" ", "\t", "  "]) {
    const s = req("GET / HTTP/1.1", `Host${ws}: a`);
    assertFail(parse(s), 400, H1_ST_HDR_NAME, s.indexOf(ws + ":"), JSON.stringify(ws));
  }
  // The same for a response, where it is the server's fault.
  const r = resp("HTTP/1.1 200 OK", "Content-Length : 0");
  assertFail(parseRes(r), 502, H1_ST_HDR_NAME, r.indexOf(" :"));
});

Deno.test("h1ParseHead() rejects obs-fold continuation lines", () => {
  for (const ws of [" ", "\t"]) {
    const s = get("X-Long: part one", `${ws}part two`);
    assertFail(parse(s), 400, H1_ST_HDR_NAME, s.indexOf(`${ws}part two`), JSON.stringify(ws));
  }
  // A space before the first header too.
  const s = req("GET / HTTP/1.1", " Host: a");
  assertFail(parse(s), 400, H1_ST_HDR_NAME, s.indexOf(" Host"));
});

Deno.test("h1ParseHead() rejects NUL in a header value", () => {
  const s = get("X: a\x00b");
  assertFail(parse(s), 400, H1_ST_HDR_VAL, s.indexOf("\x00"));
  const r = resp("HTTP/1.1 200 OK", "X: a\x00b");
  assertFail(parseRes(r), 502, H1_ST_HDR_VAL, r.indexOf("\x00"));
});

Deno.test("h1ParseHead() rejects control characters other than HTAB in a header value", () => {
  for (let c = 1; c < 0x20; c++) {
    if (c === 0x09 || c === 0x0a || c === 0x0d) continue;
    const s = get(`X: a${String.fromCharCode(c)}b`);
    assertFail(parse(s), 400, H1_ST_HDR_VAL, s.indexOf("X: a") + 4, `0x${c.toString(16)}`);
  }
  const s = get("X: a\x7fb");
  assertFail(parse(s), 400, H1_ST_HDR_VAL, s.indexOf("\x7f"), "DEL");
});

Deno.test("h1ParseHead() rejects a CR not followed by LF", () => {
  const inValue = get("X: a\rb");
  assertFail(parse(inValue), 400, H1_ST_HDRS, inValue.indexOf("\rb"));
  const inLine = "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n";
  assertFail(parse(inLine), 400, H1_ST_START, 5);
  const atEnd = "GET / HTTP/1.1\r\nHost: a\r\n\rX\r\n\r\n";
  assertFail(parse(atEnd), 400, H1_ST_HDRS, atEnd.indexOf("\rX"));
  const inResp = "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n";
  assertFail(parseRes(inResp), 502, H1_ST_HDRS, inResp.indexOf("\rb"));
});

Deno.test("h1ParseHead() rejects a bare LF", () => {
  assertFail(parse("GET / HTTP/1.1\nHost: a\r\n\r\n"), 400, H1_ST_START, 14);
  const inHdrs = "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n";
  assertFail(parse(inHdrs), 400, H1_ST_HDRS, inHdrs.indexOf("\nX"));
  const atEnd = "GET / HTTP/1.1\r\nHost: a\r\n\n";
  assertFail(parse(atEnd), 400, H1_ST_HDRS, atEnd.length - 1);
  assertFail(parse("\n"), 400, H1_ST_START, 0);
  assertFail(parseRes("HTTP/1.1 200 OK\n\n"), 502, H1_ST_START, 15);
});

Deno.test("h1ParseHead() accepts HTAB and obs-text (0x80-0xff) in header values", () => {
  let v = "a\tb ";
  for (let c = 0x80; c <= 0xff; c++) v += String.fromCharCode(c);
  v += "z";
  const p = parse(get(`X: ${v}`));
  assertOk(p);
  assert.deepEqual(hdr(p, 1), ["X", v]);
});

Deno.test("h1ParseHead() trims OWS around header values and keeps inner whitespace", () => {
  const s = get("A:plain", "B: \t spaced \t ", "C:\t\tx  y\t", "D:   ", "E:");
  const p = parse(s);
  assertOk(p);
  assert.equal(p.msg.nHdrs, 6);
  assert.deepEqual(hdr(p, 1), ["A", "plain"]);
  assert.deepEqual(hdr(p, 2), ["B", "spaced"]);
  assert.deepEqual(hdr(p, 3), ["C", "x  y"]);
  assert.deepEqual(hdr(p, 4), ["D", ""]);
  assert.deepEqual(hdr(p, 5), ["E", ""]);
  // Offsets point into the message: B's value starts after ": \t ".
  const h = p.msg.hdrs;
  assert.equal(h[2 * 4], s.indexOf("B:"));
  assert.equal(h[2 * 4 + 1], 1);
  assert.equal(h[2 * 4 + 2], s.indexOf("spaced"));
  assert.equal(h[2 * 4 + 3], 6);
  assert.equal(h[3 * 4 + 2], s.indexOf("x  y"));
});

Deno.test("h1ParseHead() keeps header names and values as sent, in order", () => {
  const p = parse(get("x-LOWER-upper: MiXeD", "X-Dup: 1", "x-dup: 2"));
  assertOk(p);
  assert.deepEqual(hdr(p, 1), ["x-LOWER-upper", "MiXeD"]);
  assert.deepEqual(hdr(p, 2), ["X-Dup", "1"]);
  assert.deepEqual(hdr(p, 3), ["x-dup", "2"]);
});

// -- Content-Length -------------------------------------------------------------

Deno.test("h1ParseHead() reads Content-Length into bodyLen", () => {
  for (const [v, n] of [["0", 0], ["5", 5], ["00012", 12], ["1234567890", 1234567890]] as const) {
    const p = parse(req("POST / HTTP/1.1", "Host: a", `content-LENGTH: ${v}`));
    assertOk(p, v);
    assert.ok(hasFlag(p, H1_MF_CLEN));
    assert.equal(p.msg.bodyLen, n);
  }
});

Deno.test("h1ParseHead() rejects Content-Length with a sign", () => {
  for (const v of ["+5", "-5", "5-"]) {
    const s = get(`Content-Length: ${v}`);
    assertFail(parse(s), 400, H1_ST_HDR_VAL, s.indexOf(v) + v.search(/[+-]/), v);
  }
});

Deno.test("h1ParseHead() rejects a hexadecimal Content-Length", () => {
  for (const v of ["0x10", "1a", "A"]) {
    const s = get(`Content-Length: ${v}`);
    assertFail(parse(s), 400, H1_ST_HDR_VAL, s.indexOf(v) + v.search(/[xaA]/), v);
  }
});

Deno.test("h1ParseHead() rejects Content-Length with spaces or a list inside", () => {
  for (const v of ["1 2", "1\t2", "5,5", "5, 5", "5.0", "5;"]) {
    const s = get(`Content-Length: ${v}`);
    assertFail(parse(s), 400, H1_ST_HDR_VAL, s.indexOf(v) + 1, JSON.stringify(v));
  }
});

Deno.test("h1ParseHead() rejects an empty Content-Length", () => {
  for (const v of ["", "   "]) {
    const s = get(`Content-Length:${v}`);
    assertFail(parse(s), 400, H1_ST_HDR_VAL, s.indexOf("\r\n\r\n"), JSON.stringify(v));
  }
});

Deno.test("h1ParseHead() rejects Content-Length above 2^53 - 1", () => {
  const max = parse(get("Content-Length: 9007199254740991"));
  assertOk(max);
  assert.equal(max.msg.bodyLen, Number.MAX_SAFE_INTEGER);
  for (const v of ["9007199254740992", "9999999999999999", "18446744073709551616"]) {
    const s = get(`Content-Length: ${v}`);
    assertFail(parse(s), 400, H1_ST_HDR_VAL, s.indexOf(v), v);
  }
});

Deno.test("h1ParseHead() accepts identical duplicate Content-Length headers", () => {
  const p = parse(get("Content-Length: 42", "X: y", "content-length: 42"));
  assertOk(p);
  assert.equal(p.msg.bodyLen, 42);
});

Deno.test("h1ParseHead() rejects differing duplicate Content-Length headers", () => {
  const s = get("Content-Length: 42", "Content-Length: 43");
  assertFail(parse(s), 400, H1_ST_HDR_VAL, s.indexOf("43"));
  // Same number written differently is the same value.
  assertOk(parse(get("Content-Length: 42", "Content-Length: 042")));
});

Deno.test("h1ParseHead() answers 502 for an invalid Content-Length in a response", () => {
  for (const v of ["+1", "x", "", "1 2"]) {
    const p = parseRes(resp("HTTP/1.1 200 OK", `Content-Length: ${v}`));
    assertFail(p, 502, H1_ST_HDR_VAL, undefined, JSON.stringify(v));
  }
  const diff = parseRes(resp("HTTP/1.1 200 OK", "Content-Length: 1", "Content-Length: 2"));
  assertFail(diff, 502, H1_ST_HDR_VAL);
});

// -- Transfer-Encoding ------------------------------------------------------------

Deno.test("h1ParseHead() accepts Transfer-Encoding: chunked, in any case", () => {
  for (const v of ["chunked", "Chunked", "CHUNKED", "  chunked  "]) {
    const p = parse(req("POST / HTTP/1.1", "Host: a", `Transfer-Encoding: ${v}`));
    assertOk(p, v);
    assert.ok(hasFlag(p, H1_MF_TE | H1_MF_CHNK), v);
    assert.ok(!hasFlag(p, H1_MF_CLEN));
  }
});

Deno.test("h1ParseHead() accepts known codings before a final chunked", () => {
  for (const v of ["gzip, chunked", "gzip,chunked", "deflate , x-gzip,\tchunked"]) {
    const p = parse(req("POST / HTTP/1.1", "Host: a", `Transfer-Encoding: ${v}`));
    assertOk(p, v);
    assert.ok(hasFlag(p, H1_MF_TE | H1_MF_CHNK), v);
  }
});

Deno.test("h1ParseHead() reads several Transfer-Encoding headers as one list", () => {
  const p = parse(
    req("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: gzip", "Transfer-Encoding: chunked"),
  );
  assertOk(p);
  assert.ok(hasFlag(p, H1_MF_TE | H1_MF_CHNK));
  const s = req(
    "POST / HTTP/1.1",
    "Host: a",
    "Transfer-Encoding: chunked",
    "Transfer-Encoding: gzip",
  );
  assertFail(parse(s), 400, H1_ST_HDR_VAL, s.lastIndexOf("gzip"));
});

Deno.test("h1ParseHead() rejects chunked followed by another coding", () => {
  const s = req("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked, gzip");
  assertFail(parse(s), 400, H1_ST_HDR_VAL, s.indexOf("gzip"));
});

Deno.test("h1ParseHead() rejects chunked applied twice", () => {
  const s = req("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked, chunked");
  assertFail(parse(s), 400, H1_ST_HDR_VAL, s.lastIndexOf("chunked"));
  const two = req(
    "POST / HTTP/1.1",
    "Host: a",
    "Transfer-Encoding: chunked",
    "Transfer-Encoding: chunked",
  );
  assertFail(parse(two), 400, H1_ST_HDR_VAL, two.lastIndexOf("chunked"));
});

Deno.test("h1ParseHead() answers an unknown transfer coding in a request with 501", () => {
  for (const v of ["br, chunked", "identity, chunked", "chunky", "xchunked"]) {
    const s = req("POST / HTTP/1.1", "Host: a", `Transfer-Encoding: ${v}`);
    assertFail(parse(s), 501, H1_ST_HDR_VAL, s.indexOf(v), v);
  }
});

Deno.test("h1ParseHead() answers an unknown transfer coding in a response with 502", () => {
  const s = resp("HTTP/1.1 200 OK", "Transfer-Encoding: br, chunked");
  assertFail(parseRes(s), 502, H1_ST_HDR_VAL, s.indexOf("br"));
});

Deno.test("h1ParseHead() rejects an empty or malformed Transfer-Encoding", () => {
  for (const v of ["", "   ", ",", "gzip chunked", "chunked;q=1", '"chunked"']) {
    const s = req("POST / HTTP/1.1", "Host: a", `Transfer-Encoding: ${v}`);
    assertFail(parse(s), 400, H1_ST_HDR_VAL, undefined, JSON.stringify(v));
  }
  const r = resp("HTTP/1.1 200 OK", "Transfer-Encoding:");
  assertFail(parseRes(r), 502, H1_ST_HDR_VAL);
});

Deno.test("h1ParseHead() rejects Transfer-Encoding in an HTTP/1.0 request", () => {
  const s = req("POST / HTTP/1.0", "Transfer-Encoding: chunked");
  assertFail(parse(s), 400, H1_ST_HDRS, s.indexOf("Transfer"));
});

Deno.test("h1ParseHead() rejects a request Transfer-Encoding without a final chunked", () => {
  const s = req("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: gzip");
  assertFail(parse(s), 400, H1_ST_HDRS);
});

Deno.test("h1ParseHead() allows a response Transfer-Encoding without chunked (body until close)", () => {
  for (const line of ["HTTP/1.1 200 OK", "HTTP/1.0 200 OK"]) {
    const p = parseRes(resp(line, "Transfer-Encoding: gzip"));
    assertOk(p, line);
    assert.ok(hasFlag(p, H1_MF_TE));
    assert.ok(!hasFlag(p, H1_MF_CHNK));
  }
});

Deno.test("h1ParseHead() rejects Transfer-Encoding with Content-Length in a request with 400", () => {
  for (
    const hs of [
      ["Transfer-Encoding: chunked", "Content-Length: 5"],
      ["Content-Length: 5", "Transfer-Encoding: chunked"],
      ["Content-Length: 0", "Transfer-Encoding: chunked"],
    ]
  ) {
    const s = req("POST / HTTP/1.1", "Host: a", ...hs);
    assertFail(parse(s), 400, H1_ST_HDRS, undefined, hs.join(" + "));
  }
});

Deno.test("h1ParseHead() rejects Transfer-Encoding with Content-Length in a response with 502", () => {
  const s = resp("HTTP/1.1 200 OK", "Content-Length: 5", "Transfer-Encoding: chunked");
  assertFail(parseRes(s), 502, H1_ST_HDRS);
});

// -- Host -----------------------------------------------------------------------------

Deno.test("h1ParseHead() rejects an HTTP/1.1 request without Host", () => {
  const p = parse(req("GET / HTTP/1.1", "Accept: */*"));
  assertFail(p, 400, H1_ST_HDRS);
  // Even with an absolute-form target.
  assertFail(parse(req("GET http://a/ HTTP/1.1")), 400, H1_ST_HDRS);
});

Deno.test("h1ParseHead() allows an HTTP/1.0 request without Host", () => {
  const p = parse(req("GET / HTTP/1.0", "Accept: */*"));
  assertOk(p);
  assert.ok(!hasFlag(p, H1_MF_HOST));
});

Deno.test("h1ParseHead() rejects a duplicate Host", () => {
  for (const second of ["Host: a", "host: b", "HOST:"]) {
    const s = req("GET / HTTP/1.1", "Host: a", "X: 1", second);
    assertFail(parse(s), 400, H1_ST_HDRS, s.indexOf(second, s.indexOf("X: 1")), second);
  }
  // In HTTP/1.0 too.
  assertFail(parse(req("GET / HTTP/1.0", "Host: a", "Host: a")), 400, H1_ST_HDRS);
});

Deno.test("h1ParseHead() rejects a Host with invalid characters", () => {
  for (
    const v of [
      "a b",
      "a/b",
      "user@a",
      "a,b",
      "a\x80",
      "[::1",
      "[::g]",
      "a:x",
      "a:123456",
      "a:80:80",
    ]
  ) {
    const s = req("GET / HTTP/1.1", `Host: ${v}`);
    assertFail(parse(s), 400, H1_ST_HDR_VAL, s.indexOf(v), JSON.stringify(v));
  }
});

Deno.test("h1ParseHead() accepts an empty Host", () => {
  const p = parse(req("GET / HTTP/1.1", "Host:"));
  assertOk(p);
  assert.ok(hasFlag(p, H1_MF_HOST));
  assert.deepEqual(hdr(p, 0), ["Host", ""]);
});

Deno.test("h1ParseHead() accepts Host names, IPv4 and IPv6 literals with ports", () => {
  for (
    const v of ["example.com", "EXAMPLE.com:8080", "127.0.0.1:80", "[::1]", "[2001:db8::1]:443"]
  ) {
    const p = parse(req("GET / HTTP/1.1", `Host: ${v} `));
    assertOk(p, v);
    assert.deepEqual(hdr(p, 0), ["Host", v]);
  }
});

Deno.test("h1ParseHead() ignores Host in a response", () => {
  const p = parseRes(resp("HTTP/1.1 200 OK", "Host: a b", "Host: c"));
  assertOk(p);
  assert.ok(!hasFlag(p, H1_MF_HOST));
});

// -- Connection, Upgrade, Expect -----------------------------------------------------------

Deno.test("h1ParseHead() sets Connection flags from its tokens, case-insensitively", () => {
  const cases: [string, number][] = [
    ["close", H1_MF_CONN_CLOSE],
    ["Keep-Alive", H1_MF_CONN_KAL],
    ["UPGRADE", H1_MF_CONN_UPG],
    ["keep-alive, Upgrade", H1_MF_CONN_KAL | H1_MF_CONN_UPG],
    [" ,close,, keep-alive ,", H1_MF_CONN_CLOSE | H1_MF_CONN_KAL],
  ];
  const all = H1_MF_CONN_CLOSE | H1_MF_CONN_KAL | H1_MF_CONN_UPG | H1_MF_CONN_HDRS;
  for (const [v, want] of cases) {
    const p = parse(get(`Connection: ${v}`));
    assertOk(p, v);
    assert.equal(p.msg.flags & all, want, v);
  }
});

Deno.test("h1ParseHead() flags other Connection tokens as named hop-by-hop headers", () => {
  for (const v of ["X-Foo", "close, X-Foo", "closed", "keep-alive2"]) {
    const p = parse(get(`Connection: ${v}`));
    assertOk(p, v);
    assert.ok(hasFlag(p, H1_MF_CONN_HDRS), v);
  }
  // Several Connection headers add up.
  const p = parse(get("Connection: close", "Connection: upgrade"));
  assert.ok(hasFlag(p, H1_MF_CONN_CLOSE | H1_MF_CONN_UPG));
  // Responses too.
  const r = parseRes(resp("HTTP/1.1 200 OK", "Connection: close, X-Foo"));
  assertOk(r);
  assert.ok(hasFlag(r, H1_MF_CONN_CLOSE | H1_MF_CONN_HDRS));
});

Deno.test("h1ParseHead() flags an Upgrade header", () => {
  const p = parse(get("Connection: upgrade", "upgrade: websocket"));
  assertOk(p);
  assert.ok(hasFlag(p, H1_MF_UPGRADE | H1_MF_CONN_UPG));
  assert.ok(!hasFlag(parse(get()), H1_MF_UPGRADE));
});

Deno.test("h1ParseHead() flags Expect: 100-continue in requests only", () => {
  for (const v of ["100-continue", "100-Continue", " 100-CONTINUE "]) {
    const p = parse(req("POST / HTTP/1.1", "Host: a", `Expect: ${v}`, "Content-Length: 1"));
    assertOk(p, v);
    assert.ok(hasFlag(p, H1_MF_EXPECT_100), v);
  }
  for (const v of ["100-continued", "200-ok", ""]) {
    const p = parse(get(`Expect: ${v}`));
    assertOk(p, v);
    assert.ok(!hasFlag(p, H1_MF_EXPECT_100), v);
  }
  const r = parseRes(resp("HTTP/1.1 200 OK", "Expect: 100-continue"));
  assertOk(r);
  assert.ok(!hasFlag(r, H1_MF_EXPECT_100));
});

// -- limits -------------------------------------------------------------------------------

Deno.test("h1ParseHead() answers 414 when the head limit is reached within the request line", () => {
  const s = req(`GET /${"a".repeat(200)} HTTP/1.1`, "Host: a");
  const p = parse(s, { lim: { maxHead: 100 } });
  assertFail(p, 414, H1_ST_START, 100);
  // Even before the rest arrived: 100 bytes without the end of the line is enough.
  const part = parse(s.slice(0, 100), { lim: { maxHead: 100 } });
  assertFail(part, 414, H1_ST_START);
});

Deno.test("h1ParseHead() answers 431 when the head limit is reached within the headers", () => {
  const s = get(`X-Big: ${"b".repeat(200)}`);
  assertFail(parse(s, { lim: { maxHead: 100 } }), 431, H1_ST_HDRS, 100);
  // The request line ends exactly at the limit: the headers do not fit.
  const line = "GET / HTTP/1.1\r\n";
  assertFail(parse(get(), { lim: { maxHead: line.length } }), 431, H1_ST_HDRS);
});

Deno.test("h1ParseHead() answers 502 when a response head exceeds the limit", () => {
  const r = resp(`HTTP/1.1 200 ${"O".repeat(200)}`);
  assertFail(parseRes(r, { maxHead: 100 }), 502, H1_ST_HDRS);
  const h = resp("HTTP/1.1 200 OK", `X: ${"v".repeat(200)}`);
  assertFail(parseRes(h, { maxHead: 100 }), 502, H1_ST_HDRS);
});

Deno.test("h1ParseHead() accepts a head of exactly maxHead bytes and no more", () => {
  const s = get("X: 123");
  assertOk(parse(s, { lim: { maxHead: s.length } }));
  // A body after it does not count.
  const withBody = parse(s + "body", { lim: { maxHead: s.length } });
  assert.equal(withBody.r, s.length);
  assertFail(parse(s, { lim: { maxHead: s.length - 1 } }), 431, H1_ST_HDRS);
});

Deno.test("h1ParseHead() answers 431 for more than maxHdrs headers and accepts exactly maxHdrs", () => {
  const hs = Array.from({ length: 4 }, (_, i) => `X-${i}: ${i}`);
  const exact = parse(get(...hs.slice(0, 3)), { lim: { maxHdrs: 4 } });
  assertOk(exact);
  assert.equal(exact.msg.nHdrs, 4);
  const s = get(...hs);
  assertFail(parse(s, { lim: { maxHdrs: 4 } }), 431, H1_ST_HDRS, s.indexOf("X-3"));
});

Deno.test("h1ParseHead() answers 502 for a response with more than maxHdrs headers", () => {
  const r = resp("HTTP/1.1 200 OK", "A: 1", "B: 2", "C: 3");
  assertFail(parseRes(r, { maxHdrs: 2 }), 502, H1_ST_HDRS, r.indexOf("C: 3"));
});

Deno.test("h1ParseHead() answers 413 when a request Content-Length exceeds maxBody", () => {
  const lim = { maxBody: 1000 };
  assertOk(parse(req("POST / HTTP/1.1", "Host: a", "Content-Length: 1000"), { lim }));
  const s = req("POST / HTTP/1.1", "Host: a", "Content-Length: 1001");
  assertFail(parse(s, { lim }), 413, H1_ST_HDRS);
  // 0 means no limit.
  assertOk(parse(req("POST / HTTP/1.1", "Host: a", "Content-Length: 99999999"), { lim: {} }));
  // Responses are not limited by maxBody.
  assertOk(parseRes(resp("HTTP/1.1 200 OK", "Content-Length: 1001"), lim));
});

// -- incremental use ----------------------------------------------------------------------

Deno.test("h1ParseHead() returns 0 until the empty line arrives", () => {
  const s = get("X: 1");
  const a = bin(s);
  const msg = new HttpMsg(LIM.maxHdrs);
  for (const n of [0, 1, 10, s.indexOf("\r\n\r\n") + 2, s.length - 2, s.length - 1]) {
    assert.equal(h1ParseHead(msg, a, 0, n, LIM), 0, `avail ${n}`);
    assert.equal(msg.headLen, 0);
  }
  assert.equal(h1ParseHead(msg, a, 0, s.length, LIM), s.length);
});

Deno.test("h1ParseHead() returns the same headLen when called again after a complete head", () => {
  const s = get("X: 1");
  const a = bin(s + "more bytes");
  const msg = new HttpMsg(LIM.maxHdrs);
  assert.equal(h1ParseHead(msg, a, 0, a.length, LIM), s.length);
  const nHdrs = msg.nHdrs, flags = msg.flags;
  assert.equal(h1ParseHead(msg, a, 0, a.length, LIM), s.length);
  assert.equal(h1ParseHead(msg, a, 0, 3, LIM), s.length);
  assert.equal(msg.nHdrs, nHdrs);
  assert.equal(msg.flags, flags);
});

Deno.test("h1ParseHead() stops at the end of the head and leaves the body alone", () => {
  const head = req("POST / HTTP/1.1", "Host: a", "Content-Length: 13");
  const p = parse(head + "hello\r\n\r\nworld");
  assert.equal(p.r, head.length);
  assert.equal(p.msg.headLen, head.length);
  assert.equal(p.msg.bodyLen, 13);
  assert.equal(p.msg.nHdrs, 2);
  // Pipelined requests: only the first head.
  const two = parse(get() + get());
  assert.equal(two.r, get().length);
});

Deno.test("h1ParseHead() records offsets relative to base", () => {
  const s = get("X-Name: value");
  const junk = "junk\r\n\r\n";
  const a = bin(junk + s + "tail");
  const msg = new HttpMsg(LIM.maxHdrs);
  assert.equal(h1ParseHead(msg, a, junk.length, s.length, LIM), s.length);
  assert.equal(msg.uriPos, 4);
  const h = msg.hdrs;
  assert.equal(h[4], s.indexOf("X-Name"));
  assert.equal(text(a, junk.length + h[6], h[7]), "value");
});

Deno.test("h1ParseHead() never reads bytes past avail", () => {
  // Bytes after `avail` are poison that would fail the parse if looked at.
  const s = get("X: 1");
  for (let n = 0; n < s.length; n++) {
    for (const poison of [0x00, 0x0a, 0x0d, 0x20]) {
      const a = new Uint8Array(s.length + 8).fill(poison);
      a.set(bin(s.slice(0, n)));
      const msg = new HttpMsg(LIM.maxHdrs);
      assert.equal(h1ParseHead(msg, a, 0, n, LIM), 0, `avail ${n} poison ${poison}`);
    }
  }
});

Deno.test("h1ParseHead() parses the next message after HttpMsg.reset()", () => {
  const a = bin(get("Connection: close") + req("GET /two HTTP/1.0"));
  const msg = new HttpMsg(LIM.maxHdrs);
  const first = h1ParseHead(msg, a, 0, a.length, LIM);
  assert.ok(first > 0);
  assert.ok(msg.flags & H1_MF_CONN_CLOSE);
  msg.reset();
  const second = h1ParseHead(msg, a, first, a.length - first, LIM);
  assert.equal(second, a.length - first);
  assert.equal(text(a, first + msg.uriPos, msg.uriLen), "/two");
  assert.equal(msg.flags, 0);
  // A response message stays a response.
  const res = new HttpMsg(4);
  res.flags = H1_MF_RESP | H1_MF_CHNK | H1_MF_VER_11;
  res.reset();
  assert.equal(res.flags, H1_MF_RESP);
});

/** What a parse ended with, for comparing ways of feeding the same bytes. */
function outcome(r: number, m: HttpMsg) {
  return {
    r,
    headLen: m.headLen,
    errCode: m.errCode,
    errState: m.errState,
    errPos: m.errPos,
    flags: m.flags,
    nHdrs: m.nHdrs,
    bodyLen: m.bodyLen,
    hdrs: Array.from(m.hdrs.subarray(0, m.nHdrs * 4)),
  };
}

/**
 * Feeds `bytes` in steps given by `next(done)` (how many more bytes arrive):
 * the buffer holds only what arrived, after a few junk bytes at `base`, and
 * poison after it.
 */
function feed(
  bytes: Uint8Array,
  resp: boolean,
  lim: H1Limits,
  next: (done: number) => number,
) {
  const base = 3;
  const a = new Uint8Array(base + bytes.length + 4).fill(0);
  a.set(bin("x\r\n"));
  const msg = new HttpMsg(lim.maxHdrs);
  if (resp) msg.flags |= H1_MF_RESP;
  let avail = 0, r = 0;
  while (r === 0 && avail < bytes.length) {
    const n = Math.min(bytes.length - avail, Math.max(1, next(avail)));
    a.set(bytes.subarray(avail, avail + n), base + avail);
    avail += n;
    r = h1ParseHead(msg, a, base, avail, lim);
  }
  return outcome(r, msg);
}

interface SplitCase {
  name: string;
  text: string;
  resp?: boolean;
  lim?: Partial<H1Limits>;
}

const SPLIT_CASES: SplitCase[] = [
  { name: "a minimal HTTP/1.0 GET", text: req("GET / HTTP/1.0") },
  { name: "a GET with several headers", text: get("Accept: */*", "X-A: 1", "Connection: close") },
  {
    name: "a POST with a body after the head",
    text: req("POST /p HTTP/1.1", "Host: a", "Content-Length: 5") + "hello",
  },
  {
    name: "a chunked POST",
    text: req("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: gzip, chunked") + "5\r\nhello\r\n",
  },
  { name: "an absolute-form target", text: req("GET http://a:80/x?y HTTP/1.1", "Host: b") },
  { name: "OWS and obs-text", text: get("X: \t v\xe9 \t", "Y:") },
  {
    name: "a response with reason",
    text: resp("HTTP/1.1 200 OK", "Content-Length: 2") + "ok",
    resp: true,
  },
  { name: "a response without reason", text: resp("HTTP/1.0 304"), resp: true },
  { name: "a bare LF in the request line", text: "GET / HTTP/1.1\nHost: a\r\n\r\n" },
  { name: "a bare LF in the headers", text: "GET / HTTP/1.1\r\nHost: a\nX: 1\r\n\r\n" },
  { name: "a CR not followed by LF", text: get("X: a\rb") },
  { name: "a CR right before the end of the head", text: "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n" },
  { name: "an HTTP/0.9 request line", text: req("GET /") },
  { name: "an HTTP/2.0 request", text: req("GET / HTTP/2.0", "Host: a") },
  { name: "whitespace before a colon", text: get("X : 1") },
  { name: "obs-fold", text: get("X: 1", " 2") },
  { name: "a NUL in a value", text: get("X: \x00") },
  { name: "a Content-Length with a sign", text: get("Content-Length: +1") },
  {
    name: "chunked followed by gzip",
    text: req("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked, gzip"),
  },
  { name: "a missing Host", text: req("GET / HTTP/1.1") },
  { name: "CONNECT", text: req("CONNECT a:443 HTTP/1.1", "Host: a") },
  {
    name: "a request line over maxHead",
    text: req(`GET /${"a".repeat(80)} HTTP/1.1`, "Host: a"),
    lim: { maxHead: 40 },
  },
  { name: "headers over maxHead", text: get(`X: ${"v".repeat(80)}`), lim: { maxHead: 60 } },
  { name: "too many headers", text: get("A: 1", "B: 2", "C: 3"), lim: { maxHdrs: 3 } },
  { name: "an incomplete head", text: "GET / HTTP/1.1\r\nHost: a\r\n" },
  { name: "a bad status code", text: resp("HTTP/1.1 2x0 OK"), resp: true },
];

for (const c of SPLIT_CASES) {
  Deno.test(`h1ParseHead() gives one result whatever the split: ${c.name}`, () => {
    const bytes = bin(c.text);
    const lim = { ...LIM, ...c.lim };
    const resp = c.resp ?? false;
    const whole = feed(bytes, resp, lim, () => bytes.length);
    const byByte = feed(bytes, resp, lim, () => 1);
    assert.deepEqual(byByte, whole, "byte by byte");
    for (let seed = 1; seed <= 8; seed++) {
      const rnd = mulberry32(seed);
      const split = feed(bytes, resp, lim, () => 1 + Math.floor(rnd() * 12));
      assert.deepEqual(split, whole, `random splits, seed ${seed}`);
    }
  });
}

// A CR on the last byte maxHead allows: the byte after it is outside the
// scan window, so the answer must not depend on whether it has arrived yet.
Deno.test({
  name:
    "h1ParseHead() gives one result whatever the split when a CR is the last byte maxHead allows",
  fn() {
    const s = get("X: abcd\rZ");
    const lim = { ...LIM, maxHead: s.indexOf("\rZ") + 1 };
    const bytes = bin(s);
    const whole = feed(bytes, false, lim, () => bytes.length);
    const byByte = feed(bytes, false, lim, () => 1);
    assert.deepEqual(byByte, whole);
  },
});
