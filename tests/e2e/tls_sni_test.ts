/**
 * Certificates chosen by SNI: a listener with a default certificate and
 * more, each served for the names it holds (SAN, else CN; wildcards cover
 * one label), from the API and from a configuration file (several `crt`,
 * or a directory).
 */
import assert from "node:assert/strict";
import tls from "node:tls";
import { startSluice } from "../../mod.ts";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import { TlsCerts } from "../../lib/conn/tls_sock.ts";
import { fixture, upstream, writeAll } from "../helpers/net.ts";

const PAIRS = {
  localhost: { cert: fixture("server.crt"), key: fixture("server.key") },
  a: { cert: fixture("sni_a.crt"), key: fixture("sni_a.key") },
  wild: { cert: fixture("sni_wild.crt"), key: fixture("sni_wild.key") },
};

/** The CN of the certificate the server at `port` presents for `servername` (none: no SNI). */
function servedCn(port: number, servername?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = tls.connect({
      host: "127.0.0.1",
      port,
      servername,
      rejectUnauthorized: false,
    }, () => {
      const cn = c.getPeerCertificate().subject?.CN ?? "";
      c.destroy();
      resolve(String(cn));
    });
    c.on("error", reject);
  });
}

Deno.test("TlsCerts.pick(): exact names, one-label wildcards, CN without SAN, the default otherwise", () => {
  const certs = new TlsCerts([PAIRS.localhost, PAIRS.a, PAIRS.wild]);
  assert.ok(certs.chooses);
  const a = certs.pick("a.example.com");
  assert.notEqual(a, certs.default);
  assert.equal(certs.pick("ALT-A.Example.COM"), a, "names compare without case");
  const wild = certs.pick("x.b.example.com");
  assert.notEqual(wild, certs.default);
  assert.notEqual(wild, a);
  assert.equal(certs.pick("y.b.example.com"), wild);
  assert.equal(certs.pick("b.example.com"), certs.default, "the wildcard needs a label");
  assert.equal(certs.pick("z.x.b.example.com"), certs.default, "one label only");
  assert.equal(certs.pick("other.example.com"), certs.default);
  assert.equal(certs.pick("localhost"), certs.default);
  assert.equal(new TlsCerts([PAIRS.a]).chooses, false, "one certificate: nothing to choose");
  assert.throws(
    () => new TlsCerts([PAIRS.a, { cert: PAIRS.a.cert, key: PAIRS.localhost.key }]),
    /certificate 2: the private key does not match the certificate/,
  );
});

Deno.test("a TLS listener serves the certificate for the name the client asks", async () => {
  await using up = upstream(async (conn) => {
    await writeAll(conn, new TextEncoder().encode("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
  });
  await using h = await startSluice({
    global: { log: { target: "none" } },
    frontends: [{
      name: "fe",
      binds: [{
        address: "127.0.0.1:0",
        tls: { ...PAIRS.localhost, sniCerts: [PAIRS.a, PAIRS.wild] },
      }],
      defaultBackend: "be",
    }],
    backends: [{ name: "be", servers: [{ name: "s", address: up.address }] }],
  });
  const port = h.addresses[0].port;
  assert.equal(await servedCn(port, "a.example.com"), "a.example.com");
  assert.equal(await servedCn(port, "alt-a.example.com"), "a.example.com");
  assert.equal(await servedCn(port, "www.b.example.com"), "*.b.example.com");
  assert.equal(await servedCn(port, "deep.www.b.example.com"), "localhost");
  assert.equal(await servedCn(port, "unknown.test"), "localhost");
  assert.equal(await servedCn(port), "localhost", "no SNI: the default");
});

Deno.test("config file: several crt, or a directory of them, in name order", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pem = (p: { cert: string; key: string }) => p.cert + p.key;
    await Deno.mkdir(`${dir}/certs`);
    await Deno.writeTextFile(`${dir}/certs/1-default.pem`, pem(PAIRS.localhost));
    await Deno.writeTextFile(`${dir}/certs/2-a.pem`, pem(PAIRS.a));
    // A key file next to a certificate: skipped as a certificate of its own.
    await Deno.writeTextFile(`${dir}/certs/3-wild.pem`, PAIRS.wild.cert);
    await Deno.writeTextFile(`${dir}/certs/3-wild.pem.key`, PAIRS.wild.key);
    await Deno.writeTextFile(`${dir}/a.pem`, pem(PAIRS.a));
    await Deno.writeTextFile(`${dir}/default.pem`, pem(PAIRS.localhost));
    const cfg = parseConfigText(
      [
        "frontend one",
        "    mode http",
        "    bind 127.0.0.1:0 ssl crt default.pem crt a.pem",
        "    default_backend be",
        "frontend all",
        "    mode http",
        "    bind 127.0.0.1:0 ssl crt certs/",
        "    default_backend be",
        "backend be",
        "    mode http",
        "    server s 127.0.0.1:1",
      ].join("\n"),
      `${dir}/t.cfg`,
      {},
    );
    const one = cfg.frontends[0].binds[0].tls!;
    assert.equal(one.cert, PAIRS.localhost.cert);
    assert.equal(one.sniCerts!.length, 1);
    const all = cfg.frontends[1].binds[0].tls!;
    assert.equal(all.sniCerts!.length, 2);
    cfg.global = { log: { target: "none" } };
    await using h = await startSluice(cfg);
    assert.equal(await servedCn(h.addresses[0].port, "a.example.com"), "a.example.com");
    assert.equal(await servedCn(h.addresses[1].port, "q.b.example.com"), "*.b.example.com");
    assert.equal(await servedCn(h.addresses[1].port, "nothing.test"), "localhost");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
