/**
 * h1Rewrite(): hop-by-hop headers removed (Connection and the headers it
 * names, Keep-Alive, TE, Trailer, Upgrade unless upgrading,
 * Proxy-Connection), absolute-form targets turned into origin form with a
 * consistent Host, forwarding headers added, and a Connection header of our
 * own; and the rewritten head is one h1ParseHead() accepts with the same
 * framing.
 */
import assert from "node:assert/strict";
import { lc } from "../../lib/http/h1_chars.ts";
import { h1ParseHead } from "../../lib/http/h1_parser.ts";
import { h1Rewrite, type RewriteOptions, X_FORWARDED_PROTO } from "../../lib/http/h1_rewrite.ts";
import {
  H1_MF_ABS_URI,
  H1_MF_CHNK,
  H1_MF_CLEN,
  H1_MF_RESP,
  H1_MF_TE,
  H1_MF_VER_11,
  type H1Limits,
  HttpMsg,
} from "../../lib/http/h1_types.ts";
import { bin } from "../helpers/bytes.ts";

const LIM: H1Limits = { maxHead: 65536, maxHdrs: 64, maxBody: 0 };

/** Latin-1 text of `a`. */
function text(a: Uint8Array): string {
  let s = "";
  for (let i = 0; i < a.length; i += 4096) {
    s += String.fromCharCode(...a.subarray(i, Math.min(a.length, i + 4096)));
  }
  return s;
}

/** A head with the given start line and header lines, then the empty line. */
function head(line: string, ...hdrs: string[]): string {
  return line + "\r\n" + hdrs.map((h) => h + "\r\n").join("") + "\r\n";
}

/** An HTTP/1.1 GET of "/" with Host and the given extra header lines. */
function get(...hdrs: string[]): string {
  return head("GET / HTTP/1.1", "Host: example.com", ...hdrs);
}

/** Parses `s` (which must be a valid head, maybe followed by a body) at `base`. */
function parse(s: string, resp: boolean, base = 0): { msg: HttpMsg; a: Uint8Array } {
  const bytes = bin(s);
  const a = new Uint8Array(base + bytes.length);
  a.fill(0x2a, 0, base);
  a.set(bytes, base);
  const msg = new HttpMsg(LIM.maxHdrs);
  if (resp) msg.flags |= H1_MF_RESP;
  const r = h1ParseHead(msg, a, base, bytes.length, LIM);
  assert.ok(r > 0, `test head must parse: r=${r} ${msg.errCode} "${msg.errMsg}" in ${s}`);
  return { msg, a };
}

interface RwOpts extends Partial<RewriteOptions> {
  resp?: boolean;
  base?: number;
}

/** Parses `s` and returns its rewritten head as text. */
function rw(s: string, opts: RwOpts = {}): string {
  const base = opts.base ?? 0;
  const { msg, a } = parse(s, opts.resp ?? false, base);
  return text(
    h1Rewrite(msg, a, base, {
      upgrade: opts.upgrade ?? false,
      connection: opts.connection ?? null,
      drop: opts.drop,
      add: opts.add,
    }),
  );
}

// -- heads with nothing to change ------------------------------------------------------

Deno.test("h1Rewrite() copies a head with no hop-by-hop header unchanged", () => {
  const s = get("Accept: */*", "X-A: 1");
  assert.equal(rw(s), s);
  const r = head("HTTP/1.1 200 OK", "Content-Length: 2", "Server: x");
  assert.equal(rw(r, { resp: true }), r);
});

Deno.test("h1Rewrite() keeps header lines byte for byte: case, spacing, obs-text", () => {
  const s = get("x-MiXeD:  two  spaces \t ", "Empty:", "Tab:\tv", "Latin: caf\xe9");
  assert.equal(rw(s), s);
});

Deno.test("h1Rewrite() keeps the order of the headers it keeps", () => {
  const s = get("B: 2", "Connection: x-drop", "A: 1", "X-Drop: 9", "C: 3");
  assert.equal(rw(s), get("B: 2", "A: 1", "C: 3"));
});

Deno.test("h1Rewrite() returns the head only, without the body after it", () => {
  const s = head("POST / HTTP/1.1", "Host: a", "Content-Length: 5");
  assert.equal(rw(s + "hello"), s);
});

Deno.test("h1Rewrite() reads a head parsed at a non-zero base", () => {
  const s = head("GET http://a.example/x HTTP/1.1", "Host: b", "Connection: close", "X: 1");
  const expected = head("GET /x HTTP/1.1", "X: 1", "Host: a.example");
  assert.equal(rw(s, { base: 13 }), expected);
  assert.equal(rw(s, { base: 0 }), expected);
});

// -- hop-by-hop headers --------------------------------------------------------------------

Deno.test("h1Rewrite() removes the Connection header", () => {
  assert.equal(rw(get("Connection: close", "X: 1")), get("X: 1"));
  assert.equal(rw(get("CONNECTION: keep-alive")), get());
});

Deno.test("h1Rewrite() removes the headers named in Connection, case-insensitively", () => {
  const s = get("Connection: X-Foo, x-BAR", "x-foo: 1", "X-Bar: 2", "X-Foobar: 3", "X-Fo: 4");
  assert.equal(rw(s), get("X-Foobar: 3", "X-Fo: 4"));
});

Deno.test("h1Rewrite() reads the names from every Connection header", () => {
  const s = get("Connection: a", "A: 1", "B: 2", "Connection: b, close", "C: 3");
  assert.equal(rw(s), get("C: 3"));
});

Deno.test("h1Rewrite() reads Connection names separated by commas, spaces and tabs", () => {
  const s = get("Connection: ,a ,\tb,, c ", "A: 1", "B: 2", "C: 3", "D: 4");
  assert.equal(rw(s), get("D: 4"));
});

Deno.test("h1Rewrite() removes Keep-Alive", () => {
  assert.equal(rw(get("Keep-Alive: timeout=5", "X: 1")), get("X: 1"));
  const r = head("HTTP/1.0 200 OK", "keep-alive: max=9", "Content-Length: 0");
  assert.equal(rw(r, { resp: true }), head("HTTP/1.0 200 OK", "Content-Length: 0"));
});

Deno.test("h1Rewrite() removes TE from a request", () => {
  assert.equal(rw(get("TE: trailers", "X: 1", "te: gzip")), get("X: 1"));
});

Deno.test("h1Rewrite() removes Trailer", () => {
  const s = head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked", "Trailer: X-Sum");
  assert.equal(rw(s), head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked"));
  const r = head("HTTP/1.1 200 OK", "Trailer: X-Sum", "Transfer-Encoding: chunked");
  assert.equal(rw(r, { resp: true }), head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked"));
});

Deno.test("h1Rewrite() removes Upgrade when not upgrading", () => {
  const s = get("Upgrade: websocket", "Connection: Upgrade", "X: 1");
  assert.equal(rw(s), get("X: 1"));
  const r = head("HTTP/1.1 200 OK", "Upgrade: h2c", "Content-Length: 0");
  assert.equal(rw(r, { resp: true }), head("HTTP/1.1 200 OK", "Content-Length: 0"));
});

Deno.test("h1Rewrite() keeps Upgrade and sends Connection: upgrade on an upgrade", () => {
  const s = get("Connection: keep-alive, Upgrade", "Upgrade: websocket", "Sec-WebSocket-Key: k");
  assert.equal(
    rw(s, { upgrade: true }),
    get("Upgrade: websocket", "Sec-WebSocket-Key: k", "Connection: upgrade"),
  );
  const r = head("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: upgrade");
  assert.equal(
    rw(r, { resp: true, upgrade: true }),
    head("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: upgrade"),
  );
});

Deno.test("h1Rewrite() keeps Upgrade on an upgrade even when Connection names other headers", () => {
  // curl's h2c upgrade: "Connection: Upgrade, HTTP2-Settings".
  const s = get("Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c", "HTTP2-Settings: AAA");
  assert.equal(rw(s, { upgrade: true }), get("Upgrade: h2c", "Connection: upgrade"));
});

Deno.test("h1Rewrite() removes Proxy-Connection", () => {
  assert.equal(rw(get("Proxy-Connection: keep-alive", "X: 1")), get("X: 1"));
});

Deno.test("h1Rewrite() removes a header named in Connection that is hop-by-hop anyway", () => {
  assert.equal(rw(get("Connection: Keep-Alive, TE", "Keep-Alive: 1", "TE: trailers")), get());
});

Deno.test("h1Rewrite() never removes framing headers or Host because Connection names them", () => {
  // Dropping Content-Length or Transfer-Encoding while forwarding the body
  // they frame would desynchronise the server (request smuggling).
  const cl = head(
    "POST / HTTP/1.1",
    "Host: a",
    "Connection: content-length, host, x",
    "Content-Length: 5",
    "X: 1",
  );
  assert.equal(rw(cl), head("POST / HTTP/1.1", "Host: a", "Content-Length: 5"));
  const te = head(
    "POST / HTTP/1.1",
    "Host: a",
    "Transfer-Encoding: chunked",
    "Connection: Transfer-Encoding",
  );
  assert.equal(rw(te), head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked"));
  const r = head("HTTP/1.1 200 OK", "Connection: content-length", "Content-Length: 3");
  assert.equal(rw(r, { resp: true }), head("HTTP/1.1 200 OK", "Content-Length: 3"));
});

// -- request target and Host ------------------------------------------------------------

Deno.test("h1Rewrite() keeps an origin-form target and the Host as sent", () => {
  const s = head("GET /a/b?c=d HTTP/1.1", "Host: Example.COM:8080", "X: 1");
  assert.equal(rw(s), s);
});

Deno.test("h1Rewrite() turns an absolute-form target into origin form with Host from it", () => {
  const s = head("GET http://a.example:8080/p/q?x=1 HTTP/1.1", "Host: other", "X: 1");
  assert.equal(rw(s), head("GET /p/q?x=1 HTTP/1.1", "X: 1", "Host: a.example:8080"));
});

Deno.test("h1Rewrite() gives an absolute-form target without a path the path /", () => {
  assert.equal(
    rw(head("GET http://a.example HTTP/1.1", "Host: a.example")),
    head("GET / HTTP/1.1", "Host: a.example"),
  );
  assert.equal(
    rw(head("GET http://a.example?x HTTP/1.1", "Host: a.example")),
    head("GET /?x HTTP/1.1", "Host: a.example"),
  );
});

Deno.test("h1Rewrite() adds Host from an absolute-form target when the request has none", () => {
  assert.equal(
    rw(head("GET http://a.example/ HTTP/1.0", "X: 1")),
    head("GET / HTTP/1.0", "X: 1", "Host: a.example"),
  );
});

Deno.test("h1Rewrite() accepts https and any case in the absolute-form scheme", () => {
  assert.equal(
    rw(head("POST HTTPS://[2001:db8::1]:443/u HTTP/1.1", "Host: x", "Content-Length: 0")),
    head("POST /u HTTP/1.1", "Content-Length: 0", "Host: [2001:db8::1]:443"),
  );
});

Deno.test("h1Rewrite() output for an absolute-form request parses as origin form", () => {
  const out = rw(head("GET http://a.example/x HTTP/1.1", "Host: a.example"));
  const { msg } = parse(out, false);
  assert.equal(msg.flags & H1_MF_ABS_URI, 0);
});

// -- Connection written by the proxy -------------------------------------------------------

Deno.test("h1Rewrite() writes Connection: close or keep-alive when asked", () => {
  assert.equal(rw(get("X: 1"), { connection: "close" }), get("X: 1", "Connection: close"));
  const r = head("HTTP/1.0 200 OK", "Content-Length: 0");
  assert.equal(
    rw(r, { resp: true, connection: "keep-alive" }),
    head("HTTP/1.0 200 OK", "Content-Length: 0", "Connection: keep-alive"),
  );
});

Deno.test("h1Rewrite() writes no Connection header when given null", () => {
  assert.equal(rw(get("Connection: close")), get());
});

Deno.test("h1Rewrite() replaces the client's Connection header with its own", () => {
  assert.equal(
    rw(get("Connection: keep-alive", "X: 1"), { connection: "close" }),
    get("X: 1", "Connection: close"),
  );
});

Deno.test("h1Rewrite() writes Connection: upgrade on an upgrade whatever connection says", () => {
  const s = get("Connection: upgrade", "Upgrade: websocket");
  assert.equal(
    rw(s, { upgrade: true, connection: "close" }),
    get("Upgrade: websocket", "Connection: upgrade"),
  );
});

// -- forwarding headers -----------------------------------------------------------------------

Deno.test("h1Rewrite() appends X-Forwarded-For and X-Forwarded-Proto after the other headers", () => {
  const out = rw(get("X: 1"), {
    connection: "close",
    add: [["X-Forwarded-For", "192.0.2.7"], ["X-Forwarded-Proto", "https"]],
  });
  assert.equal(
    out,
    get("X: 1", "Connection: close", "X-Forwarded-For: 192.0.2.7", "X-Forwarded-Proto: https"),
  );
});

Deno.test("h1Rewrite() keeps the client's X-Forwarded-For and appends its own after it", () => {
  const out = rw(get("X-Forwarded-For: 198.51.100.1"), {
    add: [["X-Forwarded-For", "192.0.2.7"]],
  });
  assert.equal(out, get("X-Forwarded-For: 198.51.100.1", "X-Forwarded-For: 192.0.2.7"));
});

Deno.test("h1Rewrite() drops the client's X-Forwarded-Proto when asked, in any case", () => {
  const out = rw(get("x-forwarded-PROTO: https", "X-Forwarded-Proto: https", "X: 1"), {
    drop: [X_FORWARDED_PROTO],
    add: [["X-Forwarded-Proto", "http"]],
  });
  assert.equal(out, get("X: 1", "X-Forwarded-Proto: http"));
});

Deno.test("h1Rewrite() adds Forwarded only when asked, replacing the client's", () => {
  const s = get("Forwarded: for=evil");
  assert.equal(rw(s), s, "not asked: the client's is kept and none added");
  const out = rw(s, {
    drop: [lc("forwarded")],
    add: [["Forwarded", 'for="[2001:db8::7]";proto=https']],
  });
  assert.equal(out, get('Forwarded: for="[2001:db8::7]";proto=https'));
});

Deno.test("h1Rewrite() drops only the headers asked for, by whole name", () => {
  const out = rw(get("X-Forwarded-Protocol: a", "X-Forwarded-Prot: b"), {
    drop: [X_FORWARDED_PROTO],
  });
  assert.equal(out, get("X-Forwarded-Protocol: a", "X-Forwarded-Prot: b"));
});

// -- size and validity ------------------------------------------------------------------------

Deno.test("h1Rewrite() handles a head larger than its scratch area", () => {
  const big = Array.from({ length: 60 }, (_, i) => `X-${i}: ${"v".repeat(800)}`);
  const s = get(...big, "Connection: close");
  assert.ok(s.length > 40000);
  const add: [string, string][] = [["X-Big", "w".repeat(5000)]];
  assert.equal(rw(s, { add }), get(...big, "X-Big: " + "w".repeat(5000)));
});

Deno.test("h1Rewrite() output parses again with the same method, version and framing", () => {
  const heads: [string, boolean][] = [
    [get("Connection: close, x", "X: 1", "Keep-Alive: 1"), false],
    [head("GET http://h:81/p HTTP/1.0", "Proxy-Connection: x"), false],
    [
      head("POST /u HTTP/1.1", "Host: h", "Transfer-Encoding: gzip, chunked", "TE: trailers"),
      false,
    ],
    [head("PUT /u HTTP/1.1", "Host: h", "Content-Length: 12", "Connection: content-length"), false],
    [head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "Connection: transfer-encoding"), true],
    [head("HTTP/1.0 404 Nope", "Content-Length: 3", "Trailer: a"), true],
  ];
  const framing = H1_MF_CLEN | H1_MF_CHNK | H1_MF_TE | H1_MF_VER_11;
  for (const [s, resp] of heads) {
    const before = parse(s, resp).msg;
    const out = rw(s, { resp, connection: "close", add: [["X-Forwarded-For", "192.0.2.1"]] });
    const after = parse(out, resp).msg;
    assert.equal(after.flags & framing, before.flags & framing, s);
    assert.equal(after.bodyLen, before.bodyLen, s);
    assert.equal(after.meth, before.meth, s);
    assert.equal(after.status, before.status, s);
  }
});
