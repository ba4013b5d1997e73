/**
 * TCP-mode content inspection over real sockets: TLS routed by SNI without
 * terminating it (a real TLS client reaches one of two TLS servers that sit
 * behind sluice as raw TCP backends, and gets that server's certificate),
 * a ClientHello sent byte by byte and split over TLS records, `tcp-request
 * content reject`, and what `tcp-request inspect-delay` does when the bytes
 * a rule waits for never come.
 */
import assert from "node:assert/strict";
import tls from "node:tls";
import { type SluiceHandle, startSluice } from "../../mod.ts";
import type { FrontendRules } from "../../lib/cfg/config_types.ts";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import {
  concat,
  echoScript,
  fixture,
  logInto,
  readAll,
  type Upstream,
  upstream,
  waitFor,
  writeAll,
} from "../helpers/net.ts";
import { clientHello, records } from "../helpers/tls_hello.ts";

const A = { cert: fixture("sni_a.crt"), key: fixture("sni_a.key") };
const WILD = { cert: fixture("sni_wild.crt"), key: fixture("sni_wild.key") };
const ENC = new TextEncoder();

/** An upstream that keeps every byte it receives until the client closes, and answers `banner` first. */
function recorder(banner = ""): Upstream & { got: Uint8Array[] } {
  const got: Uint8Array[] = [];
  const up = upstream(async (conn) => {
    if (banner !== "") await writeAll(conn, ENC.encode(banner));
    const chunks: Uint8Array[] = [];
    got.push(new Uint8Array(0));
    const k = got.length - 1;
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
      got[k] = concat(chunks);
    }
  });
  return Object.assign(up, { got });
}

/** Starts sluice: TCP frontend fe with `rules`, backends by name. */
function start(
  rules: FrontendRules,
  backends: Record<string, Upstream>,
  opts: { inspectDelay?: number; defaultBackend?: string; logs?: string[] } = {},
): Promise<SluiceHandle> {
  return startSluice({
    global: { log: { target: opts.logs === undefined ? "none" : logInto(opts.logs) } },
    frontends: [{
      name: "fe",
      mode: "tcp",
      binds: [{ address: "127.0.0.1:0" }],
      defaultBackend: opts.defaultBackend,
      inspectDelay: opts.inspectDelay,
      rules,
    }],
    backends: Object.entries(backends).map(([name, up]) => ({
      name,
      mode: "tcp",
      servers: [{ name: "s", address: up.address }],
    })),
  });
}

/**
 * A TLS client with SNI `servername` trusting `ca`: sends `msg`, reads its
 * echo, returns it with the CN of the certificate the server presented.
 */
function tlsEcho(
  port: number,
  servername: string,
  ca: string,
  msg: string,
): Promise<{ echo: string; cn: string }> {
  return new Promise((resolve, reject) => {
    let echo = "", cn = "";
    const sock = tls.connect({ host: "127.0.0.1", port, servername, ca: [ca] }, () => {
      cn = String(sock.getPeerCertificate().subject?.CN ?? "");
      sock.write(msg);
    });
    sock.setEncoding("utf8");
    sock.on("data", (d: string) => {
      echo += d;
      if (echo.length >= msg.length) sock.end();
    });
    sock.on("error", reject);
    sock.on("close", () => resolve({ echo, cn }));
  });
}

/** A TLS client that only sends its ClientHello (nobody will answer): `close()` ends it. */
function tlsHelloOnly(port: number, servername: string): { close(): Promise<void> } {
  const sock = tls.connect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false });
  sock.on("error", () => {});
  const closed = new Promise<void>((resolve) => sock.on("close", () => resolve()));
  return {
    close() {
      sock.destroy();
      return closed;
    },
  };
}

const SNI_RULES: FrontendRules = {
  acls: ["is_tls req.ssl_hello_type 1"],
  tcpRequest: ["content accept if is_tls"],
  useBackends: [
    "be_a if { req.ssl_sni -i a.example.com }",
    "be_b if { req.ssl_sni -m end .b.example.com }",
  ],
};

Deno.test("TLS is routed by SNI to one of two raw TCP backends, without terminating it", async () => {
  await using upA = upstream(echoScript, { tls: A });
  await using upB = upstream(echoScript, { tls: WILD });
  await using other = recorder();
  await using h = await start(SNI_RULES, { be_a: upA, be_b: upB, be_other: other }, {
    inspectDelay: 10_000,
    defaultBackend: "be_other",
  });
  const port = h.addresses[0].port;
  // The client completes its handshake with the server it was routed to:
  // that server's certificate, sluice holds none.
  const a = await tlsEcho(port, "A.example.com", A.cert, "hello a");
  assert.deepEqual(a, { echo: "hello a", cn: "a.example.com" });
  const b = await tlsEcho(port, "www.b.example.com", WILD.cert, "hello b");
  assert.deepEqual(b, { echo: "hello b", cn: "*.b.example.com" });
  assert.equal(upA.accepted, 1);
  assert.equal(upB.accepted, 1);
  // Another name goes to the default backend, which gets the ClientHello as sent.
  const c = tlsHelloOnly(port, "other.example");
  await waitFor(() => other.got.length === 1 && other.got[0].length > 0, 5000, "hello forwarded");
  await c.close();
  const hello = other.got[0];
  assert.equal(hello[0], 0x16, "a TLS handshake record, untouched");
  assert.ok(new TextDecoder().decode(hello).includes("other.example"));
});

Deno.test("a ClientHello sent byte by byte, or split over TLS records, is routed by its SNI", async () => {
  await using upA = recorder();
  await using upB = recorder();
  await using other = recorder();
  await using h = await start(SNI_RULES, { be_a: upA, be_b: upB, be_other: other }, {
    inspectDelay: 10_000,
    defaultBackend: "be_other",
  });
  const port = h.addresses[0].port;
  const msg = clientHello({ sni: "a.example.com" });
  const cases = [records(msg), records(msg, [7, 1, 50]), records(msg, Array(msg.length).fill(1))];
  for (const [i, bytes] of cases.entries()) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    // One byte per write for the first cases, the rest in one go for the last.
    if (i < 2) {
      for (let k = 0; k < bytes.length; k++) await writeAll(conn, bytes.subarray(k, k + 1));
    } else await writeAll(conn, bytes);
    await writeAll(conn, ENC.encode("after"));
    await waitFor(
      () => upA.got.length === i + 1 && upA.got[i].length === bytes.length + 5,
      5000,
      `case ${i} forwarded`,
    );
    assert.deepEqual(upA.got[i], concat([bytes, ENC.encode("after")]));
    conn.close();
  }
  assert.equal(other.accepted + upB.accepted, 0);
});

Deno.test("tcp-request content reject closes the connection before any server is contacted", async () => {
  await using up = recorder();
  const logs: string[] = [];
  await using h = await start(
    { tcpRequest: ["content accept if { req.ssl_hello_type 1 }", "content reject"] },
    { be: up },
    { inspectDelay: 10_000, defaultBackend: "be", logs },
  );
  const port = h.addresses[0].port;
  // Plain text is not TLS from its first byte: rejected at once, no wait.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(conn, ENC.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  assert.equal((await readAll(conn).catch(() => new Uint8Array(0))).length, 0);
  conn.close();
  await waitFor(() => h.stats().frontends[0].dreq === 1, 5000, "dreq");
  await waitFor(() => logs.length === 1, 5000, "log line");
  assert.match(logs[0], / PR /, "proxy, before the request completed");
  // A ClientHello passes, byte for byte.
  const hello = records(clientHello({ sni: "x.example" }));
  const ok = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(ok, hello);
  await waitFor(() => up.got.length === 1 && up.got[0].length === hello.length, 5000, "hello");
  ok.close();
  assert.equal(up.accepted, 1);
});

Deno.test("inspect-delay: rules waiting for bytes decide on what is there when it ends", async () => {
  // HAProxy's SMTP example: reject a client that speaks before the server.
  await using smtp = recorder("220 mail.example ESMTP\r\n");
  await using h = await start(
    { tcpRequest: ["content reject if { req.len gt 0 }"] },
    { be: smtp },
    { inspectDelay: 1000, defaultBackend: "be" },
  );
  const port = h.addresses[0].port;
  // A client that waits for the banner gets it once the delay is over.
  const polite = await Deno.connect({ hostname: "127.0.0.1", port });
  const banner = new Uint8Array(64);
  const n = await polite.read(banner);
  assert.equal(new TextDecoder().decode(banner.subarray(0, n ?? 0)), "220 mail.example ESMTP\r\n");
  polite.close();
  // One that speaks first is closed, and the server never sees it.
  const rude = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(rude, ENC.encode("HELO x\r\n"));
  assert.equal((await readAll(rude).catch(() => new Uint8Array(0))).length, 0);
  rude.close();
  assert.equal(smtp.accepted, 1);
  await waitFor(() => h.stats().frontends[0].dreq === 1, 5000, "dreq");
});

Deno.test("inspect-delay: a partial or absent ClientHello goes to the default backend when it ends", async () => {
  await using upA = recorder();
  await using upB = recorder();
  await using other = recorder("default\n");
  await using h = await start(SNI_RULES, { be_a: upA, be_b: upB, be_other: other }, {
    inspectDelay: 300,
    defaultBackend: "be_other",
  });
  const port = h.addresses[0].port;
  // Nothing sent: after the delay, no rule matched, so accepted to the default.
  const quiet = await Deno.connect({ hostname: "127.0.0.1", port });
  const buf = new Uint8Array(16);
  const n = await quiet.read(buf);
  assert.equal(new TextDecoder().decode(buf.subarray(0, n ?? 0)), "default\n");
  quiet.close();
  // Half a ClientHello with the right name in it: not whole, so no SNI: the default.
  const hello = records(clientHello({ sni: "a.example.com" }));
  const half = hello.subarray(0, hello.length - 10);
  const partial = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(partial, half);
  await waitFor(() => other.got.length === 2 && other.got[1].length === half.length, 5000, "half");
  partial.close();
  assert.equal(upA.accepted + upB.accepted, 0);
});

Deno.test("a configuration file routes TLS by SNI in a TCP frontend", async () => {
  await using upA = upstream(echoScript, { tls: A });
  await using other = recorder();
  const cfg = parseConfigText(
    [
      "frontend tls_in",
      "  mode tcp",
      "  bind 127.0.0.1:0",
      "  tcp-request inspect-delay 5s",
      "  tcp-request content accept if { req_ssl_hello_type 1 }",
      "  use_backend be_a if { req_ssl_sni -i a.example.com }",
      "  default_backend be_other",
      "backend be_a",
      "  mode tcp",
      `  server a ${upA.address}`,
      "backend be_other",
      "  mode tcp",
      `  server o ${other.address}`,
    ].join("\n"),
    "t.cfg",
    {},
  );
  cfg.global = { log: { target: "none" } };
  await using h = await startSluice(cfg);
  const a = await tlsEcho(h.addresses[0].port, "a.example.com", A.cert, "via cfg");
  assert.deepEqual(a, { echo: "via cfg", cn: "a.example.com" });
  assert.equal(other.accepted, 0);
});
