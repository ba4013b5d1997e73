/**
 * Worker threads (`nbthread` > 1) behave as one proxy: exact counters over
 * many fresh connections (the kernel spreads them over the workers'
 * SO_REUSEPORT sockets), server and frontend maxconn never exceeded across
 * workers, roundrobin even, runtime API changes and health checks applied in
 * every worker, cookie persistence across workers, hooks from a module,
 * log functions fed from every worker, reload under load, and a crashed
 * worker replaced while the others keep serving.
 */
import assert from "node:assert/strict";
import { type SluiceConfig, type SluiceHandle, startSluice } from "../../mod.ts";
import { threadGroupOf } from "../../lib/worker/handle.ts";
import { farm, type FarmServer, header, request } from "../helpers/http_farm.ts";
import { logInto, refusedPort, sleep, waitFor } from "../helpers/net.ts";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";

function cfg(f: FarmServer[], over: Partial<SluiceConfig> = {}, logs?: string[]): SluiceConfig {
  return {
    global: {
      nbthread: 2,
      log: logs === undefined ? { target: "none" } : { target: logInto(logs), format: "httplog" },
    },
    frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
    backends: [{
      name: "be",
      servers: f.map((s) => ({ name: s.name, address: s.address })),
    }],
    ...over,
  };
}

/** `n` requests, `c` at a time, each on a fresh connection. */
async function load(port: number, n: number, c = 8, path = "/") {
  const out: Awaited<ReturnType<typeof request>>[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: c }, async () => {
    while (next < n) {
      next++;
      out.push(await request(port, path));
    }
  }));
  return out;
}

for (const threads of [2, 4]) {
  Deno.test(`nbthread ${threads}: exact counters over many fresh connections, show info Nbthread`, async () => {
    await using f = farm(2);
    await using p = {
      h: await startSluice(cfg(f, { global: { nbthread: threads, log: { target: "none" } } })),
      [Symbol.asyncDispose]() {
        return this.h.close();
      },
    };
    const h = p.h;
    const replies = await load(h.addresses[0].port, 200, 16);
    assert.ok(replies.every((r) => r.status === 200));
    const st = h.stats();
    assert.equal(st.frontends[0].stot, 200);
    assert.equal(st.frontends[0].req_tot, 200);
    assert.equal(st.frontends[0].hrsp_2xx, 200);
    assert.equal(st.backends[0].stot, 200);
    assert.equal(st.backends[0].servers[0].stot + st.backends[0].servers[1].stot, 200);
    assert.equal(st.backends[0].lat?.total.count, 200, "histograms merged bucket by bucket");
    assert.equal(f[0].count + f[1].count, 200);
    // One roundrobin for the process (its credits are shared): an exact split.
    assert.deepEqual([f[0].count, f[1].count], [100, 100]);
    assert.match(h.admin("show info"), new RegExp(`^Nbthread: ${threads}$`, "m"));
    assert.match(h.admin("show info"), /^Thread_restarts: 0$/m);
  });
}

Deno.test("nbthread 2: a server's maxconn and a frontend's maxconn hold across workers", async () => {
  await using f = farm(1);
  f[0].delay = 50;
  const config = cfg(f);
  config.backends![0].servers[0].maxconn = 2;
  await using _p = {
    h: await startSluice(config),
    [Symbol.asyncDispose]() {
      return this.h.close();
    },
  };
  const replies = await load(_p.h.addresses[0].port, 40, 12);
  assert.ok(replies.every((r) => r.status === 200));
  assert.ok(f[0].maxBusy <= 2, `server maxconn 2, saw ${f[0].maxBusy} at once`);
  assert.equal(f[0].maxBusy, 2, "both slots used");

  await using g = farm(1);
  g[0].delay = 50;
  const c2 = cfg(g);
  c2.frontends[0].maxconn = 3;
  await using p2 = {
    h: await startSluice(c2),
    [Symbol.asyncDispose]() {
      return this.h.close();
    },
  };
  const r2 = await load(p2.h.addresses[0].port, 40, 12);
  assert.ok(r2.every((r) => r.status === 200));
  assert.ok(g[0].maxBusy <= 3, `frontend maxconn 3, saw ${g[0].maxBusy} at once`);
});

Deno.test("nbthread 2: a server disabled or weighted 0 through the runtime API gets nothing from any worker", async () => {
  await using f = farm(2);
  await using p = {
    h: await startSluice(cfg(f)),
    [Symbol.asyncDispose]() {
      return this.h.close();
    },
  };
  const h = p.h;
  assert.equal(h.admin("disable server be/s1"), "\n");
  await load(h.addresses[0].port, 40);
  assert.equal(f[0].count, 0);
  assert.equal(f[1].count, 40);
  h.admin("enable server be/s1");
  h.admin("set weight be/s2 0");
  await load(h.addresses[0].port, 40);
  assert.equal(f[0].count, 40);
  assert.equal(f[1].count, 40);
  assert.equal(h.stats().backends[0].servers[1].weight, 0);
});

Deno.test("nbthread 2: a failing health check takes the server out of every worker, logged once", async () => {
  await using f = farm(1);
  const logs: string[] = [];
  const config = cfg(f, {}, logs);
  config.backends![0].servers.push({
    name: "dead",
    address: `127.0.0.1:${refusedPort()}`,
    check: { inter: 100, fall: 1, rise: 1 },
  });
  await using p = {
    h: await startSluice(config),
    [Symbol.asyncDispose]() {
      return this.h.close();
    },
  };
  await waitFor(() => p.h.stats().backends[0].servers[1].status === "DOWN", 5000, "dead DOWN");
  const replies = await load(p.h.addresses[0].port, 40);
  assert.ok(replies.every((r) => r.status === 200), "no request went to the dead server");
  assert.equal(f[0].count, 40);
  await sleep(300);
  assert.equal(logs.filter((l) => l.includes("be/dead is DOWN")).length, 1, logs.join("\n"));
  assert.equal(p.h.stats().backends[0].servers[1].chkdown, 1);
});

Deno.test("nbthread 2: cookie persistence holds across workers; access logs of every worker reach a log function", async () => {
  await using f = farm(2);
  const logs: string[] = [];
  const config = cfg(f, {}, logs);
  config.backends![0].cookie = { name: "SRV", mode: "insert" };
  config.frontends[0].log = { targets: ["global"] };
  await using p = {
    h: await startSluice(config),
    [Symbol.asyncDispose]() {
      return this.h.close();
    },
  };
  const port = p.h.addresses[0].port;
  const first = await request(port);
  const cookie = header(first, "set-cookie")!.split(";")[0];
  const sticky = first.body;
  for (let i = 0; i < 30; i++) {
    const r = await request(port, "/", { Cookie: cookie });
    assert.equal(r.body, sticky);
  }
  await waitFor(() => logs.filter((l) => l.includes(" fe be/")).length >= 31, 5000, "31 lines");
});

Deno.test("nbthread 2: hooks come from a module every worker imports; functions are refused with a clear error", async () => {
  await using f = farm(1);
  const dir = await Deno.makeTempDir();
  try {
    const mod = `${dir}/hooks.ts`;
    await Deno.writeTextFile(
      mod,
      `export const frontends = { fe: { onRequest(ctx) {
        let read = "yes";
        try { Deno.readTextFileSync("/etc/hostname"); } catch (e) { read = e.name; }
        ctx.setHeader("X-Worker-Read", read);
      } } };\n`,
    );
    await using p = {
      h: await startSluice(cfg(f), { hooksModule: new URL(`file://${mod}`) }),
      [Symbol.asyncDispose]() {
        return this.h.close();
      },
    };
    await load(p.h.addresses[0].port, 10);
    assert.equal(f[0].heads.length, 10);
    for (const head of f[0].heads) {
      // The hook runs in a worker, which may not read an arbitrary file.
      assert.match(head, /\r\nX-Worker-Read: NotCapable\r\n/i);
    }
    const withFn = cfg(f);
    withFn.frontends[0].hooks = { onRequest: () => {} };
    await assert.rejects(
      () => startSluice(withFn),
      /Cannot run 2 threads with a function in the configuration \(config\.frontends\[0\]\.hooks\.onRequest\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nbthread 2: reload under keep-alive load fails no request", async () => {
  await using f = farm(2);
  await using p = {
    h: await startSluice(cfg(f)),
    [Symbol.asyncDispose]() {
      return this.h.close();
    },
  };
  const h: SluiceHandle = p.h;
  const port = h.addresses[0].port;
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const client = async () => {
    while (!stop) {
      // fetch keeps connections alive; a response with Connection: close
      // makes the next request open a new one.
      try {
        const r = await fetch(`http://127.0.0.1:${port}/`);
        await r.text();
        if (r.status === 200) ok++;
        else failures.push(`status ${r.status}`);
      } catch (err) {
        failures.push(String(err));
      }
    }
  };
  const clients = Array.from({ length: 6 }, client);
  await sleep(200);
  await h.reload(cfg(f));
  await sleep(300);
  await h.reload(cfg(f));
  await sleep(300);
  stop = true;
  await Promise.all(clients);
  assert.deepEqual(failures, []);
  assert.ok(ok > 50, `${ok} requests`);
  assert.equal(h.addresses[0].port, port, "the port stays");
});

Deno.test("nbthread 2: a worker that dies is replaced; requests keep succeeding", async () => {
  await using f = farm(1);
  const logs: string[] = [];
  await using p = {
    h: await startSluice(cfg(f, {}, logs)),
    [Symbol.asyncDispose]() {
      return this.h.close();
    },
  };
  const g = threadGroupOf(p.h)!;
  assert.ok(g !== null);
  const port = p.h.addresses[0].port;
  let stop = false;
  const failures: string[] = [];
  let ok = 0;
  const client = async () => {
    while (!stop) {
      try {
        const r = await request(port);
        if (r.status === 200) ok++;
        else failures.push(`status ${r.status}`);
      } catch (err) {
        failures.push(String(err));
      }
    }
  };
  const clients = Array.from({ length: 4 }, client);
  await sleep(100);
  g.crashWorker(1);
  await waitFor(() => g.restarts === 1, 5000, "worker replaced");
  assert.ok(await g.workerReady(1));
  const before = ok;
  await sleep(300);
  stop = true;
  await Promise.all(clients);
  assert.ok(ok > before, "requests served after the replacement");
  // Connections the dead worker held are lost with it; none other fails.
  assert.ok(failures.length <= 4, failures.join("\n"));
  assert.match(p.h.admin("show info"), /^Thread_restarts: 1$/m);
  assert.ok(logs.some((l) => /worker 2 died .*starting a new worker 2/.test(l)), logs.join("\n"));
  const r = await load(port, 40);
  assert.ok(r.every((x) => x.status === 200));
});

Deno.test("nbthread 2: source stickiness holds across workers; passive health seen by one worker takes the server out of all", async () => {
  await using f = farm(2);
  const config = cfg(f);
  config.backends![0].stickSource = {};
  await using p = {
    h: await startSluice(config),
    [Symbol.asyncDispose]() {
      return this.h.close();
    },
  };
  // The first request's worker learns the address and tells the others (a
  // message: requests on two workers at the very same moment may differ).
  const first = await request(p.h.addresses[0].port);
  await sleep(50);
  // Fresh connections from one address land on both workers.
  const replies = await load(p.h.addresses[0].port, 40, 4);
  assert.deepEqual(new Set(replies.map((r) => r.body)), new Set([first.body]));

  await using g = farm(2);
  g[0].status = 503;
  const c2 = cfg(g);
  c2.backends![0].servers[0].observe = { mode: "layer7", errorLimit: 2, onError: "mark-down" };
  c2.backends![0].servers[0].check = { inter: 60_000 };
  await using p2 = {
    h: await startSluice(c2),
    [Symbol.asyncDispose]() {
      return this.h.close();
    },
  };
  await load(p2.h.addresses[0].port, 20, 4);
  await waitFor(() => p2.h.stats().backends[0].servers[0].status === "DOWN", 5000, "s1 DOWN");
  const before = g[0].count;
  await load(p2.h.addresses[0].port, 20, 4);
  assert.equal(g[0].count, before, "no worker sends to the server marked down");
});

Deno.test("nbthread 2: use-service prometheus-exporter in a worker shows the whole process's counters", async () => {
  await using f = farm(1);
  const config = parseConfigText(
    [
      "global",
      "    nbthread 2",
      "defaults",
      "    mode http",
      "frontend prometheus",
      "    bind 127.0.0.1:0",
      "    http-request use-service prometheus-exporter if { path /metrics }",
      "frontend web",
      "    bind 127.0.0.1:0",
      "    default_backend app",
      "backend app",
      `    server s1 ${f[0].address}`,
    ].join("\n"),
    "t.cfg",
    {},
  );
  await using p = {
    h: await startSluice(config),
    [Symbol.asyncDispose]() {
      return this.h.close();
    },
  };
  await load(p.h.addresses[1].port, 30, 6);
  // The control thread sends the merged counters every second.
  await sleep(1500);
  for (let i = 0; i < 4; i++) {
    const r = await request(p.h.addresses[0].port, "/metrics");
    assert.match(r.body, /^sluice_frontend_http_requests_total\{frontend="web"\} 30$/m);
  }
});

Deno.test("nbthread 2: roundrobin and static-rr give each server exactly its weight's share across workers", async () => {
  await using f = farm(3);
  for (const balance of ["roundrobin", "static-rr"] as const) {
    const config = cfg(f);
    config.backends![0].balance = balance;
    config.backends![0].servers.forEach((s, i) => s.weight = i + 1);
    await using p = {
      h: await startSluice(config),
      [Symbol.asyncDispose]() {
        return this.h.close();
      },
    };
    const before = f.map((s) => s.count);
    await load(p.h.addresses[0].port, 60, 6);
    assert.deepEqual(f.map((s, i) => s.count - before[i]), [10, 20, 30], balance);
  }
});
