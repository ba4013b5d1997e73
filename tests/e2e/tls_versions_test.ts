/**
 * TLS protocol versions end to end: a listener's `minVersion`/`maxVersion`
 * (HAProxy's `ssl-min-ver`/`ssl-max-ver`, or `ssl-default-bind-options`)
 * decide what a client can negotiate, and a server's decide what sluice
 * offers to it. sluice's TLS has TLS 1.2 and 1.3 only.
 */
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { startSluice } from "../../mod.ts";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import { fixture, upstream, writeAll } from "../helpers/net.ts";
import { withTempDir } from "../helpers/temp_dir.ts";

const PAIR = { cert: fixture("server.crt"), key: fixture("server.key") };
const OK = new TextEncoder().encode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");

/** The protocol a client limited to `opts` negotiates with `port`, or the handshake error. */
function negotiate(port: number, opts: tls.ConnectionOptions = {}): Promise<string> {
  return new Promise((resolve) => {
    const c = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...opts }, () => {
      const p = c.getProtocol() ?? "?";
      c.destroy();
      resolve(p);
    });
    c.on("error", (err) => resolve(`error: ${err.message}`));
  });
}

async function proxyWithBind(tlsOpts: { minVersion?: "TLSv1.3"; maxVersion?: "TLSv1.2" }) {
  const up = upstream(async (conn) => await writeAll(conn, OK));
  const h = await startSluice({
    global: { log: { target: "none" } },
    frontends: [{
      name: "fe",
      binds: [{ address: "127.0.0.1:0", tls: { ...PAIR, ...tlsOpts } }],
      defaultBackend: "be",
    }],
    backends: [{ name: "be", servers: [{ name: "s", address: up.address }] }],
  });
  return {
    port: h.addresses[0].port,
    async [Symbol.asyncDispose]() {
      await h.close();
      await up.close();
    },
  };
}

Deno.test("bind minVersion TLSv1.3: a TLS 1.2 client is refused, others get TLS 1.3", async () => {
  await using px = await proxyWithBind({ minVersion: "TLSv1.3" });
  assert.equal(await negotiate(px.port), "TLSv1.3");
  assert.match(await negotiate(px.port, { maxVersion: "TLSv1.2" }), /^error: /);
});

Deno.test("bind maxVersion TLSv1.2: clients get TLS 1.2, a TLS 1.3-only client is refused", async () => {
  await using px = await proxyWithBind({ maxVersion: "TLSv1.2" });
  assert.equal(await negotiate(px.port), "TLSv1.2");
  assert.match(await negotiate(px.port, { minVersion: "TLSv1.3" }), /^error: /);
});

/** A TLS server that answers one HTTP request and records the protocol of each connection. */
async function tlsUpstream(opts: tls.TlsOptions = {}) {
  const protocols: string[] = [];
  const srv = tls.createServer({ ...PAIR, ...opts }, (s) => {
    protocols.push(s.getProtocol() ?? "?");
    s.once("data", () => s.end(OK));
    s.on("error", () => {});
  });
  srv.on("tlsClientError", () => protocols.push("failed"));
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    protocols,
    [Symbol.asyncDispose]: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

/** Status line of one GET through plain-HTTP listener `port`. */
async function get(port: number): Promise<string> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await writeAll(
      c,
      new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
    );
    const buf = new Uint8Array(4096);
    const n = await c.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0];
  } finally {
    c.close();
  }
}

Deno.test("server maxVersion/minVersion: what sluice offers to a TLS server", async () => {
  await using up = await tlsUpstream();
  await using h = await startSluice({
    global: { log: { target: "none" } },
    frontends: [
      { name: "f12", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "b12" },
      { name: "f13", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "b13" },
    ],
    backends: [
      {
        name: "b12",
        servers: [{
          name: "s",
          address: `127.0.0.1:${up.port}`,
          tls: { verify: "none", maxVersion: "TLSv1.2" },
        }],
      },
      {
        name: "b13",
        servers: [{
          name: "s",
          address: `127.0.0.1:${up.port}`,
          tls: { verify: "none", minVersion: "TLSv1.3" },
        }],
      },
    ],
  });
  assert.equal(await get(h.addresses[0].port), "HTTP/1.1 200 OK");
  assert.equal(await get(h.addresses[1].port), "HTTP/1.1 200 OK");
  assert.deepEqual(up.protocols, ["TLSv1.2", "TLSv1.3"]);
});

Deno.test("server minVersion TLSv1.3 towards a TLS 1.2-only server: the connection fails (503)", async () => {
  await using up = await tlsUpstream({ maxVersion: "TLSv1.2" });
  await using h = await startSluice({
    global: { log: { target: "none" } },
    frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
    backends: [{
      name: "be",
      retries: 0,
      servers: [{
        name: "s",
        address: `127.0.0.1:${up.port}`,
        tls: { verify: "none", minVersion: "TLSv1.3" },
      }],
    }],
  });
  assert.equal(await get(h.addresses[0].port), "HTTP/1.1 503 Service Unavailable");
});

Deno.test("config file: crt-base and ssl-default-bind-options ssl-min-ver TLSv1.3", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/certs`);
    await Deno.writeTextFile(`${dir}/certs/site.pem`, PAIR.cert + PAIR.key);
    const cfg = parseConfigText(
      [
        "global",
        "    crt-base certs",
        "    ssl-default-bind-options ssl-min-ver TLSv1.3",
        "frontend fe",
        "    mode http",
        "    bind 127.0.0.1:0 ssl crt site.pem",
        "    bind 127.0.0.1:0 ssl crt site.pem ssl-max-ver TLSv1.2 ssl-min-ver TLSv1.2",
        "    default_backend be",
        "backend be",
        "    mode http",
        "    server s 127.0.0.1:1",
      ].join("\n"),
      `${dir}/t.cfg`,
      {},
    );
    cfg.global = { ...cfg.global, log: { target: "none" } };
    await using h = await startSluice(cfg);
    assert.match(await negotiate(h.addresses[0].port, { maxVersion: "TLSv1.2" }), /^error: /);
    assert.equal(await negotiate(h.addresses[0].port), "TLSv1.3");
    assert.equal(await negotiate(h.addresses[1].port), "TLSv1.2");
  });
});
