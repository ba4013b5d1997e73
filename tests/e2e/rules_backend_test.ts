/**
 * `http-request` / `http-response` rules in backend sections (after the
 * frontend's rules and routing, responses before the frontend's, as
 * HAProxy), and the fetches `uuid()`, `req.cook()`, `req.body_size`,
 * `hdr_cnt()` and `url_param()` seen on the wire.
 */
import assert from "node:assert/strict";
import { cfgProxy, exchange, modelUpstream } from "../helpers/http.ts";
import { waitFor } from "../helpers/net.ts";

/** One GET of `path` with extra `headers`; the response text. */
async function get(port: number, path: string, headers = ""): Promise<string> {
  const r = await exchange(port, `GET ${path} HTTP/1.1\r\nHost: a\r\n${headers}\r\n`, {
    timeoutMs: 5000,
    until: (t) => /\r\n\r\n/.test(t) && (t.endsWith(path) || !t.startsWith("HTTP/1.1 200")),
  });
  return r.text;
}

Deno.test("backend http-request rules run after the frontend's and its routing; response rules before the frontend's", async () => {
  await using a = modelUpstream();
  await using b = modelUpstream();
  await using p = await cfgProxy([
    "defaults",
    "    mode http",
    "    log global",
    "frontend fe",
    "    bind 127.0.0.1:0",
    "    http-request set-var(txn.from) str(fe)",
    "    http-request set-header X-Order fe",
    "    use_backend api if { path_beg /api }",
    "    default_backend web",
    "    http-response set-header X-Res fe",
    "backend web",
    `    server s1 ${a.address}`,
    "backend api",
    "    acl secret path /api/secret",
    "    http-request deny deny_status 451 if secret",
    "    http-request set-header X-Order be if { var(txn.from) fe }",
    "    http-response set-header X-Res be",
    "    http-response set-header X-Be-Saw %[res.hdr(x-res)]",
    `    server s2 ${b.address}`,
  ]);
  const web = await get(p.port, "/x");
  assert.doesNotMatch(web, /X-Be-Saw/i, "the web backend has no rules");
  assert.match(a.requests[0].head, /\r\nX-Order: fe(\r|$)/);
  const api = await get(p.port, "/api/x");
  // set-header replaces: the backend's rule ran last, and saw the frontend's variable.
  assert.match(b.requests[0].head, /\r\nX-Order: be(\r|$)/);
  assert.doesNotMatch(b.requests[0].head, /X-Order: fe/);
  // The frontend's response rule ran last; the backend's saw no X-Res yet.
  assert.match(api, /\r\nX-Res: fe\r\n/i);
  assert.match(api, /\r\nX-Be-Saw: \r\n/i);
  const denied = await get(p.port, "/api/secret");
  assert.match(denied, /^HTTP\/1\.1 451 /);
  assert.equal(b.requests.length, 1, "the denied request was not sent");
  await waitFor(() => p.logs.length === 3, 5000, "three log lines");
  assert.match(p.logs[2], / fe api\/<NOSRV> .* 451 .* PR-- /);
  const api2 = p.handle.stats().backends.find((x) => x.name === "api")!;
  assert.equal(api2.dreq, 1);
});

Deno.test("backend http-request tarpit uses the backend's timeout tarpit", async () => {
  await using up = modelUpstream();
  await using p = await cfgProxy([
    "defaults",
    "    mode http",
    "    timeout tarpit 1h",
    "frontend fe",
    "    bind 127.0.0.1:0",
    "    default_backend be",
    "backend be",
    "    timeout tarpit 100ms",
    "    http-request tarpit",
    `    server s1 ${up.address}`,
  ]);
  // Were the frontend's hour used, the exchange would end at its deadline with nothing.
  const r = await exchange(p.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { timeoutMs: 10_000 });
  assert.match(r.text, /^HTTP\/1\.1 500 /);
  assert.equal(up.accepted, 0);
});

Deno.test("fetches uuid(), req.cook(), req.body_size, hdr_cnt() and url_param() in rules", async () => {
  await using up = modelUpstream();
  await using p = await cfgProxy([
    "defaults",
    "    mode http",
    "    log global",
    "frontend fe",
    "    bind 127.0.0.1:0",
    "    http-request deny deny_status 413 if { req.body_size gt 4 }",
    "    http-request deny deny_status 400 if { hdr_cnt(x-a) gt 1 }",
    "    http-request set-header X-Id %[uuid()]",
    "    http-request set-header X-Sess %[req.cook(sess)]",
    "    http-request set-header X-Cookies %[req.cook_cnt()]",
    "    http-request set-header X-Lang %[url_param(lang)]",
    "    http-request set-header X-Beta yes if { cook(beta) -m str 1 }",
    "    default_backend be",
    "backend be",
    `    server s1 ${up.address}`,
  ]);
  await get(p.port, "/a?lang=fr&x=1", "Cookie: sess=one; beta=1\r\nCookie: sess=two\r\n");
  await get(p.port, "/b", "Cookie: beta=0\r\n");
  const [one, two] = up.requests.map((r) => r.head);
  const uuid = /\r\nX-Id: ([0-9a-f-]+)/.exec(one)?.[1];
  assert.match(uuid ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(/\r\nX-Id: ([0-9a-f-]+)/.exec(two)?.[1], uuid, "a new one per request");
  assert.match(one, /\r\nX-Sess: two(\r|$)/, "the last occurrence");
  assert.match(one, /\r\nX-Cookies: 3(\r|$)/);
  assert.match(one, /\r\nX-Lang: fr(\r|$)/);
  assert.match(one, /\r\nX-Beta: yes/);
  assert.doesNotMatch(two, /X-Beta/);
  assert.match(two, /\r\nX-Sess: (\r|$)/, "no such cookie: an empty value");
  const big = await exchange(
    p.port,
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n12345",
    { timeoutMs: 5000 },
  );
  assert.match(big.text, /^HTTP\/1\.1 413 /);
  const small = await exchange(
    p.port,
    "POST /s HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n1234",
    { timeoutMs: 5000, until: (t) => t.endsWith("/s") },
  );
  assert.match(small.text, /^HTTP\/1\.1 200 /);
  const twice = await get(p.port, "/", "X-A: 1\r\nX-A: 2\r\n");
  assert.match(twice, /^HTTP\/1\.1 400 /);
});
