/**
 * `http-reuse` and the idle pool settings, end to end: which requests go
 * over an idle server connection (never, safe, aggressive, always), that a
 * `never` connection serves only the client that opened it, `pool-max-conn
 * 0`, and that `pool-purge-delay` closes idle connections the load no
 * longer needs. The upstream answers each request with the number of the
 * connection it came on, and records which client (X-Client) it served.
 */
import assert from "node:assert/strict";
import { type SluiceConfig, startSluice } from "../../mod.ts";
import type { BackendConfig, ServerConfig } from "../../lib/cfg/config_types.ts";
import { upstream, waitFor, writeAll } from "../helpers/net.ts";
import { latin1 } from "../helpers/http.ts";

/** An upstream whose responses say which of its connections carried the request. */
function numberedUpstream() {
  let next = 0;
  /** Clients (X-Client) each upstream connection served, by connection number. */
  const clients: Set<string>[] = [];
  const up = upstream(async (conn) => {
    const id = ++next;
    clients[id] = new Set();
    const buf = new Uint8Array(16384);
    let acc = "";
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return;
      acc += new TextDecoder("latin1").decode(buf.subarray(0, n));
      for (let he = acc.indexOf("\r\n\r\n"); he >= 0; he = acc.indexOf("\r\n\r\n")) {
        const who = /\r\nX-Client: *([^\r]*)/i.exec(acc.slice(0, he))?.[1] ?? "?";
        clients[id].add(who);
        acc = acc.slice(he + 4);
        const body = `conn=${id}`;
        await writeAll(
          conn,
          latin1(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`),
        );
      }
    }
  });
  return Object.assign(up, { clients });
}

async function proxy(port: number, be: Partial<BackendConfig>, srv: Partial<ServerConfig> = {}) {
  const config: SluiceConfig = {
    // Idle server connections are each worker thread's own (as HAProxy's
    // per-thread pools): these tests follow one pool.
    global: { log: { target: "none" }, nbthread: 1 },
    frontends: [{
      name: "fe",
      mode: "http",
      binds: [{ address: "127.0.0.1:0" }],
      defaultBackend: "be",
    }],
    backends: [{
      name: "be",
      mode: "http",
      ...be,
      servers: [{ name: "s1", address: `127.0.0.1:${port}`, ...srv }],
    }],
  };
  return await startSluice(config);
}

/** A keep-alive client: `get()` sends one request and returns the upstream connection number. */
async function client(port: number, name: string) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buf = new Uint8Array(16384);
  return {
    async get(): Promise<number> {
      await writeAll(conn, latin1(`GET / HTTP/1.1\r\nHost: a\r\nX-Client: ${name}\r\n\r\n`));
      let text = "";
      while (!/conn=\d+$/.test(text)) {
        const n = await conn.read(buf);
        if (n === null) throw new Error(`client ${name}: closed after ${JSON.stringify(text)}`);
        text += new TextDecoder("latin1").decode(buf.subarray(0, n));
      }
      return Number(/conn=(\d+)$/.exec(text)![1]);
    },
    [Symbol.dispose]: () => conn.close(),
  };
}

Deno.test("http-reuse safe (the default): a client's first request gets a connection of its own", async () => {
  await using up = numberedUpstream();
  await using px = await proxy(up.port, {});
  using a = await client(px.addresses[0].port, "a");
  assert.equal(await a.get(), 1);
  assert.equal(await a.get(), 1, "a's second request reuses");
  using b = await client(px.addresses[0].port, "b");
  assert.equal(await b.get(), 2, "b's first request does not take a's idle connection");
  // Both are idle now; b's second request may take either.
  assert.ok([1, 2].includes(await b.get()));
  assert.equal(up.accepted, 2);
});

Deno.test("http-reuse always: a client's first request takes an idle connection", async () => {
  await using up = numberedUpstream();
  await using px = await proxy(up.port, { httpReuse: "always" });
  using a = await client(px.addresses[0].port, "a");
  assert.equal(await a.get(), 1);
  using b = await client(px.addresses[0].port, "b");
  assert.equal(await b.get(), 1);
  assert.equal(up.accepted, 1);
});

Deno.test("http-reuse aggressive: a first request takes only a connection already reused once", async () => {
  await using up = numberedUpstream();
  await using px = await proxy(up.port, { httpReuse: "aggressive" });
  const port = px.addresses[0].port;
  using a = await client(port, "a");
  assert.equal(await a.get(), 1);
  using b = await client(port, "b");
  assert.equal(await b.get(), 2, "connection 1 has carried one request: not proven");
  // One request at a time so far: the pool keeps one idle connection (the
  // estimated need), so 2 was closed when b's response ended.
  await waitFor(() => up.live === 1, 5000, "the connection beyond the need closed");
  assert.equal(await a.get(), 1, "a's second request reuses 1, which is now proven");
  using c = await client(port, "c");
  assert.equal(await c.get(), 1, "a proven connection serves a first request");
  assert.equal(up.accepted, 2);
});

Deno.test("http-reuse never: a server connection only ever serves the client that opened it", async () => {
  await using up = numberedUpstream();
  await using px = await proxy(up.port, { httpReuse: "never" });
  const port = px.addresses[0].port;
  const a = await client(port, "a");
  using b = await client(port, "b");
  const seenA = new Set<number>(), seenB = new Set<number>();
  for (let i = 0; i < 4; i++) {
    seenA.add(await a.get());
    seenB.add(await b.get());
  }
  assert.equal(seenA.size, 1, "a keeps its own connection");
  assert.equal(seenB.size, 1, "b keeps its own connection");
  assert.notDeepEqual([...seenA], [...seenB]);
  for (const served of up.clients.filter((s) => s !== undefined)) {
    assert.equal(served.size, 1, `a connection served ${[...served]}`);
  }
  // A new client never gets an ended client's connection either.
  a[Symbol.dispose]();
  await waitFor(() => up.live === 1, 5000, "a's server connection closed with a");
  using c = await client(port, "c");
  assert.equal(await c.get(), 3);
});

Deno.test("pool-max-conn 0 keeps no idle connection: every request connects", async () => {
  await using up = numberedUpstream();
  await using px = await proxy(up.port, { httpReuse: "always" }, { poolMaxConn: 0 });
  using a = await client(px.addresses[0].port, "a");
  assert.deepEqual([await a.get(), await a.get(), await a.get()], [1, 2, 3]);
});

Deno.test("pool-purge-delay closes idle connections the load no longer needs, half per period", async () => {
  await using up = numberedUpstream();
  await using px = await proxy(up.port, {}, { poolPurgeDelay: 100 });
  const port = px.addresses[0].port;
  // Eight clients at once: eight server connections, then all idle.
  const clients = await Promise.all([...Array(8).keys()].map((i) => client(port, `c${i}`)));
  await Promise.all(clients.map((c) => c.get()));
  assert.equal(up.accepted, 8);
  await waitFor(() => px.stats().idle.parked === 8, 2000, "the eight connections parked");
  for (const c of clients) c[Symbol.dispose]();
  // No more traffic: the estimated need decays and the idle ones go.
  await waitFor(() => up.live === 0, 10_000, "idle connections purged");
  assert.equal(px.stats().idle.expired, 8);
});
