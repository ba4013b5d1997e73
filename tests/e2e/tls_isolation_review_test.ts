/**
 * `tls-isolation`, second look: what no message to an HTTP worker may
 * carry (a listener's key, even through the runtime API), and the
 * connection lifecycle across the rings (parked by maxconn, half-close,
 * client reset, handshake timeout, reload while handshakes are in flight).
 */
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { cfgProxy, modelUpstream, type SeenRequest } from "../helpers/http.ts";
import { makeTestCa } from "../helpers/test_ca.ts";
import { waitFor } from "../helpers/net.ts";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";

const pki = makeTestCa();
globalThis.addEventListener("unload", () => pki[Symbol.dispose]());

function headReply(req: SeenRequest): string {
  return `HTTP/1.1 200 OK\r\nContent-Length: ${req.head.length}\r\n\r\n${req.head}`;
}

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

/** One request over TLS (on `sock` when given); the whole response text, or the error. */
function get(
  port: number,
  sock?: net.Socket,
  end = false,
): Promise<{ text: string; error: string }> {
  return new Promise((resolve) => {
    const out = { text: "", error: "" };
    const c = tls.connect(
      { host: "127.0.0.1", port, rejectUnauthorized: false, ...(sock ? { socket: sock } : {}) },
      () => {
        const req = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        if (end) c.end(req);
        else c.write(req);
      },
    );
    c.on("data", (d) => out.text += d.toString("latin1"));
    c.on("error", (e) => out.error ||= e.message);
    c.on("close", () => resolve(out));
    c.setTimeout(10_000, () => c.destroy(new Error("timeout")));
  });
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
