/**
 * probe(): one health check against real loopback servers (raw bytes, so the
 * test sees exactly what the check sent and what it was answered), plus the
 * response judge httpVerdict() on hand-made bytes. Every server is closed by
 * `await using`; probe() settles only once its socket is closed, so the leak
 * sanitizers see nothing pending.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { checkConfigResolve } from "../../lib/check/check_config.ts";
import type { CheckConfig, CheckResult } from "../../lib/check/check_types.ts";
import { httpVerdict, probe } from "../../lib/check/probe.ts";
import {
  fixture,
  refusedPort,
  type Upstream,
  upstream,
  waitFor,
  writeAll,
} from "../helpers/net.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const LOOP = "127.0.0.1";

/** Reads one request head (up to the blank line), or null at EOF first. */
async function readHead(conn: Deno.Conn): Promise<string | null> {
  const buf = new Uint8Array(4096);
  let head = "";
  while (!head.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) return null;
    head += dec.decode(buf.subarray(0, n));
  }
  return head;
}

/** Waits for the peer to close (or the test to close the connection). */
async function drain(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(4096);
  try {
    while ((await conn.read(buf)) !== null) { /* discard */ }
  } catch {
    // Reset or closed by the test.
  }
}

/** A server answering each request head with `reply` and closing; heads seen go in `heads`. */
function httpServer(reply: string | Uint8Array, heads: string[] = [], opts = {}) {
  return upstream(async (conn) => {
    const head = await readHead(conn);
    if (head === null) return;
    heads.push(head);
    await writeAll(conn, typeof reply === "string" ? enc.encode(reply) : reply);
  }, opts);
}

function ok200(body = "ok"): string {
  return `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

/**
 * Waits until the server saw the check's connection end. Deno's leak
 * sanitizers do not track node:net sockets (only timers and Deno resources),
 * so the server side is the witness that probe() closed its socket.
 */
function closedBy(srv: Upstream): Promise<void> {
  return waitFor(() => srv.live === 0, 2000, "the check's connection to close");
}

const HTTP: CheckConfig = { type: "http" };
const TCP: CheckConfig = { type: "tcp" };

function assertResult(r: CheckResult, code: string, reason: string, info?: string | RegExp): void {
  assert.equal(r.code, code, `code (info: ${r.info})`);
  assert.equal(r.reason, reason);
  assert.equal(r.ok, code.endsWith("OK"));
  if (typeof info === "string") assert.equal(r.info, info);
  else if (info) assert.match(r.info, info);
  assert.ok(r.durationMs >= 0);
}

/**
 * A port whose listen backlog is full: its SYNs are dropped, so connects hang
 * like towards a firewalled host. Fills the queue of a listener that never
 * accepts (Deno's backlog is 511) with connections in batches.
 */
async function blackhole(): Promise<{ port: number } & AsyncDisposable> {
  const l = Deno.listen({ hostname: LOOP, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  const socks: net.Socket[] = [];
  let pending = 0;
  for (let batch = 0; batch < 32 && pending === 0; batch++) {
    for (let i = 0; i < 256; i++) {
      const s = net.connect({ host: LOOP, port });
      s.on("error", () => {});
      socks.push(s);
    }
    await new Promise((r) => setTimeout(r, 100));
    pending = socks.filter((s) => s.connecting).length;
  }
  assert.ok(pending > 0, "the listen backlog filled up");
  return {
    port,
    async [Symbol.asyncDispose]() {
      await Promise.all(socks.map((s) =>
        new Promise((r) => {
          s.once("close", r);
          s.destroy();
        })
      ));
      l.close();
    },
  };
}

Deno.test("probe() passes a TCP check at L4 once connected", async () => {
  await using srv = upstream(drain);
  const r = await probe({ host: LOOP, port: srv.port }, TCP, 1000);
  assertResult(r, "L4OK", "Layer4 check passed");
  await closedBy(srv);
});

Deno.test("probe() reports a refused connection as L4CON with the errno text", async () => {
  const r = await probe({ host: LOOP, port: refusedPort() }, HTTP, 1000);
  assertResult(r, "L4CON", "Layer4 connection problem", "Connection refused");
});

Deno.test("probe() checks cfg.port instead of the traffic port", async () => {
  await using srv = httpServer(ok200());
  const dead = refusedPort();
  const r = await probe({ host: LOOP, port: dead }, { type: "http", port: srv.port }, 1000);
  assertResult(r, "L7OK", "Layer7 check passed");
  const r2 = await probe({ host: LOOP, port: srv.port }, { type: "tcp", port: dead }, 1000);
  assertResult(r2, "L4CON", "Layer4 connection problem", "Connection refused");
});

Deno.test("probe() times out at L4 when the connect gets no answer", async () => {
  await using hole = await blackhole();
  const t0 = performance.now();
  const r = await probe({ host: LOOP, port: hole.port }, TCP, 150);
  const took = performance.now() - t0;
  assertResult(r, "L4TOUT", "Layer4 timeout", /no answer after 150 ms connecting/);
  assert.ok(took >= 140 && took < 1000, `took ${took} ms`);
});

Deno.test("probe() times out at L7 when the server accepts but never answers", async () => {
  await using srv = upstream(drain);
  const t0 = performance.now();
  const r = await probe({ host: LOOP, port: srv.port }, HTTP, 150);
  const took = performance.now() - t0;
  assertResult(r, "L7TOUT", "Layer7 timeout", /waiting for the response/);
  await closedBy(srv);
  assert.ok(took >= 140 && took < 1000, `took ${took} ms`);
});

Deno.test("probe() sends the request line, Host, User-Agent and Connection: close", async () => {
  const heads: string[] = [];
  await using srv = httpServer(ok200(), heads);
  const r = await probe({ host: LOOP, port: srv.port }, HTTP, 1000);
  assertResult(r, "L7OK", "Layer7 check passed", "HTTP status 200");
  assert.equal(r.status, 200);
  assert.deepEqual(heads, [
    `GET / HTTP/1.1\r\nHost: ${LOOP}:${srv.port}\r\nUser-Agent: sluice-check\r\n` +
    "Connection: close\r\n\r\n",
  ]);
  const r2 = await probe({ host: LOOP, port: srv.port }, {
    type: "http",
    http: { method: "HEAD", path: "/healthz?full=1", host: "app.example" },
  }, 1000);
  assertResult(r2, "L7OK", "Layer7 check passed");
  assert.match(heads[1], /^HEAD \/healthz\?full=1 HTTP\/1\.1\r\nHost: app\.example\r\n/);
});

Deno.test("probe() fails a 500 with L7STS and the status", async () => {
  await using srv = httpServer("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
  const r = await probe({ host: LOOP, port: srv.port }, HTTP, 1000);
  assertResult(r, "L7STS", "Layer7 wrong status", "HTTP status 500");
  assert.equal(r.status, 500);
});

Deno.test("probe() accepts 2xx and 3xx by default and honours a configured status range", async () => {
  await using s301 = httpServer("HTTP/1.0 301 Moved\r\nLocation: /x\r\n\r\n");
  assertResult(
    await probe({ host: LOOP, port: s301.port }, HTTP, 1000),
    "L7OK",
    "Layer7 check passed",
  );
  await using s404 = httpServer("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  assertResult(
    await probe({ host: LOOP, port: s404.port }, HTTP, 1000),
    "L7STS",
    "Layer7 wrong status",
  );
  const only404: CheckConfig = { type: "http", http: { expect: { status: [404, 404] } } };
  const r = await probe({ host: LOOP, port: s404.port }, only404, 1000);
  assertResult(r, "L7OK", "Layer7 check passed", "HTTP status 404");
  const r2 = await probe({ host: LOOP, port: s301.port }, only404, 1000);
  assertResult(r2, "L7STS", "Layer7 wrong status", "HTTP status 301");
});

Deno.test("probe() rejects a garbage response as L7RSP without waiting for the timeout", async () => {
  await using srv = upstream(async (conn) => {
    await readHead(conn);
    await writeAll(conn, enc.encode("SSH-2.0-OpenSSH_9.6\r\n"));
    await drain(conn); // keep the connection open: the verdict must not need EOF
  });
  const r = await probe({ host: LOOP, port: srv.port }, HTTP, 5000);
  assertResult(r, "L7RSP", "Layer7 invalid response", "invalid status line");
  await closedBy(srv);
  assert.ok(r.durationMs < 1000);
});

Deno.test("probe() reports an empty response (EOF at once) as L7RSP", async () => {
  await using srv = upstream(async (conn) => {
    await readHead(conn);
  });
  const r = await probe({ host: LOOP, port: srv.port }, HTTP, 1000);
  assertResult(r, "L7RSP", "Layer7 invalid response", "empty response");
});

Deno.test("probe() finds an expected body string, Content-Length or chunked", async () => {
  const cfg: CheckConfig = { type: "http", http: { expect: { string: "ready" } } };
  await using cl = httpServer(ok200("status: ready\n"));
  assertResult(
    await probe({ host: LOOP, port: cl.port }, cfg, 1000),
    "L7OK",
    "Layer7 check passed",
  );
  // Split across chunks: the string is matched in the decoded body.
  await using ch = httpServer(
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nrea\r\n2;x=1\r\ndy\r\n0\r\n\r\n",
  );
  assertResult(
    await probe({ host: LOOP, port: ch.port }, cfg, 1000),
    "L7OK",
    "Layer7 check passed",
  );
});

Deno.test("probe() fails when the expected string is missing, at the body's end not at the timeout", async () => {
  const cfg: CheckConfig = { type: "http", http: { expect: { string: "ok" } } };
  await using srv = upstream(async (conn) => {
    await readHead(conn);
    await writeAll(conn, enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnope"));
    await drain(conn); // Content-Length says the body is complete: no EOF needed
  });
  const r = await probe({ host: LOOP, port: srv.port }, cfg, 5000);
  assertResult(r, "L7RSP", "Layer7 invalid response", "expected string 'ok' not found");
  await closedBy(srv);
  assert.equal(r.status, 200);
  assert.ok(r.durationMs < 1000);
});

Deno.test("probe() reads at most 16 KiB looking for the expected string", async () => {
  const cfg: CheckConfig = { type: "http", http: { expect: { string: "needle" } } };
  await using srv = upstream(async (conn) => {
    await readHead(conn);
    await writeAll(conn, enc.encode("HTTP/1.1 200 OK\r\n\r\n"));
    // An endless body: the check must stop after 16 KiB (and not at the timeout).
    try {
      for (let i = 0; i < 64; i++) await writeAll(conn, new Uint8Array(4096).fill(0x61));
    } catch {
      // The check closed.
    }
    await drain(conn);
  });
  const r = await probe({ host: LOOP, port: srv.port }, cfg, 5000);
  assertResult(r, "L7RSP", "Layer7 invalid response", "expected string 'needle' not found");
  await closedBy(srv);
  assert.ok(r.durationMs < 1000);
});

Deno.test("probe() checks over TLS with the CA, SNI and verification options", async () => {
  const tlsOpts = { tls: { cert: fixture("server.crt"), key: fixture("server.key") } };
  const ca = [fixture("ca.crt")];
  const other = [fixture("other_ca.crt")];
  await using srv = httpServer(ok200(), [], tlsOpts);
  const a = { host: LOOP, port: srv.port };

  assertResult(await probe(a, { type: "tcp", tls: { ca } }, 2000), "L6OK", "Layer6 check passed");
  assertResult(
    await probe({ host: "localhost", port: srv.port }, { type: "http", tls: { ca } }, 2000),
    "L7OK",
    "Layer7 check passed",
  );
  assertResult(
    await probe(a, { type: "tcp", tls: { ca: other } }, 2000),
    "L6RSP",
    "Layer6 invalid response",
  );
  assertResult(
    await probe(a, { type: "tcp", tls: { ca, sni: "other.example" } }, 2000),
    "L6RSP",
    "Layer6 invalid response",
  );
  assertResult(
    await probe(a, { type: "http", tls: { ca: other, verify: "none" } }, 2000),
    "L7OK",
    "Layer7 check passed",
  );
});

Deno.test("probe() times out at L6 when the server never answers the TLS handshake", async () => {
  await using srv = upstream(drain);
  const r = await probe(
    { host: LOOP, port: srv.port },
    { type: "tcp", tls: { verify: "none" } },
    150,
  );
  assertResult(r, "L6TOUT", "Layer6 timeout", /TLS handshake/);
  await closedBy(srv);
});

Deno.test("probe() reports a plain-text answer to a TLS check as L6RSP", async () => {
  await using srv = upstream(async (conn) => {
    await conn.read(new Uint8Array(4096));
    await writeAll(conn, enc.encode("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"));
  });
  const r = await probe(
    { host: LOOP, port: srv.port },
    { type: "tcp", tls: { verify: "none" } },
    2000,
  );
  assertResult(r, "L6RSP", "Layer6 invalid response");
});

Deno.test("probe() checks a unix socket server", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/srv.sock`;
    await using _srv = httpServer(ok200(), [], { unixPath: path });
    const r = await probe({ path }, HTTP, 1000);
    assertResult(r, "L7OK", "Layer7 check passed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("probe() ends at once when aborted, closing its socket", async () => {
  await using srv = upstream(drain);
  const ac = new AbortController();
  const p = probe({ host: LOOP, port: srv.port }, HTTP, 5000, ac.signal);
  setTimeout(() => ac.abort(), 20);
  const r = await p;
  assertResult(r, "SOCKERR", "Socket error", "check aborted");
  await closedBy(srv);
  assert.ok(r.durationMs < 1000);
});

Deno.test("probe() never sends a request made from an invalid config", async () => {
  await using srv = upstream(drain);
  const r = await probe({ host: LOOP, port: srv.port }, {
    type: "http",
    http: { path: "/\r\nX-Injected: 1" },
  }, 1000);
  assertResult(r, "SOCKERR", "Socket error", /Invalid check path/);
  assert.equal(srv.accepted, 0);
});

// httpVerdict() on hand-made bytes: the cases a server rarely produces on cue.

function verdict(text: string, eof = false, cfg: CheckConfig = HTTP) {
  const b = enc.encode(text);
  return httpVerdict(b, b.length, eof, checkConfigResolve(cfg).http);
}

Deno.test("httpVerdict() waits for the end of the status line, then decides", () => {
  assert.equal(verdict("HTTP/1.1 20"), null);
  assert.deepEqual(verdict("HTTP/1.1 204\r\n"), {
    code: "L7OK",
    info: "HTTP status 204",
    status: 204,
  });
  assert.deepEqual(verdict("HTTP/1.1 200 OK\r\n"), {
    code: "L7OK",
    info: "HTTP status 200",
    status: 200,
  });
});

Deno.test("httpVerdict() is strict about the status line", () => {
  for (
    const bad of [
      "HTTP/2 200 OK\r\n",
      "HTTP/1.1 2000 OK\r\n",
      "HTTP/1.1  200 OK\r\n",
      "http/1.1 200 OK\r\n",
      "HTTP/1.1 200 OK\n\r\n",
      "HTTP/1.1 099 Low\r\n",
      "HTTP/1.1 200\x00\r\n",
      "<html>",
    ]
  ) {
    assert.deepEqual(verdict(bad), { code: "L7RSP", info: "invalid status line" }, bad);
  }
  assert.deepEqual(verdict("HTTP/1.1 2", true), { code: "L7RSP", info: "truncated status line" });
  assert.deepEqual(verdict("", true), { code: "L7RSP", info: "empty response" });
});

Deno.test("httpVerdict() skips interim 1xx responses", () => {
  assert.equal(verdict("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n"), null);
  assert.deepEqual(
    verdict("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 503 Busy\r\n\r\n"),
    { code: "L7STS", info: "HTTP status 503", status: 503 },
  );
});

Deno.test("httpVerdict() needs the body only when a string is expected", () => {
  const cfg: CheckConfig = { type: "http", http: { expect: { string: "up" } } };
  assert.equal(verdict("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nall u", false, cfg), null);
  assert.equal(
    verdict("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nall up!!!!", false, cfg)?.code,
    "L7OK",
  );
  // Bytes past Content-Length are not body.
  assert.equal(
    verdict("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nallup", false, cfg)?.code,
    "L7RSP",
  );
  // No framing: the body ends at EOF.
  assert.equal(verdict("HTTP/1.1 200 OK\r\n\r\nall", false, cfg), null);
  assert.equal(
    verdict("HTTP/1.1 200 OK\r\n\r\nall", true, cfg)?.info,
    "expected string 'up' not found",
  );
  // A wrong status wins over the body.
  assert.equal(verdict("HTTP/1.1 500 Oops\r\n\r\nup", true, cfg)?.code, "L7STS");
  // HEAD has no body.
  const head: CheckConfig = { type: "http", http: { method: "HEAD", expect: { string: "up" } } };
  assert.equal(verdict("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", false, head)?.code, "L7RSP");
});

Deno.test("httpVerdict() rejects broken framing when it reads the body", () => {
  const cfg: CheckConfig = { type: "http", http: { expect: { string: "up" } } };
  assert.equal(
    verdict("HTTP/1.1 200 OK\r\nbad line\r\n\r\nup", false, cfg)?.info,
    "invalid header line",
  );
  assert.equal(
    verdict("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nup", false, cfg)
      ?.info,
    "invalid Content-Length",
  );
  assert.equal(
    verdict(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nup\r\n0\r\n\r\n",
      false,
      cfg,
    )
      ?.info,
    "invalid chunk size",
  );
  assert.equal(
    verdict("HTTP/1.1 200 OK\r\nX: 1\r\n", true, cfg)?.info,
    "truncated response headers",
  );
});

Deno.test("httpVerdict() with an http-check expect rule: negation, regexes, and the body alone", () => {
  const rule = (
    match: "status" | "rstatus" | "string" | "rstring",
    pattern: string,
    negate = false,
  ) => ({ type: "http", http: { expect: { rule: { match, pattern, negate } } } }) as CheckConfig;
  const res = (status: string, body: string) =>
    `HTTP/1.1 ${status}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  assert.equal(
    verdict(res("404 Not Found", ""), false, rule("status", "500-599", true))?.code,
    "L7OK",
  );
  assert.deepEqual(verdict(res("503 Busy", ""), false, rule("status", "500-599", true)), {
    code: "L7STS",
    info: "HTTP status 503",
    status: 503,
  });
  assert.equal(verdict(res("302 Found", ""), false, rule("status", "200,302"))?.code, "L7OK");
  assert.equal(verdict(res("204 No", ""), false, rule("rstatus", "^2"))?.code, "L7OK");
  assert.equal(verdict(res("301 Moved", ""), false, rule("rstatus", "^2"))?.code, "L7STS");
  // A body rule alone decides: the status is not checked (HAProxy's).
  assert.equal(verdict(res("500 Oops", "ok"), false, rule("string", "ok"))?.code, "L7OK");
  assert.deepEqual(verdict(res("200 OK", "all ok"), false, rule("string", "ok", true)), {
    code: "L7RSP",
    info: "unwanted string 'ok' found",
    status: 200,
  });
  // Not found yet: final only once the body is complete.
  const rx = rule("rstring", "v[0-9]+", true);
  assert.equal(verdict("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nversi", false, rx), null);
  assert.equal(verdict(res("200 OK", "version x"), false, rx)?.code, "L7OK");
  assert.equal(verdict(res("200 OK", "at v12"), false, rx)?.info, "unwanted regex 'v[0-9]+' found");
  assert.equal(
    verdict(res("200 OK", "nothing"), false, rule("rstring", "^up$"))?.info,
    "expected regex '^up$' not found",
  );
});
