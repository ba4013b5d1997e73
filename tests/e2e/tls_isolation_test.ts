/**
 * `tls-isolation on`: TLS listeners served by TLS worker threads, which do
 * the handshakes with keys only they hold, and hand the plaintext to the
 * HTTP workers through shared-memory rings. Over loopback with a test PKI:
 * the ssl fetches and client certificates work as without isolation, large
 * bodies cross both ways byte-exact (ring backpressure), a PROXY header
 * before TLS, handshake failures logged, certificate rotation through the
 * runtime API, and an HTTP worker that provably cannot read the key file.
 */
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import { createHash } from "node:crypto";
import { cfgProxy, headReply, modelUpstream } from "../helpers/http.ts";
import { headerIn, tlsGet } from "../helpers/tls_get.ts";
import { makeTestCa } from "../helpers/test_ca.ts";
import { waitFor } from "../helpers/net.ts";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import { startSluice } from "../../mod.ts";
import { threadGroupOf } from "../../lib/worker/handle.ts";

const pki = makeTestCa();
globalThis.addEventListener("unload", () => pki[Symbol.dispose]());

/** One request over TLS to `port`; the whole response as text, or the error. */
function get(port: number, o: tls.ConnectionOptions = {}, path = "/", sock?: net.Socket) {
  return tlsGet(port, { ...o, path, sock, timeoutMs: 5000 });
}

const cert = (p: { cert: string; key: string }) => ({
  cert: pki.read(p.cert),
  key: pki.read(p.key),
});

function proxy(bind: string, rules: string[], up: string, global: string[] = []) {
  return cfgProxy([
    "global",
    "  tls-isolation on",
    "  nbthread 2",
    ...global.map((g) => "  " + g),
    "frontend fe",
    "  mode http",
    `  bind 127.0.0.1:0 ssl crt ${pki.srv.localhost} ${bind}`,
    ...rules.map((r) => "  " + r),
    "  default_backend be",
    "backend be",
    "  mode http",
    `  server s ${up}`,
  ]);
}

const header = headerIn;

Deno.test("tls-isolation: ssl fetches and client certificates work as without; refusals are logged by the TLS worker", async () => {
  await using up = modelUpstream(headReply);
  await using p = await proxy(`verify optional ca-file ${pki.ca} alpn http/1.1`, [
    "http-request deny if { path_beg /admin } !{ ssl_c_used }",
    "http-request set-header X-Fc %[ssl_fc]",
    "http-request set-header X-Proto %[ssl_fc_protocol]",
    "http-request set-header X-Alpn %[ssl_fc_alpn]",
    "http-request set-header X-Sni %[ssl_fc_sni]",
    "http-request set-header X-Dn %[ssl_c_s_dn]",
    "http-request set-header X-Verify %[ssl_c_verify]",
    "http-request set-header X-Der %[ssl_c_der,base64]",
  ], up.address);
  assert.match((await get(p.port, {}, "/admin")).text, /^HTTP\/1\.1 403 /);
  const r = await get(p.port, {
    ...cert(pki.client),
    servername: "localhost",
    ALPNProtocols: ["http/1.1"],
  }, "/admin");
  const x = new (await import("node:crypto")).X509Certificate(pki.read(pki.client.cert));
  assert.equal(header(r.text, "X-Fc"), "1");
  assert.equal(header(r.text, "X-Proto"), "TLSv1.3");
  assert.equal(header(r.text, "X-Alpn"), "http/1.1");
  assert.equal(header(r.text, "X-Sni"), "localhost");
  assert.equal(header(r.text, "X-Dn"), "/C=FR/O=Acme/CN=alice");
  assert.equal(header(r.text, "X-Verify"), "0");
  assert.equal(header(r.text, "X-Der"), Buffer.from(x.raw).toString("base64"));
  // Another CA's certificate fails in the TLS worker, which logs it.
  assert.equal((await get(p.port, cert(pki.other))).text, "");
  await waitFor(() => p.logs.some((l) => l.includes("not trusted")), 5000, "the log line");
  assert.match(
    p.logs.find((l) => l.includes("not trusted"))!,
    /TLS worker 1: 127\.0\.0\.1:\d+ fe\/1: SSL client certificate not trusted \(depth 0: /,
  );
  assert.equal(up.requests.length, 1, "only the request with a certificate reached the server");
});

Deno.test("tls-isolation: large bodies cross the rings both ways byte-exact, keep-alive, several TLS workers", async () => {
  const big = new Uint8Array(8 * 1024 * 1024).map((_, i) => (i * 7919) % 251);
  const srv = http.createServer((req, res) => {
    const h = createHash("sha256");
    let n = 0;
    req.on("data", (d: Uint8Array) => {
      h.update(d);
      n += d.length;
    });
    req.on("end", () => {
      if (req.url === "/down") res.end(big);
      else res.end(`${n} ${h.digest("hex")}`);
    });
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const upPort = (srv.address() as net.AddressInfo).port;
  try {
    await using p = await proxy("", [], `127.0.0.1:${upPort}`, ["tls-threads 2"]);
    const body = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 31) % 256);
    const want = createHash("sha256").update(body).digest("hex");
    // One keep-alive connection: upload, then download, then upload again.
    const c = tls.connect({ host: "127.0.0.1", port: p.port, rejectUnauthorized: false });
    await new Promise((r) => c.once("secureConnect", r));
    const chunks: Uint8Array[] = [];
    c.on("data", (d: Uint8Array) => chunks.push(d));
    const total = () => chunks.reduce((n, d) => n + d.length, 0);
    const all = () => Buffer.concat(chunks).toString("latin1");
    c.write(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
    c.write(body);
    await waitFor(() => all().includes(want), 10_000, "the upload digest");
    chunks.length = 0;
    c.write("GET /down HTTP/1.1\r\nHost: x\r\n\r\n");
    await waitFor(() => total() > big.length, 20_000, "the download");
    const raw = Buffer.concat(chunks);
    const start = raw.indexOf("\r\n\r\n") + 4;
    await waitFor(() => Buffer.concat(chunks).length - start >= big.length, 10_000, "all of it");
    const got = Buffer.concat(chunks).subarray(start, start + big.length);
    assert.equal(
      createHash("sha256").update(got).digest("hex"),
      createHash("sha256").update(big).digest("hex"),
    );
    chunks.length = 0;
    c.write(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
    c.write(body);
    await waitFor(() => all().includes(want), 10_000, "the second upload digest");
    c.destroy();
    // Many short connections at once are all served.
    const rs = await Promise.all(Array.from({ length: 40 }, () => get(p.port, {}, "/up")));
    assert.ok(rs.every((r) => /^HTTP\/1\.1 200 /.test(r.text)), "every request served");
  } finally {
    await new Promise((r) => srv.close(r));
  }
});

Deno.test("tls-isolation: a PROXY header before TLS gives the client address", async () => {
  await using up = modelUpstream(headReply);
  await using p = await proxy("accept-proxy", ["http-request set-header X-Src %[src]"], up.address);
  const raw = net.connect(p.port, "127.0.0.1");
  await new Promise((r) => raw.once("connect", r));
  raw.write("PROXY TCP4 192.0.2.7 127.0.0.1 5555 443\r\n");
  const r = await get(p.port, {}, "/", raw);
  assert.equal(header(r.text, "X-Src"), "192.0.2.7");
});

Deno.test("tls-isolation: an HTTP worker cannot read the key file; commit ssl cert reaches the TLS workers", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using up = modelUpstream(headReply);
    const keyFile = pki.srv.localhost;
    const mod = `${dir}/hooks.ts`;
    await Deno.writeTextFile(
      mod,
      `export const frontends = { fe: { onRequest(ctx) {
        let read = "yes";
        try { Deno.readTextFileSync(${JSON.stringify(keyFile)}); } catch (e) { read = e.name; }
        ctx.setHeader("X-Key-Read", read);
      } } };\n`,
    );
    const cfg = parseConfigText(
      [
        "global",
        "  tls-isolation on",
        "  nbthread 2",
        "frontend fe",
        "  mode http",
        `  bind 127.0.0.1:0 ssl crt ${keyFile}`,
        "  default_backend be",
        "backend be",
        "  mode http",
        `  server s ${up.address}`,
      ].join("\n"),
      "t.cfg",
      {},
    );
    cfg.global = { ...cfg.global, log: { target: () => {}, format: "httplog" } };
    const h = await startSluice(cfg, { hooksModule: new URL(`file://${mod}`) });
    try {
      const port = h.addresses[0].port;
      for (let i = 0; i < 4; i++) {
        const r = await get(port);
        assert.match(r.text, /^HTTP\/1\.1 200 /);
        assert.equal(header(r.text, "X-Key-Read"), "NotCapable");
      }
      // Rotation: the TLS workers hold the certificates, and take the new one.
      const peerSerial = () =>
        new Promise<string>((resolve, reject) => {
          const c = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
            resolve(c.getPeerX509Certificate()!.serialNumber);
            c.destroy();
          });
          c.on("error", reject);
        });
      const before = await peerSerial();
      const other = pki.read(pki.srv.a);
      assert.match(h.admin(`set ssl cert ${keyFile} <<\n${other}`), /Transaction created/);
      assert.match(h.admin(`commit ssl cert ${keyFile}`), /Success!/);
      const after = await peerSerial();
      assert.notEqual(after, before);
      const x = new (await import("node:crypto")).X509Certificate(other);
      assert.equal(after, x.serialNumber);
    } finally {
      await h.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tls-isolation: the model HTTP workers get has no certificate, key or TLS option", async () => {
  const { isolatedModel } = await import("../../lib/worker/threads.ts");
  const cfg = parseConfigText(
    [
      "frontend fe",
      `  bind 127.0.0.1:0 ssl crt ${pki.srv.localhost} verify optional ca-file ${pki.ca}`,
      "  bind 127.0.0.1:0",
      "  default_backend be",
      "backend be",
      "  server s 127.0.0.1:1",
    ].join("\n"),
    "t.cfg",
    {},
  );
  const m = isolatedModel(cfg);
  assert.deepEqual(m.frontends[0].binds[0].tls, { cert: "", key: "", isolated: true });
  assert.doesNotMatch(JSON.stringify(m), /PRIVATE KEY|BEGIN CERTIFICATE/);
  assert.deepEqual(m.frontends[0].binds[1], cfg.frontends[0].binds[1]);
});

Deno.test("tls-isolation: a TLS worker or an HTTP worker that dies is replaced; new connections keep succeeding", async () => {
  await using up = modelUpstream(headReply);
  await using p = await proxy("", [], up.address, ["tls-threads 2"]);
  const g = threadGroupOf(p.handle)!;
  let stop = false;
  const failures: string[] = [];
  let ok = 0;
  const client = async () => {
    while (!stop) {
      const r = await get(p.port);
      if (/^HTTP\/1\.1 200 /.test(r.text)) ok++;
      else failures.push(r.error || r.text.slice(0, 40) || "nothing");
    }
  };
  const clients = Array.from({ length: 3 }, client);
  await waitFor(() => ok > 10, 10_000, "requests before");
  g.crashWorker(1, "tls");
  await waitFor(() => g.restarts === 1, 5000, "TLS worker replaced");
  assert.ok(await g.workerReady(1, 10_000, "tls"));
  g.crashWorker(1);
  await waitFor(() => g.restarts === 2, 5000, "HTTP worker replaced");
  assert.ok(await g.workerReady(1));
  const before = ok;
  await waitFor(() => ok > before + 20, 10_000, "requests after");
  stop = true;
  await Promise.all(clients);
  // The connections the dead workers carried are lost with them; no other fails.
  assert.ok(failures.length <= 6, failures.join("\n"));
  assert.ok(p.logs.some((l) => /TLS worker 2 died .*starting a new TLS worker 2/.test(l)));
  assert.ok(p.logs.some((l) => /worker 2 died .*starting a new worker 2/.test(l)));
});

Deno.test("tls-isolation: a reload replaces the TLS workers on the same port; connections go on", async () => {
  await using up = modelUpstream(headReply);
  const lines = (tag: string) => [
    "global",
    "  tls-isolation on",
    "  nbthread 2",
    "frontend fe",
    "  mode http",
    `  bind 127.0.0.1:0 ssl crt ${pki.srv.localhost}`,
    `  http-request set-header X-Gen ${tag}`,
    "  default_backend be",
    "backend be",
    "  mode http",
    `  server s ${up.address}`,
  ];
  await using p = await cfgProxy(lines("one"));
  let stop = false;
  const failures: string[] = [];
  const gens = new Set<string>();
  const client = async () => {
    while (!stop) {
      const r = await get(p.port);
      const gen = header(r.text, "X-Gen");
      if (gen === undefined) failures.push(r.error || r.text.slice(0, 40) || "nothing");
      else gens.add(gen);
    }
  };
  const clients = Array.from({ length: 3 }, client);
  await waitFor(() => gens.has("one"), 10_000, "the first generation");
  await p.handle.reload(parseConfigText(lines("two").join("\n"), "t.cfg", {}));
  await waitFor(() => gens.has("two"), 10_000, "the second generation");
  stop = true;
  await Promise.all(clients);
  // A connection queued on an old TLS worker's socket when it closes is
  // reset by the kernel (SO_REUSEPORT; node:net cannot accept what is queued
  // before closing: docs/architecture.md): at most one or two at this rate.
  assert.ok(failures.length <= 2, failures.join("\n"));
  assert.equal(p.handle.addresses[0].port, p.port, "the port is kept");
});

Deno.test("tls-isolation: a TCP-mode frontend forwards the plaintext both ways, half-close included", async () => {
  const echo = net.createServer({ allowHalfOpen: true }, (s) => {
    const got: Uint8Array[] = [];
    s.on("data", (d: Uint8Array) => got.push(d));
    s.on("end", () => s.end(`echo:${Buffer.concat(got).toString("latin1")}`));
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
  try {
    await using p = await cfgProxy([
      "global",
      "  tls-isolation on",
      "  nbthread 1",
      "frontend fe",
      "  mode tcp",
      `  bind 127.0.0.1:0 ssl crt ${pki.srv.localhost}`,
      "  default_backend be",
      "backend be",
      "  mode tcp",
      `  server s 127.0.0.1:${(echo.address() as net.AddressInfo).port}`,
    ]);
    const text = await new Promise<string>((resolve, reject) => {
      let out = "";
      const c = tls.connect({ host: "127.0.0.1", port: p.port, rejectUnauthorized: false }, () => {
        c.write("hello ");
        c.end("world");
      });
      c.on("data", (d) => out += d.toString("latin1"));
      c.on("end", () => resolve(out));
      c.on("error", reject);
    });
    assert.equal(text, "echo:hello world");
  } finally {
    await new Promise((r) => echo.close(r));
  }
});

Deno.test("tls-isolation: connections over the frontend's maxconn wait (parked in the HTTP worker) and are all served", async () => {
  await using up = modelUpstream(headReply);
  await using p = await cfgProxy([
    "global",
    "  tls-isolation on",
    "  nbthread 1",
    "frontend fe",
    "  mode http",
    "  maxconn 2",
    `  bind 127.0.0.1:0 ssl crt ${pki.srv.localhost}`,
    "  default_backend be",
    "backend be",
    "  mode http",
    `  server s ${up.address}`,
  ]);
  const rs = await Promise.all(Array.from({ length: 8 }, () => get(p.port)));
  assert.ok(rs.every((r) => /^HTTP\/1\.1 200 /.test(r.text)), rs.map((r) => r.error).join(","));
  // show stat: pxname,svname,qcur,qmax,scur,smax,...
  const smax = Number(/^fe,FRONTEND,(?:[^,]*,){3}(\d+)/m.exec(p.handle.admin("show stat"))?.[1]);
  assert.ok(smax >= 1 && smax <= 2, `the frontend's peak stays within maxconn (${smax})`);
});

Deno.test("tls-isolation: a client that never finishes its handshake is closed after timeout client", async () => {
  await using up = modelUpstream(headReply);
  await using p = await cfgProxy([
    "global",
    "  tls-isolation on",
    "  nbthread 1",
    "defaults",
    "  mode http",
    "  timeout client 300ms",
    "frontend fe",
    `  bind 127.0.0.1:0 ssl crt ${pki.srv.localhost}`,
    "  default_backend be",
    "backend be",
    `  server s ${up.address}`,
  ]);
  const raw = net.connect(p.port, "127.0.0.1");
  const closed = new Promise<void>((r) => raw.on("close", () => r()));
  raw.on("error", () => {});
  raw.write("\x16\x03\x01"); // the start of a ClientHello, and nothing more
  await closed;
  assert.match((await get(p.port)).text, /^HTTP\/1\.1 200 /, "others are served");
});
