/**
 * TLS towards servers, configured in HAProxy's syntax: `server ... ssl` with
 * `verify`, `ca-file`, `sni`, `crt` (client certificate), `alpn`,
 * `ssl-min-ver`/`ssl-max-ver`, `no-ssl-reuse`, and `check-ssl` health checks
 * with the same settings. The upstreams are node:tls servers made from a
 * test CA (tests/helpers/tls_ca.ts); each records what it saw (SNI, client
 * certificate, ALPN, protocol, resumed sessions). Failed handshakes show in
 * the event log with the TLS reason and in the `econ` counter.
 */
import assert from "node:assert/strict";
import tls from "node:tls";
import { type SluiceHandle, startSluice } from "../../mod.ts";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import { logInto, readAll, waitFor } from "../helpers/net.ts";
import { TestCa, type TestCert } from "../helpers/tls_ca.ts";

/** What a TLS upstream saw of one connection. */
interface Seen {
  sni: string | false;
  peerCn: string | null;
  alpn: string | false | null;
  protocol: string | null;
  resumed: boolean;
}

/** A node:tls upstream answering "hi" then closing; `requestCert` asks for a client certificate from `ca`. */
async function tlsUpstream(
  c: TestCert,
  opts: { ca?: TestCa; alpn?: string[] } = {},
) {
  const seen: Seen[] = [];
  const server = tls.createServer({
    cert: c.cert,
    key: c.key,
    requestCert: opts.ca !== undefined,
    rejectUnauthorized: opts.ca !== undefined,
    ca: opts.ca ? [opts.ca.cert] : undefined,
    ALPNProtocols: opts.alpn,
  }, (sock) => {
    const peer = sock.getPeerCertificate();
    seen.push({
      sni: (sock as unknown as { servername: string | false }).servername,
      peerCn: peer?.subject?.CN ?? null,
      alpn: sock.alpnProtocol,
      protocol: sock.getProtocol(),
      resumed: sock.isSessionReused(),
    });
    sock.on("error", () => {});
    sock.end("hi");
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    seen,
    async [Symbol.asyncDispose]() {
      await new Promise((r) => server.close(r));
    },
  };
}

/** Starts sluice on a TCP proxy to `server` (a server line's options after the address). */
async function proxy(port: number, serverOpts: string, extra: { global?: string[] } = {}) {
  const text = [
    "global",
    ...(extra.global ?? []).map((l) => `  ${l}`),
    "defaults",
    "  mode tcp",
    "  timeout connect 2s",
    "  timeout client 5s",
    "  timeout server 5s",
    "  timeout check 2s",
    "  retries 0",
    "frontend fe",
    "  bind 127.0.0.1:0",
    "  default_backend be",
    "backend be",
    `  server s 127.0.0.1:${port} ${serverOpts}`,
  ].join("\n") + "\n";
  const cfg = parseConfigText(text, "tls.cfg", {});
  const logs: string[] = [];
  cfg.global = { ...cfg.global, log: { target: logInto(logs) } };
  const handle: SluiceHandle = await startSluice(cfg);
  const stats = () => handle.stats().backends.find((b) => b.name === "be")!.servers[0];
  return {
    handle,
    logs,
    stats,
    port: handle.addresses[0].port,
    [Symbol.asyncDispose]: () => handle.close(),
  };
}

/** What a client of the proxy on `port` receives before the close. */
async function fetchText(port: number): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    return new TextDecoder().decode(await readAll(conn, 1 << 16));
  } finally {
    conn.close();
  }
}

/** A test CA with certificates, shared by the tests of this file (made once). */
async function pki(dir: string) {
  const ca = await TestCa.create(dir);
  const other = await TestCa.create(dir, "other");
  return {
    ca,
    other,
    good: await ca.issue(["a.test"]),
    expired: await ca.issue(["a.test"], { expired: true }),
    foreign: await other.issue(["a.test"]),
    client: await ca.issue(["client1"], { client: true }),
    otherClient: await other.issue(["intruder"], { client: true }),
  };
}

const dir = Deno.makeTempDirSync({ prefix: "sluice-tls-srv-" });
const P = await pki(dir);
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

Deno.test("verify required with ca-file and sni: the handshake passes, the SNI is sent", async () => {
  await using up = await tlsUpstream(P.good);
  await using px = await proxy(
    up.port,
    `ssl verify required ca-file ${P.ca.certFile} sni str(a.test)`,
  );
  assert.equal(await fetchText(px.port), "hi");
  assert.equal(up.seen[0].sni, "a.test");
  assert.equal(px.stats().econ, 0);
});

Deno.test("verify failures: wrong CA, wrong name, expired: no data, logged with the reason, counted", async () => {
  const cases: [TestCert, string, RegExp][] = [
    [P.foreign, "sni str(a.test)", /SSL handshake failure: unable to verify the first certificate/],
    [P.good, "sni str(b.test)", /SSL handshake failure: Hostname\/IP does not match .*b\.test/],
    [P.expired, "sni str(a.test)", /SSL handshake failure: certificate has expired/],
  ];
  for (const [cert, sni, reason] of cases) {
    await using up = await tlsUpstream(cert);
    await using px = await proxy(up.port, `ssl ca-file ${P.ca.certFile} ${sni}`);
    assert.equal(await fetchText(px.port), "");
    await waitFor(() => px.logs.some((l) => reason.test(l)), 5000, `log ${reason}`);
    const line = px.logs.find((l) => reason.test(l))!;
    assert.match(line, /Connection to server be\/s failed: /);
    assert.equal(px.stats().econ, 1);
    assert.equal(up.seen.length, 0);
  }
});

Deno.test("verify none accepts any certificate; without sni the chain is checked, not the name", async () => {
  {
    await using up = await tlsUpstream(P.foreign);
    await using px = await proxy(up.port, "ssl verify none");
    assert.equal(await fetchText(px.port), "hi");
  }
  {
    // HAProxy checks names only against the SNI sent (or verifyhost).
    await using up = await tlsUpstream(P.good);
    await using px = await proxy(up.port, `ssl ca-file ${P.ca.certFile}`);
    assert.equal(await fetchText(px.port), "hi");
    assert.ok(!up.seen[0].sni);
  }
  {
    await using up = await tlsUpstream(P.good);
    await using px = await proxy(up.port, "ssl verify none", {
      global: ["ssl-server-verify none"],
    });
    assert.equal(await fetchText(px.port), "hi");
  }
});

Deno.test("crt: the client certificate is shown to a server that requires one", async () => {
  await using up = await tlsUpstream(P.good, { ca: P.ca });
  {
    await using px = await proxy(up.port, `ssl ca-file ${P.ca.certFile} crt ${P.client.pemFile}`);
    assert.equal(await fetchText(px.port), "hi");
    assert.equal(up.seen[0].peerCn, "client1");
  }
  {
    // A certificate of another CA is refused by the server (with TLS 1.3
    // the client side is done first: the server's alert closes it after).
    await using px = await proxy(
      up.port,
      `ssl ca-file ${P.ca.certFile} crt ${P.otherClient.pemFile}`,
    );
    assert.equal(await fetchText(px.port), "");
  }
  assert.equal(up.seen.length, 1);
});

Deno.test("alpn: the protocols are offered and the server picks one", async () => {
  await using up = await tlsUpstream(P.good, { alpn: ["h2", "x-demo"] });
  await using px = await proxy(up.port, `ssl ca-file ${P.ca.certFile} alpn x-demo,http/1.1`);
  assert.equal(await fetchText(px.port), "hi");
  assert.equal(up.seen[0].alpn, "x-demo");
});

Deno.test("ssl-min-ver / ssl-max-ver: the version offered", async () => {
  await using up = await tlsUpstream(P.good);
  for (
    const [opts, want] of [["ssl-max-ver TLSv1.2", "TLSv1.2"], ["ssl-min-ver TLSv1.3", "TLSv1.3"]]
  ) {
    await using px = await proxy(up.port, `ssl ca-file ${P.ca.certFile} ${opts}`);
    assert.equal(await fetchText(px.port), "hi");
    assert.equal(up.seen.at(-1)!.protocol, want);
  }
});

Deno.test("sessions are never resumed (Deno's TLS client), with or without no-ssl-reuse", async () => {
  await using up = await tlsUpstream(P.good);
  for (const opts of ["", "no-ssl-reuse"]) {
    await using px = await proxy(up.port, `ssl ca-file ${P.ca.certFile} sni str(a.test) ${opts}`);
    for (let i = 0; i < 3; i++) assert.equal(await fetchText(px.port), "hi");
  }
  assert.equal(up.seen.length, 6);
  assert.equal(up.seen.filter((s) => s.resumed).length, 0);
});

Deno.test("check-ssl: the check uses the server's TLS settings and reports the TLS reason", async () => {
  {
    // TLS 1.2: the server judges the client certificate before its Finished,
    // so a passed handshake proves the check showed the server's `crt`.
    await using up = await tlsUpstream(P.good, { ca: P.ca });
    const tls12 = `ssl ca-file ${P.ca.certFile} sni str(a.test) ssl-max-ver TLSv1.2`;
    await using px = await proxy(
      up.port,
      `${tls12} crt ${P.client.pemFile} check check-ssl inter 100`,
    );
    await waitFor(() => px.stats().check_status === "L6OK", 5000, "L6OK");
    await using bare = await proxy(up.port, `${tls12} check check-ssl inter 100`);
    await waitFor(() => bare.stats().check_status === "L6RSP", 5000, "L6RSP without crt");
    assert.match(bare.stats().check_desc, /SSL handshake failure/);
  }
  {
    await using up = await tlsUpstream(P.expired);
    await using px = await proxy(
      up.port,
      `ssl ca-file ${P.ca.certFile} sni str(a.test) check inter 100 fall 1`,
    );
    await waitFor(() => px.stats().check_status === "L6RSP", 5000, "L6RSP");
    assert.match(px.stats().check_desc, /SSL handshake failure: certificate has expired/);
    await waitFor(() => px.logs.some((l) => /be\/s is DOWN/.test(l)), 5000, "DOWN");
  }
});

/** A TLS upstream speaking HTTP/1.1 keep-alive: each answer's body is the connection's SNI and number. */
async function httpTlsUpstream(c: TestCert) {
  const snis: (string | false)[] = [];
  const server = tls.createServer({ cert: c.cert, key: c.key }, (sock) => {
    const n = snis.push((sock as unknown as { servername: string | false }).servername);
    let buf = "";
    sock.on("error", () => {});
    sock.on("data", (d) => {
      buf += String(d);
      for (let i = buf.indexOf("\r\n\r\n"); i >= 0; i = buf.indexOf("\r\n\r\n")) {
        buf = buf.slice(i + 4);
        const body = `${snis[n - 1]}#${n}`;
        sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      }
    });
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as { port: number }).port,
    snis,
    async [Symbol.asyncDispose]() {
      await new Promise((r) => server.close(r));
    },
  };
}

/** Sends `reqs` one after the other on one connection to `port`; returns each response's body (or status line). */
async function keepAlive(port: number, hosts: string[]): Promise<string[]> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const out: string[] = [];
  try {
    const buf = new Uint8Array(65536);
    for (const h of hosts) {
      await conn.write(new TextEncoder().encode(`GET / HTTP/1.1\r\nHost: ${h}\r\n\r\n`));
      let text = "";
      for (;;) {
        const end = text.indexOf("\r\n\r\n");
        if (end >= 0) {
          const head = text.slice(0, end);
          const len = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (text.length >= end + 4 + len) {
            const status = head.split("\r\n")[0];
            out.push(
              status.startsWith("HTTP/1.1 200") ? text.slice(end + 4, end + 4 + len) : status,
            );
            break;
          }
        }
        const n = await conn.read(buf);
        if (n === null) {
          out.push(text.split("\r\n")[0] || "closed");
          return out;
        }
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
    }
    return out;
  } finally {
    conn.close();
  }
}

Deno.test("sni EXPR: the name comes from each request; connections are reused only for the same name", async () => {
  const multi = await P.ca.issue(["a.test", "b.test"]);
  await using up = await httpTlsUpstream(multi);
  const text = [
    "defaults",
    "  mode http",
    "  timeout connect 2s",
    "  timeout client 5s",
    "  timeout server 5s",
    "  retries 0",
    "frontend fe",
    "  bind 127.0.0.1:0",
    "  default_backend be",
    "backend be",
    "  http-reuse always",
    `  server s 127.0.0.1:${up.port} ssl ca-file ${P.ca.certFile} sni req.hdr(host),field(1,:)`,
  ].join("\n") + "\n";
  const cfg = parseConfigText(text, "sni.cfg", {});
  const logs: string[] = [];
  cfg.global = { ...cfg.global, log: { target: logInto(logs) } };
  await using h = await startSluice(cfg);
  const port = h.addresses[0].port;
  // a.test, then b.test (a new connection: another name), then a.test again
  // (the first connection, idle, is reused).
  assert.deepEqual(await keepAlive(port, ["a.test", "b.test:8443", "a.test"]), [
    "a.test#1",
    "b.test#2",
    "a.test#1",
  ]);
  // A name the certificate does not hold fails the verification.
  assert.deepEqual(await keepAlive(port, ["c.test"]), ["HTTP/1.1 503 Service Unavailable"]);
  await waitFor(
    () => logs.some((l) => /SSL handshake failure: Hostname\/IP does not match .*c\.test/.test(l)),
    5000,
    "the failure logged",
  );
  assert.deepEqual(up.snis, ["a.test", "b.test"]);
});

Deno.test("verifyhost: without SNI the certificate is checked against that name; check-sni for checks", async () => {
  await using up = await tlsUpstream(P.good);
  {
    await using px = await proxy(up.port, `ssl ca-file ${P.ca.certFile} verifyhost a.test`);
    assert.equal(await fetchText(px.port), "hi");
    assert.ok(!up.seen.at(-1)!.sni);
  }
  {
    await using px = await proxy(up.port, `ssl ca-file ${P.ca.certFile} verifyhost b.test`);
    assert.equal(await fetchText(px.port), "");
    await waitFor(
      () => px.logs.some((l) => /Hostname\/IP does not match .*b\.test/.test(l)),
      5000,
      "the failure logged",
    );
  }
  {
    await using px = await proxy(
      up.port,
      `ssl ca-file ${P.ca.certFile} check check-sni a.test inter 100`,
    );
    // The name checked is the one sent: a.test passes, b.test (below) fails.
    await waitFor(() => px.stats().check_status === "L6OK", 5000, "L6OK");
  }
  {
    await using px = await proxy(
      up.port,
      `ssl ca-file ${P.ca.certFile} check check-sni b.test inter 100`,
    );
    await waitFor(() => px.stats().check_status === "L6RSP", 5000, "L6RSP");
    assert.match(px.stats().check_desc, /SSL handshake failure: Hostname\/IP does not match/);
  }
});
