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
  await bad({ httpRequest: ["tarpit"] }, /unsupported action "http-request tarpit"/);
  await bad({ httpRequest: ["deny if unknown_acl"] }, /unknown_acl/);
  await bad({ httpRequest: ["set-header X-A %[src]"] }, /log-format expressions/);
  await bad({ httpResponse: ["del-header Server if { path /x }"] }, /not supported yet/);
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
