/**
 * TypeScript hooks end to end: onRequest routes, rewrites headers and path,
 * answers directly, may be async without holding other streams, and fails
 * only its own request when it throws; onResponse edits response headers.
 */
import assert from "node:assert/strict";
import { type FrontendHooks, startSluice } from "../../mod.ts";
import { farm, type FarmServer, header, request, routedProxy } from "../helpers/http_farm.ts";
import { logInto, sleep, waitFor } from "../helpers/net.ts";

/** Frontend "fe" with `hooks`, default backend "web" (s1), backend "api" (s2). */
function px(f: FarmServer[], hooks: FrontendHooks) {
  return routedProxy(f, { hooks });
}

Deno.test("onRequest sees the request and routes, rewrites headers and path", async () => {
  await using f = farm(2);
  const seen: string[] = [];
  await using p = await px(f, {
    onRequest(ctx) {
      seen.push(`${ctx.method} ${ctx.path} ${ctx.query} ${ctx.header("x-user")} ${ctx.backend}`);
      assert.equal(ctx.client.address, "127.0.0.1");
      assert.equal(ctx.frontend, "fe");
      if (ctx.path.startsWith("/api/")) {
        ctx.useBackend("api");
        ctx.setPath(ctx.path.slice(4) + (ctx.query ? `?${ctx.query}` : ""));
      }
      ctx.setHeader("X-User-Id", ctx.header("x-user") ?? "anonymous");
      ctx.deleteHeader("X-User");
    },
  });
  const r = await request(p.port, "/api/items?page=2", { "X-User": "alice" });
  assert.equal(r.body, "s2");
  assert.equal((await request(p.port, "/home")).body, "s1");
  assert.deepEqual(seen, ["GET /api/items page=2 alice web", "GET /home  null web"]);
  const head = f[1].heads[0];
  assert.match(head, /^GET \/items\?page=2 HTTP\/1\.1\r\n/);
  assert.match(head, /\r\nX-User-Id: alice\r\n/);
  assert.ok(!/\r\nx-user:/i.test(head));
  assert.match(f[0].heads[0], /\r\nX-User-Id: anonymous\r\n/);
});

Deno.test("onRequest can answer directly; an async hook does not hold other streams", async () => {
  await using f = farm(2);
  await using p = await px(f, {
    async onRequest(ctx) {
      if (ctx.path === "/slow") await sleep(300);
      if (ctx.path === "/big") ctx.respond(200, { body: "x".repeat(100_000) });
      if (ctx.path === "/teapot") {
        ctx.respond(418, {
          headers: { "Content-Type": "text/plain" },
          body: "short and stout",
        });
      }
    },
  });
  const order: string[] = [];
  const slow = request(p.port, "/slow").then((r) => order.push(`slow ${r.status}`));
  await sleep(50);
  const fast = request(p.port, "/fast").then((r) => order.push(`fast ${r.status}`));
  await Promise.all([slow, fast]);
  assert.deepEqual(order, ["fast 200", "slow 200"]);
  // A body larger than a buffer is streamed to the client.
  const big = await request(p.port, "/big");
  assert.equal(big.status, 200);
  assert.equal(big.body, "x".repeat(100_000));
  const tea = await request(p.port, "/teapot");
  assert.equal(tea.status, 418);
  assert.equal(tea.body, "short and stout");
  assert.equal(header(tea, "content-type"), "text/plain");
  await waitFor(() => p.logs.some((l) => l.includes('"GET /teapot')), 2000, "log");
  assert.match(p.logs.find((l) => l.includes('"GET /teapot'))!, / 418 .* LR-- /);
});

Deno.test("a hook that throws or rejects fails its own request with 500 and a log line", async () => {
  await using f = farm(2);
  await using p = await px(f, {
    async onRequest(ctx) {
      if (ctx.path === "/throw") throw new Error("boom");
      if (ctx.path === "/bad-header") ctx.setHeader("X-A", "a\r\nInjected: 1");
      if (ctx.path === "/bad-backend") ctx.useBackend("nope");
      await Promise.resolve();
    },
  });
  for (const path of ["/throw", "/bad-header", "/bad-backend"]) {
    assert.equal((await request(p.port, path)).status, 500, path);
  }
  assert.equal((await request(p.port, "/fine")).status, 200);
  assert.ok(p.logs.some((l) => l.includes("onRequest hook failed: boom")));
  assert.ok(p.logs.some((l) => l.includes("Invalid value for header X-A")));
  assert.ok(!f[0].heads.some((h) => h.includes("Injected")));
  assert.deepEqual(f[0].heads.map((h) => h.split(" ")[1]), ["/fine"]);
});

Deno.test("onResponse edits response headers; throwing answers 500", async () => {
  await using f = farm(2);
  f[0].extra = ["Server: leaky"];
  await using p = await px(f, {
    onResponse(ctx) {
      if (ctx.request.path === "/boom") throw new Error("bad response hook");
      ctx.deleteHeader("Server");
      ctx.setHeader("X-Served-By", ctx.server);
      ctx.addHeader("X-Status", String(ctx.status));
    },
  });
  const r = await request(p.port, "/x");
  assert.equal(r.status, 200);
  assert.equal(header(r, "server"), undefined);
  assert.equal(header(r, "x-served-by"), "web/s1");
  assert.equal(header(r, "x-status"), "200");
  assert.equal((await request(p.port, "/boom")).status, 500);
  assert.equal((await request(p.port, "/x")).status, 200);
});

Deno.test("hook hardening: async onResponse, protected headers, odd values, timeouts", async () => {
  await using f = farm(2);
  const logs: string[] = [];
  await using h = await startSluice({
    global: { log: { target: logInto(logs) } },
    frontends: [{
      name: "fe",
      binds: [{ address: "127.0.0.1:0" }],
      defaultBackend: "web",
      timeouts: { httpRequest: 300 },
      hooks: {
        async onRequest(ctx) {
          if (ctx.path === "/never") await new Promise(() => {});
          if (ctx.path === "/cl") ctx.setHeader("Content-Length", "0");
          if (ctx.path === "/obj") {
            let n = 0;
            const sneaky = { toString: () => (n++ === 0 ? "fine" : "x\r\nInjected: yes") };
            ctx.setHeader("X-A", sneaky as unknown as string);
          }
          if (ctx.path === "/weird-throw") throw Object.create(null);
          if (ctx.path.startsWith("/api")) ctx.useBackend("api");
        },
        // Async by habit: must not take the process down.
        async onResponse(ctx) {
          await Promise.resolve();
          if (ctx.request.path === "/async-res") throw new Error("async boom");
        },
      },
    }],
    backends: [
      { name: "web", servers: [{ name: "s1", address: f[0].address }] },
      { name: "api", servers: [{ name: "s2", address: f[1].address }] },
    ],
  });
  const port = h.addresses[0].port;
  assert.equal((await request(port, "/async-res")).status, 500, "a rejecting onResponse");
  assert.equal((await request(port, "/cl")).status, 500, "Content-Length is managed by sluice");
  assert.equal((await request(port, "/obj")).status, 500, "values must be strings");
  assert.equal((await request(port, "/weird-throw")).status, 500);
  const t0 = Date.now();
  assert.equal((await request(port, "/never")).status, 500, "a hook that never settles");
  assert.ok(Date.now() - t0 < 2000);
  assert.ok(logs.some((l) => l.includes("onRequest hook timed out")));
  assert.ok(!f[0].heads.some((x) => x.includes("Injected")));
  // Still serving.
  assert.equal((await request(port, "/ok")).status, 200);
  assert.ok(logs.some((l) => l.includes("onResponse hook failed: async boom")));
});

Deno.test("hooks see the path of an absolute-form request, and routing does not stick", async () => {
  await using f = farm(2);
  const seen: string[] = [];
  await using p = await px(f, {
    onRequest(ctx) {
      seen.push(`${ctx.path} ${ctx.header("host")}`);
      if (ctx.path.startsWith("/admin")) ctx.respond(403);
      if (ctx.path.startsWith("/api")) ctx.useBackend("api");
    },
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
  const buf = new Uint8Array(4096);
  const send = async (line: string, host = "t") => {
    await conn.write(new TextEncoder().encode(`${line}\r\nHost: ${host}\r\n\r\n`));
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0));
  };
  assert.match(await send("GET /api/x HTTP/1.1"), /\r\n\r\ns2$/);
  assert.match(await send("GET /home HTTP/1.1"), /\r\n\r\ns1$/, "back to the default backend");
  assert.match(
    await send("GET http://evil.example/admin/x HTTP/1.1", "evil.example"),
    /^HTTP\/1\.1 403 /,
  );
  conn.close();
  assert.deepEqual(seen, ["/api/x t", "/home t", "/admin/x evil.example"]);
});

Deno.test("an async onResponse holds only its own response", async () => {
  await using f = farm(2);
  await using p = await px(f, {
    async onResponse(ctx) {
      if (ctx.request.path === "/slow") await sleep(300);
      ctx.setHeader("X-Checked", ctx.request.path);
    },
  });
  const order: string[] = [];
  const slow = request(p.port, "/slow").then((r) => order.push(`slow ${header(r, "x-checked")}`));
  await sleep(50);
  const fast = request(p.port, "/fast").then((r) => order.push(`fast ${header(r, "x-checked")}`));
  await Promise.all([slow, fast]);
  assert.deepEqual(order, ["fast /fast", "slow /slow"]);
});

Deno.test("backend hooks run for the requests routed to their backend, after the frontend's", async () => {
  await using f = farm(2);
  const calls: string[] = [];
  await using h = await startSluice({
    global: { log: { target: "none" } },
    frontends: [{
      name: "fe",
      binds: [{ address: "127.0.0.1:0" }],
      defaultBackend: "web",
      hooks: {
        onRequest(ctx) {
          calls.push(`fe ${ctx.path}`);
          if (ctx.path.startsWith("/api")) ctx.useBackend("api");
        },
        onResponse(ctx) {
          calls.push(`fe-res ${ctx.request.path}`);
        },
      },
    }],
    backends: [
      { name: "web", servers: [{ name: "s1", address: f[0].address }] },
      {
        name: "api",
        servers: [{ name: "s2", address: f[1].address }],
        hooks: {
          async onRequest(ctx) {
            await sleep(10);
            calls.push(`api ${ctx.path} ${ctx.backend}`);
            if (ctx.header("authorization") === null) ctx.respond(401);
            else ctx.setHeader("X-Api-Key-Checked", "1");
          },
          onResponse(ctx) {
            calls.push(`api-res ${ctx.status}`);
            ctx.setHeader("X-Api", "yes");
          },
        },
      },
    ],
  });
  const port = h.addresses[0].port;
  assert.equal((await request(port, "/api/x")).status, 401);
  const ok = await request(port, "/api/y", { Authorization: "Bearer t" });
  assert.equal(ok.status, 200);
  assert.equal(header(ok, "x-api"), "yes");
  assert.match(f[1].heads[0], /\r\nX-Api-Key-Checked: 1\r\n/);
  const web = await request(port, "/home");
  assert.equal(header(web, "x-api"), undefined);
  assert.deepEqual(calls, [
    "fe /api/x",
    "api /api/x api",
    "fe /api/y",
    "api /api/y api",
    "api-res 200",
    "fe-res /api/y",
    "fe /home",
    "fe-res /home",
  ]);
});
