/**
 * `http-request use-service prometheus-exporter` end to end: HAProxy's own
 * exporter configuration (a frontend without a backend), metrics larger than
 * a buffer streamed as the client reads, strict exposition parsing, HEAD,
 * 503 for what no rule answers, and a slow reader that does not stall others.
 */
import assert from "node:assert/strict";
import { startSluice } from "../../mod.ts";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import { DEFAULT_BUFSIZE } from "../../lib/core/pool.ts";
import { farm, header, request } from "../helpers/http_farm.ts";
import { checkExposition, promValue } from "../helpers/prom_check.ts";
import { concat, logInto, readAll, waitFor, writeAll } from "../helpers/net.ts";

/** The exporter frontend of HAProxy's documentation, next to a proxied frontend with `n` servers. */
async function exporter(address: string, n: number, logs: string[]) {
  const servers = Array.from({ length: n }, (_, i) => `    server s${i} ${address}`);
  const cfg = parseConfigText(
    [
      "defaults",
      "    mode http",
      "    log global",
      "frontend prometheus",
      "    bind 127.0.0.1:0",
      "    http-request use-service prometheus-exporter if { path /metrics }",
      "frontend web",
      "    bind 127.0.0.1:0",
      "    default_backend app",
      "backend app",
      "    balance first",
      ...servers,
    ].join("\n"),
    "t.cfg",
    {},
  );
  // One thread: with worker threads the exporter serves the process's
  // counters as the control thread sent them, at most a second old
  // (threads_test.ts); these tests read them right after the traffic.
  cfg.global = { log: { target: logInto(logs) }, nbthread: 1 };
  const h = await startSluice(cfg);
  return { h, metrics: h.addresses[0].port, web: h.addresses[1].port };
}

Deno.test("use-service prometheus-exporter streams metrics larger than a buffer", async () => {
  await using f = farm(1);
  const logs: string[] = [];
  const { h, metrics, web } = await exporter(f[0].address, 40, logs);
  await using _h = h;
  for (let i = 0; i < 3; i++) assert.equal((await request(web, "/x")).status, 200);
  const r = await request(metrics, "/metrics");
  assert.equal(r.status, 200);
  assert.equal(header(r, "content-type"), "text/plain; version=0.0.4; charset=utf-8");
  assert.equal(Number(header(r, "content-length")), new TextEncoder().encode(r.body).length);
  assert.ok(r.body.length > 4 * DEFAULT_BUFSIZE, `body of ${r.body.length} bytes`);
  const samples = checkExposition(r.body);
  const v = (name: string, labels: Record<string, string>) => promValue(samples, name, labels);
  assert.equal(v("sluice_frontend_http_requests_total", { frontend: "web" }), 3);
  assert.equal(v("sluice_server_sessions_total", { backend: "app", server: "s0" }), 3);
  assert.equal(v("sluice_server_sessions_total", { backend: "app", server: "s39" }), 0);
  assert.equal(
    v("sluice_backend_http_responses_total", { backend: "app", code: "2xx" }),
    3,
  );
  // HEAD: the same head, no body.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: metrics });
  await writeAll(
    conn,
    new TextEncoder().encode("HEAD /metrics HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n"),
  );
  const text = new TextDecoder().decode(await readAll(conn));
  conn.close();
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(text, /\r\nContent-Length: [1-9][0-9]+\r\n/);
  assert.ok(text.endsWith("\r\n\r\n"), "no body after the head");
  // What no rule answers meets the empty backend: 503, logged <NOSRV>.
  assert.equal((await request(metrics, "/other")).status, 503);
  await waitFor(() => logs.length === 6, 2000, "six log lines");
  assert.match(
    logs[3],
    /prometheus prometheus\/<NOSRV> .* 200 .* LR-- .*"GET \/metrics HTTP\/1\.1"/,
  );
  assert.match(logs[5], /prometheus prometheus\/<NOSRV> .* 503 .*"GET \/other HTTP\/1\.1"/);
  // The line is written once the whole response is out: its byte count has all of it.
  const logged = Number(/ 200 (\d+) /.exec(logs[3])![1]);
  assert.ok(logged > Number(header(r, "content-length")), `logged ${logged} bytes`);
  // The same for an error sluice answers itself.
  const c2 = await Deno.connect({ hostname: "127.0.0.1", port: metrics });
  await writeAll(
    c2,
    new TextEncoder().encode("HEAD /nothing HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n"),
  );
  const err = new TextDecoder().decode(await readAll(c2));
  c2.close();
  assert.match(err, /^HTTP\/1\.1 503 [^\r]*\r\n(?:[^\r]*\r\n)*content-length: [1-9][0-9]*\r\n/i);
  assert.ok(err.endsWith("\r\n\r\n"), "no error page after the head");
  // The empty backend is not listed.
  assert.deepEqual(h.stats().backends.map((b) => b.name), ["app"]);
});

Deno.test("a slow metrics reader is fed as it reads and does not stall other clients", async () => {
  await using f = farm(1);
  const logs: string[] = [];
  const { h, metrics, web } = await exporter(f[0].address, 40, logs);
  await using _h = h;
  const slow = await Deno.connect({ hostname: "127.0.0.1", port: metrics });
  await writeAll(
    slow,
    new TextEncoder().encode("GET /metrics HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n"),
  );
  // The slow client reads nothing for a while: others are served meanwhile.
  for (let i = 0; i < 5; i++) assert.equal((await request(web, "/y")).status, 200);
  const fast = await request(metrics, "/metrics");
  assert.equal(fast.status, 200);
  // Then it reads everything, in small bites.
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(1000);
  for (;;) {
    const n = await slow.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
    if (chunks.length % 20 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  slow.close();
  const text = new TextDecoder().decode(concat(chunks));
  const end = text.indexOf("\r\n\r\n");
  const len = Number(/\r\nContent-Length: (\d+)\r\n/.exec(text.slice(0, end + 2))![1]);
  assert.equal(new TextEncoder().encode(text.slice(end + 4)).length, len);
  checkExposition(text.slice(end + 4));
});

Deno.test("use-service errors name the rule", async () => {
  const bad = async (rule: string, re: RegExp) => {
    await assert.rejects(
      () =>
        startSluice({
          frontends: [{
            name: "fe",
            binds: [{ address: "127.0.0.1:0" }],
            rules: { httpRequest: [rule] },
          }],
          backends: [],
        }),
      re,
    );
  };
  await bad("use-service stats", /unknown service "stats" \(supported: prometheus-exporter\)/);
  await bad("use-service prometheus-exporter now", /unexpected "now"/);
  await assert.rejects(
    () =>
      startSluice({
        frontends: [{ name: "fe", mode: "tcp", binds: [{ address: "127.0.0.1:0" }] }],
        backends: [],
      }),
    /a tcp frontend needs a default backend/,
  );
});
