/**
 * `minconn` and `fullconn`: a server limit that follows the backend's load
 * (HAProxy's dynamic maxconn): never below minconn, maxconn once the backend
 * holds fullconn streams, on the ramp between; streams beyond the limit
 * wait in the queue and go to the server as the load, and so the limit,
 * grows. The resolved default fullconn is 10% of the frontends' maxconn.
 */
import assert from "node:assert/strict";
import { startSluice } from "../../mod.ts";
import { resolveConfig } from "../../lib/cfg/config_check.ts";
import { Server } from "../../lib/backend/server.ts";
import { RAW_SOCK } from "../../lib/conn/raw_sock.ts";
import { upstream, waitFor, writeAll } from "../helpers/net.ts";
import { latin1 } from "../helpers/http.ts";

Deno.test("Server.limitFor(): HAProxy's srv_dynamic_maxconn()", () => {
  const addr = { kind: "tcp" as const, host: "127.0.0.1", port: 1 };
  const layers = { xprt: RAW_SOCK, hs: null };
  const s = new Server("s", addr, 0, layers, { weight: 1, maxconn: 10, minconn: 2 });
  assert.ok(s.dynamicLimit);
  assert.equal(s.limitFor(0, 20), 2, "never below minconn");
  assert.equal(s.limitFor(4, 20), 2);
  assert.equal(s.limitFor(10, 20), 5, "on the ramp");
  assert.equal(s.limitFor(19, 20), 9);
  assert.equal(s.limitFor(20, 20), 10, "maxconn at fullconn");
  assert.equal(s.limitFor(500, 20), 10);
  const fixed = new Server("f", addr, 0, layers, { weight: 1, maxconn: 10 });
  assert.ok(!fixed.dynamicLimit, "minconn defaults to maxconn: a static limit");
  assert.equal(fixed.limitFor(0, 20), 10);
});

Deno.test("resolveConfig(): minconn above maxconn raises it; fullconn defaults to 10% of the frontends' maxconn", () => {
  const r = resolveConfig({
    frontends: [
      { name: "a", maxconn: 1000, binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" },
      { name: "b", maxconn: 95, binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" },
      { name: "c", maxconn: 5000, binds: [{ address: "127.0.0.1:0" }], defaultBackend: "other" },
    ],
    backends: [
      {
        name: "be",
        servers: [
          { name: "s1", address: "127.0.0.1:1", maxconn: 10, minconn: 50 },
          { name: "s2", address: "127.0.0.1:1", maxconn: 10 },
        ],
      },
      { name: "other", fullconn: 7, servers: [{ name: "s", address: "127.0.0.1:1" }] },
    ],
  });
  const [be, other] = r.backends;
  assert.equal(be.fullconn, 110, "ceil((1000 + 95) / 10)");
  assert.equal(other.fullconn, 7);
  assert.deepEqual([be.servers[0].minconn, be.servers[0].maxconn], [50, 50]);
  assert.deepEqual([be.servers[1].minconn, be.servers[1].maxconn], [10, 10]);
});

Deno.test("minconn/fullconn end to end: the server gets more concurrent streams as the load grows", async () => {
  // A server that holds every request until released.
  const held: Deno.Conn[] = [];
  let releaseAll = false;
  await using up = upstream(async (conn) => {
    const buf = new Uint8Array(4096);
    if ((await conn.read(buf)) === null) return;
    held.push(conn);
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (releaseAll) {
          clearInterval(t);
          resolve();
        }
      }, 10);
    });
    await writeAll(conn, latin1("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  });
  await using h = await startSluice({
    global: { log: { target: "none" } },
    frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
    backends: [{
      name: "be",
      fullconn: 20,
      timeouts: { queue: 10_000 },
      servers: [{ name: "s", address: up.address, maxconn: 10, minconn: 2 }],
    }],
  });
  const port = h.addresses[0].port;
  const clients: Deno.Conn[] = [];
  const send = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      await writeAll(c, latin1("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
      clients.push(c);
    }
  };
  const queued = () => {
    const b = h.stats().backends[0];
    return b.qcur + b.servers[0].qcur;
  };
  // 4 streams: the limit is max(2, 4 * 10 / 20) = 2; two wait.
  await send(4);
  await waitFor(() => held.length === 2 && queued() === 2, 5000, "2 at the server, 2 queued");
  // 10 streams: the limit is 10 * 10 / 20 = 5.
  await send(6);
  await waitFor(() => held.length === 5 && queued() === 5, 5000, "5 at the server, 5 queued");
  // 20 streams: the backend is at fullconn, the server at its maxconn.
  await send(10);
  await waitFor(() => held.length === 10 && queued() === 10, 5000, "10 at the server, 10 queued");
  // Release everything: every client, queued ones included, gets its answer.
  releaseAll = true;
  const buf = new Uint8Array(256);
  let answered = 0;
  for (const c of clients) {
    const n = await c.read(buf);
    if (n !== null && new TextDecoder().decode(buf.subarray(0, n)).startsWith("HTTP/1.1 200")) {
      answered++;
    }
    c.close();
  }
  assert.equal(answered, 20);
});
