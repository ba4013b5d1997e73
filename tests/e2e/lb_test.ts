/**
 * Load balancing end to end, against real upstream HTTP servers on loopback:
 * distribution per algorithm, health checks marking servers down and up,
 * slowstart, drain and maintenance, backup servers, queueing at maxconn,
 * retries and redispatch, passive observation, and stickiness by cookie and
 * by source address.
 */
import assert from "node:assert/strict";
import {
  type BackendConfig,
  type ServerConfig,
  type SluiceHandle,
  startSluice,
} from "../../mod.ts";
import { farm, type FarmServer, header, request } from "../helpers/http_farm.ts";
import {
  echoScript,
  logInto,
  readN,
  refusedPort,
  sleep,
  upstream,
  waitFor,
  writeAll,
} from "../helpers/net.ts";

interface Lb extends AsyncDisposable {
  handle: SluiceHandle;
  port: number;
  logs: string[];
}

async function lb(
  servers: ServerConfig[],
  be: Partial<BackendConfig> = {},
): Promise<Lb> {
  const logs: string[] = [];
  const handle = await startSluice({
    // One thread: these tests count exact per-request splits, orders and log
    // lines of one balancer; threads_test.ts checks the same behaviours
    // across worker threads.
    global: { log: { target: logInto(logs) }, nbthread: 1 },
    frontends: [{
      name: "fe",
      binds: [{ address: "127.0.0.1:0" }],
      defaultBackend: "be",
    }],
    backends: [{ name: "be", ...be, servers }],
  });
  return {
    handle,
    port: handle.addresses[0].port,
    logs,
    [Symbol.asyncDispose]: () => handle.close(),
  };
}

function srv(s: FarmServer, extra: Partial<ServerConfig> = {}): ServerConfig {
  return { name: s.name, address: s.address, ...extra };
}

/** Sends `n` sequential requests; returns how many each server name answered. */
async function tally(port: number, n: number, path = (_i: number) => "/") {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await request(port, path(i));
    assert.equal(r.status, 200, `request ${i}: ${r.status} ${r.body}`);
    counts[r.body] = (counts[r.body] ?? 0) + 1;
  }
  return counts;
}

Deno.test("roundrobin and static-rr give each server exactly its weight's share", async () => {
  await using f = farm(3);
  for (const balance of ["roundrobin", "static-rr"] as const) {
    await using p = await lb(
      [srv(f[0], { weight: 1 }), srv(f[1], { weight: 2 }), srv(f[2], { weight: 3 })],
      { balance },
    );
    assert.deepEqual(await tally(p.port, 60), { s1: 10, s2: 20, s3: 30 }, balance);
  }
});

Deno.test("random shares traffic by weight (within 10 points)", async () => {
  await using f = farm(2);
  await using p = await lb([srv(f[0], { weight: 1 }), srv(f[1], { weight: 3 })], {
    balance: "random",
  });
  const c = await tally(p.port, 200);
  const share = (c.s2 ?? 0) / 200;
  assert.ok(share > 0.65 && share < 0.85, `s2 share ${share}`);
});

Deno.test("leastconn sends new requests to the least loaded server, by weight", async () => {
  await using f = farm(2);
  for (const s of f) s.delay = 300;
  await using p = await lb([srv(f[0], { weight: 1 }), srv(f[1], { weight: 3 })], {
    balance: "leastconn",
  });
  const rs = [];
  for (let i = 0; i < 8; i++) {
    rs.push(request(p.port));
    await sleep(15);
  }
  const c: Record<string, number> = {};
  for (const r of await Promise.all(rs)) c[r.body] = (c[r.body] ?? 0) + 1;
  // Loads (cur+1)/weight: s2 takes 3 for each one s1 takes.
  assert.deepEqual(c, { s1: 2, s2: 6 });
});

Deno.test("first sends everything to the first server until it is full", async () => {
  await using f = farm(2);
  await using p = await lb([srv(f[0], { maxconn: 2 }), srv(f[1])], { balance: "first" });
  assert.deepEqual(await tally(p.port, 10), { s1: 10 });
  // Three at once: the third goes to s2.
  f[0].delay = 300;
  const rs = await Promise.all([0, 1, 2].map(() => request(p.port)));
  assert.deepEqual(rs.map((r) => r.body).sort(), ["s1", "s1", "s2"]);
});

Deno.test("source, uri and hdr(name) send one key to one server and spread keys", async () => {
  await using f = farm(3);
  {
    await using p = await lb(f.map((s) => srv(s)), { balance: "source" });
    const c = await tally(p.port, 12);
    assert.equal(Object.keys(c).length, 1, "one client address, one server");
  }
  {
    await using p = await lb(f.map((s) => srv(s)), { balance: "uri" });
    const a = await tally(p.port, 6, () => "/a/b?x=1");
    assert.equal(Object.keys(a).length, 1, "same path, same server (query ignored)");
    const spread = await tally(p.port, 60, (i) => `/item/${i}`);
    assert.equal(
      Object.keys(spread).length,
      3,
      `60 paths reach every server: ${JSON.stringify(spread)}`,
    );
  }
  {
    await using p = await lb(f.map((s) => srv(s)), { balance: "hdr(X-User)" });
    const seen = new Map<string, string>();
    for (let i = 0; i < 30; i++) {
      const user = `user${i % 10}`;
      const r = await request(p.port, "/", { "X-User": user });
      assert.equal(r.status, 200);
      if (seen.has(user)) assert.equal(r.body, seen.get(user), `${user} stays on one server`);
      seen.set(user, r.body);
    }
    assert.ok(new Set(seen.values()).size >= 2, "10 users use more than one server");
    // No header: requests still get served.
    assert.equal((await request(p.port)).status, 200);
  }
});

Deno.test("url_param sends one parameter value to one server; without it, round robin", async () => {
  await using f = farm(3);
  await using p = await lb(f.map((s) => srv(s)), { balance: "url_param uid" });
  const seen = new Map<string, string>();
  for (let i = 0; i < 30; i++) {
    const uid = `u${i % 10}`;
    const r = await request(p.port, `/cart?lang=en&uid=${uid}&x=${i}`);
    assert.equal(r.status, 200);
    if (seen.has(uid)) assert.equal(r.body, seen.get(uid), `${uid} stays on one server`);
    seen.set(uid, r.body);
  }
  assert.ok(new Set(seen.values()).size >= 2, "10 values use more than one server");
  // No parameter (or another one): round robin, each server in turn.
  assert.deepEqual(await tally(p.port, 6, (i) => (i % 2 ? "/?other=1" : "/")), {
    s1: 2,
    s2: 2,
    s3: 2,
  });
});

Deno.test("hdr(host) use_domain_only keeps every host of one domain on one server", async () => {
  await using f = farm(3);
  await using p = await lb(f.map((s) => srv(s)), { balance: "hdr(host) use_domain_only" });
  for (const domain of ["alpha", "bravo", "charlie", "delta"]) {
    const bodies = new Set<string>();
    for (const host of [`www.${domain}.com`, `api.${domain}.com`, `${domain}.org`]) {
      const r = await request(p.port, "/", { Host: host });
      assert.equal(r.status, 200);
      bodies.add(r.body);
    }
    assert.equal(bodies.size, 1, `every host of ${domain} on one server`);
  }
});

Deno.test("a killed server is marked down by checks within fall x inter, and clients see no error", async () => {
  await using f = farm(2);
  await using p = await lb(
    f.map((s) => srv(s, { check: { inter: 100, fall: 2, rise: 2 } })),
    { retries: 2 },
  );
  assert.deepEqual(await tally(p.port, 4), { s1: 2, s2: 2 });
  await f[1].stop();
  const killedAt = Date.now();
  // Traffic while the dead server is not yet marked down: connect failures
  // are retried on the other server (redispatch), so every request succeeds.
  let errors = 0;
  while (!p.logs.some((l) => l.includes("be/s2 is DOWN"))) {
    const r = await request(p.port);
    if (r.status !== 200) errors++;
    assert.ok(Date.now() - killedAt < 2000, "marked down in time");
    await sleep(10);
  }
  const downLine = p.logs.find((l) => l.includes("be/s2 is DOWN"))!;
  assert.match(downLine, /^\[WARNING\] Server be\/s2 is DOWN, reason: Layer4 connection problem/);
  assert.match(downLine, /1 active and 0 backup servers left/);
  // fall (2) x inter (100 ms), plus jitter and the first check's offset.
  assert.ok(Date.now() - killedAt < 2 * 100 * 1.1 + 100 + 300, `${Date.now() - killedAt} ms`);
  assert.equal(errors, 0, "no client saw an error");
  assert.deepEqual(await tally(p.port, 4), { s1: 4 });
  const st = p.handle.stats().backends[0];
  assert.equal(st.servers[1].status, "DOWN");
  assert.equal(st.servers[1].check_status, "L4CON");
  assert.ok(st.servers[1].chkdown === 1);

  // It comes back: rise (2) good checks bring it up.
  f[1].start();
  await waitFor(() => p.logs.some((l) => l.includes("be/s2 is UP")), 3000, "s2 UP");
  assert.match(p.logs.find((l) => l.includes("be/s2 is UP"))!, /reason: Layer4 check passed/);
  const c = await tally(p.port, 4);
  assert.equal(c.s2, 2);
});

Deno.test("HTTP checks: a wrong status marks the server down with the status in the log", async () => {
  await using f = farm(2);
  f[1].healthStatus = 500;
  await using p = await lb(
    f.map((s) =>
      srv(s, { check: { type: "http", inter: 50, fall: 1, rise: 1, http: { path: "/health" } } })
    ),
  );
  await waitFor(() => p.logs.some((l) => l.includes("be/s2 is DOWN")), 3000, "s2 DOWN");
  assert.match(
    p.logs.find((l) => l.includes("be/s2 is DOWN"))!,
    /reason: Layer7 wrong status, code: 500/,
  );
  assert.ok(!p.logs.some((l) => l.includes("be/s1 is DOWN")));
  assert.deepEqual(await tally(p.port, 4), { s1: 4 });
  f[1].healthStatus = 200;
  await waitFor(() => p.logs.some((l) => l.includes("be/s2 is UP")), 3000, "s2 UP");
  assert.ok(f[1].heads.some((h) => h.startsWith("GET /health HTTP/1.1\r\n")));
});

Deno.test("slowstart ramps a recovered server's weight up over the period", async () => {
  await using f = farm(2);
  await using p = await lb([
    srv(f[0]),
    srv(f[1], { weight: 100, slowstart: 1000, check: { inter: 50, fall: 1, rise: 1 } }),
  ]);
  await f[1].stop();
  await waitFor(() => p.logs.some((l) => l.includes("be/s2 is DOWN")), 3000, "s2 DOWN");
  f[1].start();
  await waitFor(() => p.logs.some((l) => l.includes("be/s2 is UP")), 3000, "s2 UP");
  const seen: number[] = [];
  const start = Date.now();
  while (Date.now() - start < 1400) {
    seen.push(p.handle.stats().backends[0].servers[1].eweight);
    await sleep(100);
  }
  assert.ok(seen[0] < 50, `starts low: ${seen}`);
  assert.ok(seen.some((w) => w > 20 && w < 100), `ramps: ${seen}`);
  assert.equal(seen.at(-1), 100, `ends at the weight: ${seen}`);
  for (let i = 1; i < seen.length; i++) {
    assert.ok(seen[i] >= seen[i - 1], `never goes down: ${seen}`);
  }
});

Deno.test("drain and maint: no new traffic; maint logs and stops checks; ready brings it back", async () => {
  await using f = farm(2);
  await using p = await lb(f.map((s) => srv(s, { check: { inter: 50 } })));
  p.handle.setServer("be", "s2", { state: "drain" });
  assert.deepEqual(await tally(p.port, 4), { s1: 4 });
  assert.equal(p.handle.stats().backends[0].servers[1].status, "DRAIN");
  p.handle.setServer("be", "s2", { state: "maint" });
  assert.ok(p.logs.some((l) => l.includes("be/s2 is going DOWN for maintenance")));
  const checksBefore = f[1].heads.length;
  await sleep(200);
  assert.equal(f[1].heads.length, checksBefore, "no checks in maintenance");
  assert.deepEqual(await tally(p.port, 4), { s1: 4 });
  p.handle.setServer("be", "s2", { state: "ready" });
  assert.deepEqual(await tally(p.port, 4), { s1: 2, s2: 2 });
  assert.throws(() => p.handle.setServer("be", "nope", { state: "drain" }), /No server "be\/nope"/);
  assert.throws(() => p.handle.setServer("be", "s1", { weight: 300 }), /Invalid weight 300/);
});

Deno.test("weights change at run time", async () => {
  await using f = farm(2);
  await using p = await lb(f.map((s) => srv(s)));
  p.handle.setServer("be", "s1", { weight: 3 });
  assert.deepEqual(await tally(p.port, 8), { s1: 6, s2: 2 });
  p.handle.setServer("be", "s1", { weight: 0 });
  assert.deepEqual(await tally(p.port, 3), { s2: 3 });
});

Deno.test("backup servers take traffic only when no active server is up", async () => {
  await using f = farm(3);
  await using p = await lb([
    srv(f[0], { check: { inter: 50, fall: 1, rise: 1 } }),
    srv(f[1], { backup: true }),
    srv(f[2], { backup: true }),
  ]);
  assert.deepEqual(await tally(p.port, 4), { s1: 4 });
  await f[0].stop();
  await waitFor(() => p.logs.some((l) => l.includes("be/s1 is DOWN")), 3000, "s1 DOWN");
  assert.ok(p.logs.some((l) => l.includes("0 active and 2 backup servers left")));
  assert.deepEqual(await tally(p.port, 4), { s2: 2, s3: 2 });
  f[0].start();
  await waitFor(() => p.logs.some((l) => l.includes("be/s1 is UP")), 3000, "s1 UP");
  assert.deepEqual(await tally(p.port, 4), { s1: 4 });
});

Deno.test("with every server down, requests get 503 and the log says SC", async () => {
  await using f = farm(1);
  await using p = await lb([srv(f[0], { check: { inter: 50, fall: 1 } })]);
  await f[0].stop();
  await waitFor(() => p.logs.some((l) => l.includes("has no server available")), 3000, "alert");
  const r = await request(p.port);
  assert.equal(r.status, 503);
  await waitFor(() => p.logs.some((l) => / 503 .* SC-- /.test(l)), 2000, "503 log line");
});

Deno.test("maxconn 1 with many clients: requests wait in the queue and are served in order", async () => {
  await using f = farm(1);
  f[0].delay = 50;
  await using p = await lb([srv(f[0], { maxconn: 1 })], { timeouts: { queue: 5000 } });
  const order: number[] = [];
  const all = [];
  for (let i = 0; i < 6; i++) {
    all.push(
      request(p.port, `/r${i}`).then((r) => {
        assert.equal(r.status, 200);
        order.push(i);
      }),
    );
    await sleep(10); // arrive in a known order
  }
  await Promise.all(all);
  assert.equal(f[0].maxBusy, 1, "never more than maxconn at once");
  assert.deepEqual(f[0].heads.map((h) => h.split(" ")[1]), [
    "/r0",
    "/r1",
    "/r2",
    "/r3",
    "/r4",
    "/r5",
  ]);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  assert.ok(p.handle.stats().backends[0].qmax >= 4);
  // The log shows how many were ahead in the backend queue.
  await waitFor(() => p.logs.length >= 6, 2000, "six log lines");
  assert.match(p.logs.find((l) => l.includes("GET /r0"))!, / 0\/0 "GET \/r0 /);
  // r5 arrived 50 ms after r0 while each takes 50 ms: 1 to 4 were ahead of it.
  assert.match(p.logs.find((l) => l.includes("GET /r5"))!, / 0\/[1-4] "GET \/r5 /);
});

Deno.test("a stream waiting longer than timeout queue gets 503 and sQ", async () => {
  await using f = farm(1);
  f[0].delay = 600;
  await using p = await lb([srv(f[0], { maxconn: 1 })], { timeouts: { queue: 100 } });
  const first = request(p.port, "/slow");
  await sleep(30);
  const t0 = Date.now();
  const second = await request(p.port, "/queued");
  assert.equal(second.status, 503);
  assert.ok(Date.now() - t0 < 500, "gave up after timeout queue");
  assert.equal((await first).status, 200);
  await waitFor(
    () => p.logs.some((l) => l.includes("GET /queued") && / 503 .* sQ-- /.test(l)),
    2000,
    "sQ log",
  );
  assert.deepEqual(f[0].heads.map((h) => h.split(" ")[1]), ["/slow"]);
});

Deno.test("maxqueue bounds a server's queue; beyond it the stream gets 503", async () => {
  await using f = farm(1);
  f[0].delay = 300;
  await using p = await lb([srv(f[0], { maxconn: 1, maxqueue: 1 })]);
  const rs = [];
  for (let i = 0; i < 3; i++) {
    rs.push(request(p.port, `/q${i}`));
    await sleep(20);
  }
  const statuses = (await Promise.all(rs)).map((r) => r.status);
  assert.deepEqual(statuses, [200, 200, 503]);
  // Limits reached are logged (at most once per 10 s per kind).
  assert.equal(p.logs.filter((l) => l.includes("backend be: queue full (1 waiting)")).length, 1);
});

Deno.test("retries then redispatch: the last retry goes to another server", async () => {
  await using f = farm(1);
  const dead = refusedPort();
  await using p = await lb(
    [{ name: "dead", address: `127.0.0.1:${dead}` }, srv(f[0])],
    { retries: 2 },
  );
  // roundrobin sends the first request to "dead": two attempts there, the
  // last retry on s1.
  const r = await request(p.port);
  assert.equal(r.status, 200);
  assert.equal(r.body, "s1");
  const st = p.handle.stats().backends[0];
  assert.equal(st.servers[0].econ, 2, "the first attempt and one retry on the dead server");
  // One retry on the same server, one redispatch (counted apart, like HAProxy).
  assert.equal(st.wretr, 1);
  assert.equal(st.wredis, 1);
});

Deno.test("redispatch 0 keeps retrying the same server, then 503", async () => {
  await using f = farm(1);
  const dead = refusedPort();
  await using p = await lb(
    [{ name: "dead", address: `127.0.0.1:${dead}` }, srv(f[0])],
    { retries: 2, redispatch: 0 },
  );
  const r = await request(p.port);
  assert.equal(r.status, 503);
  const st = p.handle.stats().backends[0];
  assert.equal(st.servers[0].econ, 3);
  assert.equal(st.wretr, 2);
  assert.equal(st.wredis, 0);
});

Deno.test("passive observe layer7: consecutive 5xx mark a server down", async () => {
  await using f = farm(2);
  f[1].status = 500;
  await using p = await lb(
    f.map((s) =>
      srv(s, {
        // rise 10: a check passing right after cannot bring it back within the test.
        check: { inter: 5000, fall: 1, rise: 10 },
        observe: { mode: "layer7", errorLimit: 3, onError: "mark-down" },
      })
    ),
  );
  for (let i = 0; i < 6; i++) await request(p.port);
  await waitFor(() => p.logs.some((l) => l.includes("be/s2 is DOWN")), 2000, "s2 DOWN");
  assert.match(
    p.logs.find((l) => l.includes("be/s2 is DOWN"))!,
    /3 consecutive errors on live traffic/,
  );
  assert.deepEqual(await tally(p.port, 4), { s1: 4 });
});

Deno.test("cookie insert: the client sticks to its server and falls back when it is down", async () => {
  await using f = farm(2);
  await using p = await lb(f.map((s) => srv(s)), {
    cookie: { name: "SRV", mode: "insert", indirect: true },
  });
  const first = await request(p.port);
  const setCookie = header(first, "set-cookie");
  assert.equal(setCookie, `SRV=${first.body}; Path=/`);
  const cookie = `SRV=${first.body}; app=1`;
  for (let i = 0; i < 5; i++) {
    const r = await request(p.port, "/", { Cookie: cookie });
    assert.equal(r.body, first.body, "sticky");
    assert.equal(header(r, "set-cookie"), undefined, "indirect: no new cookie for a valid one");
  }
  const sticky = f.find((s) => s.name === first.body)!;
  assert.match(sticky.heads.at(-1)!, /\r\ncookie: app=1\r\n/i, "indirect: SRV removed");
  // Drain keeps sticky clients (like HAProxy); maint does not.
  p.handle.setServer("be", first.body, { state: "drain" });
  assert.equal((await request(p.port, "/", { Cookie: cookie })).body, first.body);
  p.handle.setServer("be", first.body, { state: "maint" });
  const moved = await request(p.port, "/", { Cookie: cookie });
  assert.notEqual(moved.body, first.body);
  assert.equal(header(moved, "set-cookie"), `SRV=${moved.body}; Path=/`);
});

Deno.test("cookie prefix: the application cookie carries the server and is restored", async () => {
  await using f = farm(2);
  for (const s of f) s.extra = ["Set-Cookie: JSESSIONID=abc123; Path=/"];
  await using p = await lb(f.map((s) => srv(s)), {
    cookie: { name: "JSESSIONID", mode: "prefix" },
  });
  const first = await request(p.port);
  assert.equal(header(first, "set-cookie"), `JSESSIONID=${first.body}~abc123; Path=/`);
  for (let i = 0; i < 4; i++) {
    const r = await request(p.port, "/", { Cookie: `JSESSIONID=${first.body}~abc123` });
    assert.equal(r.body, first.body);
  }
  const sticky = f.find((s) => s.name === first.body)!;
  assert.match(sticky.heads.at(-1)!, /\r\ncookie: JSESSIONID=abc123\r\n/i);
});

Deno.test("source stickiness: a client address keeps its server, and falls back when it is down", async () => {
  await using f = farm(2);
  await using p = await lb(f.map((s) => srv(s)), { stickSource: {} });
  const c = await tally(p.port, 6);
  assert.equal(Object.keys(c).length, 1, JSON.stringify(c));
  const name = Object.keys(c)[0];
  p.handle.setServer("be", name, { state: "maint" });
  const other = await tally(p.port, 3);
  assert.equal(Object.keys(other).length, 1);
  assert.notEqual(Object.keys(other)[0], name);
  assert.equal(p.handle.stats().backends[0].stick_entries, 1);
});

Deno.test("TCP mode: checks mark a dead server down and maxconn queues connections", async () => {
  await using a = upstream(echoScript);
  await using b = upstream(echoScript);
  const logs: string[] = [];
  await using h = await startSluice({
    global: { log: { target: logInto(logs) } },
    frontends: [{
      name: "fe",
      mode: "tcp",
      binds: [{ address: "127.0.0.1:0" }],
      defaultBackend: "be",
    }],
    backends: [{
      name: "be",
      mode: "tcp",
      timeouts: { queue: 5000 },
      servers: [
        { name: "a", address: a.address, maxconn: 1, check: { inter: 50, fall: 1, rise: 1 } },
        { name: "b", address: b.address, check: { inter: 50, fall: 1, rise: 1 } },
      ],
    }],
  });
  const port = h.addresses[0].port;
  await b.close();
  await waitFor(() => logs.some((l) => l.includes("be/b is DOWN")), 3000, "b DOWN");
  // Only "a" is left, with maxconn 1: the second connection waits until the first closes.
  const c1 = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(c1, new TextEncoder().encode("one"));
  assert.equal(new TextDecoder().decode(await readN(c1, 3)), "one");
  const c2 = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(c2, new TextEncoder().encode("two"));
  await sleep(100);
  // (The upstream's own count would also see a's health checks.)
  assert.equal(
    h.stats().backends[0].servers[0].scur,
    1,
    "the second connection waits in the queue",
  );
  assert.equal(h.stats().backends[0].qcur, 1);
  c1.close();
  assert.equal(new TextDecoder().decode(await readN(c2, 3)), "two");
  c2.close();
  await waitFor(() => h.stats().backends[0].scur === 0, 2000, "streams end");
});

Deno.test("passive observe layer4: consecutive connection failures mark a server down before checks do", async () => {
  await using f = farm(1);
  const dead = refusedPort();
  await using p = await lb(
    [
      srv(f[0]),
      {
        name: "dead",
        address: `127.0.0.1:${dead}`,
        check: { inter: 60_000 },
        observe: { mode: "layer4", errorLimit: 2, onError: "mark-down" },
      },
    ],
    { retries: 1 },
  );
  // Each request that lands on "dead" fails once there and is redispatched.
  for (let i = 0; i < 6; i++) assert.equal((await request(p.port)).status, 200);
  await waitFor(() => p.logs.some((l) => l.includes("be/dead is DOWN")), 2000, "dead DOWN");
  assert.match(
    p.logs.find((l) => l.includes("be/dead is DOWN"))!,
    /Layer4 connection problem \(2 consecutive errors on live traffic\)/,
  );
  assert.equal(p.handle.stats().backends[0].servers[1].status, "DOWN");
});

Deno.test("a complete request waiting in a queue or for a slow server is not cut by timeout client", async () => {
  await using f = farm(1);
  f[0].delay = 600;
  await using p = await lb([srv(f[0], { maxconn: 1 })], {
    timeouts: { server: 5000, queue: 5000 },
  });
  // lb() uses the frontend's default client timeout; make a short one.
  await p.handle.close();
  const logs: string[] = [];
  await using h = await startSluice({
    global: { log: { target: logInto(logs) } },
    frontends: [{
      name: "fe",
      binds: [{ address: "127.0.0.1:0" }],
      timeouts: { client: 300 },
      defaultBackend: "be",
    }],
    backends: [{
      name: "be",
      timeouts: { server: 5000, queue: 5000 },
      servers: [srv(f[0], { maxconn: 1 })],
    }],
  });
  const port = h.addresses[0].port;
  const [a, b] = await Promise.all([request(port, "/a"), request(port, "/b")]);
  assert.equal(a.status, 200, "waited 600 ms for the server");
  assert.equal(b.status, 200, "waited in the queue, then for the server");
});

Deno.test("a retry on a fresh connection keeps the sticky server, and logs name the right server", async () => {
  await using f = farm(2);
  await using p = await lb(f.map((s) => srv(s)), { cookie: { name: "SRV", mode: "insert" } });
  const first = await request(p.port);
  const name = first.body;
  // Keep-alive connection: request 1 to `name`, then put it in maint, then
  // request 2 on the same connection gets another server; a third request
  // with no server up gets 503 logged as <NOSRV>.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
  const enc = new TextEncoder();
  const buf = new Uint8Array(4096);
  const exchange = async (extra: string) => {
    await writeAll(conn, enc.encode(`GET /k HTTP/1.1\r\nHost: t\r\n${extra}\r\n`));
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0));
  };
  assert.match(await exchange(`Cookie: SRV=${name}\r\n`), new RegExp(`\\r\\n\\r\\n${name}$`));
  for (const s of f) p.handle.setServer("be", s.name, { state: "maint" });
  assert.match(await exchange(`Cookie: SRV=${name}\r\n`), /^HTTP\/1.1 503 /);
  conn.close();
  await waitFor(() => p.logs.some((l) => / 503 .*"GET \/k /.test(l)), 2000, "503 line");
  assert.match(p.logs.find((l) => / 503 .*"GET \/k /.test(l))!, / be\/<NOSRV> /);
  const st = p.handle.stats().backends[0].servers.find((s) => s.name === name)!;
  assert.equal(st.hrsp_5xx, 0, "the 503 is not counted on the previous server");
});

Deno.test("startSluice({ configFile }) and setServerState / setWeight", async () => {
  await using f = farm(2);
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/lb.cfg`;
    await Deno.writeTextFile(
      file,
      [
        "global",
        "    log stdout format raw local0",
        "defaults",
        "    mode http",
        "listen app",
        "    bind 127.0.0.1:0",
        "    balance roundrobin",
        `    server s1 ${f[0].address}`,
        `    server s2 ${f[1].address}`,
      ].join("\n") + "\n",
    );
    await using h = await startSluice({ configFile: file });
    const port = h.addresses[0].port;
    h.setServerState("app", "s2", "maint");
    assert.deepEqual(await tally(port, 3), { s1: 3 });
    h.setServerState("app", "s2", "ready");
    h.setWeight("app", "s2", 2);
    assert.deepEqual(await tally(port, 6), { s1: 2, s2: 4 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("maxconn reached and an exhausted buffer pool are logged, once per kind", async () => {
  await using f = farm(1);
  const logs: string[] = [];
  await using h = await startSluice({
    global: { log: { target: logInto(logs) }, buffers: 2 },
    frontends: [{
      name: "fe",
      maxconn: 1,
      binds: [{ address: "127.0.0.1:0" }],
      defaultBackend: "be",
    }],
    backends: [{ name: "be", servers: [srv(f[0])] }],
  });
  const port = h.addresses[0].port;
  const a = await Deno.connect({ hostname: "127.0.0.1", port });
  await sleep(50);
  const b = await Deno.connect({ hostname: "127.0.0.1", port });
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  await waitFor(() => logs.some((l) => l.includes("frontend fe: maxconn reached")), 2000, "event");
  await sleep(50);
  assert.equal(logs.filter((l) => l.includes("maxconn reached")).length, 1, "rate-limited");
  a.close();
  b.close();
  c.close();
});
