/**
 * HAProxy's HTTP options end to end, each loaded from configuration text as
 * a user writes it: the connection modes (`option http-server-close`,
 * `option httpclose`, `option http-keep-alive`), `option forwardfor` with
 * `except`, `header` and `if-none`, `option abortonclose`, `option
 * http-buffer-request`, `monitor-uri`, and `http-request tarpit` with
 * `timeout tarpit`. Upstreams are raw-byte servers, so each test sees what
 * crossed the wire.
 */
import assert from "node:assert/strict";
import {
  cfgProxy,
  exchange,
  exchangeOn,
  latin1,
  modelUpstream,
  responseStatusLines,
} from "../helpers/http.ts";
import { upstream, waitFor, writeAll } from "../helpers/net.ts";

/** A frontend fe with `fe` lines and a backend be (server s1 at `server`) with `be` lines. */
function feBe(server: string, fe: string[], be: string[] = [], defaults: string[] = []): string[] {
  return [
    "defaults",
    "    mode http",
    "    log global",
    ...defaults.map((l) => `    ${l}`),
    "frontend fe",
    "    bind 127.0.0.1:0",
    ...fe.map((l) => `    ${l}`),
    "    default_backend be",
    "backend be",
    ...be.map((l) => `    ${l}`),
    `    server s1 ${server}`,
  ];
}

/** Two keep-alive requests on one client connection; the responses as text. */
async function twoRequests(port: number, headers = ""): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const req = (p: string) => `GET ${p} HTTP/1.1\r\nHost: a\r\n${headers}\r\n`;
    const one = await exchangeOn(conn, req("/a"), { until: (t) => t.endsWith("/a") });
    const two = await exchangeOn(conn, req("/b"), { until: (t) => t.endsWith("/b") });
    return one.text + two.text;
  } finally {
    conn.close();
  }
}

// ------------------------------------------------------------- connection modes

Deno.test("option http-server-close: the server connection closes after each response, the client's stays", async () => {
  await using up = modelUpstream();
  await using p = await cfgProxy(feBe(up.address, ["option http-server-close"]));
  const text = await twoRequests(p.port);
  assert.deepEqual(responseStatusLines(text), ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"]);
  assert.ok(!/connection: close/i.test(text), "the client keeps its connection");
  assert.equal(up.requests.length, 2);
  for (const r of up.requests) assert.match(r.head, /\r\nConnection: close/i);
  assert.equal(up.accepted, 2, "one server connection per request");
});

Deno.test("option http-keep-alive (the default): both connections are kept and reused", async () => {
  await using up = modelUpstream();
  await using p = await cfgProxy(
    feBe(up.address, ["option http-keep-alive"], ["option http-keep-alive"], ["option httpclose"]),
  );
  await twoRequests(p.port);
  assert.equal(up.accepted, 1, "the last mode in the section replaces the inherited httpclose");
  for (const r of up.requests) assert.doesNotMatch(r.head, /\r\nConnection:/i);
});

Deno.test("option httpclose: Connection: close both ways and both connections closed after the response", async () => {
  await using up = modelUpstream();
  await using p = await cfgProxy(feBe(up.address, ["option httpclose"]));
  const r = await exchange(p.port, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.ok(r.closed, "the client connection is closed after the response");
  assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(r.text, /\r\nconnection: close\r\n/i);
  assert.match(up.requests[0].head, /\r\nConnection: close/i);
  await waitFor(() => up.live === 0, 5000, "the server connection closed");
});

Deno.test("option httpclose in the backend wins over the frontend's keep-alive (HAProxy's matrix)", async () => {
  await using up = modelUpstream();
  await using p = await cfgProxy(
    feBe(up.address, ["option http-keep-alive"], ["option httpclose"]),
  );
  const r = await exchange(p.port, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.ok(r.closed);
  assert.match(r.text, /\r\nconnection: close\r\n/i);
});

// ------------------------------------------------------------- option forwardfor

/** The request head the upstream saw for one request sent with `headers`. */
async function seenHead(fe: string[], be: string[] = [], headers = ""): Promise<string> {
  await using up = modelUpstream();
  await using p = await cfgProxy(feBe(up.address, fe, be));
  const r = await exchange(p.port, `GET /x HTTP/1.1\r\nHost: a\r\n${headers}\r\n`, {
    until: (t) => t.endsWith("/x"),
  });
  assert.match(r.text, /^HTTP\/1\.1 200 OK/);
  return up.requests[0].head;
}

Deno.test("option forwardfor adds the client address; except NET leaves those clients out", async () => {
  assert.match(await seenHead(["option forwardfor"]), /\r\nX-Forwarded-For: 127\.0\.0\.1(\r|$)/);
  assert.doesNotMatch(
    await seenHead(["option forwardfor except 127.0.0.0/8"]),
    /X-Forwarded-For/i,
  );
  // An except network the client is not in changes nothing.
  assert.match(await seenHead(["option forwardfor except 10.0.0.0/8"]), /X-Forwarded-For: 127/);
});

Deno.test("option forwardfor header NAME: the address goes in NAME; the backend's name wins", async () => {
  const head = await seenHead(["option forwardfor header X-Client"]);
  assert.match(head, /\r\nX-Client: 127\.0\.0\.1(\r|$)/);
  assert.doesNotMatch(head, /X-Forwarded-For/i);
  const both = await seenHead(["option forwardfor header X-Client"], [
    "option forwardfor header X-Real-IP",
  ]);
  assert.match(both, /\r\nX-Real-IP: 127\.0\.0\.1/);
  assert.doesNotMatch(both, /X-Client|X-Forwarded-For/i, "one header, named by the backend");
  // The backend alone asking is enough.
  assert.match(await seenHead([], ["option forwardfor"]), /\r\nX-Forwarded-For: 127/);
});

Deno.test("option forwardfor if-none: a client's own header is kept and none is added", async () => {
  const mine = "X-Forwarded-For: 192.0.2.7\r\n";
  const kept = await seenHead(["option forwardfor if-none"], [], mine);
  assert.equal(kept.match(/X-Forwarded-For/gi)?.length, 1);
  assert.match(kept, /X-Forwarded-For: 192\.0\.2\.7/);
  assert.match(await seenHead(["option forwardfor if-none"]), /X-Forwarded-For: 127\.0\.0\.1/);
  // Without if-none, ours is appended after the client's.
  const both = await seenHead(["option forwardfor"], [], mine);
  assert.match(both, /X-Forwarded-For: 192\.0\.2\.7[\s\S]*X-Forwarded-For: 127\.0\.0\.1/);
  // if-none holds only when every side asking says it: the backend wants it always.
  const mixed = await seenHead(["option forwardfor if-none"], ["option forwardfor"], mine);
  assert.equal(mixed.match(/X-Forwarded-For/gi)?.length, 2);
});

// ------------------------------------------------------------- option abortonclose

/**
 * An upstream that answers its first request only once `release()` is
 * called, and every later one at once.
 */
function heldUpstream() {
  let release!: () => void;
  const held = new Promise<void>((r) => release = r);
  let first = true;
  const heads: string[] = [];
  const up = upstream(async (conn) => {
    const buf = new Uint8Array(16384);
    let acc = "";
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return;
      acc += new TextDecoder().decode(buf.subarray(0, n));
      for (let he = acc.indexOf("\r\n\r\n"); he >= 0; he = acc.indexOf("\r\n\r\n")) {
        heads.push(acc.slice(0, he));
        acc = acc.slice(he + 4);
        if (first) {
          first = false;
          await held;
        }
        await writeAll(conn, latin1("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
      }
    }
  });
  return Object.assign(up, { release, heads });
}

/** One server slot taken by a held request; a second client sends a request and shuts its side. */
async function queuedThenClosed(be: string[]) {
  const up = heldUpstream();
  const p = await cfgProxy(feBe(`${up.address} maxconn 1`, [], be));
  const first = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
  await writeAll(first, latin1("GET /first HTTP/1.1\r\nHost: a\r\n\r\n"));
  await waitFor(() => up.heads.length === 1, 5000, "the first request at the server");
  const second = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
  await writeAll(second, latin1("GET /second HTTP/1.1\r\nHost: a\r\n\r\n"));
  await waitFor(
    () => p.handle.stats().backends[0].qcur === 1,
    5000,
    "the second request queued",
  );
  await second.closeWrite();
  return { up, p, first, second };
}

Deno.test("option abortonclose: a client that closes while queued is dropped (CQ), never sent", async () => {
  const { up, p, first, second } = await queuedThenClosed(["option abortonclose"]);
  try {
    await waitFor(() => p.logs.some((l) => / CQ-- /.test(l)), 5000, "the CQ log line");
    assert.match(p.logs.find((l) => / CQ-- /.test(l))!, / -1 .*"GET \/second HTTP\/1\.1"/);
    const rest = await exchangeOn(second, "", { timeoutMs: 5000 });
    assert.ok(rest.closed);
    assert.equal(rest.text, "", "no response for the aborted request");
    up.release();
    const r = await exchangeOn(first, "", { until: (t) => t.endsWith("ok") });
    assert.match(r.text, /^HTTP\/1\.1 200 OK/);
    assert.deepEqual(up.heads.map((h) => h.split(" ")[1]), ["/first"], "/second never sent");
  } finally {
    first.close();
    second.close();
    await p.handle.close();
    await up.close();
  }
});

Deno.test("without option abortonclose a half-closed client is still served, as HAProxy", async () => {
  const { up, p, first, second } = await queuedThenClosed([]);
  try {
    up.release();
    const r = await exchangeOn(second, "", { until: (t) => t.endsWith("ok"), timeoutMs: 5000 });
    assert.match(r.text, /^HTTP\/1\.1 200 OK/);
    assert.deepEqual(up.heads.map((h) => h.split(" ")[1]), ["/first", "/second"]);
  } finally {
    first.close();
    second.close();
    await p.handle.close();
    await up.close();
  }
});

// ------------------------------------------------------------- option http-buffer-request

/** Reads from `conn` until the text holds `marker` (bounded: 5 s). */
async function readUntil(conn: Deno.Conn, marker: string): Promise<string> {
  const buf = new Uint8Array(16384);
  let text = "";
  const deadline = setTimeout(() => conn.close(), 5000);
  try {
    while (!text.includes(marker)) {
      const n = await conn.read(buf);
      if (n === null) throw new Error(`closed after ${JSON.stringify(text)}`);
      text += new TextDecoder("latin1").decode(buf.subarray(0, n));
    }
  } finally {
    clearTimeout(deadline);
  }
  return text;
}

Deno.test("option http-buffer-request: the body is in before the server is contacted; 100-continue is ours", async () => {
  await using up = modelUpstream((r) =>
    `HTTP/1.1 200 OK\r\nContent-Length: ${r.body.length}\r\n\r\n${r.body}`
  );
  await using p = await cfgProxy(feBe(up.address, ["option http-buffer-request"]));
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
  try {
    await writeAll(
      conn,
      latin1("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n"),
    );
    // The upstream never sends 100 Continue: this one is sluice's, which
    // waits for the body instead of connecting.
    assert.equal(await readUntil(conn, "\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
    assert.equal(up.accepted, 0, "no server connection yet");
    await writeAll(conn, latin1("01234"));
    await writeAll(conn, latin1("56789"));
    const r = await readUntil(conn, "0123456789");
    assert.match(r, /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(up.requests[0].body, "0123456789");
    assert.doesNotMatch(up.requests[0].head, /\r\nExpect:/i, "the Expect was answered here");
  } finally {
    conn.close();
  }
});

Deno.test("option http-buffer-request: a body that does not come in time gets 408, no server contacted", async () => {
  await using up = modelUpstream();
  await using p = await cfgProxy(
    feBe(up.address, ["timeout http-request 300ms"], ["option http-buffer-request"]),
  );
  const r = await exchange(
    p.port,
    "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123",
    {
      timeoutMs: 5000,
    },
  );
  assert.match(r.text, /^HTTP\/1\.1 408 /);
  assert.equal(up.accepted, 0);
  await waitFor(() => p.logs.length === 1, 5000, "the log line");
  assert.match(p.logs[0], / 408 .* cD-- /);
});

// ------------------------------------------------------------- monitor-uri

Deno.test("monitor-uri: answered 200 before any rule, never forwarded nor logged", async () => {
  await using up = modelUpstream();
  await using p = await cfgProxy(
    feBe(up.address, ["monitor-uri /health", "http-request deny if { url /health }"]),
  );
  const r = await exchange(p.port, "GET /health HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(r.text, /Service ready/);
  // Only the exact path: with a query it is an ordinary request.
  const other = await exchange(p.port, "GET /health?x HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.match(other.text, /^HTTP\/1\.1 200 OK/);
  assert.match(other.text, /\/health\?x$/, "forwarded to the server");
  await waitFor(() => p.logs.length === 1, 5000, "one log line");
  assert.match(p.logs[0], /"GET \/health\?x HTTP\/1\.1"/, "the monitor request is not logged");
  assert.equal(up.requests.length, 1);
});

// ------------------------------------------------------------- tarpit

Deno.test("http-request tarpit holds the request for timeout tarpit, then answers 500 (PT), no server", async () => {
  await using up = modelUpstream();
  await using p = await cfgProxy(feBe(up.address, [
    "timeout tarpit 200ms",
    "http-request tarpit if { path_beg /wp- }",
    "http-request tarpit deny_status 429 if { path /slow }",
  ]));
  const r = await exchange(p.port, "GET /wp-login HTTP/1.1\r\nHost: a\r\n\r\n", {
    timeoutMs: 5000,
  });
  assert.ok(r.closed);
  assert.match(r.text, /^HTTP\/1\.1 500 /);
  const s = await exchange(p.port, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n", { timeoutMs: 5000 });
  assert.match(s.text, /^HTTP\/1\.1 429 /);
  await waitFor(() => p.logs.length === 2, 5000, "two log lines");
  assert.match(p.logs[0], / 500 .* PT-- .*"GET \/wp-login/);
  assert.equal(up.accepted, 0);
  assert.equal(p.handle.stats().frontends[0].dreq, 2, "counted as denied");
});
