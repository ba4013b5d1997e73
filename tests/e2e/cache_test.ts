/**
 * HTTP cache sections (`cache NAME`, `http-request cache-use`,
 * `http-response cache-store`) end to end over loopback, with a counting
 * origin: a hit is answered without the origin seeing the request, with
 * Age; what HTTP forbids to store is not stored; Vary with process-vary;
 * HEAD from a stored GET; the size limits; the runtime API; the counters.
 */
import assert from "node:assert/strict";
import { waitFor } from "../helpers/net.ts";
import { checkExposition, promValue } from "../helpers/prom_check.ts";
import { formatPrometheus } from "../../lib/stats/prometheus.ts";
import {
  cfgProxy,
  exchange,
  exchangeOn,
  modelUpstream,
  type SeenRequest,
} from "../helpers/http.ts";

/** The origin's answer per path: `/name?h=Header:value&h=...&b=N` sets headers and a body of N bytes. */
/**
 * With worker threads each worker has its own cache (docs/http.md#caching):
 * these tests follow one cache.
 */
const ONE_THREAD = ["global", "    nbthread 1"];

function reply(req: SeenRequest): string {
  const target = req.line.split(" ")[1] ?? "/";
  const u = new URL(target, "http://x");
  const hdrs = u.searchParams.getAll("h").map((h) => h.replace(":", ": "));
  const n = Number(u.searchParams.get("b") ?? "-1");
  const body = n >= 0 ? pattern(n) : `${u.pathname}#${seen.get(u.pathname) ?? 0}`;
  seen.set(u.pathname, (seen.get(u.pathname) ?? 0) + 1);
  if (u.searchParams.has("chunked")) {
    return `HTTP/1.1 200 OK\r\n${
      hdrs.map((h) => h + "\r\n").join("")
    }Transfer-Encoding: chunked\r\n\r\n` +
      `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  }
  return `HTTP/1.1 200 OK\r\n${
    hdrs.map((h) => h + "\r\n").join("")
  }Content-Length: ${body.length}\r\n\r\n${body}`;
}
const seen = new Map<string, number>();

/** `n` bytes that differ from one position to the next (a copy with a shifted or lost part shows). */
function pattern(n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + (i * 7 + (i >> 10)) % 26);
  return s;
}

/** sluice with one cache (settings `cache` after total-max-size 1) in front of `address`. */
function proxy(address: string, cache: string[] = []) {
  return cfgProxy([
    ...ONE_THREAD,
    "defaults",
    "    mode http",
    "    log global",
    "    timeout client 5s",
    "    timeout server 5s",
    "    timeout connect 2s",
    "cache c1",
    "    total-max-size 1",
    ...cache,
    "frontend fe",
    "    bind 127.0.0.1:0",
    "    http-request cache-use c1",
    "    http-response cache-store c1",
    "    default_backend be",
    "backend be",
    `    server s1 ${address}`,
  ]);
}

/** One request on its own connection; returns the response text. */
async function get(
  port: number,
  path: string,
  headers: string[] = [],
  method = "GET",
): Promise<string> {
  const r = await exchange(
    port,
    `${method} ${path} HTTP/1.1\r\nHost: h\r\n${
      headers.map((h) => h + "\r\n").join("")
    }Connection: close\r\n\r\n`,
  );
  return r.text;
}

function bodyOf(text: string): string {
  return text.slice(text.indexOf("\r\n\r\n") + 4);
}

function hdr(text: string, name: string): string | null {
  const m = new RegExp(`\r\n${name}: ([^\r]*)\r\n`, "i").exec(
    text.slice(0, text.indexOf("\r\n\r\n") + 2),
  );
  return m === null ? null : m[1];
}

Deno.test("cache: a miss then a hit, which the origin never sees, with Age and <CACHE> in the log", async () => {
  await using up = modelUpstream(reply);
  await using p = await proxy(up.address);
  const a = await get(p.port, "/a?h=Cache-Control:max-age=60");
  assert.match(a, /^HTTP\/1.1 200/);
  assert.equal(hdr(a, "age"), null);
  const b = await get(p.port, "/a?h=Cache-Control:max-age=60");
  assert.match(b, /^HTTP\/1.1 200/);
  assert.equal(bodyOf(b), bodyOf(a));
  assert.equal(hdr(b, "age"), "0");
  assert.equal(hdr(b, "cache-control"), "max-age=60");
  assert.equal(up.requests.length, 1);
  // As HAProxy 2.6 logs a hit of a frontend's cache-use (checked against haproxy 2.6.12).
  await waitFor(() => p.logs.length === 2);
  assert.match(p.logs[1], / fe fe\/<CACHE> 0\/0\/0\/0\/0 200 \d+ - - LR-- .*"GET \/a\?/);
  // HEAD is answered from the stored GET: same head, no body.
  const h = await get(p.port, "/a?h=Cache-Control:max-age=60", [], "HEAD");
  assert.match(h, /^HTTP\/1.1 200/);
  assert.equal(hdr(h, "content-length"), String(bodyOf(a).length));
  assert.equal(bodyOf(h), "");
  assert.equal(up.requests.length, 1);
  // A HEAD's response is not stored for a GET.
  await get(p.port, "/headfirst?h=Cache-Control:max-age=60", [], "HEAD");
  await get(p.port, "/headfirst?h=Cache-Control:max-age=60");
  assert.equal(up.requests.length, 3);
});

Deno.test("cache: hits keep the connection alive, between misses, and pipelined", async () => {
  await using up = modelUpstream(reply);
  await using p = await proxy(up.address);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
  try {
    const req = (path: string) => `GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`;
    const path = "/k?h=Cache-Control:max-age=60";
    const all = req(path) + req(path) + req("/other") + req(path);
    const r = await exchangeOn(conn, all, {
      until: (t) =>
        (t.match(/HTTP\/1.1 200/g) ?? []).length === 4 &&
        t.endsWith(bodyOf(t.split("HTTP/1.1 200").pop()!)),
    });
    assert.equal((r.text.match(/HTTP\/1.1 200 OK/g) ?? []).length, 4, r.text);
    assert.equal((r.text.match(/\r\nAge: /g) ?? []).length, 2);
    assert.equal(up.requests.length, 2);
  } finally {
    conn.close();
  }
});

Deno.test("cache: an object stops being fresh after max-age", async () => {
  await using up = modelUpstream(reply);
  await using p = await proxy(up.address, ["    max-age 1"]);
  // The response allows 60 s, the cache's max-age caps it at 1 s.
  await get(p.port, "/e?h=Cache-Control:max-age=60");
  assert.match(await get(p.port, "/e?h=Cache-Control:max-age=60"), /\r\nAge: 0\r\n/);
  assert.equal(up.requests.length, 1);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(hdr(await get(p.port, "/e?h=Cache-Control:max-age=60"), "age"), null);
  assert.equal(up.requests.length, 2);
});

Deno.test("cache: what HTTP forbids to store or to serve from a cache goes to the origin", async () => {
  await using up = modelUpstream(reply);
  await using p = await proxy(up.address);
  const twice = async (path: string, headers: string[] = [], second: string[] = headers) => {
    const before = up.requests.length;
    await get(p.port, path, headers);
    await get(p.port, path, second);
    return up.requests.length - before;
  };
  assert.equal(await twice("/ns?h=Cache-Control:no-store"), 2);
  assert.equal(await twice("/pr?h=Cache-Control:private,max-age=60"), 2);
  assert.equal(await twice("/nc?h=Cache-Control:no-cache"), 2);
  assert.equal(await twice("/z?h=Cache-Control:max-age=0"), 2);
  assert.equal(await twice("/ck?h=Cache-Control:max-age=60&h=Set-Cookie:a=1"), 2);
  assert.equal(
    await twice("/pg?h=Pragma:no-cache&h=Expires:Thu,%2001%20Jan%202099%2000:00:00%20GMT"),
    2,
  );
  // Neither freshness nor validator: not stored; a validator is enough (max-age applies).
  assert.equal(await twice("/nothing"), 2);
  assert.equal(await twice('/etag?h=ETag:"x"'), 1);
  assert.equal(await twice("/exp?h=Expires:Thu,%2001%20Jan%202099%2000:00:00%20GMT"), 1);
  assert.equal(await twice("/past?h=Expires:Thu,%2001%20Jan%201998%2000:00:00%20GMT"), 2);
  // Authorization: not served from the cache, stored only when public or s-maxage.
  const auth = ["Authorization: Basic dTpw"];
  assert.equal(await twice("/a1?h=Cache-Control:max-age=60", auth, []), 2);
  assert.equal(await twice("/a2?h=Cache-Control:public,max-age=60", auth, []), 1);
  assert.equal(await twice("/a3?h=Cache-Control:s-maxage=60", auth, []), 1);
  assert.equal(await twice("/a4?h=Cache-Control:max-age=60", [], auth), 2);
  // A request asking for a fresh copy is not answered from the cache.
  assert.equal(await twice("/rq?h=Cache-Control:max-age=60", [], ["Cache-Control: no-cache"]), 2);
  assert.equal(await twice("/rp?h=Cache-Control:max-age=60", [], ["Pragma: no-cache"]), 2);
  // Only GET and HEAD use it; a successful POST drops what is stored.
  assert.equal(await twice("/inv?h=Cache-Control:max-age=60"), 1);
  await get(p.port, "/inv?h=Cache-Control:max-age=60", ["Content-Length: 0"], "POST");
  assert.equal(await twice("/inv?h=Cache-Control:max-age=60"), 1);
});

Deno.test("cache: Vary is refused with process-vary off, keyed with it on", async () => {
  {
    await using up = modelUpstream(reply);
    await using p = await proxy(up.address);
    await get(p.port, "/v?h=Cache-Control:max-age=60&h=Vary:accept-encoding");
    await get(p.port, "/v?h=Cache-Control:max-age=60&h=Vary:accept-encoding");
    assert.equal(up.requests.length, 2);
  }
  await using up = modelUpstream(reply);
  await using p = await proxy(up.address, ["    process-vary on"]);
  const gz = "/v?h=Cache-Control:max-age=60&h=Vary:accept-encoding&h=Content-Encoding:gzip";
  await get(p.port, gz, ["Accept-Encoding: gzip, br"]);
  assert.equal(hdr(await get(p.port, gz, ["Accept-Encoding: br,gzip"]), "age"), "0");
  assert.equal(hdr(await get(p.port, gz, ["Accept-Encoding: *"]), "age"), "0");
  assert.equal(up.requests.length, 1);
  // A client that does not take gzip goes to the origin.
  assert.equal(hdr(await get(p.port, gz, ["Accept-Encoding: br"]), "age"), null);
  assert.equal(hdr(await get(p.port, gz, ["Accept-Encoding: gzip;q=0, br"]), "age"), null);
  assert.equal(up.requests.length, 3);
  // Referer: one entry per value.
  const rf = "/r?h=Cache-Control:max-age=60&h=Vary:referer";
  await get(p.port, rf, ["Referer: /one"]);
  await get(p.port, rf, ["Referer: /two"]);
  assert.equal(hdr(await get(p.port, rf, ["Referer: /one"]), "age"), "0");
  assert.equal(hdr(await get(p.port, rf, ["Referer: /two"]), "age"), "0");
  assert.equal(up.requests.length, 5);
  // A header the cache cannot key on: not stored.
  const ua = "/u?h=Cache-Control:max-age=60&h=Vary:user-agent";
  await get(p.port, ua);
  await get(p.port, ua);
  assert.equal(up.requests.length, 7);
});

Deno.test("cache: max-object-size, also for a chunked body abandoned as it grows", async () => {
  await using up = modelUpstream(reply);
  await using p = await proxy(up.address, ["    max-object-size 3000"]);
  const n = async (path: string) => {
    const before = up.requests.length;
    const a = await get(p.port, path);
    const b = await get(p.port, path);
    assert.ok(bodyOf(a) === bodyOf(b), path);
    return up.requests.length - before;
  };
  assert.equal(await n("/small?h=Cache-Control:max-age=60&b=1000"), 1);
  assert.equal(await n("/big?h=Cache-Control:max-age=60&b=5000"), 2);
  assert.equal(await n("/csmall?h=Cache-Control:max-age=60&b=1000&chunked"), 1);
  assert.equal(await n("/cbig?h=Cache-Control:max-age=60&b=50000&chunked"), 2);
  // The client got the whole chunked body, framing included, from the hit.
  const hit = await get(p.port, "/csmall?h=Cache-Control:max-age=60&b=1000&chunked");
  assert.equal(hdr(hit, "age"), "0");
  assert.equal(bodyOf(hit), `3e8\r\n${pattern(1000)}\r\n0\r\n\r\n`);
});

Deno.test("cache: total-max-size evicts the least recently used object", async () => {
  await using up = modelUpstream(reply);
  await using p = await proxy(up.address, ["    max-object-size 500000"]);
  const big = (k: string) => `/${k}?h=Cache-Control:max-age=60&b=400000`;
  const hit = async (k: string) => hdr(await get(p.port, big(k)), "age") !== null;
  const first = await get(p.port, big("a"));
  assert.equal(bodyOf(first), pattern(400000));
  await get(p.port, big("b"));
  // The stored copy is the body byte for byte.
  const again = await get(p.port, big("a"));
  assert.equal(hdr(again, "age"), "0");
  assert.ok(bodyOf(again) === bodyOf(first));
  // a is now more recent than b
  await get(p.port, big("c")); // 3 x 400 kB do not fit in 1 MiB: b goes
  assert.ok(await hit("a"));
  assert.ok(await hit("c"));
  assert.ok(!(await hit("b")));
  const st = p.handle.stats().caches![0];
  assert.ok(st.used <= st.size);
  assert.ok(st.evictions >= 1);
});

Deno.test("cache: show cache, clear cache and the counters", async () => {
  await using up = modelUpstream(reply);
  await using p = await proxy(up.address);
  await get(p.port, "/s?h=Cache-Control:max-age=60");
  await get(p.port, "/s?h=Cache-Control:max-age=60");
  await get(p.port, "/t?h=Cache-Control:max-age=60", [], "POST");
  const show = p.handle.admin("show cache");
  assert.match(
    show,
    /^0x1: c1 \(shctx:0x1, available blocks:\d+, entries:1, lookups:2, hits:1\)\n/,
  );
  assert.match(
    show,
    /\n0x1\.1 hash:\d+ vary:0x00000000 size:\d+ \(\d+ blocks\), refcount:0, expire:(59|60) key:h \/s\?h=Cache-Control:max-age=60\n/,
  );
  const fe = p.handle.stats().frontends[0];
  assert.equal(fe.cache_lookups, 2);
  assert.equal(fe.cache_hits, 1);
  assert.equal(p.handle.stats().backends[0].cache_lookups, undefined);
  // A frontend's hit does not count in the backend.
  assert.equal(p.handle.stats().backends[0].req_tot, 2);
  const csv = p.handle.admin("show stat").split("\n");
  const cols = csv[0].slice(2).split(",");
  const row = csv.find((l) => l.startsWith("fe,FRONTEND,"))!.split(",");
  assert.equal(row[cols.indexOf("cache_lookups")], "2");
  assert.equal(row[cols.indexOf("cache_hits")], "1");
  const prom = checkExposition(formatPrometheus(p.handle.stats()));
  assert.equal(promValue(prom, "sluice_frontend_http_cache_lookups_total", { frontend: "fe" }), 2);
  assert.equal(promValue(prom, "sluice_frontend_http_cache_hits_total", { frontend: "fe" }), 1);
  assert.equal(promValue(prom, "sluice_cache_lookups_total", { cache: "c1" }), 2);
  assert.equal(promValue(prom, "sluice_cache_hits_total", { cache: "c1" }), 1);
  assert.equal(promValue(prom, "sluice_cache_entries", { cache: "c1" }), 1);
  assert.equal(promValue(prom, "sluice_cache_size_bytes", { cache: "c1" }), 1 << 20);
  assert.equal(p.handle.admin("clear cache nope"), "No such cache 'nope'.\n\n");
  assert.equal(p.handle.admin("clear cache c1"), "\n");
  assert.match(p.handle.admin("show cache"), /entries:0/);
  await get(p.port, "/s?h=Cache-Control:max-age=60");
  assert.equal(up.requests.length, 3);
});

Deno.test("cache: cache-use in a backend logs the backend and counts there; a later miss logs ----", async () => {
  await using up = modelUpstream(reply);
  await using p = await cfgProxy([
    ...ONE_THREAD,
    "defaults",
    "    mode http",
    "    log global",
    "cache c1",
    "    total-max-size 1",
    "frontend fe",
    "    bind 127.0.0.1:0",
    "    default_backend be",
    "backend be",
    "    http-request cache-use c1",
    "    http-response cache-store c1",
    `    server s1 ${up.address}`,
  ]);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
  try {
    const req = (path: string) => `GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`;
    const path = "/b?h=Cache-Control:max-age=60";
    await exchangeOn(conn, req(path) + req(path) + req("/nocache"), {
      until: (t) => (t.match(/HTTP\/1.1 200 OK/g) ?? []).length === 3 && t.endsWith("/nocache#0"),
    });
  } finally {
    conn.close();
  }
  await waitFor(() => p.logs.length === 3);
  assert.match(p.logs[0], / fe be\/s1 .* 200 \d+ - - ---- /);
  assert.match(p.logs[1], / fe be\/<CACHE> 0\/0\/0\/0\/0 200 \d+ - - LR-- /);
  assert.match(p.logs[2], / fe be\/s1 .* 200 \d+ - - ---- /);
  const st = p.handle.stats();
  assert.equal(st.frontends[0].cache_lookups, undefined);
  assert.equal(st.backends[0].cache_lookups, 3);
  assert.equal(st.backends[0].cache_hits, 1);
  assert.equal(st.backends[0].req_tot, 3);
  assert.equal(up.requests.length, 2);
});

Deno.test("cache: http-response rules run on hits; cache-store keeps the head as the rules before it left it", async () => {
  await using up = modelUpstream(reply);
  await using p = await cfgProxy([
    ...ONE_THREAD,
    "defaults",
    "    mode http",
    "cache c1",
    "    total-max-size 1",
    "frontend fe",
    "    bind 127.0.0.1:0",
    "    http-request cache-use c1",
    "    http-response set-header X-Before stored",
    "    http-response cache-store c1",
    "    http-response set-header X-Hit %[res.cache_hit]",
    "    http-response set-header X-Name %[res.cache_name] if { res.cache_hit }",
    "    http-response deny if { res.cache_hit } { hdr(x-deny) -m found }",
    "    default_backend be",
    "backend be",
    `    server s1 ${up.address}`,
  ]);
  const path = "/rules?h=Cache-Control:max-age=60";
  const a = await get(p.port, path);
  assert.equal(hdr(a, "x-before"), "stored");
  assert.equal(hdr(a, "x-hit"), "0");
  assert.equal(hdr(a, "x-name"), null);
  const b = await get(p.port, path);
  assert.equal(hdr(b, "age"), "0");
  assert.equal(hdr(b, "x-before"), "stored");
  assert.equal(hdr(b, "x-hit"), "1");
  assert.equal(hdr(b, "x-name"), "c1");
  // Only the rules' own X-Hit: the first response's was not stored.
  assert.equal((b.match(/\r\nX-Hit: /gi) ?? []).length, 1);
  // A hit that an http-response rule denies.
  const d = await get(p.port, "/deny?h=Cache-Control:max-age=60&h=X-Deny:1");
  assert.match(d, /^HTTP\/1.1 200/);
  assert.match(await get(p.port, "/deny?h=Cache-Control:max-age=60&h=X-Deny:1"), /^HTTP\/1.1 502/);
  assert.equal(up.requests.length, 2);
});

Deno.test("cache: a conditional request that the stored response satisfies gets 304 from the cache", async () => {
  await using up = modelUpstream(reply);
  await using p = await proxy(up.address);
  const path = '/cond?h=Cache-Control:max-age=60&h=ETag:"v1"';
  const first = await get(p.port, path);
  const r = await get(p.port, path, ['If-None-Match: "v1"']);
  assert.match(r, /^HTTP\/1.1 304 Not Modified\r\n/);
  assert.equal(hdr(r, "etag"), '"v1"');
  assert.equal(hdr(r, "age"), "0");
  assert.equal(bodyOf(r), "");
  // Another tag: the stored 200.
  const o = await get(p.port, path, ['If-None-Match: "v0"']);
  assert.match(o, /^HTTP\/1.1 200 OK\r\n/);
  assert.equal(bodyOf(o), bodyOf(first));
  assert.equal(up.requests.length, 1);
  await waitFor(() => p.logs.length === 3);
  assert.match(p.logs[1], / fe fe\/<CACHE> 0\/0\/0\/0\/0 304 /);
});

Deno.test("cache: a persistence cookie inserted for one client is not stored", async () => {
  await using up = modelUpstream(reply);
  await using p = await cfgProxy([
    ...ONE_THREAD,
    "defaults",
    "    mode http",
    "cache c1",
    "    total-max-size 1",
    "frontend fe",
    "    bind 127.0.0.1:0",
    "    default_backend be",
    "backend be",
    "    cookie SRV insert",
    "    http-request cache-use c1",
    "    http-response cache-store c1",
    `    server s1 ${up.address} cookie s1`,
  ]);
  const path = "/ck?h=Cache-Control:max-age=60";
  const a = await get(p.port, path);
  assert.match(hdr(a, "set-cookie") ?? "", /^SRV=s1/);
  const b = await get(p.port, path);
  assert.equal(hdr(b, "age"), "0");
  assert.equal(hdr(b, "set-cookie"), null);
  assert.equal(up.requests.length, 1);
});
