/**
 * HTTP compression end to end (HAProxy's `compression algo|type|offload`):
 * raw-byte upstreams, raw clients, bodies decompressed with node:zlib and
 * compared byte for byte, every condition that leaves a response alone,
 * streaming of a slowly sent body, keep-alive after a compressed response,
 * and the counters.
 */
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { cfgProxy, fromLatin1, latin1 } from "../helpers/http.ts";
import { concat, randomBytes, upstream, writeAll } from "../helpers/net.ts";

const assertEquals: (a: unknown, b: unknown, msg?: string) => void = assert.deepStrictEqual;

/** An HTML body of `n` bytes that compresses (repetitive, not constant). */
function html(n: number): Uint8Array {
  let s = "<!doctype html><table>\n";
  for (let i = 0; s.length < n; i++) {
    s += `<tr><td class="c${i % 7}">row ${i}</td><td><a href="/i/${
      (i * 7919) % 100003
    }">item</a></td></tr>\n`;
  }
  return latin1(s.slice(0, n));
}

/** A parsed response: status, headers (lowercase names, each value), body de-chunked. */
interface Res {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
  chunked: boolean;
}

function hdr(r: Res, name: string): string[] {
  return r.headers.filter(([k]) => k === name).map(([, v]) => v);
}

/** Parses one response from the start of `text`; returns it and the rest, or null when incomplete. */
function parseResponse(text: string, head = false): { res: Res; rest: string } | null {
  const he = text.indexOf("\r\n\r\n");
  if (he < 0) return null;
  const lines = text.slice(0, he).split("\r\n");
  const status = Number(lines[0].split(" ")[1]);
  const headers = lines.slice(1).map((l): [string, string] => {
    const c = l.indexOf(":");
    return [l.slice(0, c).toLowerCase(), l.slice(c + 1).trim()];
  });
  let p = he + 4;
  const te = headers.find(([k]) => k === "transfer-encoding")?.[1];
  const cl = headers.find(([k]) => k === "content-length")?.[1];
  const res: Res = { status, headers, body: new Uint8Array(0), chunked: te === "chunked" };
  if (head || status === 204 || status === 304) return { res, rest: text.slice(p) };
  if (res.chunked) {
    let body = "";
    for (;;) {
      const le = text.indexOf("\r\n", p);
      if (le < 0) return null;
      const size = parseInt(text.slice(p, le), 16);
      if (size === 0) {
        const end = text.indexOf("\r\n\r\n", le);
        if (end < 0) {
          if (text.slice(le, le + 4) === "\r\n\r\n") break;
          return null;
        }
        p = end + 4;
        break;
      }
      if (text.length < le + 2 + size + 2) return null;
      body += text.slice(le + 2, le + 2 + size);
      p = le + 2 + size + 2;
    }
    res.body = latin1(body);
    return { res, rest: text.slice(p) };
  }
  if (cl !== undefined) {
    if (text.length < p + Number(cl)) return null;
    res.body = latin1(text.slice(p, p + Number(cl)));
    return { res, rest: text.slice(p + Number(cl)) };
  }
  return null;
}

function decode(algo: string, b: Uint8Array): Uint8Array {
  switch (algo) {
    case "gzip":
      return new Uint8Array(zlib.gunzipSync(b));
    case "deflate":
      return new Uint8Array(zlib.inflateSync(b));
    case "raw-deflate":
      return new Uint8Array(zlib.inflateRawSync(b));
    case "br":
      return new Uint8Array(zlib.brotliDecompressSync(b));
  }
  return b;
}

/**
 * An upstream answering each request head with `reply(head)` (bytes or a
 * script writing to the connection); it records the heads it saw.
 */
function origin(reply: (head: string) => Uint8Array | ((c: Deno.Conn) => Promise<void>)) {
  const heads: string[] = [];
  const up = upstream(async (conn) => {
    const buf = new Uint8Array(65536);
    let acc = "";
    for (;;) {
      const he = acc.indexOf("\r\n\r\n");
      if (he >= 0) {
        const head = acc.slice(0, he);
        acc = acc.slice(he + 4);
        heads.push(head);
        const r = reply(head);
        if (r instanceof Uint8Array) await writeAll(conn, r);
        else await r(conn);
        continue;
      }
      const n = await conn.read(buf);
      if (n === null) return;
      acc += fromLatin1(buf.subarray(0, n));
    }
  });
  return { up, heads, [Symbol.asyncDispose]: () => up.close() };
}

/** A response with a Content-Length body. */
function clResponse(body: Uint8Array, extra = "", status = "200 OK"): Uint8Array {
  return concat([
    latin1(
      `HTTP/1.1 ${status}\r\nContent-Type: text/html\r\n${extra}Content-Length: ${body.length}\r\n\r\n`,
    ),
    body,
  ]);
}

/** Sends `req` on a new connection; reads until one complete response parsed (or the peer closes). */
async function ask(port: number, req: string, head = false): Promise<Res> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await writeAll(conn, latin1(req));
    return await readResponse(conn, head);
  } finally {
    conn.close();
  }
}

async function readResponse(conn: Deno.Conn, head = false, state = { text: "" }): Promise<Res> {
  const buf = new Uint8Array(65536);
  const deadline = Date.now() + 5000;
  for (;;) {
    const r = parseResponse(state.text, head);
    if (r !== null) {
      state.text = r.rest;
      return r.res;
    }
    if (Date.now() > deadline) throw new Error(`no complete response: ${state.text.slice(0, 300)}`);
    const n = await conn.read(buf);
    if (n === null) {
      // Close-delimited.
      const he = state.text.indexOf("\r\n\r\n");
      assert(he >= 0, "closed before a response head");
      const p = parseResponse(state.text.slice(0, he + 4) + "", true)!;
      p.res.body = latin1(state.text.slice(he + 4));
      state.text = "";
      return p.res;
    }
    state.text += fromLatin1(buf.subarray(0, n));
  }
}

const GET = (ae: string | null, extra = "") =>
  `GET / HTTP/1.1\r\nHost: x\r\n${ae === null ? "" : `Accept-Encoding: ${ae}\r\n`}${extra}\r\n`;

function cfg(port: number, comp: string[], be: string[] = []) {
  return [
    "defaults",
    "  mode http",
    "  timeout client 5s",
    "  timeout server 5s",
    "  timeout connect 2s",
    "frontend fe",
    "  bind 127.0.0.1:0",
    ...comp.map((l) => "  " + l),
    "  default_backend be",
    "backend be",
    ...be.map((l) => "  " + l),
    `  server s1 127.0.0.1:${port}`,
  ];
}

for (const algo of ["gzip", "deflate", "raw-deflate", "br"]) {
  Deno.test(`compression: ${algo} of a Content-Length body decompresses byte-exact`, async () => {
    const body = html(100_000);
    await using o = origin(() => clResponse(body, 'ETag: "v1"\r\n'));
    await using p = await cfgProxy(cfg(o.up.port, [`compression algo ${algo}`]));
    const token = algo === "raw-deflate" ? "deflate" : algo;
    const r = await ask(p.port, GET(`${token}`));
    assertEquals(r.status, 200);
    assertEquals(hdr(r, "content-encoding"), [token]);
    assertEquals(hdr(r, "content-length"), []);
    assertEquals(hdr(r, "transfer-encoding"), ["chunked"]);
    assertEquals(hdr(r, "vary"), ["Accept-Encoding"]);
    assertEquals(hdr(r, "etag"), ['W/"v1"']);
    assert(r.body.length < body.length / 2, `compressed to ${r.body.length}`);
    assertEquals(decode(algo, r.body), body);
  });
}

Deno.test("compression: a chunked body with trailers decompresses byte-exact, trailers kept", async () => {
  const body = html(70_000);
  const parts = [body.subarray(0, 30_000), body.subarray(30_000, 30_001), body.subarray(30_001)];
  const chunked = concat([
    latin1(
      "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n",
    ),
    ...parts.flatMap((b) => [latin1(b.length.toString(16) + ";ext=1\r\n"), b, latin1("\r\n")]),
    latin1("0\r\nX-Sum: 42\r\n\r\n"),
  ]);
  await using o = origin(() => chunked);
  await using p = await cfgProxy(
    cfg(o.up.port, ["compression algo gzip", "compression type text/html"]),
  );
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
  try {
    await writeAll(conn, latin1(GET("gzip")));
    const st = { text: "" };
    const r = await readResponse(conn, false, st);
    assertEquals(hdr(r, "content-encoding"), ["gzip"]);
    assertEquals(decode("gzip", r.body), body);
  } finally {
    conn.close();
  }
  // The trailer section follows the last chunk.
  const raw = await rawExchange(
    p.port,
    GET("gzip"),
    (t) => t.endsWith("\r\n\r\n") && t.includes("0\r\nX-Sum"),
  );
  assert(raw.includes("\r\n0\r\nX-Sum: 42\r\n\r\n"), raw.slice(-60));
});

async function rawExchange(
  port: number,
  req: string,
  until: (t: string) => boolean,
): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buf = new Uint8Array(65536);
  let text = "";
  try {
    await writeAll(conn, latin1(req));
    const deadline = Date.now() + 5000;
    while (!until(text) && Date.now() < deadline) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += fromLatin1(buf.subarray(0, n));
    }
    return text;
  } finally {
    conn.close();
  }
}

Deno.test("compression: a slowly streamed body reaches the client as it comes", async () => {
  // The origin sends one chunk at a time and sends the next only once the
  // client has decoded the previous one: without flushing per arrival the
  // exchange would stall (and time out).
  const pieces = [html(5000), latin1("second piece\n"), html(20000), latin1("the end\n")];
  const got: number[] = [];
  let received = 0;
  const waiters: (() => void)[] = [];
  const decodedAtLeast = (n: number) =>
    new Promise<void>((res) => {
      const check = () => (received >= n ? res() : waiters.push(check));
      check();
    });
  await using o = origin(() => async (c: Deno.Conn) => {
    await writeAll(
      c,
      latin1("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"),
    );
    let sent = 0;
    for (const b of pieces) {
      await writeAll(c, concat([latin1(b.length.toString(16) + "\r\n"), b, latin1("\r\n")]));
      sent += b.length;
      got.push(sent);
      await decodedAtLeast(sent);
    }
    await writeAll(c, latin1("0\r\n\r\n"));
  });
  await using p = await cfgProxy(cfg(o.up.port, ["compression algo gzip"]));
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
  const inflate = zlib.createGunzip();
  const out: Uint8Array[] = [];
  inflate.on("data", (d: Uint8Array) => {
    out.push(new Uint8Array(d));
    received += d.length;
    for (const w of waiters.splice(0)) w();
  });
  try {
    await writeAll(conn, latin1(GET("gzip")));
    const buf = new Uint8Array(65536);
    let text = "";
    let headDone = false, p0 = 0;
    const deadline = Date.now() + 8000;
    for (;;) {
      assert(Date.now() < deadline, "stalled");
      const n = await conn.read(buf);
      assert(n !== null, "closed");
      text += fromLatin1(buf.subarray(0, n));
      if (!headDone) {
        const he = text.indexOf("\r\n\r\n");
        if (he < 0) continue;
        headDone = true;
        p0 = he + 4;
      }
      // Feed complete chunks to the inflater as they arrive.
      let end = false;
      for (;;) {
        const le = text.indexOf("\r\n", p0);
        if (le < 0) break;
        const size = parseInt(text.slice(p0, le), 16);
        if (size === 0) {
          end = true;
          break;
        }
        if (text.length < le + 2 + size + 2) break;
        inflate.write(latin1(text.slice(le + 2, le + 2 + size)));
        p0 = le + 2 + size + 2;
      }
      if (end) break;
    }
    await new Promise<void>((res) => inflate.end(res));
    await new Promise((res) => setTimeout(res, 0));
    assertEquals(concat(out), concat(pieces));
    assertEquals(got.length, pieces.length);
  } finally {
    conn.close();
    inflate.close();
  }
});

Deno.test("compression: responses left alone (HAProxy's conditions)", async () => {
  const body = html(3000);
  const cases: [string, string, Uint8Array, boolean?][] = [
    ["no Accept-Encoding", GET(null), clResponse(body)],
    ["gzip;q=0", GET("gzip;q=0, br;q=0.5"), clResponse(body)],
    ["an algorithm not configured", GET("compress, br"), clResponse(body)],
    ["already encoded", GET("gzip"), clResponse(body, "Content-Encoding: zstd\r\n")],
    [
      "Cache-Control: no-transform",
      GET("gzip"),
      clResponse(body, "Cache-Control: public, no-transform\r\n"),
    ],
    ["404", GET("gzip"), clResponse(body, "", "404 Not Found")],
    [
      "206",
      GET("gzip"),
      clResponse(body, "Content-Range: bytes 0-2999/9000\r\n", "206 Partial Content"),
    ],
    ["Content-Length: 0", GET("gzip"), clResponse(new Uint8Array(0))],
    [
      "type not listed",
      GET("gzip"),
      latin1(`HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 3\r\n\r\nabc`),
    ],
    [
      "multipart",
      GET("gzip"),
      latin1(
        `HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed; boundary=x\r\nContent-Length: 3\r\n\r\nabc`,
      ),
    ],
    ["two ETags", GET("gzip"), clResponse(body, 'ETag: "a"\r\nETag: "b"\r\n')],
    ["a malformed ETag", GET("gzip"), clResponse(body, "ETag: abc\r\n")],
    ["an HTTP/1.0 client", "GET / HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n", clResponse(body)],
    [
      "an HTTP/1.0 server",
      GET("gzip"),
      latin1(`HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: 3\r\n\r\nabc`),
    ],
    [
      "HEAD",
      "HEAD / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n",
      latin1(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 3000\r\n\r\n`),
      true,
    ],
    ["204", GET("gzip"), latin1("HTTP/1.1 204 No Content\r\nContent-Type: text/html\r\n\r\n")],
    [
      "304",
      GET("gzip"),
      latin1('HTTP/1.1 304 Not Modified\r\nContent-Type: text/html\r\nETag: "x"\r\n\r\n'),
    ],
  ];
  for (const [why, req, resp, head] of cases) {
    await using o = origin(() => resp);
    await using p = await cfgProxy(
      cfg(o.up.port, ["compression algo gzip deflate", "compression type text/html text/plain"]),
    );
    const r = await ask(p.port, req, head ?? false);
    assertEquals(hdr(r, "content-encoding").filter((v) => v !== "zstd"), [], why);
    assertEquals(hdr(r, "vary"), [], why);
    assert(!r.chunked, why);
    const expect = parseResponse(fromLatin1(resp), head ?? false);
    if (expect !== null) assertEquals(r.body, expect.res.body, why);
  }
});

Deno.test("compression: a close-delimited body is left alone", async () => {
  await using o = origin(() => async (c: Deno.Conn) => {
    await writeAll(c, latin1("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\nhello"));
    c.close();
    throw new Error("closed");
  });
  await using p = await cfgProxy(cfg(o.up.port, ["compression algo gzip"]));
  const t = await rawExchange(p.port, GET("gzip"), () => false);
  assert(!/content-encoding/i.test(t), t);
  assert(t.endsWith("\r\n\r\nhello"), t);
});

Deno.test("compression: q-values choose among the algorithms, * takes the last configured", async () => {
  const body = html(4000);
  await using o = origin(() => clResponse(body));
  await using p = await cfgProxy(cfg(o.up.port, ["compression algo gzip deflate"]));
  for (
    const [ae, want] of [
      ["gzip;q=0.5, deflate;q=0.8", "deflate"],
      ["gzip, deflate", "gzip"],
      ["deflate;q=0.001, GZIP;q=0.002", "gzip"],
      ["*", "deflate"],
      ["*;q=0", null],
    ] as const
  ) {
    const r = await ask(p.port, GET(ae));
    assertEquals(hdr(r, "content-encoding"), want === null ? [] : [want], ae);
    if (want !== null) assertEquals(decode(want, r.body), body, ae);
  }
});

Deno.test("compression offload: the server does not see Accept-Encoding; without it, it does", async () => {
  const body = html(4000);
  await using o = origin(() => clResponse(body));
  {
    await using p = await cfgProxy(
      cfg(o.up.port, ["compression algo gzip", "compression offload"]),
    );
    const r = await ask(p.port, GET("gzip, br"));
    assertEquals(decode("gzip", r.body), body);
    assert(!/accept-encoding/i.test(o.heads.at(-1)!), o.heads.at(-1));
    // No algorithm negotiated: the header stays (HAProxy).
    await ask(p.port, GET("br"));
    assert(/accept-encoding: br/i.test(o.heads.at(-1)!), o.heads.at(-1));
  }
  {
    await using p = await cfgProxy(cfg(o.up.port, [], ["compression algo gzip"]));
    await ask(p.port, GET("gzip"));
    assert(/accept-encoding: gzip/i.test(o.heads.at(-1)!), o.heads.at(-1));
  }
});

Deno.test("compression: identity is chunked with Vary, counted as bypassed", async () => {
  const body = html(5000);
  await using o = origin(() => clResponse(body, 'ETag: W/"w"\r\n'));
  await using p = await cfgProxy(cfg(o.up.port, ["compression algo identity gzip"]));
  const r = await ask(p.port, GET("br"));
  assertEquals(hdr(r, "content-encoding"), []);
  assert(r.chunked);
  assertEquals(hdr(r, "vary"), ["Accept-Encoding"]);
  assertEquals(hdr(r, "etag"), ['W/"w"']);
  assertEquals(r.body, body);
  const fe = p.handle.stats().frontends[0];
  assertEquals([fe.comp_in, fe.comp_out, fe.comp_byp, fe.comp_rsp], [0, 0, body.length, 1]);
});

Deno.test("compression: keep-alive goes on after compressed responses; counters and exports", async () => {
  const body = html(50_000);
  await using o = origin(() => clResponse(body));
  await using p = await cfgProxy(cfg(o.up.port, [], ["compression algo gzip"]));
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
  let outBytes = 0;
  try {
    const st = { text: "" };
    for (let i = 0; i < 3; i++) {
      await writeAll(conn, latin1(GET("gzip")));
      const r = await readResponse(conn, false, st);
      assertEquals(decode("gzip", r.body), body);
      outBytes += r.body.length;
    }
  } finally {
    conn.close();
  }
  assertEquals(o.up.accepted, 1);
  const s = p.handle.stats();
  for (const px of [s.frontends[0], s.backends[0]]) {
    assertEquals(px.comp_in, 3 * body.length);
    assertEquals(px.comp_out, outBytes);
    assertEquals(px.comp_rsp, 3);
    assertEquals(px.comp_byp, 0);
  }
  const { formatPrometheus } = await import("../../lib/stats/prometheus.ts");
  const { formatCsv } = await import("../../lib/stats/stats_csv.ts");
  const prom = formatPrometheus(s);
  assert(prom.includes(`sluice_backend_http_comp_bytes_in_total{backend="be"} ${3 * body.length}`));
  assert(prom.includes(`sluice_frontend_http_comp_responses_total{frontend="fe"} 3`));
  const csv = formatCsv(s).split("\n");
  const cols = csv[0].slice(2).split(",");
  const fe = csv.find((l) => l.startsWith("fe,FRONTEND"))!.split(",");
  assertEquals(fe[cols.indexOf("comp_in")], String(3 * body.length));
  assertEquals(fe[cols.indexOf("comp_rsp")], "3");
});

Deno.test("compression: a malformed chunked body gets a 502 when nothing has left yet", async () => {
  await using o = origin(() =>
    latin1(
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX3\r\n",
    )
  );
  await using p = await cfgProxy(cfg(o.up.port, ["compression algo gzip"]));
  // Nothing had left yet: a clean 502, as without compression.
  const t = await rawExchange(p.port, GET("gzip"), () => false);
  assert(t.startsWith("HTTP/1.1 502"), t);
});

Deno.test("compression: 1 MiB of incompressible bytes to a slow reader decompresses byte-exact", async () => {
  // Compressed output is a little larger than such input: the buffer's
  // reserve must hold it, and the client's slow reads hold the server back.
  const body = randomBytes(1 << 20);
  await using o = origin(() => clResponse(body));
  await using p = await cfgProxy(cfg(o.up.port, ["compression algo gzip"]));
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
  try {
    await writeAll(conn, latin1(GET("gzip")));
    const buf = new Uint8Array(4096);
    const st = { text: "" };
    const deadline = Date.now() + 20000;
    let r: ReturnType<typeof parseResponse> = null;
    for (let i = 0; r === null; i++) {
      assert(Date.now() < deadline, "stalled");
      const n = await conn.read(buf);
      assert(n !== null, "closed");
      st.text += fromLatin1(buf.subarray(0, n));
      if (i % 64 === 0) {
        await new Promise((res) => setTimeout(res, 1));
        r = parseResponse(st.text);
      } else if (st.text.endsWith("0\r\n\r\n")) r = parseResponse(st.text);
    }
    assertEquals(decode("gzip", r.res.body), body);
  } finally {
    conn.close();
  }
});

/** Feeds the data of a chunked body, as its bytes arrive, to `data`; returns true at the last chunk. */
class Dechunk {
  #size = -1;
  #line = "";
  #skip = 0;
  done = false;
  constructor(readonly data: (b: Uint8Array) => void) {}
  push(b: Uint8Array): void {
    let i = 0;
    while (i < b.length && !this.done) {
      if (this.#skip > 0) {
        const k = Math.min(this.#skip, b.length - i);
        i += k;
        this.#skip -= k;
      } else if (this.#size > 0) {
        const k = Math.min(this.#size, b.length - i);
        this.data(b.subarray(i, i + k));
        i += k;
        this.#size -= k;
        if (this.#size === 0) {
          this.#skip = 2;
          this.#size = -1;
        }
      } else {
        this.#line += String.fromCharCode(b[i++]);
        if (this.#line.endsWith("\r\n")) {
          this.#size = parseInt(this.#line, 16);
          this.#line = "";
          if (this.#size === 0) this.done = true;
        }
      }
    }
  }
}

Deno.test("compression: a client that does not read holds the server back (bounded buffering)", async () => {
  // 32 MiB of incompressible bytes: if sluice read the server regardless of
  // the client, the origin would write it all at once.
  const total = 32 << 20;
  const piece = randomBytes(1 << 20);
  let written = 0;
  await using o = origin(() => async (c: Deno.Conn) => {
    await writeAll(
      c,
      latin1(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${total}\r\n\r\n`),
    );
    for (let i = 0; i < total / piece.length; i++) {
      await writeAll(c, piece);
      written += piece.length;
    }
  });
  await using p = await cfgProxy(cfg(o.up.port, ["compression algo gzip"]));
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
  const inflate = zlib.createGunzip();
  try {
    await writeAll(conn, latin1(GET("gzip")));
    // Wait until the origin's writes stop progressing: the socket buffers
    // on both sides of sluice hold a few MiB (7 MiB here), sluice a buffer.
    let last = -1;
    for (let i = 0; i < 50 && written !== last; i++) {
      last = written;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert(written < total / 2, `the origin wrote ${written} bytes to a client that read nothing`);
    // Then everything arrives, intact.
    let got = 0, bad = false;
    inflate.on("data", (d: Uint8Array) => {
      for (let i = 0; i < d.length; i++) {
        if (d[i] !== piece[(got + i) % piece.length]) bad = true;
      }
      got += d.length;
    });
    const de = new Dechunk((b) => inflate.write(b.slice()));
    const buf = new Uint8Array(1 << 16);
    let head = "";
    const deadline = Date.now() + 30_000;
    while (!de.done) {
      assert(Date.now() < deadline, "stalled");
      const n = await conn.read(buf);
      assert(n !== null, "closed");
      let b = buf.subarray(0, n);
      if (!head.endsWith("\r\n\r\n")) {
        let k = 0;
        while (k < b.length && !head.endsWith("\r\n\r\n")) head += String.fromCharCode(b[k++]);
        b = b.subarray(k);
      }
      de.push(b);
    }
    await new Promise<void>((res) => inflate.end(res));
    await new Promise((res) => setTimeout(res, 0));
    assertEquals(got, total);
    assert(!bad, "the body differs");
  } finally {
    conn.close();
    inflate.close();
  }
});

Deno.test("compression: the server closing mid-body cuts the client's response (SD)", async () => {
  await using o = origin(() => async (c: Deno.Conn) => {
    await writeAll(c, clResponse(html(1000)).subarray(0, 500));
    await new Promise((res) => setTimeout(res, 50));
    c.close();
    throw new Error("closed");
  });
  await using p = await cfgProxy(cfg(o.up.port, ["compression algo gzip"]));
  const t = await rawExchange(p.port, GET("gzip"), () => false);
  assert(t.startsWith("HTTP/1.1 200"), t);
  assert(!t.endsWith("0\r\n\r\n"), "the response must not look complete");
});
