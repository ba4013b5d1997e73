/**
 * `use_backend` with a name built from samples (`be_%[req.hdr(host)]`),
 * evaluated for each request: a name that is a backend routes there, one
 * that is not leaves the default backend (as HAProxy). In HTTP mode on
 * request headers, in TCP mode on the first bytes.
 */
import assert from "node:assert/strict";
import { startSluice } from "../../mod.ts";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import { exchange, modelUpstream } from "../helpers/http.ts";
import { readAll, upstream, writeAll } from "../helpers/net.ts";

/** Starts sluice on configuration `lines`. */
async function proxyOf(lines: string[]) {
  const handle = await startSluice(parseConfigText(lines.join("\n"), "t.cfg", {}));
  return { port: handle.addresses[0].port, [Symbol.asyncDispose]: () => handle.close() };
}

Deno.test("use_backend be_%[req.hdr(host)] routes by the built name; an unknown name goes to the default backend", async () => {
  await using a = modelUpstream();
  await using b = modelUpstream();
  await using d = modelUpstream();
  await using p = await proxyOf([
    "defaults",
    "    mode http",
    "frontend fe",
    "    bind 127.0.0.1:0",
    "    use_backend be_%[req.hdr(host)] if { req.hdr(host) -m found }",
    "    default_backend dflt",
    "backend be_a",
    `    server s ${a.address}`,
    "backend be_b",
    `    server s ${b.address}`,
    "backend dflt",
    `    server s ${d.address}`,
  ]);
  const get = async (host: string, path: string) =>
    (await exchange(p.port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`, {
      timeoutMs: 5000,
      until: (t) => t.endsWith(path),
    })).text;
  assert.match(await get("a", "/1"), /^HTTP\/1\.1 200 /);
  assert.match(await get("b", "/2"), /^HTTP\/1\.1 200 /);
  assert.match(await get("c", "/3"), /^HTTP\/1\.1 200 /);
  assert.match(await get("dflt", "/4"), /^HTTP\/1\.1 200 /);
  assert.deepEqual(a.requests.map((r) => r.line), ["GET /1 HTTP/1.1"]);
  assert.deepEqual(b.requests.map((r) => r.line), ["GET /2 HTTP/1.1"]);
  // "be_c" and "be_dflt" are no backends: the default one.
  assert.deepEqual(d.requests.map((r) => r.line), ["GET /3 HTTP/1.1", "GET /4 HTTP/1.1"]);
});

Deno.test("TCP mode: use_backend be_%[req.payload(0,1)] routes on the first byte", async () => {
  const named = (tag: string) =>
    upstream(async (conn) => {
      const got = await readAll(conn, 64);
      await writeAll(conn, new TextEncoder().encode(`${tag}:${new TextDecoder().decode(got)}`));
    });
  await using x = named("x");
  await using y = named("y");
  await using p = await proxyOf([
    "defaults",
    "    mode tcp",
    "frontend fe",
    "    bind 127.0.0.1:0",
    "    tcp-request inspect-delay 5s",
    "    tcp-request content accept if { req.len ge 1 }",
    "    use_backend be_%[req.payload(0,1)]",
    "    default_backend be_y",
    "backend be_x",
    `    server s ${x.address}`,
    "backend be_y",
    `    server s ${y.address}`,
  ]);
  const send = async (data: string) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
    try {
      await writeAll(conn, new TextEncoder().encode(data));
      await conn.closeWrite();
      return new TextDecoder().decode(await readAll(conn, 256));
    } finally {
      conn.close();
    }
  };
  assert.equal(await send("x-hello"), "x:x-hello");
  assert.equal(await send("y-hello"), "y:y-hello");
  assert.equal(await send("z-hello"), "y:z-hello", "no be_z: the default backend");
});
