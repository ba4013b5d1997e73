/**
 * The embedding handle as Deno users expect it from `Deno.serve()`: an
 * `AbortSignal` option that closes gracefully, an `onListen` callback with
 * the bound addresses, and a `finished` promise.
 */
import assert from "node:assert/strict";
import { type SluiceConfig, type SluiceHandle, startSluice } from "../../mod.ts";
import {
  echoScript,
  readAll,
  readN,
  refusedPort,
  sleep,
  upstream,
  writeAll,
} from "../helpers/net.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A TCP relay from `listen` to `server`, no access log. */
function relay(server: string, listen = "127.0.0.1:0", graceMs = 2000): SluiceConfig {
  return {
    global: { log: { target: "none" }, graceMs },
    frontends: [{ name: "fe", mode: "tcp", binds: [{ address: listen }], defaultBackend: "be" }],
    backends: [{ name: "be", mode: "tcp", servers: [{ name: "s1", address: server }] }],
  };
}

/** True when `finished` has settled within a few event-loop turns. */
async function settled(finished: Promise<void>): Promise<boolean> {
  let done = false;
  finished.then(() => done = true);
  await sleep(20);
  return done;
}

/** Fails unless `port` on 127.0.0.1 can be bound now (nothing of sluice holds it). */
function assertFree(port: number): void {
  const l = Deno.listen({ hostname: "127.0.0.1", port });
  l.close();
}

Deno.test("startSluice() aborted by its signal closes gracefully and resolves finished", async () => {
  await using up = upstream(echoScript);
  const ac = new AbortController();
  const proxy = await startSluice(relay(up.address), { signal: ac.signal });
  const port = proxy.addresses[0].port;
  const conn = await Deno.connect({ port });
  try {
    await writeAll(conn, enc.encode("1"));
    assert.equal(dec.decode(await readN(conn, 1)), "1");
    assert.equal(await settled(proxy.finished), false, "finished is pending while running");
    ac.abort();
    await sleep(50);
    // Graceful: the live connection is still served, new ones are refused.
    await writeAll(conn, enc.encode("2"));
    assert.equal(dec.decode(await readN(conn, 1)), "2");
    await assert.rejects(Deno.connect({ port }));
    assert.equal(await settled(proxy.finished), false, "finished waits for live connections");
    await conn.closeWrite();
    assert.equal((await readAll(conn)).length, 0);
  } finally {
    conn.close();
  }
  await proxy.finished;
  assertFree(port);
  // close() after the abort is the same, finished close.
  await proxy.close();
});

Deno.test("startSluice() with an aborted signal rejects with its reason and binds nothing", async () => {
  const port = refusedPort();
  const ac = new AbortController();
  const reason = new Error("not today");
  ac.abort(reason);
  let listened = false;
  await assert.rejects(
    startSluice(relay("127.0.0.1:9", `127.0.0.1:${port}`), {
      signal: ac.signal,
      onListen: () => listened = true,
    }),
    (err) => err === reason,
  );
  assert.equal(listened, false);
  assertFree(port);
});

Deno.test("startSluice() aborted while binding rejects with the reason and releases what it bound", async () => {
  const port = refusedPort();
  const ac = new AbortController();
  const starting = startSluice(relay("127.0.0.1:9", `127.0.0.1:${port}`), { signal: ac.signal });
  ac.abort(); // startSluice() is still binding (it awaits)
  await assert.rejects(starting, (err) => err instanceof DOMException && err.name === "AbortError");
  assertFree(port);
});

Deno.test("onListen is called once, before startSluice() resolves, with the bound addresses", async () => {
  const calls: string[][] = [];
  let resolved = false;
  const starting = startSluice({
    global: { log: { target: "none" } },
    frontends: [
      { name: "a", mode: "tcp", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" },
      {
        name: "b",
        mode: "tcp",
        binds: [{ address: "127.0.0.1:0" }, { address: "127.0.0.1:0" }],
        defaultBackend: "be",
      },
    ],
    backends: [{ name: "be", mode: "tcp", servers: [{ name: "s1", address: "127.0.0.1:9" }] }],
  }, {
    onListen(addresses) {
      assert.equal(resolved, false);
      calls.push(addresses.map((a) => `${a.frontend} ${a.address}`));
      for (const a of addresses) assert.notEqual(a.port, 0, "real ports, not 0");
    },
  });
  await using proxy = await starting;
  resolved = true;
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0], proxy.addresses.map((a) => `${a.frontend} ${a.address}`));
  assert.deepEqual(calls[0].map((s) => s.split(" ")[0]), ["a", "b", "b"]);
  // A reload does not call it again.
  await proxy.reload(relay("127.0.0.1:9", proxy.addresses[0].address));
  assert.equal(calls.length, 1);
});

Deno.test("an onListen that throws closes sluice and startSluice() rejects with its error", async () => {
  const port = refusedPort();
  const boom = new Error("boom");
  await assert.rejects(
    startSluice(relay("127.0.0.1:9", `127.0.0.1:${port}`), {
      onListen() {
        throw boom;
      },
    }),
    (err) => err === boom,
  );
  assertFree(port);
});

Deno.test("finished resolves after close() and after await using", async () => {
  const proxy = await startSluice(relay("127.0.0.1:9"));
  const port = proxy.addresses[0].port;
  assert.equal(await settled(proxy.finished), false);
  const closing = proxy.close();
  await proxy.finished;
  await closing;
  assertFree(port);

  let handle: SluiceHandle | undefined;
  {
    await using p = await startSluice(relay("127.0.0.1:9"));
    handle = p;
  }
  assert.equal(await settled(handle.finished), true);
});

Deno.test("a signal aborted after close() changes nothing", async () => {
  const ac = new AbortController();
  const proxy = await startSluice(relay("127.0.0.1:9"), { signal: ac.signal });
  await proxy.close();
  ac.abort();
  await proxy.finished;
});
