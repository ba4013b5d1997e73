/**
 * HTTP cache sections (`cache NAME`, `http-request cache-use`,
 * `http-response cache-store`) end to end over loopback, with a counting
 * origin: a hit is answered without the origin seeing the request, with
 * Age; what HTTP forbids to store is not stored; Vary with process-vary;
 * HEAD from a stored GET; the size limits; the runtime API; the counters.
 */
import assert from "node:assert/strict";
import { cfgProxy, exchange, modelUpstream, type SeenRequest } from "../helpers/http.ts";

/** The origin's answer per path: `/name?h=Header:value&h=...&b=N` sets headers and a body of N bytes. */
function reply(req: SeenRequest): string {
  const target = req.line.split(" ")[1] ?? "/";
  const u = new URL(target, "http://x");
  const hdrs = u.searchParams.getAll("h").map((h) => h.replace(":", ": "));
  const n = Number(u.searchParams.get("b") ?? "-1");
  const body = n >= 0 ? "x".repeat(n) : `${u.pathname}#${seen.get(u.pathname) ?? 0}`;
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

/** sluice with one cache in front of `address`. */
function proxy(address: string, cache: string[] = []) {
  return cfgProxy([
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
  assert.equal(up.requests.length, 1);
  assert.ok(p.logs.some((l) => l.includes(" fe be/<CACHE> ")), p.logs.join("\n"));
});
