/**
 * The PROXY protocol end to end: `accept-proxy` listeners (v1 and v2, the
 * header alone or with data behind it, split byte by byte, LOCAL, bad or
 * missing headers, TLS after the header, TCP mode) and `send-proxy` /
 * `send-proxy-v2` servers, checked on the raw bytes the upstream receives.
 */
import assert from "node:assert/strict";
import { Duplex } from "node:stream";
import tls from "node:tls";
import { startSluice } from "../../mod.ts";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import { ppHeaderV2 } from "../../lib/conn/proxy_proto.ts";
import { fixture, logInto, readAll, sleep, upstream, waitFor, writeAll } from "../helpers/net.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const V1 = "PROXY TCP4 203.0.113.7 192.0.2.1 5555 80\r\n";

/** An upstream that records each connection's bytes and answers one HTTP response per head. */
function recorder() {
  const conns: string[] = [];
  const up = upstream(async (conn) => {
    const i = conns.push("") - 1;
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return;
      conns[i] += String.fromCharCode(...buf.subarray(0, n));
      const heads = conns[i].split("\r\n\r\n").length - 1;
      const answered = conns[i].split("\u0000answered").length - 1;
      for (let k = answered; k < heads; k++) {
        await writeAll(conn, enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
      }
      conns[i] += "\u0000answered".repeat(heads - answered);
    }
  });
  const clean = (i: number) => conns[i].replaceAll("\u0000answered", "");
  /** The request head for `path`, whichever server connection it came on. */
  const head = (path: string) =>
    conns.map((_, i) => clean(i)).join("").split("\r\n\r\n").find((h) =>
      h.includes(`GET ${path} `)
    ) ?? "";
  return { up, conns, clean, head };
}

async function proxy(
  upAddress: string,
  opts: { mode?: "http" | "tcp"; sendProxy?: "v1" | "v2" } = {},
) {
  const logs: string[] = [];
  const mode = opts.mode ?? "http";
  const h = await startSluice({
    global: { log: { target: logInto(logs) } },
    frontends: [{
      name: "fe",
      mode,
      binds: [{ address: "127.0.0.1:0", acceptProxy: true }],
      defaultBackend: "be",
      rules: {
        acls: ["lb src 127.0.0.1"],
        tcpRequest: ["connection reject unless lb"],
        ...(mode === "http"
          ? { httpRequest: ["deny if { path /deny } { src 203.0.113.0/24 }"] }
          : {}),
      },
    }],
    backends: [{
      name: "be",
      mode,
      servers: [{ name: "s", address: upAddress, sendProxy: opts.sendProxy }],
    }],
  });
  return { h, logs, port: h.addresses[0].port };
}

async function exchange(port: number, ...parts: Uint8Array[]): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  for (const p of parts) {
    await writeAll(conn, p);
    if (parts.length > 1) await sleep(5);
  }
  const got = dec.decode(await readAll(conn).catch(() => new Uint8Array(0)));
  conn.close();
  return got;
}

const GET = (path: string) =>
  enc.encode(`GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);

Deno.test("accept-proxy v1: the header's client is the client for logs, ACLs and X-Forwarded-For", async () => {
  const r = recorder();
  await using _up = r.up;
  const { h, logs, port } = await proxy(r.up.address);
  await using _h = h;
  // Header and request in one write: the bytes behind the header are the request.
  const one = new Uint8Array([...enc.encode(V1), ...GET("/a")]);
  assert.match(await exchange(port, one), /^HTTP\/1\.1 200 /);
  assert.match(r.clean(0), /^GET \/a HTTP\/1\.1\r\n/);
  assert.match(r.head("/a"), /\r\nX-Forwarded-For: 203\.0\.113\.7(\r\n|$)/);
  // src ACLs see it; tcp-request connection rules saw the real peer (127.0.0.1, not rejected).
  assert.match(await exchange(port, enc.encode(V1), GET("/deny")), /^HTTP\/1\.1 403 /);
  await waitFor(() => logs.length === 2, 2000, "log lines");
  assert.match(logs[0], /^203\.0\.113\.7:5555 /);
  assert.match(logs[1], /^203\.0\.113\.7:5555 .* 403 .* PR-- /);
});

Deno.test("accept-proxy v2: binary header whole, or byte by byte; LOCAL keeps the real address", async () => {
  const r = recorder();
  await using _up = r.up;
  const { h, logs, port } = await proxy(r.up.address);
  await using _h = h;
  const v2 = ppHeaderV2({ addr: "2001:db8::7", port: 4242 }, { addr: "2001:db8::1", port: 443 });
  const bytes = [...v2].map((b) => new Uint8Array([b]));
  assert.match(await exchange(port, ...bytes, GET("/b")), /^HTTP\/1\.1 200 /);
  assert.match(r.head("/b"), /\r\nX-Forwarded-For: 2001:db8::7(\r\n|$)/);
  const local = ppHeaderV2(null, null);
  assert.match(await exchange(port, new Uint8Array([...local, ...GET("/c")])), /^HTTP\/1\.1 200 /);
  assert.match(r.head("/c"), /\r\nX-Forwarded-For: 127\.0\.0\.1(\r\n|$)/);
  await waitFor(() => logs.length === 2, 2000, "log lines");
  assert.match(logs[0], /^\[2001:db8::7\]:4242 /);
  assert.match(logs[1], /^127\.0\.0\.1:\d+ /);
});

Deno.test("accept-proxy: a missing or bad header closes the connection; nothing reaches the server", async () => {
  const r = recorder();
  await using _up = r.up;
  const { h, port } = await proxy(r.up.address);
  await using _h = h;
  for (
    const bad of [
      GET("/plain"), // no header at all
      enc.encode("PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n"),
      enc.encode("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"),
      enc.encode(`PROXY UNKNOWN ${"x".repeat(120)}\r\n`),
      new Uint8Array([...ppHeaderV2(null, null).subarray(0, 12), 0x31, 0x11, 0, 0]),
    ]
  ) {
    assert.equal(await exchange(port, bad), "", dec.decode(bad).slice(0, 20));
  }
  // A client that closes before the header is complete.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(conn, enc.encode("PROXY TCP4 1.2"));
  await conn.closeWrite();
  assert.equal((await readAll(conn).catch(() => new Uint8Array(0))).length, 0);
  conn.close();
  assert.equal(r.up.accepted, 0);
  await waitFor(() => h.stats().frontends[0].scur === 0, 2000, "all closed");
});

Deno.test("accept-proxy in TCP mode forwards exactly the bytes after the header", async () => {
  let got = "";
  await using up = upstream(async (conn) => {
    got = dec.decode(await readAll(conn));
    await writeAll(conn, enc.encode("bye"));
  });
  const { h, logs, port } = await proxy(up.address, { mode: "tcp" });
  await using _h = h;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(conn, enc.encode(`${V1}\r\nhello PROXY`));
  await conn.closeWrite();
  assert.equal(dec.decode(await readAll(conn)), "bye");
  conn.close();
  assert.equal(got, "\r\nhello PROXY");
  await waitFor(() => logs.length === 1, 2000, "log line");
  assert.match(logs[0], /^203\.0\.113\.7:5555 /);
});

Deno.test("accept-proxy with ssl: TLS after the header, also when it arrives in the same packet", async () => {
  const r = recorder();
  await using _up = r.up;
  const logs: string[] = [];
  await using h = await startSluice({
    global: { log: { target: logInto(logs) } },
    frontends: [{
      name: "fe",
      binds: [{
        address: "127.0.0.1:0",
        acceptProxy: true,
        tls: { cert: fixture("server.crt"), key: fixture("server.key") },
      }],
      defaultBackend: "be",
    }],
    backends: [{ name: "be", servers: [{ name: "s", address: r.up.address }] }],
  });
  const port = h.addresses[0].port;
  for (const glued of [false, true]) {
    const answer = await tlsAfterHeader(port, enc.encode(V1), glued);
    assert.match(answer, /^HTTP\/1\.1 200 /, `glued ${glued}`);
  }
  await waitFor(() => logs.length === 2, 2000, "log lines");
  for (const l of logs) assert.match(l, /^203\.0\.113\.7:5555 /);
});

Deno.test("send-proxy and send-proxy-v2 put the client's PROXY header first on each server connection", async () => {
  for (const version of ["v1", "v2"] as const) {
    const r = recorder();
    await using _up = r.up;
    const { h, port } = await proxy(r.up.address, { sendProxy: version });
    await using _h = h;
    // Keep-alive client, two requests: a connection with a client's header is not shared.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(conn, enc.encode(V1));
    for (const path of ["/1", "/2"]) {
      await writeAll(conn, enc.encode(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`));
      const buf = new Uint8Array(4096);
      let text = "";
      while (!text.endsWith("ok")) text += dec.decode(buf.subarray(0, (await conn.read(buf))!));
    }
    conn.close();
    await waitFor(() => r.conns.length === 2, 2000, "two server connections");
    for (const i of [0, 1]) {
      const c = r.clean(i);
      if (version === "v1") {
        assert.ok(
          c.startsWith("PROXY TCP4 203.0.113.7 192.0.2.1 5555 80\r\nGET /"),
          c.slice(0, 60),
        );
      } else {
        const head = ppHeaderV2({ addr: "203.0.113.7", port: 5555 }, {
          addr: "192.0.2.1",
          port: 80,
        });
        assert.deepEqual(
          [...c.slice(0, head.length)].map((ch) => ch.charCodeAt(0)),
          [...head],
        );
        assert.ok(c.slice(head.length).startsWith("GET /"));
      }
    }
  }
});

Deno.test("send-proxy-v2 before TLS to a server: one sluice tells another who the client is", async () => {
  const r = recorder();
  await using _up = r.up;
  const logs: string[] = [];
  // Back: accept-proxy with TLS, in front of the recorder.
  await using back = await startSluice({
    global: { log: { target: logInto(logs) } },
    frontends: [{
      name: "back",
      binds: [{
        address: "127.0.0.1:0",
        acceptProxy: true,
        tls: { cert: fixture("server.crt"), key: fixture("server.key") },
      }],
      defaultBackend: "app",
      http: { forwardFor: false },
    }],
    backends: [{ name: "app", servers: [{ name: "s", address: r.up.address }] }],
  });
  // Front: send-proxy-v2 then TLS to the back.
  await using front = await startSluice({
    global: { log: { target: "none" } },
    frontends: [{ name: "front", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "edge" }],
    backends: [{
      name: "edge",
      servers: [{
        name: "back",
        address: `tls://localhost:${back.addresses[0].port}`,
        tls: { ca: [fixture("ca.crt")] },
        sendProxy: "v2",
      }],
    }],
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: front.addresses[0].port });
  const clientPort = (conn.localAddr as Deno.NetAddr).port;
  await writeAll(conn, GET("/chain"));
  assert.match(dec.decode(await readAll(conn)), /^HTTP\/1\.1 200 /);
  conn.close();
  await waitFor(() => logs.length === 1, 2000, "back's log line");
  // The back logs the front's client, port included (not the front's own connection).
  assert.match(logs[0], new RegExp(`^127\\.0\\.0\\.1:${clientPort} \\[[^\\]]+\\] back~ app/s `));
});

Deno.test("config file: bind ... accept-proxy and server ... send-proxy[-v2]", () => {
  const cfg = parseConfigText(
    [
      "defaults",
      "    mode http",
      "frontend fe",
      "    bind 127.0.0.1:8080 accept-proxy",
      "    default_backend be",
      "backend be",
      "    server a 127.0.0.1:9001 send-proxy",
      "    server b 127.0.0.1:9002 send-proxy-v2",
      "    server c 127.0.0.1:9003",
    ].join("\n"),
    "t.cfg",
    {},
  );
  assert.deepEqual(cfg.frontends[0].binds, [{ address: "127.0.0.1:8080", acceptProxy: true }]);
  assert.deepEqual(cfg.backends[0].servers.map((s) => s.sendProxy), ["v1", "v2", undefined]);
});

/**
 * A TLS client that sends `header` first: in its own write before the
 * handshake, or glued to the ClientHello in one write (the server then
 * reads past the header). Returns the answer to one GET.
 */
async function tlsAfterHeader(port: number, header: Uint8Array, glued: boolean): Promise<string> {
  const raw = await Deno.connect({ hostname: "127.0.0.1", port });
  let first = true;
  const pipe = new Duplex({
    read() {
      const buf = new Uint8Array(16384);
      raw.read(buf).then(
        (n) => this.push(n === null ? null : buf.slice(0, n)),
        () => this.push(null),
      );
    },
    write(chunk: Uint8Array, _enc, cb) {
      const data = first && glued ? new Uint8Array([...header, ...chunk]) : chunk;
      first = false;
      writeAll(raw, data).then(() => cb(), cb);
    },
    destroy(err, cb) {
      try {
        raw.close();
      } catch {
        // Closed already.
      }
      cb(err);
    },
  });
  if (!glued) {
    // Alone, and read alone: TLS then starts on the socket itself.
    await writeAll(raw, header);
    await sleep(50);
  }
  return await new Promise<string>((resolve, reject) => {
    const t = tls.connect({
      socket: pipe as never,
      rejectUnauthorized: false,
      servername: "localhost",
    });
    let text = "";
    t.on("secureConnect", () => t.write("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    t.on("data", (d: Uint8Array) => text += dec.decode(d));
    t.on("end", () => {
      t.destroy();
      resolve(text);
    });
    t.on("error", reject);
  });
}
