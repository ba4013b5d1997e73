/**
 * reload(): a new configuration replaces the running one under load with
 * no failed request — listeners are taken over, kept-alive clients get
 * "Connection: close" from the old configuration and reconnect to the new
 * one — and a configuration that fails never replaces the running one.
 */
import assert from "node:assert/strict";
import { type SluiceConfig, startSluice } from "../../mod.ts";
import { farm, request } from "../helpers/http_farm.ts";
import { sleep } from "../helpers/net.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function config(servers: string[], port = 0): SluiceConfig {
  return {
    global: { log: { target: "none" }, graceMs: 3000 },
    frontends: [{ name: "fe", binds: [{ address: `127.0.0.1:${port}` }], defaultBackend: "be" }],
    backends: [{
      name: "be",
      servers: servers.map((address, i) => ({ name: `s${i + 1}`, address })),
    }],
  };
}

/** A keep-alive client sending requests until `stop()`; counts answers by body and failures. */
function client(port: number) {
  const bodies: string[] = [];
  let failures = 0, running = true;
  const done = (async () => {
    while (running) {
      let conn: Deno.Conn;
      try {
        conn = await Deno.connect({ hostname: "127.0.0.1", port });
      } catch {
        failures++;
        continue;
      }
      try {
        let data = "";
        const buf = new Uint8Array(4096);
        while (running) {
          await conn.write(enc.encode("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
          let end = -1;
          while ((end = data.indexOf("\r\n\r\n")) < 0) {
            const n = await conn.read(buf);
            if (n === null) throw new Error("closed before a response");
            data += dec.decode(buf.subarray(0, n));
          }
          const head = data.slice(0, end);
          const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
          while (data.length < end + 4 + len) {
            const n = await conn.read(buf);
            if (n === null) throw new Error("closed in the body");
            data += dec.decode(buf.subarray(0, n));
          }
          if (!head.startsWith("HTTP/1.1 200")) failures++;
          bodies.push(data.slice(end + 4, end + 4 + len));
          data = data.slice(end + 4 + len);
          if (/\r\nconnection: close/i.test(head)) break; // reconnect
        }
      } catch {
        failures++;
      } finally {
        conn.close();
      }
    }
  })();
  return {
    bodies,
    get failures() {
      return failures;
    },
    stop: async () => {
      running = false;
      await done;
    },
  };
}

Deno.test("reload under load: no failed request, new requests follow the new configuration", async () => {
  await using f = farm(2);
  await using h = await startSluice(config([f[0].address]));
  const port = h.addresses[0].port;
  const clients = Array.from({ length: 8 }, () => client(port));
  try {
    await sleep(300);
    await h.reload(config([f[1].address], port));
    assert.equal(h.addresses[0].port, port, "same listening socket");
    await sleep(500);
  } finally {
    await Promise.all(clients.map((c) => c.stop()));
  }
  const failures = clients.reduce((n, c) => n + c.failures, 0);
  const all = clients.flatMap((c) => c.bodies);
  assert.equal(failures, 0, "no failed request");
  assert.ok(all.includes("s1") && all.includes("s2"), "both configurations served");
  // After the reload every client ended on the new configuration.
  for (const c of clients) {
    assert.equal(c.bodies.at(-1), "s2", "every client ended on the new server");
  }
  assert.equal((await request(port)).body, "s2");
});

Deno.test("a configuration that fails to load or bind leaves the running one untouched", async () => {
  await using f = farm(2);
  await using h = await startSluice(config([f[0].address]));
  const port = h.addresses[0].port;
  const bad = config([f[1].address], port);
  bad.backends[0].servers[0].weight = 999;
  await assert.rejects(() => h.reload(bad), /weight/);
  const blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dir = await Deno.makeTempDir();
  try {
    const busy = config([f[1].address], port);
    // A log file the refused configuration opened is closed again (the
    // test's resource sanitizer checks it).
    busy.global!.log = { target: { file: `${dir}/refused.log` } };
    busy.frontends[0].binds.push({ address: `127.0.0.1:${(blocker.addr as Deno.NetAddr).port}` });
    await assert.rejects(() => h.reload(busy), /address already in use/);
  } finally {
    blocker.close();
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal((await request(port)).body, "s1");
});

Deno.test("the first load and each reload write an event line", async () => {
  await using f = farm(2);
  const lines: string[] = [];
  const cfg = config([f[0].address]);
  cfg.global!.log = { target: (l) => lines.push(l) };
  await using h = await startSluice(cfg);
  const next = config([f[0].address, f[1].address], h.addresses[0].port);
  next.global!.log = { target: (l) => lines.push(l) };
  await h.reload(next, { graceMs: 100 });
  assert.deepEqual(lines, [
    "[NOTICE] configuration loaded: 1 frontend, 1 backend, 1 server",
    "[NOTICE] configuration reloaded: 1 frontend, 1 backend, 2 servers",
  ]);
});
