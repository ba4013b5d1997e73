/**
 * Cookie persistence and the request keys of `uri` and `hdr(name)`
 * balancing, driven by real heads: each head is parsed by h1ParseHead(), the
 * persistence code asks for changes in a RewriteOptions, and h1Rewrite()
 * applies them, so the tests see the exact head that would be forwarded.
 */
import assert from "node:assert/strict";
import {
  CookiePersist,
  type CookieSpec,
  hdrKey,
  PERSIST_VALID,
  uriKey,
  urlParamKey,
} from "../../lib/backend/persist.ts";
import { Server } from "../../lib/backend/server.ts";
import { lc } from "../../lib/http/h1_chars.ts";
import { h1ParseHead } from "../../lib/http/h1_parser.ts";
import { h1Rewrite, type RewriteOptions } from "../../lib/http/h1_rewrite.ts";
import { H1_MF_RESP, type H1Limits, HttpMsg } from "../../lib/http/h1_types.ts";
import { hashStr } from "../../lib/lb/hash.ts";
import { bin } from "../helpers/bytes.ts";

const LIM: H1Limits = { maxHead: 65536, maxHdrs: 64, maxBody: 0 };

/** Latin-1 text of `a`. */
function text(a: Uint8Array): string {
  return String.fromCharCode(...a);
}

/** A head with the given start line and header lines, then the empty line. */
function head(line: string, ...hdrs: string[]): string {
  return line + "\r\n" + hdrs.map((h) => h + "\r\n").join("") + "\r\n";
}

/** A GET of "/" with Host and the given header lines. */
function get(...hdrs: string[]): string {
  return head("GET / HTTP/1.1", "Host: example.com", ...hdrs);
}

/** A 200 response with the given header lines and an empty body. */
function ok(...hdrs: string[]): string {
  return head("HTTP/1.1 200 OK", ...hdrs, "Content-Length: 0");
}

/** Parses `s` (a complete head) placed at `base` in a larger buffer. */
function parse(s: string, resp: boolean, base = 0): { msg: HttpMsg; a: Uint8Array } {
  const bytes = bin(s);
  const a = new Uint8Array(base + bytes.length);
  a.fill(0x2a, 0, base); // junk before the head: offsets must be relative to base
  a.set(bytes, base);
  const msg = new HttpMsg(LIM.maxHdrs);
  if (resp) msg.flags |= H1_MF_RESP;
  const r = h1ParseHead(msg, a, base, bytes.length, LIM);
  assert.ok(r > 0, `test head must parse: ${msg.errCode} "${msg.errMsg}" in ${s}`);
  return { msg, a };
}

function rewriteOptions(): RewriteOptions {
  return { upgrade: false, connection: null, drop: [], add: [] };
}

function srv(name: string, cookie?: string): Server {
  return new Server(
    name,
    { kind: "tcp", host: "127.0.0.1", port: 9000 },
    0,
    { xprt: {} as never, hs: null },
    { weight: 1, maxconn: 0, cookie },
  );
}

const S1 = srv("s1");
const S2 = srv("s2", "b2");
const SERVERS = [S1, S2];

function insert(opts: Partial<CookieSpec> = {}): CookieSpec {
  return {
    name: "SRV",
    mode: "insert",
    indirect: false,
    nocache: false,
    attributes: "Path=/",
    ...opts,
  };
}

function prefix(opts: Partial<CookieSpec> = {}): CookieSpec {
  return { ...insert(), name: "JSESSIONID", mode: "prefix", ...opts };
}

interface ReqResult {
  /** What request() returned. */
  r: number;
  /** The stream's sticky server afterwards. */
  stickTo: Server | null;
  /** The head as it would be forwarded. */
  out: string;
}

/** Runs CookiePersist.request() on request head `s` and rewrites it. */
function onRequest(cfg: CookieSpec, s: string, base = 0): ReqResult {
  const p = new CookiePersist(cfg, SERVERS);
  const strm = { stickTo: null } as { stickTo: Server | null };
  const rw = rewriteOptions();
  const { msg, a } = parse(s, false, base);
  const r = p.request(strm as never, msg, a, base, rw);
  return { r, stickTo: strm.stickTo, out: text(h1Rewrite(msg, a, base, rw)) };
}

/** Runs CookiePersist.response() for a response head `s` from `server`, and rewrites it. */
function onResponse(
  cfg: CookieSpec,
  server: Server,
  valid: boolean,
  s: string,
  base = 0,
): string {
  const p = new CookiePersist(cfg, SERVERS);
  const rw = rewriteOptions();
  const { msg, a } = parse(s, true, base);
  p.response(server, valid, msg, a, base, rw);
  return text(h1Rewrite(msg, a, base, rw));
}

// -- insert mode: requests -------------------------------------------------------------

Deno.test("CookiePersist.request() sticks to the server named by the cookie", () => {
  const r = onRequest(insert(), get("Cookie: SRV=b2"));
  assert.equal(r.r, PERSIST_VALID);
  assert.equal(r.stickTo, S2);
  assert.equal(r.out, get("Cookie: SRV=b2"), "without indirect the cookie is forwarded");
  const r1 = onRequest(insert(), get("Cookie: a=1; SRV=s1; b=2"));
  assert.equal(r1.r, PERSIST_VALID);
  assert.equal(r1.stickTo, S1, "a server's cookie defaults to its name");
});

Deno.test("CookiePersist.request() ignores a request without our cookie", () => {
  for (
    const h of [
      get(),
      get("Cookie: other=s1"),
      get("Cookie: SRVX=s1; XSRV=b2"),
      get("Cookie: srv=s1"), // cookie names are case-sensitive
      get("Cookie: SRV"), // no "="
      get("X-Cookie: SRV=s1"),
    ]
  ) {
    const r = onRequest(insert({ indirect: true }), h);
    assert.equal(r.r, 0, h);
    assert.equal(r.stickTo, null, h);
    assert.equal(r.out, h, `head unchanged: ${h}`);
  }
});

Deno.test("CookiePersist.request() finds the cookie in any Cookie header, name case-insensitive", () => {
  const r = onRequest(insert(), get("cookie: a=1", "COOKIE: SRV=b2"));
  assert.equal(r.r, PERSIST_VALID);
  assert.equal(r.stickTo, S2);
  const first = onRequest(insert(), get("Cookie: SRV=s1", "Cookie: SRV=b2"));
  assert.equal(first.stickTo, S1, "the first occurrence wins");
});

Deno.test("CookiePersist.request() with an unknown cookie value gives no stickiness", () => {
  for (const v of ["zz", "", "S1", "s1 x", '"s1"']) {
    const h = get(`Cookie: SRV=${v}; k=1`);
    const r = onRequest(insert(), h);
    assert.equal(r.r, 0, v);
    assert.equal(r.stickTo, null, v);
    assert.equal(r.out, h, "without indirect nothing is rewritten");
  }
});

Deno.test("CookiePersist.request() indirect: removes only our cookie from the Cookie header", () => {
  const r = onRequest(insert({ indirect: true }), get("Accept: */*", "Cookie: a=1; SRV=b2; c=3"));
  assert.equal(r.r, PERSIST_VALID);
  assert.equal(r.stickTo, S2);
  assert.equal(r.out, get("Accept: */*", "Cookie: a=1; c=3"));
});

Deno.test("CookiePersist.request() indirect: a Cookie header holding only ours goes away", () => {
  const r = onRequest(insert({ indirect: true }), get("Cookie: SRV=s1", "X: 1"));
  assert.equal(r.r, PERSIST_VALID);
  assert.equal(r.out, get("X: 1"));
  assert.doesNotMatch(r.out, /cookie/i);
});

Deno.test("CookiePersist.request() indirect: merges several Cookie headers, keeping the others' pairs", () => {
  const r = onRequest(
    insert({ indirect: true }),
    get("Cookie: a=1", "X: 1", "Cookie: SRVX=2; SRV=s1", "Y: 2"),
  );
  assert.equal(r.stickTo, S1);
  assert.equal(r.out, get("X: 1", "Y: 2", "Cookie: a=1; SRVX=2"));
});

Deno.test("CookiePersist.request() indirect: removes an unknown value of our cookie too", () => {
  const r = onRequest(insert({ indirect: true }), get("Cookie: SRV=gone; a=1"));
  assert.equal(r.r, 0);
  assert.equal(r.stickTo, null);
  assert.equal(r.out, get("Cookie: a=1"), "servers never see our cookie");
});

Deno.test("CookiePersist.request() reads a head parsed at a non-zero base", () => {
  const r = onRequest(insert({ indirect: true }), get("Cookie: a=1; SRV=b2"), 37);
  assert.equal(r.stickTo, S2);
  assert.equal(r.out, get("Cookie: a=1"));
});

// -- insert mode: responses ------------------------------------------------------------

Deno.test("CookiePersist.response() insert: sets the server's cookie with the attributes", () => {
  assert.equal(
    onResponse(insert(), S2, false, ok("Server: x")),
    ok("Server: x").replace("\r\n\r\n", "\r\nSet-Cookie: SRV=b2; Path=/\r\n\r\n"),
  );
  assert.equal(
    onResponse(insert({ attributes: "Path=/app; HttpOnly; Secure" }), S1, false, ok()),
    head("HTTP/1.1 200 OK", "Content-Length: 0", "Set-Cookie: SRV=s1; Path=/app; HttpOnly; Secure"),
  );
});

Deno.test("CookiePersist.response() insert: empty attributes give a bare NAME=VALUE", () => {
  assert.equal(
    onResponse(insert({ attributes: "" }), S2, false, ok()),
    head("HTTP/1.1 200 OK", "Content-Length: 0", "Set-Cookie: SRV=b2"),
  );
});

Deno.test("CookiePersist.response() insert: no new cookie for a client that sent a valid one", () => {
  assert.equal(onResponse(insert(), S1, true, ok()), ok());
  assert.equal(
    onResponse(insert(), S1, false, ok()),
    head("HTTP/1.1 200 OK", "Content-Length: 0", "Set-Cookie: SRV=s1; Path=/"),
  );
});

Deno.test("CookiePersist.response() insert drops the server's own cookie of that name", () => {
  const res = head("HTTP/1.1 200 OK", "Content-Length: 0", "Set-Cookie: a=1", "Set-Cookie: SRV=x");
  assert.equal(
    onResponse(insert(), S1, false, res),
    head(
      "HTTP/1.1 200 OK",
      "Content-Length: 0",
      "Set-Cookie: a=1",
      "Set-Cookie: SRV=s1; Path=/",
    ),
  );
});

Deno.test("CookiePersist.response() indirect: no Set-Cookie for a client with a valid cookie", () => {
  assert.equal(onResponse(insert({ indirect: true }), S1, true, ok()), ok());
  assert.equal(onResponse(insert({ indirect: true, nocache: true }), S1, true, ok()), ok());
  // A client without (or with a stale) cookie gets one.
  assert.equal(
    onResponse(insert({ indirect: true }), S1, false, ok()),
    head("HTTP/1.1 200 OK", "Content-Length: 0", "Set-Cookie: SRV=s1; Path=/"),
  );
});

Deno.test("CookiePersist.response() nocache: adds Cache-Control: private with the cookie", () => {
  assert.equal(
    onResponse(insert({ nocache: true }), S2, false, ok()),
    head(
      "HTTP/1.1 200 OK",
      "Content-Length: 0",
      "Set-Cookie: SRV=b2; Path=/",
      "Cache-Control: private",
    ),
  );
});

Deno.test("CookiePersist.response() insert keeps the application's own Set-Cookie headers", () => {
  const res = ok("Set-Cookie: app=1", "Set-Cookie: sess=2; Path=/");
  assert.equal(
    onResponse(insert(), S1, false, res),
    res.replace("\r\n\r\n", "\r\nSet-Cookie: SRV=s1; Path=/\r\n\r\n"),
  );
});

// -- prefix mode -----------------------------------------------------------------------

Deno.test('CookiePersist.request() prefix: strips "srv~" and sticks to that server', () => {
  const r = onRequest(prefix(), get("Cookie: a=1; JSESSIONID=b2~abc123; c=3"));
  assert.equal(r.r, PERSIST_VALID);
  assert.equal(r.stickTo, S2);
  assert.equal(r.out, get("Cookie: a=1; JSESSIONID=abc123; c=3"));
});

Deno.test("CookiePersist.request() prefix: only the first ~ separates the server cookie", () => {
  const r = onRequest(prefix(), get("Cookie: JSESSIONID=s1~a~b"));
  assert.equal(r.stickTo, S1);
  assert.equal(r.out, get("Cookie: JSESSIONID=a~b"));
});

Deno.test("CookiePersist.request() prefix: a value without ~ is the application's and is left alone", () => {
  const h = get("Cookie: JSESSIONID=abc123");
  const r = onRequest(prefix(), h);
  assert.equal(r.r, 0);
  assert.equal(r.stickTo, null);
  assert.equal(r.out, h);
});

Deno.test("CookiePersist.request() prefix: an unknown server prefix gives no stickiness", () => {
  const r = onRequest(prefix(), get("Cookie: JSESSIONID=old~abc"));
  assert.equal(r.r, 0);
  assert.equal(r.stickTo, null);
  assert.equal(r.out, get("Cookie: JSESSIONID=abc"), "the application still gets its value");
});

Deno.test("CookiePersist.response() prefix: prefixes our Set-Cookie, others intact and in order", () => {
  const res = ok(
    "Set-Cookie: a=1",
    "X-Other: y",
    "set-cookie: JSESSIONID=abc; Path=/; HttpOnly",
    "Set-Cookie: c=3",
  );
  assert.equal(
    onResponse(prefix(), S2, false, res),
    head(
      "HTTP/1.1 200 OK",
      "X-Other: y",
      "Content-Length: 0",
      "Set-Cookie: a=1",
      "Set-Cookie: JSESSIONID=b2~abc; Path=/; HttpOnly",
      "Set-Cookie: c=3",
    ),
  );
});

Deno.test("CookiePersist.response() prefix: no change when the application sets no such cookie", () => {
  for (
    const res of [
      ok(),
      ok("Set-Cookie: a=1"),
      ok("Set-Cookie: JSESSIONIDX=1"),
      ok("Set-Cookie: jsessionid=1"),
    ]
  ) {
    assert.equal(onResponse(prefix(), S1, false, res), res);
    assert.equal(onResponse(prefix(), S1, true, res), res);
  }
});

Deno.test("CookiePersist.response() prefix: the cookie is prefixed even for a valid client", () => {
  const res = ok("Set-Cookie: JSESSIONID=new");
  assert.equal(
    onResponse(prefix(), S1, true, res),
    head("HTTP/1.1 200 OK", "Content-Length: 0", "Set-Cookie: JSESSIONID=s1~new"),
  );
});

Deno.test("CookiePersist.response() prefix: reads a head parsed at a non-zero base", () => {
  const res = ok("Set-Cookie: JSESSIONID=v");
  assert.equal(
    onResponse(prefix(), S2, false, res, 11),
    head("HTTP/1.1 200 OK", "Content-Length: 0", "Set-Cookie: JSESSIONID=b2~v"),
  );
});

Deno.test("CookiePersist: a prefixed response cookie round-trips through the next request", () => {
  const out = onResponse(prefix(), S2, false, ok("Set-Cookie: JSESSIONID=xyz; Path=/"));
  const value = /Set-Cookie: JSESSIONID=([^;\r]*)/.exec(out)![1];
  assert.equal(value, "b2~xyz");
  const r = onRequest(prefix(), get(`Cookie: JSESSIONID=${value}`));
  assert.equal(r.stickTo, S2);
  assert.equal(r.out, get("Cookie: JSESSIONID=xyz"));
});

Deno.test("CookiePersist: an inserted response cookie round-trips through the next request", () => {
  const cfg = insert({ indirect: true });
  const out = onResponse(cfg, S2, false, ok());
  const pair = /Set-Cookie: ([^;\r]*)/.exec(out)![1];
  const r = onRequest(cfg, get(`Cookie: ${pair}`));
  assert.equal(r.r, PERSIST_VALID);
  assert.equal(r.stickTo, S2);
  assert.equal(onResponse(cfg, S2, r.r === PERSIST_VALID, ok()), ok());
});

// -- uriKey / hdrKey ----------------------------------------------------------------------

/** uriKey() of a GET of `target`. */
function uk(target: string, base = 0): number {
  const { msg, a } = parse(head(`GET ${target} HTTP/1.1`, "Host: example.com"), false, base);
  return uriKey(msg, a, base);
}

Deno.test("uriKey() hashes the path of the request target", () => {
  assert.equal(uk("/a/b"), hashStr("/a/b"));
  assert.notEqual(uk("/a/b"), uk("/a/c"));
  assert.equal(uk("/a/b", 19), uk("/a/b"), "the same at any base");
});

Deno.test("uriKey() ignores the query string", () => {
  assert.equal(uk("/a/b?x=1"), uk("/a/b"));
  assert.equal(uk("/a/b?x=1&y=2"), uk("/a/b?z"));
  assert.equal(uk("/?q"), uk("/"));
  assert.equal(uk("/a/b?"), uk("/a/b"));
});

Deno.test("uriKey() is the same for the absolute form and the origin form of a path", () => {
  assert.equal(uk("http://example.com/a/b"), uk("/a/b"));
  assert.equal(uk("http://example.com:8080/a/b?x=1"), uk("/a/b"));
  assert.equal(uk("https://other.example/a/b"), uk("/a/b"), "the authority is not hashed");
  assert.equal(uk("http://example.com/"), uk("/"));
  assert.equal(uk("http://example.com/a/b", 5), uk("/a/b"));
});

/** hdrKey() of a GET with the header lines `hdrs`, looking for `name`. */
function hk(name: string, ...hdrs: string[]): number {
  const { msg, a } = parse(get(...hdrs), false, 3);
  return hdrKey(msg, a, 3, lc(name));
}

Deno.test("hdrKey() is -1 when the header is absent", () => {
  assert.equal(hk("x-user"), -1);
  assert.equal(hk("x-user", "X-Users: bob", "X-Use: bob"), -1);
});

Deno.test("hdrKey() hashes the header value, matching the name case-insensitively", () => {
  const k = hk("x-user", "X-User: bob");
  assert.equal(k, hashStr("bob"));
  assert.ok(k >= 0);
  assert.equal(hk("x-user", "x-USER: bob"), k);
  assert.equal(hk("x-user", "X-USER:   bob  "), k, "the value is trimmed");
  assert.notEqual(hk("x-user", "X-User: alice"), k);
  assert.notEqual(hk("x-user", "X-User: BOB"), k, "values are compared as they are");
});

Deno.test("hdrKey() uses the first occurrence of the header", () => {
  assert.equal(hk("x-user", "A: 1", "X-User: bob", "X-User: alice"), hashStr("bob"));
});

Deno.test("hdrKey() of the Host header hashes the host", () => {
  assert.equal(hk("host"), hashStr("example.com"));
});

Deno.test("hdrKey() hashes the first comma-separated value; an empty one is no key", () => {
  assert.equal(hk("x-user", "X-User: bob, alice"), hashStr("bob"));
  assert.equal(hk("x-user", "X-User: bob ,alice"), hashStr("bob"));
  assert.equal(hk("x-user", "X-User:"), -1);
  assert.equal(hk("x-user", "X-User: , bob"), -1);
});

Deno.test("hdrKey() with use_domain_only hashes the main domain part, as HAProxy", () => {
  const dk = (host: string) => {
    const { msg, a } = parse(get(`X-Host: ${host}`), false, 3);
    return hdrKey(msg, a, 3, lc("x-host"), true);
  };
  assert.equal(dk("haproxy.1wt.eu"), hashStr("1wt"));
  assert.equal(dk("www.1wt.eu"), hashStr("1wt"));
  assert.equal(dk("example.com"), hashStr("example"));
  assert.equal(dk("localhost"), hashStr("localhost"));
  assert.equal(dk("a.b.example.com:8080"), hashStr("example"));
});

/** urlParamKey() of a GET of `target`, looking for parameter `name`. */
function pk(target: string, name: string, base = 0): number {
  const { msg, a } = parse(head(`GET ${target} HTTP/1.1`, "Host: example.com"), false, base);
  return urlParamKey(msg, a, base, new TextEncoder().encode(name));
}

Deno.test("urlParamKey() hashes the value of the named query parameter, as HAProxy", () => {
  assert.equal(pk("/a?uid=42", "uid"), hashStr("42"));
  assert.equal(pk("/a?x=1&uid=42&y=2", "uid", 7), hashStr("42"));
  assert.equal(pk("/a?uid=", "uid"), hashStr(""), "an empty value is still a key");
  assert.equal(pk("http://h/a?uid=42", "uid"), hashStr("42"));
  assert.equal(pk("/a?uid=42", "UID"), -1, "names are case-sensitive");
  assert.equal(pk("/a?xuid=42", "uid"), -1);
  assert.equal(pk("/a?uid", "uid"), -1, "no value without =");
  assert.equal(pk("/a?uidx=1&uid=2", "uid"), hashStr("2"));
  assert.equal(pk("/uid=42", "uid"), -1, "only in the query string");
  assert.equal(pk("/a", "uid"), -1);
});
