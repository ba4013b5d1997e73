/**
 * HTTP routing and rules end to end: use_backend by path, host and source,
 * http-request deny / return / redirect / header actions, http-response
 * header actions, from the API and from a configuration file.
 */
import assert from "node:assert/strict";
import { type FrontendRules, startSluice } from "../../mod.ts";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import { farm, type FarmServer, header, request, routedProxy } from "../helpers/http_farm.ts";
import { echoScript, readAll, upstream, waitFor, writeAll } from "../helpers/net.ts";
import { checkExposition, promValue } from "../helpers/prom_check.ts";
import { formatPrometheus } from "../../lib/stats/prometheus.ts";

/** Frontend "fe" with `rules`, default backend "web" (s1), backend "api" (s2). */
function px(f: FarmServer[], rules: FrontendRules) {
  return routedProxy(f, { rules });
}

Deno.test("use_backend routes by path and host header; others go to the default backend", async () => {
  await using f = farm(2);
  await using p = await px(f, {
    acls: ["is_api path_beg /api", "api_host hdr(host) -i api.example.com"],
    useBackends: ["api if is_api || api_host"],
  });
  assert.equal((await request(p.port, "/api/users")).body, "s2");
  assert.equal((await request(p.port, "/", { Host: "API.example.com" })).body, "s2");
  assert.equal((await request(p.port, "/index.html")).body, "s1");
  await waitFor(() => p.logs.length === 3, 2000, "three log lines");
  assert.match(p.logs[0], / fe api\/s2 /);
  assert.match(p.logs[2], / fe web\/s1 /);
  const st = p.handle.stats().backends;
  assert.equal(st.find((b) => b.name === "api")!.req_tot, 2);
  assert.equal(st.find((b) => b.name === "web")!.req_tot, 1);
});

Deno.test("each request of a keep-alive connection is routed on its own", async () => {
  await using f = farm(2);
  await using p = await px(f, { useBackends: ["api if { path_beg /api }"] });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
  const buf = new Uint8Array(4096);
  const get = async (path: string) => {
    await writeAll(conn, new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`));
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n\r\n")[1];
  };
  assert.deepEqual([await get("/api/a"), await get("/b"), await get("/api/c")], ["s2", "s1", "s2"]);
  conn.close();
  await waitFor(() => p.handle.stats().backends.every((b) => b.scur === 0), 2000, "scur 0");
});

Deno.test("http-request deny answers 403 (or deny_status) and the server never sees it", async () => {
  await using f = farm(2);
  await using p = await px(f, {
    httpRequest: [
      "deny if { path_beg /admin }",
      "deny deny_status 429 if { hdr(x-flood) -m found }",
    ],
  });
  const r = await request(p.port, "/admin/x");
  assert.equal(r.status, 403);
  assert.equal(header(r, "connection"), "close");
  assert.equal((await request(p.port, "/", { "X-Flood": "1" })).status, 429);
  assert.equal((await request(p.port, "/ok")).status, 200);
  assert.deepEqual(f[0].heads.map((h) => h.split(" ")[1]), ["/ok"]);
  await waitFor(() => p.logs.length === 3, 2000, "log lines");
  assert.match(p.logs[0], / 403 .* PR-- .*"GET \/admin\/x HTTP\/1\.1"$/);
});

Deno.test("http-request return and redirect answer locally (LR--)", async () => {
  await using f = farm(2);
  await using p = await px(f, {
    httpRequest: [
      'return status 200 content-type text/plain string "pong" if { path /ping }',
      "redirect location https://example.com/new code 301 if { path /old }",
    ],
  });
  const pong = await request(p.port, "/ping");
  assert.equal(pong.status, 200);
  assert.equal(pong.body, "pong");
  assert.equal(header(pong, "content-type"), "text/plain");
  const moved = await request(p.port, "/old");
  assert.equal(moved.status, 301);
  assert.equal(header(moved, "location"), "https://example.com/new");
  assert.equal(f[0].heads.length, 0, "no server reached");
  await waitFor(() => p.logs.length === 2, 2000, "log lines");
  assert.match(p.logs[0], / 200 .* LR-- /);
});

Deno.test("header actions on requests and responses", async () => {
  await using f = farm(2);
  f[0].extra = ["Server: leaky/1.0", "X-Powered-By: php"];
  await using p = await px(f, {
    httpRequest: [
      'set-header X-Env "prod eu"',
      "add-header X-Trace 1",
      "del-header X-Secret",
      "set-header X-Trace 2 if { path /twice }",
    ],
    httpResponse: [
      "del-header Server",
      "set-header X-Powered-By sluice",
      "add-header X-Frame-Options DENY",
    ],
  });
  const r = await request(p.port, "/twice", { "X-Secret": "s3cr3t", "X-Env": "dev" });
  assert.equal(r.status, 200);
  const head = f[0].heads[0];
  assert.match(head, /\r\nX-Env: prod eu\r\n/);
  assert.ok(!/x-env: dev/i.test(head), "set-header replaced the client's value");
  assert.ok(!/x-secret/i.test(head));
  assert.match(head, /\r\nX-Trace: 2\r\n/);
  assert.equal(head.match(/X-Trace/g)!.length, 1, "set-header replaced the earlier add-header");
  assert.equal(header(r, "server"), undefined);
  assert.equal(header(r, "x-powered-by"), "sluice");
  assert.equal(header(r, "x-frame-options"), "DENY");
});

Deno.test("http-response deny and return replace matching responses and count dresp", async () => {
  await using f = farm(2);
  f[0].extra = ["X-Debug-Token: abc"];
  await using p = await px(f, {
    acls: ["leaks res.hdr(x-debug-token) -m found"],
    httpRequest: ["set-var(txn.route) path", "set-var(txn.who) req.hdr(x-user)"],
    httpResponse: [
      "deny if leaks { var(txn.route) -m beg /private }",
      'return status 503 content-type text/plain string "maintenance" if { status 200 } { var(txn.who) -m str mallory }',
      "deny deny_status 500 if { status 404 } { hdr(x-debug-token) -m found }",
      "set-header X-Seen yes",
    ],
  });
  // Allowed: a leaky header on a public path, and the header edit applies.
  const ok = await request(p.port, "/public");
  assert.equal(ok.status, 200);
  assert.equal(header(ok, "x-seen"), "yes");
  // Denied: the server's response is replaced by a 502 and its connection closed.
  const denied = await request(p.port, "/private/report");
  assert.equal(denied.status, 502);
  assert.equal(header(denied, "x-debug-token"), undefined);
  assert.ok(!denied.body.includes("s1"), "the server's body never reaches the client");
  // Replaced by `return`: not a denial (no dresp), logged as a local answer.
  const ret = await request(p.port, "/x", { "X-User": "mallory" });
  assert.equal(ret.status, 503);
  assert.equal(ret.body, "maintenance");
  // hdr() reads the response in response rules; status conditions combine.
  f[0].status = 404;
  const nf = await request(p.port, "/gone");
  assert.equal(nf.status, 500);
  await waitFor(() => p.logs.length === 4, 2000, "four log lines");
  assert.match(p.logs[0], / 200 .* ---- /);
  assert.match(p.logs[1], / 502 .* PH-- /);
  assert.match(p.logs[2], / 503 .* LH-- /);
  assert.match(p.logs[3], / 500 .* PH-- /);
  const st = p.handle.stats();
  assert.equal(st.frontends[0].dresp, 2);
  assert.equal(st.frontends[0].dreq, 0);
  const web = st.backends.find((b) => b.name === "web")!;
  assert.equal(web.dresp, 2);
  assert.equal(web.servers[0].dresp, 2);
  assert.equal(st.backends.find((b) => b.name === "api")!.dresp, 0);
  // The server saw every request: response rules run after it answered.
  assert.equal(f[0].heads.length, 4);
  // The same numbers in HAProxy's CSV and in Prometheus.
  const lines = p.handle.admin("show stat").trim().split("\n");
  const cols = lines[0].slice(2).split(",");
  const csv = lines.slice(1).map((l) =>
    Object.fromEntries(l.split(",").map((v, i) => [cols[i], v]))
  );
  const at = (px: string, sv: string) => csv.find((r) => r.pxname === px && r.svname === sv)!;
  assert.equal(at("fe", "FRONTEND").dresp, "2");
  assert.equal(at("web", "BACKEND").dresp, "2");
  assert.equal(at("web", "s1").dresp, "2");
  const prom = checkExposition(formatPrometheus(st));
  const val = (name: string, labels: Record<string, string>) => promValue(prom, name, labels);
  assert.equal(val("sluice_frontend_denied_responses_total", { frontend: "fe" }), 2);
  assert.equal(val("sluice_server_denied_responses_total", { backend: "web", server: "s1" }), 2);
});

Deno.test("set-header and add-header values with %[fetch] samples (HAProxy log-format)", async () => {
  await using f = farm(2);
  f[0].status = 201;
  await using p = await px(f, {
    httpRequest: [
      "set-header X-Real-IP %[src]",
      'add-header X-Client "%[src]:%[src_port] -> %[dst]:%[dst_port]"',
      "set-header X-Forwarded-Proto https if { ssl_fc }",
      "set-header X-Forwarded-Proto http unless { ssl_fc }",
      'add-header X-Via "sluice for %[req.hdr(host)] (100%%)"',
      "add-header X-Missing [%[req.hdr(x-none)]]",
      "set-var(txn.route) path",
    ],
    httpResponse: [
      "set-header X-Status %[status]",
      "add-header X-Route %[var(txn.route)]",
      "add-header X-Server %[res.hdr(x-from)]",
    ],
  });
  f[0].extra = ["X-From: s1"];
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
  const local = conn.localAddr as Deno.NetAddr;
  await writeAll(
    conn,
    new TextEncoder().encode("GET /p?q=1 HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n"),
  );
  const text = new TextDecoder().decode(await readAll(conn));
  conn.close();
  const head = f[0].heads[0];
  assert.match(head, /\r\nX-Real-IP: 127\.0\.0\.1\r\n/);
  assert.match(
    head,
    new RegExp(`\\r\\nX-Client: 127\\.0\\.0\\.1:${local.port} -> 127\\.0\\.0\\.1:${p.port}\\r\\n`),
  );
  assert.match(head, /\r\nX-Forwarded-Proto: http\r\n/);
  assert.match(head, /\r\nX-Via: sluice for shop\.test \(100%\)\r\n/);
  assert.match(head, /\r\nX-Missing: \[\]\r\n/);
  assert.match(text, /\r\nX-Status: 201\r\n/);
  assert.match(text, /\r\nX-Route: \/p\r\n/);
  assert.match(text, /\r\nX-Server: s1\r\n/);
  // Refused at load time, with what to write instead.
  for (
    const [rules, re] of [
      [{ httpRequest: ["set-header X-IP %ci"] }, /unsupported log-format item "%ci".*%\[src\]/],
      [{ httpRequest: ["set-header X-S %[status]"] }, /only known in response rules/],
      [{ httpResponse: ["set-header X-P %[path]"] }, /request fetches are not known in response/],
      [{ httpRequest: ["set-header X-A %[nope]"] }, /unknown fetch "nope"/],
      [{ httpRequest: ["set-header X-A %[src"] }, /missing "\]" after "%\["/],
      [{ httpRequest: ["set-header X-A %[src,nope]"] }, /unknown converter "nope" after "src"/],
      [{ httpRequest: ["redirect scheme %[src]"] }, /not supported in redirect scheme/],
    ] as [FrontendRules, RegExp][]
  ) {
    await assert.rejects(() => px(f, rules), re);
  }
});

Deno.test("rules from a configuration file route and answer the same way", async () => {
  await using f = farm(2);
  const cfg = parseConfigText(
    [
      "defaults",
      "    mode http",
      "frontend fe",
      "    bind 127.0.0.1:0",
      "    acl is_api path_beg /api",
      "    acl local src 127.0.0.0/8 ::1",
      '    http-request return status 200 string "healthy" if { path /healthz } local',
      "    use_backend api if is_api",
      "    default_backend web",
      "backend web",
      `    server s1 ${f[0].address}`,
      "backend api",
      `    server s2 ${f[1].address}`,
    ].join("\n"),
    "t.cfg",
    {},
  );
  cfg.global = { log: { target: "none" } };
  await using h = await startSluice(cfg);
  const port = h.addresses[0].port;
  assert.equal((await request(port, "/healthz")).body, "healthy");
  assert.equal((await request(port, "/api/x")).body, "s2");
  assert.equal((await request(port, "/x")).body, "s1");
});

Deno.test("rule errors name the rule and why", async () => {
  const base = {
    frontends: [{
      name: "fe",
      binds: [{ address: "127.0.0.1:0" }],
      defaultBackend: "be",
      rules: {} as FrontendRules,
    }],
    backends: [{ name: "be", servers: [{ name: "s", address: "127.0.0.1:1" }] }],
  };
  const bad = async (rules: FrontendRules, re: RegExp) => {
    base.frontends[0].rules = rules;
    await assert.rejects(() => startSluice(base), re);
  };
  await bad(
    { useBackends: ["nope"] },
    /rules.useBackends\[0\]: use_backend: no backend named "nope"/,
  );
  await bad({ httpRequest: ["frobnicate"] }, /unsupported action "http-request frobnicate"/);
  await bad({ httpRequest: ["deny if unknown_acl"] }, /unknown_acl/);
  await bad({ httpRequest: ["return string %[src]"] }, /use "lf-string" to expand/);
  await bad(
    { httpResponse: ["del-header Server if { path /x }"] },
    /httpResponse\[0\]: "path" reads the request, which http-response rules cannot see/,
  );
  await bad(
    { acls: ["bad status 500"], httpRequest: ["deny if bad"] },
    /httpRequest\[0\]: "status" \(ACL "bad"\) is only known in http-response rules/,
  );
  await bad(
    { httpResponse: ["redirect prefix /x"] },
    /"http-response redirect" supports only "location"/,
  );
});

Deno.test("tcp-request connection reject closes matching clients at once, in TCP mode too", async () => {
  await using up = upstream(echoScript);
  for (const mode of ["tcp", "http"] as const) {
    await using h = await startSluice({
      global: { log: { target: "none" } },
      frontends: [{
        name: "fe",
        mode,
        binds: [{ address: "127.0.0.1:0" }],
        defaultBackend: "be",
        rules: {
          acls: ["trusted src 10.0.0.0/8"],
          tcpRequest: ["connection accept if trusted", "connection reject if { src 127.0.0.0/8 }"],
        },
      }],
      backends: [{ name: "be", mode, servers: [{ name: "s", address: up.address }] }],
    });
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: h.addresses[0].port });
    await writeAll(conn, new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n")).catch(
      () => {},
    );
    assert.equal((await readAll(conn).catch(() => new Uint8Array(0))).length, 0, mode);
    conn.close();
    await waitFor(() => h.stats().frontends[0].dcon === 1, 2000, "dcon");
    assert.equal(up.accepted, 0);
  }
});

Deno.test("http-request set-path, set-query and replace-header rewrite the request", async () => {
  await using f = farm(2);
  await using p = await px(f, {
    httpRequest: [
      "set-path /v2/items if { path /v1/items }",
      "set-query lang=en if { path_beg /v1/ }",
      "replace-header X-Forwarded-Host ^(.*)\\.internal$ \\1.example.com",
    ],
  });
  const r = await request(p.port, "/v1/items?page=3", {
    "X-Forwarded-Host": "shop.internal",
    "X-Danger": "keep",
  });
  assert.equal(r.status, 200);
  const head = f[0].heads[0];
  assert.match(head, /^GET \/v2\/items\?lang=en HTTP\/1\.1\r\n/);
  assert.match(head, /\r\nX-Forwarded-Host: shop\.example\.com\r\n/);
  assert.match(head, /\r\nX-Danger: keep\r\n/);
  // A replacement that would add a line break is refused at load time.
  await assert.rejects(
    () => px(f, { httpRequest: ['replace-header X-A ^(.*)$ "\\1\\r\\nInjected: 1"'] }),
    /control characters are not allowed in replace-header replacement/,
  );
});

Deno.test("rules cannot touch framing headers, and tcp-request uses src only", async () => {
  await using f = farm(2);
  for (
    const rule of [
      "set-header Content-Length 0",
      "del-header Transfer-Encoding",
      "add-header Connection close",
      "add-header Host other",
      'return status 200 hdr Content-Length 5 string "hello"',
    ]
  ) {
    await assert.rejects(
      () => px(f, { httpRequest: [rule] }),
      /managed by sluice|Host can only be set/,
      rule,
    );
  }
  await assert.rejects(
    () => px(f, { httpResponse: ["set-header Content-Length 0"] }),
    /managed by sluice/,
  );
  await assert.rejects(
    () => px(f, { tcpRequest: ["connection reject if { query -m len 0 }"] }),
    /can only use src/,
  );
  await assert.rejects(
    () => px(f, { acls: ["is_api path_beg /api"], tcpRequest: ["connection reject if is_api"] }),
    /can only use src/,
  );
});

Deno.test("replace-header sees what earlier rules did", async () => {
  await using f = farm(2);
  await using p = await px(f, {
    httpRequest: [
      "del-header X-User",
      "replace-header X-User (.*) \\1",
      "set-header X-Role trusted",
      "replace-header X-Role (.*) \\1-checked",
    ],
  });
  await request(p.port, "/", { "X-User": "attacker", "X-Role": "admin" });
  const head = f[0].heads[0];
  assert.ok(!/x-user/i.test(head), "a deleted header stays deleted");
  assert.match(head, /\r\nX-Role: trusted-checked\r\n/);
  assert.equal(head.match(/x-role/gi)!.length, 1);
});

Deno.test("set-header Host wins over an absolute-form target's authority", async () => {
  await using f = farm(2);
  await using p = await px(f, { httpRequest: ["set-header Host internal.example"] });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
  await writeAll(
    conn,
    new TextEncoder().encode(
      "GET http://evil.example/x HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    ),
  );
  await readAll(conn);
  conn.close();
  const head = f[0].heads[0];
  assert.equal(head.match(/\r\nhost:/gi)!.length, 1, head);
  assert.match(head, /\r\nHost: internal\.example\r\n/);
});

Deno.test("redirect prefix and scheme keep the path and query", async () => {
  await using f = farm(2);
  await using p = await px(f, {
    httpRequest: [
      "redirect scheme https code 301 if { hdr(x-forwarded-proto) http }",
      "redirect prefix https://new.example.com/ if { path_beg /old }",
    ],
  });
  const a = await request(p.port, "/a/b?c=1", {
    "X-Forwarded-Proto": "http",
    Host: "shop.example",
  });
  assert.equal(a.status, 301);
  assert.equal(header(a, "location"), "https://shop.example/a/b?c=1");
  const b = await request(p.port, "/old/page?x=2");
  assert.equal(b.status, 302);
  assert.equal(header(b, "location"), "https://new.example.com/old/page?x=2");
  assert.equal(f[0].heads.length, 0);
});

Deno.test("set-var stores a value that later rules test with var()", async () => {
  await using f = farm(2);
  await using p = await px(f, {
    httpRequest: [
      "set-var(txn.tenant) req.hdr(x-tenant)",
      "set-var(txn.kind) str(internal) if { src 127.0.0.0/8 }",
      "deny deny_status 451 if { var(txn.tenant) -m str blocked }",
      "set-header X-Kind internal if { var(txn.kind) internal }",
    ],
    useBackends: ["api if { var(txn.tenant) -m beg api- }"],
  });
  assert.equal((await request(p.port, "/", { "X-Tenant": "blocked" })).status, 451);
  assert.equal((await request(p.port, "/", { "X-Tenant": "api-42" })).body, "s2");
  assert.equal((await request(p.port, "/")).body, "s1", "no variable: no match");
  assert.match(f[1].heads[0], /\r\nX-Kind: internal\r\n/);
  await assert.rejects(
    () => px(f, { httpRequest: ["set-var(txn.x) base64(foo)"] }),
    /unsupported set-var expression/,
  );
});

Deno.test("use_backend by source address", async () => {
  await using f = farm(2);
  await using p = await px(f, {
    acls: ["office src 10.0.0.0/8 127.0.0.0/8 ::1"],
    useBackends: ["api if office"],
  });
  assert.equal((await request(p.port, "/")).body, "s2");
});
