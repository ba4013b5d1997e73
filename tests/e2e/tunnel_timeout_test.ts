/**
 * `timeout tunnel` applies only to tunnels, as in HAProxy: a TCP-mode
 * connection once both sides are up, an HTTP connection after 101 Switching
 * Protocols. Plain HTTP requests keep `timeout server` and `timeout client`.
 */
import assert from "node:assert/strict";
import { type SluiceConfig, startSluice } from "../../mod.ts";
import type { TimeoutsConfig } from "../../lib/cfg/config_types.ts";
import { logInto, readAll, sleep, upstream, waitFor, writeAll } from "../helpers/net.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function proxy(mode: "http" | "tcp", server: string, timeouts: TimeoutsConfig) {
  const logs: string[] = [];
  const cfg: SluiceConfig = {
    global: { log: { target: logInto(logs) } },
    frontends: [{
      name: "fe",
      mode,
      binds: [{ address: "127.0.0.1:0" }],
      timeouts,
      defaultBackend: "be",
    }],
    backends: [{ name: "be", mode, timeouts, servers: [{ name: "s1", address: server }] }],
  };
  const handle = await startSluice(cfg);
  return {
    handle,
    logs,
    port: handle.addresses[0].port,
    [Symbol.asyncDispose]: () => handle.close(),
  };
}

Deno.test("http: timeout tunnel does not replace timeout server for a plain request (504, not the server's close)", async () => {
  // The server never answers and hangs up after 2 s: with the tunnel timeout
  // (30 s) wrongly applied, the client would get that close as a 502.
  await using mute = upstream(async (conn) => {
    const buf = new Uint8Array(4096);
    await conn.read(buf);
    await sleep(2000);
  });
  await using px = await proxy("http", mute.address, { server: 200, tunnel: 30_000 });
  const c = await Deno.connect({ port: px.port });
  await writeAll(c, enc.encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  const r = dec.decode(await readAll(c));
  c.close();
  assert.match(r, /^HTTP\/1\.1 504 Gateway Timeout\r\n/);
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / 504 \d+ - - sH-- /);
});

Deno.test("http: timeout tunnel applies after 101 Switching Protocols, replacing client and server", async () => {
  // After the upgrade both sides stay silent; only the tunnel timeout (200
  // ms) can end it before the server hangs up after 3 s (logged SD then).
  await using up = upstream(async (conn) => {
    const buf = new Uint8Array(4096);
    await conn.read(buf);
    await writeAll(
      conn,
      enc.encode("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ws\r\n\r\n"),
    );
    await sleep(3000);
  });
  await using px = await proxy("http", up.address, { client: 30_000, server: 30_000, tunnel: 200 });
  const c = await Deno.connect({ port: px.port });
  await writeAll(
    c,
    enc.encode("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: ws\r\n\r\n"),
  );
  const r = dec.decode(await readAll(c));
  c.close();
  assert.match(r, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / 101 \d+ - - [cs]D-- /);
});

Deno.test("tcp: timeout tunnel replaces client and server once both sides are up", async () => {
  await using up = upstream(async () => {
    await sleep(3000);
  });
  await using px = await proxy("tcp", up.address, { client: 30_000, server: 30_000, tunnel: 200 });
  const c = await Deno.connect({ port: px.port });
  const r = await readAll(c);
  c.close();
  assert.equal(r.length, 0);
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / [cs]D /);
});
