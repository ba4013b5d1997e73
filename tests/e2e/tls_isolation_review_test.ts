/**
 * `tls-isolation`, second look: what no message to an HTTP worker may
 * carry (a listener's key, even through the runtime API), and the
 * connection lifecycle across the rings (parked by maxconn, half-close,
 * client reset, handshake timeout, reload while handshakes are in flight).
 */
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { cfgProxy, headReply, modelUpstream } from "../helpers/http.ts";
import { tlsGet } from "../helpers/tls_get.ts";
import { makeTestCa } from "../helpers/test_ca.ts";
import { waitFor } from "../helpers/net.ts";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";

const pki = makeTestCa();
globalThis.addEventListener("unload", () => pki[Symbol.dispose]());

function lines(extra: string[] = [], global: string[] = []): string[] {
  return [
    "global",
    "  tls-isolation on",
    "  nbthread 2",
    ...global.map((g) => "  " + g),
    "frontend fe",
    "  mode http",
    `  bind 127.0.0.1:0 ssl crt ${pki.srv.localhost}`,
    ...extra.map((r) => "  " + r),
    "  default_backend be",
  ];
}

/** One request over TLS (on `sock` when given, shutting the write side after it with `end`). */
function get(port: number, sock?: net.Socket, end = false) {
  return tlsGet(port, { sock, end });
}

Deno.test("tls-isolation review: set ssl cert of a listener's certificate sends its key to no HTTP worker", async () => {
  await using up = modelUpstream(headReply);
  const httpWorkers = new Set<Worker>();
  const leaks: string[] = [];
  const orig = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (this: Worker, m: unknown, t?: unknown) {
    const msg = m as { t?: string } | null;
    if (msg?.t === "start") httpWorkers.add(this);
    if (httpWorkers.has(this) && /PRIVATE KEY/.test(JSON.stringify(m) ?? "")) {
      leaks.push(String(msg?.t));
    }
    return (orig as (m: unknown, t?: unknown) => void).call(this, m, t);
  } as typeof orig;
  try {
    await using p = await cfgProxy([
      ...lines(),
      "backend be",
      "  mode http",
      `  server s ${up.address}`,
    ]);
    const file = pki.srv.localhost;
    assert.match(
      p.handle.admin(`set ssl cert ${file} <<\n${pki.read(pki.srv.a)}`),
      /Transaction created/,
    );
    assert.match(p.handle.admin(`commit ssl cert ${file}`), /Success!/);
    assert.match((await get(p.port)).text, /^HTTP\/1\.1 200 /);
    assert.ok(httpWorkers.size >= 2, "the HTTP workers' start messages were seen");
    assert.deepEqual(leaks, [], "messages to HTTP workers with a private key");
  } finally {
    Worker.prototype.postMessage = orig;
  }
});

Deno.test("tls-isolation review: connections in their handshake when a reload comes are served, not dropped", async () => {
  await using up = modelUpstream(headReply);
  const cfg = (tag: string) => [
    ...lines([`http-request set-header X-Gen ${tag}`]),
    "backend be",
    "  mode http",
    `  server s ${up.address}`,
  ];
  await using p = await cfgProxy(cfg("one"));
  // TCP connections the old TLS worker accepts, their handshake not begun.
  const raws = await Promise.all(
    Array.from({ length: 6 }, () =>
      new Promise<net.Socket>((resolve) => {
        const s = net.connect(p.port, "127.0.0.1", () => resolve(s));
      })),
  );
  // Let the TLS worker take them off the kernel's queue (else a reload may
  // reset them: a known limit of SO_REUSEPORT, docs/architecture.md).
  await new Promise((r) => setTimeout(r, 300));
  await p.handle.reload(parseConfigText(cfg("two").join("\n"), "t.cfg", {}));
  const rs = await Promise.all(raws.map((s) => get(p.port, s)));

  for (const r of rs) {
    assert.match(r.text, /^HTTP\/1\.1 200 /, (r.error || "nothing") + "\n" + p.logs.join("\n"));
  }
});

Deno.test("tls-isolation review: a request in flight when a reload comes gets its response", async () => {
  // The server answers once released: after the reload.
  const held: net.Socket[] = [];
  const srv = net.createServer((s) => {
    s.on("error", () => {});
    s.once("data", () => held.push(s));
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  try {
    const cfg = [
      ...lines(),
      "backend be",
      "  mode http",
      `  server s 127.0.0.1:${(srv.address() as net.AddressInfo).port}`,
    ];
    await using p = await cfgProxy(cfg);
    const r = get(p.port);
    await waitFor(() => held.length === 1, 5000, "the request at the server");
    await p.handle.reload(parseConfigText(cfg.join("\n"), "t.cfg", {}));
    // Let the old workers begin their stop before the answer.
    await new Promise((r) => setTimeout(r, 300));
    held[0].end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    const res = await r;
    assert.match(res.text, /^HTTP\/1\.1 200 [^]*ok$/, res.error || "nothing");
  } finally {
    for (const s of held) s.destroy();
    await new Promise((r) => srv.close(r));
  }
});

Deno.test("tls-isolation review: a connection parked by the frontend's maxconn is served when a slot frees", async () => {
  await using up = modelUpstream(headReply);
  await using p = await cfgProxy([
    ...lines(["maxconn 1"], []).map((l) => l === "  nbthread 2" ? "  nbthread 1" : l),
    "backend be",
    "  mode http",
    `  server s ${up.address}`,
  ]);
  // A keeps the only slot (keep-alive).
  const a = tls.connect({ host: "127.0.0.1", port: p.port, rejectUnauthorized: false });
  a.on("error", () => {});
  let aText = "";
  a.on("data", (d) => aText += d.toString("latin1"));
  a.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  // The body echoes the request's head.
  await waitFor(() => aText.includes("GET /a"), 5000, "A's response");
  const b = get(p.port);
  let bDone = false;
  b.then(() => bDone = true);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(bDone, false, "B waits while A holds the slot");
  a.end();
  const r = await b;
  assert.match(r.text, /^HTTP\/1\.1 200 /, r.error || "nothing");
  await new Promise<void>((r) => a.destroyed ? r() : a.once("close", () => r()));
});

Deno.test("tls-isolation review: a client that shuts its write side after the request gets the response", async () => {
  await using up = modelUpstream(headReply);
  await using p = await cfgProxy([
    ...lines(),
    "backend be",
    "  mode http",
    `  server s ${up.address}`,
  ]);
  const r = await get(p.port, undefined, true);
  assert.match(r.text, /^HTTP\/1\.1 200 /, r.error || "nothing");
});

Deno.test("tls-isolation review: a handshake that never comes is closed by timeout client, its slot freed", async () => {
  await using up = modelUpstream(headReply);
  await using p = await cfgProxy([
    ...lines(["timeout client 300ms"], ["maxconn 1"]),
    "backend be",
    "  mode http",
    `  server s ${up.address}`,
  ]);
  const raw = net.connect(p.port, "127.0.0.1");
  raw.on("error", () => {});
  await new Promise<void>((resolve) => raw.once("close", () => resolve()));
  const r = await get(p.port);
  assert.match(r.text, /^HTTP\/1\.1 200 /, r.error || "nothing");
});

Deno.test("tls-isolation review: a client reset in the middle of a large response closes the server side", async () => {
  let serverClosed = 0;
  const big = Buffer.alloc(8 * 1024 * 1024, 0x61);
  const srv = net.createServer((s) => {
    s.on("error", () => {});
    s.on("close", () => serverClosed++);
    s.once("data", () => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n`);
      s.write(big);
    });
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  try {
    await using p = await cfgProxy([
      ...lines(),
      "backend be",
      "  mode http",
      `  server s 127.0.0.1:${(srv.address() as net.AddressInfo).port}`,
    ]);
    const raw = net.connect(p.port, "127.0.0.1");
    raw.on("error", () => {});
    await new Promise((r) => raw.once("connect", r));
    let got = 0;
    const c = tls.connect({ socket: raw, rejectUnauthorized: false }, () => {
      c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    });
    c.on("error", () => {});
    await new Promise<void>((resolve) =>
      c.on("data", (d) => {
        got += d.length;
        if (got > 256 * 1024) resolve();
      })
    );
    raw.resetAndDestroy();
    await waitFor(() => serverClosed === 1, 10_000, "the server connection closed");
    const r = await get(p.port);
    assert.match(r.text, /^HTTP\/1\.1 200 /, r.error || "nothing");
  } finally {
    await new Promise((r) => srv.close(r));
  }
});
