/**
 * The HTTP cache's parts: Cache-Control, Expires and Age freshness on parsed
 * heads, the Vary secondary key, the store's LRU eviction and size bounds,
 * and the `cache` section with its errors at file:line.
 */
import assert from "node:assert/strict";
import {
  cacheControl,
  notModified,
  requestCacheability,
  responseFreshness,
  validatorsOf,
} from "../../lib/http/cache_control.ts";
import { type CacheEntry, type CacheSpec, HttpCache } from "../../lib/http/cache_store.ts";
import { varyKeyOf, varyMatch, varyRequest } from "../../lib/http/cache_vary.ts";
import { h1ParseHead } from "../../lib/http/h1_parser.ts";
import { H1_MF_RESP, HTTP_METH_GET, HttpMsg } from "../../lib/http/h1_types.ts";
import { loadConfig } from "../../lib/cfg/config_load.ts";
import { Channel, chnForward } from "../../lib/buf/channel.ts";
import { CacheWriter } from "../../lib/http/cache_txn.ts";
import { mergeInstanceStats } from "../../lib/stats/stats_merge.ts";
import type { InstanceStats } from "../../lib/stats/stats_types.ts";

const enc = new TextEncoder();
const LIM = { maxHead: 16384, maxHdrs: 101, maxBody: 1 << 30 };

/** A parsed head (response when it starts with HTTP/). */
function head(lines: string[]): { msg: HttpMsg; a: Uint8Array; base: number } {
  const a = enc.encode(lines.join("\r\n") + "\r\n\r\n");
  const msg = new HttpMsg(101);
  if (lines[0].startsWith("HTTP/")) msg.flags |= H1_MF_RESP;
  assert.ok(h1ParseHead(msg, a, 0, a.length, LIM) > 0, lines.join("|"));
  return { msg, a, base: 0 };
}

const NOW = Date.parse("2026-01-01T00:00:00Z");

function fresh(hdrs: string[], x: { maxAge?: number; auth?: boolean; status?: number } = {}) {
  const h = head([`HTTP/1.1 ${x.status ?? 200} OK`, ...hdrs, "Content-Length: 0"]);
  return responseFreshness(h.msg, h.a, h.base, {
    maxAge: x.maxAge ?? 60,
    auth: x.auth ?? false,
    nowMs: NOW,
  });
}

Deno.test("Cache-Control directives: names lowercased, quoted values, commas in quotes", () => {
  assert.deepEqual(cacheControl(['Max-Age=10, no-cache="set-cookie, x", public', "s-maxage = 5"]), [
    { name: "max-age", value: "10" },
    { name: "no-cache", value: "set-cookie, x" },
    { name: "public", value: null },
    { name: "s-maxage", value: "5" },
  ]);
});

Deno.test("response freshness: s-maxage, then max-age, then Expires, capped by the cache's max-age", () => {
  assert.deepEqual(fresh(["Cache-Control: max-age=30"]), { ttl: 30, age: 0 });
  assert.deepEqual(fresh(["Cache-Control: max-age=30, s-maxage=10"]), { ttl: 10, age: 0 });
  assert.deepEqual(fresh(["Cache-Control: max-age=3000"]), { ttl: 60, age: 0 });
  assert.deepEqual(fresh(["Cache-Control: max-age=3000"], { maxAge: 1 }), { ttl: 1, age: 0 });
  assert.deepEqual(fresh(["Expires: Thu, 01 Jan 2026 00:00:20 GMT"]), { ttl: 20, age: 0 });
  assert.equal(fresh(["Expires: Wed, 31 Dec 2025 00:00:20 GMT"]), "expired");
  assert.equal(fresh(["Expires: soon"]), "expired");
  // Cache-Control wins over Expires.
  assert.deepEqual(
    fresh(["Cache-Control: max-age=5", "Expires: Wed, 31 Dec 2025 00:00:20 GMT"]),
    { ttl: 5, age: 0 },
  );
  // No freshness: a validator lets the cache's max-age apply.
  assert.deepEqual(fresh(['ETag: "a"']), { ttl: 60, age: 0 });
  assert.deepEqual(fresh(["Last-Modified: Wed, 31 Dec 2025 00:00:20 GMT"]), { ttl: 60, age: 0 });
  assert.equal(fresh([]), "no freshness information nor validator");
  // The origin's Age counts against the freshness.
  assert.deepEqual(fresh(["Cache-Control: max-age=30", "Age: 10"]), { ttl: 20, age: 10 });
  assert.equal(fresh(["Cache-Control: max-age=30", "Age: 30"]), "stale");
  assert.equal(fresh(["Cache-Control: max-age=30", "Age: x"]), "invalid Age");
});

Deno.test("response freshness: what is never stored", () => {
  assert.equal(fresh(["Cache-Control: max-age=30"], { status: 404 }), "status 404");
  assert.equal(fresh(["Cache-Control: no-store"]), "Cache-Control: no-store");
  assert.equal(fresh(["Cache-Control: private, max-age=30"]), "Cache-Control: private");
  assert.equal(fresh(['Cache-Control: no-cache="set-cookie"']), "Cache-Control: no-cache");
  assert.equal(fresh(["Cache-Control: max-age=0"]), "max-age=0");
  assert.equal(fresh(["Cache-Control: s-maxage=0, max-age=10"]), "max-age=0");
  assert.equal(fresh(["Cache-Control: max-age=-1"]), "invalid max-age");
  assert.equal(fresh(["Cache-Control: max-age=30", "Set-Cookie: a=b"]), "Set-Cookie");
  assert.equal(fresh(["Cache-Control: max-age=30", "Pragma: no-cache"]), "Pragma: no-cache");
  // Authorization: public or s-maxage only (RFC 9111 §3.5).
  assert.equal(
    fresh(["Cache-Control: max-age=30"], { auth: true }),
    "Authorization without public or s-maxage",
  );
  assert.deepEqual(fresh(["Cache-Control: public, max-age=30"], { auth: true }), {
    ttl: 30,
    age: 0,
  });
  assert.deepEqual(fresh(["Cache-Control: s-maxage=30"], { auth: true }), { ttl: 30, age: 0 });
});

Deno.test("request cacheability: GET and HEAD over HTTP/1.1, no body, no fresh-copy demand", () => {
  const req = (lines: string[]) => {
    const h = head(lines);
    return requestCacheability(
      h.msg,
      h.a,
      h.base,
      h.msg.meth === HTTP_METH_GET,
      lines[0].startsWith("HEAD"),
    );
  };
  assert.deepEqual(req(["GET / HTTP/1.1", "Host: h"]), { lookup: true, store: true, auth: false });
  assert.deepEqual(req(["HEAD / HTTP/1.1", "Host: h"]), {
    lookup: true,
    store: false,
    auth: false,
  });
  assert.equal(req(["GET / HTTP/1.0"]).lookup, false);
  assert.equal(req(["POST / HTTP/1.1", "Host: h", "Content-Length: 0"]).lookup, false);
  assert.equal(req(["GET / HTTP/1.1", "Host: h", "Content-Length: 3"]).lookup, false);
  for (const cc of ["no-cache", "max-age=0", "max-stale", "min-fresh=5"]) {
    assert.deepEqual(req(["GET / HTTP/1.1", "Host: h", `Cache-Control: ${cc}`]).lookup, false, cc);
  }
  assert.equal(req(["GET / HTTP/1.1", "Host: h", "Pragma: no-cache"]).lookup, false);
  // With Cache-Control, Pragma is ignored (RFC 9111 §5.4).
  assert.equal(
    req(["GET / HTTP/1.1", "Host: h", "Pragma: no-cache", "Cache-Control: x"]).lookup,
    true,
  );
  assert.deepEqual(req(["GET / HTTP/1.1", "Host: h", "Cache-Control: no-store"]), {
    lookup: true,
    store: false,
    auth: false,
  });
  assert.deepEqual(req(["GET / HTTP/1.1", "Host: h", "Authorization: Basic x"]), {
    lookup: false,
    store: true,
    auth: true,
  });
});

Deno.test("Vary: accept-encoding as accepted codings, referer whole, other names refused", () => {
  const rq = (lines: string[]) => {
    const h = head(["GET / HTTP/1.1", "Host: h", ...lines]);
    return varyRequest(h.msg, h.a, h.base);
  };
  const rs = (lines: string[]) => head(["HTTP/1.1 200 OK", ...lines, "Content-Length: 0"]);
  const gz = rs(["Content-Encoding: gzip"]);
  const key = varyKeyOf(["accept-encoding"], gz, rq(["Accept-Encoding: gzip"]), true);
  assert.deepEqual(key, { names: ["accept-encoding"], codings: ["gzip"], referer: null });
  if (key === null || typeof key === "string") throw new Error("a key");
  assert.ok(varyMatch(key, rq(["Accept-Encoding: br, x-gzip"])));
  assert.ok(varyMatch(key, rq(["Accept-Encoding: *"])));
  assert.ok(varyMatch(key, rq([])), "no Accept-Encoding: anything goes");
  assert.ok(!varyMatch(key, rq(["Accept-Encoding: br"])));
  assert.ok(!varyMatch(key, rq(["Accept-Encoding: gzip;q=0, br"])));
  assert.ok(!varyMatch(key, rq(["Accept-Encoding: *, gzip;q=0"])));
  // An identity response suits anyone who does not refuse identity.
  const id = varyKeyOf(["accept-encoding"], rs([]), rq([]), true);
  if (id === null || typeof id === "string") throw new Error("a key");
  assert.ok(varyMatch(id, rq(["Accept-Encoding: br"])));
  assert.ok(!varyMatch(id, rq(["Accept-Encoding: br, identity;q=0"])));
  const ref = varyKeyOf(["referer"], rs([]), rq(["Referer: /a"]), true);
  if (ref === null || typeof ref === "string") throw new Error("a key");
  assert.ok(varyMatch(ref, rq(["Referer: /a"])));
  assert.ok(!varyMatch(ref, rq(["Referer: /b"])));
  assert.ok(!varyMatch(ref, rq([])));
  assert.equal(varyKeyOf([], rs([]), rq([]), false), null);
  assert.equal(varyKeyOf(["referer"], rs([]), rq([]), false), "Vary with process-vary off");
  assert.equal(varyKeyOf(["user-agent"], rs([]), rq([]), true), "Vary: user-agent is not handled");
  assert.equal(varyKeyOf(["*"], rs([]), rq([]), true), "Vary: * is not handled");
  assert.equal(
    varyKeyOf(["accept-encoding"], rs(["Content-Encoding: foo"]), rq([]), true),
    "unknown Content-Encoding",
  );
  const many = Array.from({ length: 16 }, (_, i) => `c${i}`).join(", ");
  assert.equal(
    varyKeyOf(["accept-encoding"], gz, rq([`Accept-Encoding: ${many}`]), true),
    "too many accepted encodings",
  );
});

const SPEC: CacheSpec = {
  name: "c",
  totalMax: 10_000,
  maxObject: 5_000,
  maxAge: 60,
  processVary: true,
  maxSecondary: 2,
};

function entry(
  key: string,
  bodyLen: number,
  x: { expire?: number; vary?: CacheEntry["vary"] } = {},
): CacheEntry {
  const h = new Uint8Array(10);
  return {
    key,
    vary: x.vary ?? null,
    head: h,
    body: new Uint8Array(bodyLen),
    stored: 0,
    expire: x.expire ?? 1000,
    age: 0,
    size: HttpCache.sizeOf(key, 10, bodyLen),
    validators: { etag: null, lastModified: 0 },
  };
}

const ANY = { accept: null, referer: null };

Deno.test("HttpCache: LRU eviction within total-max-size, max-object-size, expiry", () => {
  const c = new HttpCache(SPEC);
  assert.ok(c.insert(entry("a", 3000), 0));
  assert.ok(c.insert(entry("b", 3000), 0));
  assert.ok(c.insert(entry("c", 3000), 0));
  assert.ok(c.lookup("a", ANY, 1) !== null); // a is now the most recent
  assert.ok(c.insert(entry("d", 3000), 0)); // b (least recent) goes
  assert.equal(c.lookup("b", ANY, 1), null);
  assert.ok(c.lookup("a", ANY, 1) !== null);
  assert.ok(c.lookup("c", ANY, 1) !== null);
  assert.ok(c.lookup("d", ANY, 1) !== null);
  assert.equal(c.evictions, 1);
  assert.ok(c.used <= SPEC.totalMax);
  assert.equal(c.count, 3);
  // Larger than max-object-size: refused, nothing evicted.
  assert.ok(!c.insert(entry("e", 6000), 0));
  assert.equal(c.count, 3);
  // A new response for the same key replaces the old one.
  assert.ok(c.insert(entry("a", 100), 0));
  assert.equal(c.count, 3);
  assert.equal(c.lookup("a", ANY, 1)!.body.length, 100);
  // Expired entries are not served and leave when met.
  assert.equal(c.lookup("a", ANY, 1000), null);
  assert.equal(c.count, 2);
  assert.equal(c.entries(2000).length, 0);
  assert.equal(c.used, 0);
});

Deno.test("HttpCache: variants per key bounded by max-secondary-entries; clear and invalidate", () => {
  const c = new HttpCache(SPEC);
  const v = (r: string) => ({ names: ["referer"], codings: [], referer: r });
  assert.ok(c.insert(entry("k", 10, { vary: v("/1") }), 0));
  assert.ok(c.insert(entry("k", 10, { vary: v("/2") }), 0));
  assert.ok(!c.insert(entry("k", 10, { vary: v("/3") }), 0));
  assert.ok(c.insert(entry("k", 20, { vary: v("/2") }), 0), "same variant replaced");
  assert.equal(c.lookup("k", { accept: null, referer: "/2" }, 1)!.body.length, 20);
  assert.equal(c.lookup("k", { accept: null, referer: "/3" }, 1), null);
  c.invalidate("k");
  assert.equal(c.count, 0);
  c.insert(entry("x", 10), 0);
  assert.equal(c.clear(), 1);
  assert.equal(c.used, 0);
});

function errorsOf(lines: string[]): string[] {
  return loadConfig([{ file: "t.cfg", text: lines.join("\n") }], { env: {} }).errors.map((e) =>
    e.message
  );
}

const FE = [
  "frontend fe",
  "  mode http",
  "  bind 127.0.0.1:0",
  "  http-request cache-use c",
  "  http-response cache-store c",
  "  default_backend be",
  "backend be",
  "  mode http",
  "  server s 127.0.0.1:9",
];

Deno.test("cache section: keywords into the configuration, HAProxy's defaults", () => {
  const r = loadConfig([{
    file: "t.cfg",
    text: [
      "cache c",
      "  total-max-size 4",
      "  max-object-size 10000",
      "  max-age 240",
      "  process-vary on",
      "  max-secondary-entries 3",
      "cache d",
      "  total-max-size 1",
      ...FE,
    ].join("\n"),
  }], { env: {} });
  assert.deepEqual(r.errors, []);
  const caches = r.resolved!.caches!.caches;
  assert.deepEqual(caches.get("c")!.spec, {
    name: "c",
    totalMax: 4 << 20,
    maxObject: 10000,
    maxAge: 240,
    processVary: true,
    maxSecondary: 3,
  });
  assert.deepEqual(caches.get("d")!.spec, {
    name: "d",
    totalMax: 1 << 20,
    maxObject: 4096,
    maxAge: 60,
    processVary: false,
    maxSecondary: 10,
  });
});

Deno.test("cache section: errors at file:line", () => {
  assert.deepEqual(
    errorsOf([
      "cache c",
      "  total-max-size 0",
      "  total-max-size 4096",
      "  max-object-size -1",
      "  process-vary maybe",
      "  max-secondary-entries 0",
      "  max-age",
      "  frobnicate 1",
      "  total-max-size 1",
      "cache c",
      "cache",
      "cache bad/name",
      "cache nosize",
      "cache half",
      "  total-max-size 1",
      "  max-object-size 600000",
      ...FE,
      "  http-request cache-use nosuch",
      "  http-response cache-store",
    ]),
    [
      't.cfg:2: invalid value "0" for "total-max-size": expected 1 to 4095 megabytes',
      't.cfg:3: invalid value "4096" for "total-max-size": expected 1 to 4095 megabytes',
      't.cfg:4: invalid value "-1" for "max-object-size": expected a non-negative integer',
      't.cfg:5: invalid value "maybe" for "process-vary": expected "on" or "off"',
      't.cfg:6: invalid value "0" for "max-secondary-entries": expected a strictly positive number',
      't.cfg:7: missing value for "max-age"',
      't.cfg:8: unknown keyword "frobnicate" in section "cache c" (expected total-max-size, max-object-size, max-age, process-vary, max-secondary-entries)',
      't.cfg:10: duplicate cache name "c" (first at t.cfg:1)',
      't.cfg:11: missing value for "cache"',
      't.cfg:12: invalid character in cache name "bad/name"',
      "t.cfg:13: size not specified for cache 'nosize' (total-max-size) (caches[1])",
      "t.cfg:16: max-object-size is limited to half of total-max-size (524288 bytes) (caches[2].maxObjectSize)",
      "t.cfg:26: unable to find the cache 'nosuch' referenced by cache-use",
      't.cfg:27: "cache-store" expects a cache name',
    ],
  );
});

Deno.test("conditional requests: If-None-Match (weak comparison, *) before If-Modified-Since", () => {
  const res = head([
    "HTTP/1.1 200 OK",
    'ETag: W/"v1"',
    "Last-Modified: Thu, 01 Jan 2026 00:00:00 GMT",
    "Content-Length: 0",
  ]);
  const v = validatorsOf(res.msg, res.a, res.base, NOW);
  assert.deepEqual(v, { etag: 'W/"v1"', lastModified: NOW / 1000 });
  const nm = (lines: string[]) => {
    const h = head(["GET / HTTP/1.1", "Host: h", ...lines]);
    return notModified(h.msg, h.a, h.base, v);
  };
  assert.ok(nm(['If-None-Match: "v1"']));
  assert.ok(nm(['If-None-Match: "v0", W/"v1"']));
  assert.ok(nm(["If-None-Match: *"]));
  assert.ok(!nm(['If-None-Match: "v2"']));
  assert.ok(!nm(['If-None-Match: "v2"', "If-Modified-Since: Fri, 02 Jan 2026 00:00:00 GMT"]));
  assert.ok(nm(["If-Modified-Since: Thu, 01 Jan 2026 00:00:00 GMT"]));
  assert.ok(!nm(["If-Modified-Since: Wed, 31 Dec 2025 23:59:59 GMT"]));
  assert.ok(!nm(["If-Modified-Since: yesterday"]));
  assert.ok(!nm([]));
  // Without Last-Modified, the Date; without either, the time it was stored.
  const d = head(["HTTP/1.1 200 OK", "Date: Wed, 31 Dec 2025 00:00:00 GMT", "Content-Length: 0"]);
  assert.equal(validatorsOf(d.msg, d.a, d.base, NOW).lastModified, NOW / 1000 - 86400);
  const n = head(["HTTP/1.1 200 OK", "Content-Length: 0"]);
  assert.deepEqual(validatorsOf(n.msg, n.a, n.base, NOW), { etag: null, lastModified: NOW / 1000 });
});

Deno.test("CacheWriter: copies forwarded bytes (across the ring's end), abandons a hole or an overflow, releases pending bytes", () => {
  const cache = new HttpCache({ ...SPEC, totalMax: 1000, maxObject: 500 });
  const res = new Channel();
  res.buf.attach(new Uint8Array(64));
  const writer = () =>
    new CacheWriter({
      cache,
      key: "k",
      vary: null,
      head: new Uint8Array(10),
      ttl: 60,
      age: 0,
      validators: { etag: null, lastModified: 0 },
    });
  const w = writer();
  w.mark = res.fwd;
  const send = (s: string) => {
    res.buf.putIn(enc.encode(s));
    chnForward(res, s.length);
  };
  // Fill, send most of it, so the next bytes wrap around the ring's end.
  send("a".repeat(50));
  assert.ok(w.take(res));
  res.buf.sndCommit(50);
  send("b".repeat(30));
  assert.ok(w.take(res));
  assert.equal(cache.pending, 80);
  w.finish(0);
  assert.equal(cache.pending, 0);
  const e = cache.lookup("k", ANY, 1)!;
  assert.equal(new TextDecoder().decode(e.body), "a".repeat(50) + "b".repeat(30));
  // Bytes sent before the copy saw them: a hole, abandoned.
  const h = writer();
  h.mark = res.fwd;
  res.buf.sndCommit(30);
  send("c".repeat(10));
  res.buf.sndCommit(10);
  assert.equal(h.take(res), false);
  h.release();
  // Past max-object-size.
  const o = writer();
  o.mark = res.fwd;
  let ok = true;
  for (let i = 0; i < 20 && ok; i++) {
    send("d".repeat(40));
    ok = o.take(res);
    res.buf.sndCommit(40);
  }
  assert.equal(ok, false);
  o.release();
  assert.equal(cache.pending, 0);
});

Deno.test("mergeInstanceStats(): the cache counters of worker threads add up", () => {
  const part = (n: number): InstanceStats => ({
    frontends: [],
    backends: [],
    actconn: 0,
    pool: { size: 1, limit: 1, inUse: 0, free: 0, waits: 0, allocated: 0 } as never,
    largePool: null,
    sched: {} as never,
    idle: { reused: 0, expired: 0, parked: 0 },
    log: { lines: 0, dropped: 0 },
    caches: [{ name: "c", lookups: n, hits: n, entries: 1, used: 10, size: 100, evictions: 0 }],
  });
  assert.deepEqual(mergeInstanceStats([part(1), part(2)]).caches, [
    { name: "c", lookups: 3, hits: 3, entries: 2, used: 20, size: 200, evictions: 0 },
  ]);
});
