/**
 * The stats listener: HTML page, HAProxy CSV, JSON and Prometheus metrics
 * (checked with a strict exposition parser), basic auth and allow-list;
 * counters checked exactly against known traffic.
 */
import assert from "node:assert/strict";
import { startSluice } from "../../mod.ts";
import { farm, request } from "../helpers/http_farm.ts";
import { checkExposition, promValue } from "../helpers/prom_check.ts";
import { upstream, waitFor, writeAll } from "../helpers/net.ts";

async function get(port: number, path: string, headers: Record<string, string> = {}) {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  return { status: r.status, type: r.headers.get("content-type") ?? "", body: await r.text() };
}

Deno.test("stats listener: page, CSV, JSON and Prometheus reflect the traffic exactly", async () => {
  await using f = farm(2);
  f[1].status = 503;
  await using h = await startSluice({
    global: { log: { target: "none" }, stats: { address: "127.0.0.1:0", auth: "admin:s3cret" } },
    frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
    backends: [{
      name: "be",
      servers: [{ name: "s1", address: f[0].address }, { name: "s2", address: f[1].address }],
    }],
  });
  const port = h.addresses[0].port;
  for (let i = 0; i < 10; i++) await request(port, `/r${i}`);
  const auth = { Authorization: `Basic ${btoa("admin:s3cret")}` };
  assert.equal((await get(h.statsPort, "/")).status, 401);
  assert.equal(
    (await get(h.statsPort, "/", { Authorization: `Basic ${btoa("admin:nope")}` })).status,
    401,
  );

  const page = await get(h.statsPort, "/", auth);
  assert.equal(page.status, 200);
  assert.match(page.type, /text\/html/);
  assert.match(page.body, /<h2>backend be<\/h2>/);
  assert.match(page.body, /class="up">UP</);

  const csv = (await get(h.statsPort, "/;csv", auth)).body.trim().split("\n");
  const header = csv[0].replace(/^# /, "").split(",");
  assert.deepEqual(header.slice(0, 4), ["pxname", "svname", "qcur", "qmax"]);
  const row = (sv: string) => {
    const cells = csv.find((l) => l.split(",")[1] === sv)!.split(",");
    return (f: string) => cells[header.indexOf(f)];
  };
  assert.equal(row("FRONTEND")("req_tot"), "10");
  assert.equal(row("s1")("hrsp_2xx"), "5");
  assert.equal(row("s2")("hrsp_5xx"), "5");
  assert.equal(row("BACKEND")("stot"), "10");

  const json = JSON.parse((await get(h.statsPort, "/;json", auth)).body);
  assert.equal(json.frontends[0].req_tot, 10);

  const metrics = await get(h.statsPort, "/metrics", auth);
  assert.match(metrics.type, /text\/plain; version=0\.0\.4/);
  const samples = checkExposition(metrics.body);
  const value = (name: string, labels: Record<string, string>) => promValue(samples, name, labels);
  assert.equal(value("sluice_frontend_http_requests_total", { frontend: "fe" }), 10);
  assert.equal(value("sluice_backend_http_responses_total", { backend: "be", code: "5xx" }), 5);
  assert.equal(value("sluice_server_status", { backend: "be", server: "s1", state: "UP" }), 1);
});

Deno.test("stats listener: allow-list refuses other networks, bad settings are refused", async () => {
  await using f = farm(1);
  await using h = await startSluice({
    global: { log: { target: "none" }, stats: { address: "127.0.0.1:0", allow: ["10.0.0.0/8"] } },
    frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
    backends: [{ name: "be", servers: [{ name: "s1", address: f[0].address }] }],
  });
  assert.equal((await get(h.statsPort, "/metrics")).status, 403);
  await assert.rejects(
    () =>
      startSluice({
        global: { stats: { address: "127.0.0.1:0", allow: ["10.0.0.0/33"] } },
        frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
        backends: [{ name: "be", servers: [{ name: "s1", address: f[0].address }] }],
      }),
    /global\.stats\.allow\[0\]/,
  );
});

Deno.test("latency percentiles: a 100 ms server shows in response and total times", async () => {
  await using f = farm(1);
  f[0].delay = 100;
  await using h = await startSluice({
    global: { log: { target: "none" }, stats: { address: "127.0.0.1:0" } },
    frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
    backends: [{ name: "be", servers: [{ name: "s1", address: f[0].address }] }],
  });
  for (let i = 0; i < 5; i++) await request(h.addresses[0].port, "/");
  const be = h.stats().backends[0];
  assert.equal(be.lat!.response.count, 5);
  assert.ok(
    be.lat!.response.p50 >= 95 && be.lat!.response.p50 < 200,
    `p50 ${be.lat!.response.p50}`,
  );
  assert.ok(be.lat!.total.p99 >= be.lat!.response.p50);
  assert.equal(be.servers[0].lat!.response.count, 5);
  const metrics = checkExposition((await get(h.statsPort, "/metrics")).body);
  const bucket = metrics.find((s) =>
    s.name === "sluice_backend_response_time_seconds_bucket" && s.labels.le === "0.25"
  );
  assert.equal(bucket?.value, 5, "all five under 250 ms");
  const under50 = metrics.find((s) =>
    s.name === "sluice_backend_response_time_seconds_bucket" && s.labels.le === "0.05"
  );
  assert.equal(under50?.value, 0);
});

async function adminCommand(path: string, line: string): Promise<string> {
  const c = await Deno.connect({ transport: "unix", path });
  try {
    await c.write(new TextEncoder().encode(line + "\n"));
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await c.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    return new TextDecoder().decode(
      chunks.reduce((a, b) => {
        const o = new Uint8Array(a.length + b.length);
        o.set(a);
        o.set(b, a.length);
        return o;
      }, new Uint8Array(0)),
    );
  } finally {
    c.close();
  }
}

Deno.test("runtime API socket: drain a server under load with no failed request", async () => {
  await using f = farm(2);
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/admin.sock`;
    await using h = await startSluice({
      global: { log: { target: "none" }, adminSocket: { path } },
      frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
      backends: [{
        name: "be",
        servers: [{ name: "s1", address: f[0].address }, { name: "s2", address: f[1].address }],
      }],
    });
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const port = h.addresses[0].port;
    let failures = 0, running = true;
    const load = (async () => {
      while (running) if ((await request(port, "/")).status !== 200) failures++;
    })();
    await new Promise((r) => setTimeout(r, 100));
    const out = await adminCommand(path, "set server be/s1 state drain");
    assert.equal(out.trim(), "");
    await new Promise((r) => setTimeout(r, 100));
    const before = f[0].count;
    await new Promise((r) => setTimeout(r, 150));
    running = false;
    await load;
    assert.equal(failures, 0);
    assert.equal(f[0].count, before, "no new request on the drained server");
    const csv = await adminCommand(path, "show stat");
    assert.match(csv, /^# pxname,svname,qcur,qmax,scur,smax,slim,stot,/);
    assert.match(csv, /\nbe,s1,.*DRAIN/);
    assert.match(h.admin("show servers state"), /^1\n# be_id be_name srv_id srv_name/);
    assert.match(h.admin("bogus"), /Unknown command/);
    assert.equal(h.admin("set weight be/s2 50%").trim(), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("logs to a file, reopened after a rotation by the runtime API; and to syslog over UDP", async () => {
  await using f = farm(1);
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/access.log`;
    {
      await using h = await startSluice({
        global: { log: { target: { file }, format: "httplog" } },
        frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
        backends: [{ name: "be", servers: [{ name: "s1", address: f[0].address }] }],
      });
      await request(h.addresses[0].port, "/before");
      await new Promise((r) => setTimeout(r, 50));
      await Deno.rename(file, `${file}.1`);
      assert.equal(h.admin("reopen logs").trim(), "");
      await request(h.addresses[0].port, "/after");
    }
    assert.match(await Deno.readTextFile(`${file}.1`), /"GET \/before HTTP\/1\.1"/);
    const now = await Deno.readTextFile(file);
    assert.match(now, /"GET \/after HTTP\/1\.1"/);
    assert.ok(!now.includes("/before"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // Syslog: one RFC 5424 datagram per line.
  const dgram = await import("node:dgram");
  const sock = dgram.createSocket("udp4");
  const got: string[] = [];
  sock.on("message", (m) => got.push(new TextDecoder().decode(m)));
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
  try {
    const port = (sock.address() as { port: number }).port;
    await using h = await startSluice({
      global: { log: { target: { syslog: `127.0.0.1:${port}`, facility: "local1" } } },
      frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
      backends: [{ name: "be", servers: [{ name: "s1", address: f[0].address }] }],
    });
    await request(h.addresses[0].port, "/syslogged");
    await waitFor(() => got.length === 2, 2000, "two datagrams");
    // The start-up event first (local1 * 8 + notice (5) = 141), then the access line.
    assert.match(
      got[0],
      /^<141>1 .* sluice \d+ - - \[NOTICE\] configuration loaded: 1 frontend, 1 backend, 1 server$/,
    );
    // local1 (17) * 8 + info (6) = 142.
    assert.match(
      got[1],
      /^<142>1 \d{4}-\d\d-\d\dT[^ ]+ \S+ sluice \d+ - - .*"GET \/syslogged HTTP\/1\.1"$/,
    );
  } finally {
    await new Promise<void>((r) => sock.close(() => r()));
  }
});

Deno.test("session and request rates follow the last second", async () => {
  await using f = farm(1);
  await using h = await startSluice({
    global: { log: { target: "none" } },
    frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
    backends: [{ name: "be", servers: [{ name: "s1", address: f[0].address }] }],
  });
  for (let i = 0; i < 8; i++) await request(h.addresses[0].port, "/");
  const fe = h.stats().frontends[0];
  assert.ok(fe.rate >= 4 && fe.rate <= 8, `rate ${fe.rate}`);
  assert.ok(fe.req_rate >= 4 && fe.req_rate <= 8, `req_rate ${fe.req_rate}`);
  assert.equal(fe.req_rate_max >= fe.req_rate, true);
  assert.match(h.admin("show stat"), /\nfe,FRONTEND,/);
});

Deno.test("bytes and backend sessions count per request, while keep-alive goes on", async () => {
  await using f = farm(2);
  await using h = await startSluice({
    global: { log: { target: "none" } },
    frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
    backends: [{
      name: "be",
      servers: [{ name: "s1", address: f[0].address }, { name: "s2", address: f[1].address }],
    }],
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: h.addresses[0].port });
  let sent = 0, received = 0;
  const buf = new Uint8Array(4096);
  for (let i = 0; i < 4; i++) {
    const req = new TextEncoder().encode(`GET /r${i} HTTP/1.1\r\nHost: t\r\n\r\n`);
    await conn.write(req);
    sent += req.length;
    // The farm answers "HTTP/1.1 200 X" with a 2-byte body ("s1" or "s2").
    let text = "";
    while (!/\r\n\r\ns\d$/.test(text)) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("closed");
      received += n;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
  }
  // The connection is still open: every request is already counted.
  const st = h.stats();
  const fe = st.frontends[0], be = st.backends[0];
  const [s1, s2] = be.servers;
  assert.equal(fe.bin, sent);
  assert.equal(fe.bout, received);
  assert.equal(be.bin, sent);
  assert.equal(be.bout, received);
  assert.ok(s1.bout > 0 && s2.bout > 0, "round robin used both servers");
  assert.equal(s1.bin + s2.bin, sent);
  assert.equal(s1.bout + s2.bout, received);
  // Sessions: one client connection, four backend sessions (one per request,
  // as in HAProxy), none in progress while the connection is idle.
  assert.deepEqual([fe.stot, fe.scur], [1, 1]);
  assert.deepEqual([be.stot, be.scur, be.smax], [4, 0, 1]);
  assert.equal(s1.stot + s2.stot, 4);
  conn.close();
  // Closing adds nothing more.
  await waitFor(() => h.stats().frontends[0].scur === 0, 2000, "closed");
  assert.equal(h.stats().frontends[0].bout, received);
  assert.equal(h.stats().backends[0].bin, sent);
});

Deno.test("eresp counts every response error: invalid (502), late (504), cut mid-body", async () => {
  let n = 0;
  await using up = upstream(async (conn) => {
    const k = n++;
    const buf = new Uint8Array(4096);
    await conn.read(buf);
    const enc = new TextEncoder();
    if (k === 0) await writeAll(conn, enc.encode("garbage\r\n\r\n"));
    else if (k === 1) await new Promise((r) => setTimeout(r, 400)); // past timeout server
    else if (k === 2) {
      await writeAll(conn, enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"));
    } else await writeAll(conn, enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  });
  await using h = await startSluice({
    global: { log: { target: "none" } },
    frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
    backends: [{
      name: "be",
      timeouts: { server: 200 },
      servers: [{ name: "s", address: up.address }],
    }],
  });
  const port = h.addresses[0].port;
  assert.equal((await request(port, "/a")).status, 502);
  assert.equal((await request(port, "/b")).status, 504);
  await request(port, "/c").catch(() => {}); // cut: the client sees a short body
  assert.equal((await request(port, "/d")).status, 200);
  await waitFor(() => h.stats().frontends[0].scur === 0, 2000, "all ended");
  const be = h.stats().backends[0];
  assert.equal(be.eresp, 3);
  assert.equal(be.servers[0].eresp, 3);
  assert.equal(be.srv_abrt, 1, "only the cut body is a server abort");
  assert.equal(be.hrsp_5xx, 2);
});

Deno.test("cli_abrt counts a client that leaves in the middle of a response", async () => {
  const body = new Uint8Array(8 << 20);
  await using up = upstream(async (conn) => {
    await conn.read(new Uint8Array(4096));
    await writeAll(
      conn,
      new TextEncoder().encode(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`),
    ).catch(() => {});
    await writeAll(conn, body).catch(() => {});
  });
  await using h = await startSluice({
    global: { log: { target: "none" } },
    frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
    backends: [{ name: "be", servers: [{ name: "s", address: up.address }] }],
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: h.addresses[0].port });
  await writeAll(conn, new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  await conn.read(new Uint8Array(4096));
  conn.close();
  await waitFor(() => h.stats().frontends[0].scur === 0, 3000, "stream ended");
  const be = h.stats().backends[0];
  assert.equal(be.cli_abrt, 1);
  assert.equal(be.servers[0].cli_abrt, 1);
  assert.equal(be.srv_abrt, 0);
  assert.equal(be.eresp, 0);
});
