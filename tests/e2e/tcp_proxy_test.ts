/**
 * The TCP proxy end to end, in-process through mod.ts, against raw-byte
 * upstreams on loopback.
 */
import assert from "node:assert/strict";
import {
  concat,
  echoScript,
  fixture,
  randomBytes,
  readAll,
  readN,
  refusedPort,
  sha256,
  sleep,
  upstream,
  waitFor,
  writeAll,
} from "../helpers/net.ts";
import { tcpProxy } from "../helpers/proxy.ts";

const MB = 1 << 20;

Deno.test("tcp proxy forwards several MB each way byte-exact", async () => {
  const down = randomBytes(6 * MB);
  let upHash = "";
  await using up = upstream(async (conn) => {
    // Send while receiving: both directions at full speed at once.
    const [received] = await Promise.all([readAll(conn), writeAll(conn, down)]);
    upHash = await sha256(received);
    await conn.closeWrite();
  });
  await using px = await tcpProxy([up.address]);
  const payload = randomBytes(5 * MB + 123);
  const conn = await Deno.connect({ port: px.port });
  const [got] = await Promise.all([
    readAll(conn),
    writeAll(conn, payload).then(() => conn.closeWrite()),
  ]);
  conn.close();
  assert.equal(await sha256(got), await sha256(down));
  await waitFor(() => px.logs.length === 1, 5000, "log line");
  assert.equal(upHash, await sha256(payload));
  assert.match(px.logs[0], / fe be\/s1 0\/\d+\/\d+ 6291456 -- /);
});

Deno.test("tcp proxy forwards a client half-close and keeps the other way open", async () => {
  await using up = upstream(async (conn) => {
    const got = await readAll(conn); // until the client's FIN arrives
    await writeAll(conn, new TextEncoder().encode(`got ${got.length} bytes`));
    await sleep(20);
    await writeAll(conn, new TextEncoder().encode(" and more"));
    await conn.closeWrite();
  });
  await using px = await tcpProxy([up.address]);
  const conn = await Deno.connect({ port: px.port });
  await writeAll(conn, new TextEncoder().encode("hello"));
  await conn.closeWrite();
  const answer = new TextDecoder().decode(await readAll(conn));
  conn.close();
  assert.equal(answer, "got 5 bytes and more");
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / 20 -- /);
});

Deno.test("tcp proxy forwards a server half-close and keeps the other way open", async () => {
  await using up = upstream(async (conn) => {
    await writeAll(conn, new TextEncoder().encode("banner"));
    await conn.closeWrite();
    const got = await readAll(conn);
    assert.equal(new TextDecoder().decode(got), "late words");
  });
  await using px = await tcpProxy([up.address]);
  const conn = await Deno.connect({ port: px.port });
  assert.equal(new TextDecoder().decode(await readAll(conn)), "banner");
  // The server's FIN reached us; our direction is still open.
  await writeAll(conn, new TextEncoder().encode("late words"));
  await conn.closeWrite();
  assert.equal(await conn.read(new Uint8Array(1)), null);
  conn.close();
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / 6 -- /);
  assert.equal(up.accepted, 1);
});

Deno.test("tcp proxy serves 500 concurrent connections without mixing bytes", async () => {
  await using up = upstream(echoScript);
  await using px = await tcpProxy([up.address]);
  const one = async (i: number) => {
    const conn = await Deno.connect({ port: px.port });
    try {
      const msg = randomBytes(1000 + i);
      await writeAll(conn, msg);
      const back = await readN(conn, msg.length);
      assert.deepEqual(back, msg);
      await conn.closeWrite();
      assert.equal(await conn.read(new Uint8Array(1)), null);
    } finally {
      conn.close();
    }
  };
  await Promise.all(Array.from({ length: 500 }, (_, i) => one(i)));
  await waitFor(() => px.logs.length === 500, 10000, "500 log lines");
  assert.equal(px.handle.stats().frontends[0].stot, 500);
  assert.ok(px.logs.every((l) => l.includes(" -- ")));
});

Deno.test("tcp proxy closes the client with SC when every server refuses", async () => {
  await using px = await tcpProxy([`127.0.0.1:${refusedPort()}`], { retries: 2 });
  const conn = await Deno.connect({ port: px.port });
  await writeAll(conn, new TextEncoder().encode("anyone?"));
  assert.equal((await readAll(conn)).length, 0);
  conn.close();
  await waitFor(() => px.logs.length === 1);
  // The 7 bytes are counted when read before the last refusal (node:net
  // reads at once; the FFI layer's refusals on loopback can come first).
  assert.match(px.logs[0], / fe be\/s1 0\/-1\/\d+ 0 SC \d+\/\d+\/\d+\/\d+\/2 0\/0$/);
  const be = px.handle.stats().backends[0];
  assert.equal(be.econ, 3);
  // The last retry is a redispatch (to the only server there is).
  assert.equal(be.wretr, 1);
  assert.equal(be.wredis, 1);
});

Deno.test("tcp proxy retries on the next server when one refuses", async () => {
  await using up = upstream(echoScript);
  await using px = await tcpProxy([`127.0.0.1:${refusedPort()}`, up.address]);
  for (let i = 0; i < 4; i++) {
    const conn = await Deno.connect({ port: px.port });
    await writeAll(conn, new TextEncoder().encode("x"));
    await conn.closeWrite();
    assert.equal(new TextDecoder().decode(await readAll(conn)), "x");
    conn.close();
  }
  await waitFor(() => px.logs.length === 4);
  assert.ok(px.logs.every((l) => l.includes(" be/s2 ") && l.includes(" -- ")), px.logs.join("\n"));
  assert.equal(up.accepted, 4);
});

Deno.test("tcp proxy ends a silent server with sD after the server timeout", async () => {
  await using up = upstream(async (conn) => {
    await readAll(conn); // reads but never answers, never closes first
  });
  await using px = await tcpProxy([up.address], { timeouts: { server: 150, client: 5000 } });
  const conn = await Deno.connect({ port: px.port });
  await writeAll(conn, new TextEncoder().encode("question"));
  const t0 = Date.now();
  assert.equal((await readAll(conn)).length, 0);
  assert.ok(Date.now() - t0 >= 100);
  conn.close();
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / sD /);
  await waitFor(() => up.live === 0, 2000, "upstream connection closed");
});

Deno.test("tcp proxy ends a silent client with cD after the client timeout", async () => {
  await using up = upstream(async (conn) => {
    await readAll(conn);
  });
  await using px = await tcpProxy([up.address], { timeouts: { client: 150, server: 5000 } });
  const conn = await Deno.connect({ port: px.port });
  assert.equal((await readAll(conn)).length, 0);
  conn.close();
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / cD /);
});

Deno.test("tcp proxy applies the tunnel timeout once connected", async () => {
  await using up = upstream(async (conn) => {
    await readAll(conn);
  });
  await using px = await tcpProxy([up.address], {
    timeouts: { client: 60_000, server: 60_000, tunnel: 150 },
  });
  const conn = await Deno.connect({ port: px.port });
  const t0 = Date.now();
  assert.equal((await readAll(conn)).length, 0);
  conn.close();
  assert.ok(Date.now() - t0 < 5000);
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / [cs]D /);
});

Deno.test("tcp proxy closes the server when the client vanishes mid-transfer", async () => {
  let serverSaw = "";
  await using up = upstream(async (conn) => {
    const chunk = randomBytes(64 * 1024);
    try {
      for (;;) await writeAll(conn, chunk);
    } catch (err) {
      serverSaw = (err as Error).name;
    }
  });
  await using px = await tcpProxy([up.address]);
  const conn = await Deno.connect({ port: px.port });
  await readN(conn, 256 * 1024);
  conn.close(); // with unread data: the kernel sends a reset
  await waitFor(() => px.logs.length === 1, 5000, "log line");
  assert.match(px.logs[0], / CD /);
  await waitFor(() => serverSaw !== "", 5000, "upstream write error");
  assert.ok(["BrokenPipe", "ConnectionReset"].includes(serverSaw), serverSaw);
});

Deno.test("tcp proxy holds excess connections in the backlog at maxconn", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  await using up = upstream(async (conn) => {
    await gate;
    await echoScript(conn);
  });
  await using px = await tcpProxy([up.address], { maxconn: 2 });
  const conns = await Promise.all(Array.from({ length: 5 }, () => Deno.connect({ port: px.port })));
  await waitFor(() => up.accepted === 2, 2000, "two upstream connections");
  await sleep(100);
  assert.equal(up.accepted, 2);
  assert.equal(px.handle.stats().actconn, 2);
  release();
  const results = await Promise.all(conns.map(async (c, i) => {
    await writeAll(c, new TextEncoder().encode(`c${i}`));
    await c.closeWrite();
    const r = new TextDecoder().decode(await readAll(c));
    c.close();
    return r;
  }));
  assert.deepEqual(results, ["c0", "c1", "c2", "c3", "c4"]);
  assert.equal(up.accepted, 5);
  assert.equal(px.handle.stats().frontends[0].smax, 2);
});

Deno.test("tcp proxy makes a stream wait when the buffer pool is exhausted", async () => {
  await using up = upstream(echoScript);
  // One thread: with worker threads the buffer limit is each worker's.
  await using px = await tcpProxy([up.address], { buffers: 2, nbthread: 1 });
  const a = await Deno.connect({ port: px.port });
  await writeAll(a, new TextEncoder().encode("a"));
  assert.equal(new TextDecoder().decode(await readN(a, 1)), "a");
  const b = await Deno.connect({ port: px.port });
  await writeAll(b, new TextEncoder().encode("b"));
  await waitFor(() => px.handle.stats().pool.waiting === 1, 2000, "a waiting stream");
  assert.equal(up.accepted, 1);
  await a.closeWrite();
  assert.equal((await readAll(a)).length, 0);
  a.close();
  await b.closeWrite();
  assert.equal(new TextDecoder().decode(await readAll(b)), "b");
  b.close();
  const pool = px.handle.stats().pool;
  assert.equal(pool.waits, 1);
  assert.equal(pool.allocated, 2);
});

Deno.test("tcp proxy listens on IPv6 and unix sockets and connects to them", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    await using up6 = upstream(echoScript, { hostname: "::1" });
    await using upU = upstream(echoScript, { unixPath: `${dir}/up.sock` });
    await using px = await tcpProxy([up6.address, upU.address], {
      listen: ["[::1]:0", `unix:${dir}/px.sock`],
    });
    assert.match(px.handle.addresses[0].address, /^\[::1\]:\d+$/);
    assert.equal(px.handle.addresses[1].address, `unix:${dir}/px.sock`);
    const via6 = await Deno.connect({ hostname: "::1", port: px.port });
    const viaU = await Deno.connect({ transport: "unix", path: `${dir}/px.sock` });
    for (const c of [via6, viaU]) {
      await writeAll(c, new TextEncoder().encode("round"));
      await c.closeWrite();
      assert.equal(new TextDecoder().decode(await readAll(c)), "round");
      c.close();
    }
    await waitFor(() => px.logs.length === 2);
    assert.ok(px.logs.some((l) => l.startsWith("[::1]:")), px.logs.join("\n"));
    assert.ok(px.logs.some((l) => l.startsWith("unix:0 ")), px.logs.join("\n"));
    assert.equal(up6.accepted + upU.accepted, 2);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("tcp proxy terminates TLS with --tls-cert/--tls-key", async () => {
  await using up = upstream(echoScript);
  await using px = await tcpProxy([up.address], {
    tls: { cert: fixture("server.crt"), key: fixture("server.key") },
  });
  assert.equal(px.handle.addresses[0].tls, true);
  const conn = await Deno.connectTls({
    hostname: "localhost",
    port: px.port,
    caCerts: [fixture("ca.crt")],
  });
  await writeAll(conn, new TextEncoder().encode("secret"));
  await conn.closeWrite();
  assert.equal(new TextDecoder().decode(await readAll(conn)), "secret");
  conn.close();
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / 6 -- /);
});

Deno.test("tcp proxy logs CR for a client that fails the TLS handshake", async () => {
  await using up = upstream(echoScript);
  await using px = await tcpProxy([up.address], {
    tls: { cert: fixture("server.crt"), key: fixture("server.key") },
  });
  const conn = await Deno.connect({ port: px.port });
  await writeAll(conn, new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"));
  await readAll(conn).catch(() => new Uint8Array());
  conn.close();
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / be\/<NOSRV> -1\/-1\/\d+ 0 CR /);
  assert.equal(up.accepted, 0);
});

Deno.test("tcp proxy connects to a TLS server and verifies it", async () => {
  await using up = upstream(echoScript, {
    tls: { cert: fixture("server.crt"), key: fixture("server.key") },
  });
  await using px = await tcpProxy([{
    name: "tls1",
    address: `tls://localhost:${up.port}`,
    tls: { ca: [fixture("ca.crt")] },
  }]);
  const conn = await Deno.connect({ port: px.port });
  await writeAll(conn, new TextEncoder().encode("over tls"));
  await conn.closeWrite();
  assert.equal(new TextDecoder().decode(await readAll(conn)), "over tls");
  conn.close();
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / be\/tls1 .* -- /);
});

Deno.test("tcp proxy refuses a TLS server whose certificate does not verify", async () => {
  await using up = upstream(echoScript, {
    tls: { cert: fixture("server.crt"), key: fixture("server.key") },
  });
  await using px = await tcpProxy([{
    name: "tls1",
    address: `tls://localhost:${up.port}`,
    tls: { ca: [fixture("other_ca.crt")] },
  }], { retries: 0 });
  const conn = await Deno.connect({ port: px.port });
  assert.equal((await readAll(conn)).length, 0);
  conn.close();
  // The traffic line, and the event saying why the handshake failed.
  await waitFor(() => px.logs.length === 2);
  assert.ok(px.logs.some((l) => / SC /.test(l)), px.logs.join("\n"));
  assert.ok(
    px.logs.some((l) => /Connection to server be\/tls1 failed: SSL handshake failure: /.test(l)),
    px.logs.join("\n"),
  );
});

Deno.test("tcp proxy with verify none accepts a certificate it cannot verify", async () => {
  await using up = upstream(echoScript, {
    tls: { cert: fixture("server.crt"), key: fixture("server.key") },
  });
  await using px = await tcpProxy([{
    name: "tls1",
    address: `tls://127.0.0.1:${up.port}`,
    tls: { verify: "none" },
  }], { retries: 0 });
  const conn = await Deno.connect({ port: px.port });
  await writeAll(conn, new TextEncoder().encode("trust me"));
  await conn.closeWrite();
  assert.equal(new TextDecoder().decode(await readAll(conn)), "trust me");
  conn.close();
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / -- /);
});

Deno.test("tcp proxy gives up with sC when the connection (TLS handshake) times out", async () => {
  // Accepts TCP but never answers the TLS ClientHello.
  await using up = upstream(async (conn) => {
    await readAll(conn);
  });
  await using px = await tcpProxy([{ name: "mute", address: `tls://127.0.0.1:${up.port}` }], {
    retries: 1,
    timeouts: { connect: 100 },
  });
  const conn = await Deno.connect({ port: px.port });
  assert.equal((await readAll(conn)).length, 0);
  conn.close();
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / 0\/-1\/\d+ 0 sC .*\/1 0\/0$/);
  assert.equal(up.accepted, 2);
});

Deno.test("graceful close lets a live connection finish, then kills it after the grace", async () => {
  await using up = upstream(echoScript);
  const px = await tcpProxy([up.address]);
  const conn = await Deno.connect({ port: px.port });
  await writeAll(conn, new TextEncoder().encode("1"));
  assert.equal(new TextDecoder().decode(await readN(conn, 1)), "1");
  const closing = px.handle.close({ graceful: true, graceMs: 300 });
  await sleep(50);
  // Still served during the grace period.
  await writeAll(conn, new TextEncoder().encode("2"));
  assert.equal(new TextDecoder().decode(await readN(conn, 1)), "2");
  // New connections are refused: the listener is closed.
  await assert.rejects(Deno.connect({ port: px.port }));
  await closing;
  assert.equal((await readAll(conn)).length, 0);
  conn.close();
  assert.equal(px.logs.length, 1);
  assert.match(px.logs[0], / KD /);
});

Deno.test("json log format carries the same fields", async () => {
  await using up = upstream(echoScript);
  await using px = await tcpProxy([up.address], { logFormat: "json" });
  const conn = await Deno.connect({ port: px.port });
  await writeAll(conn, new TextEncoder().encode("abc"));
  await conn.closeWrite();
  await readAll(conn);
  conn.close();
  await waitFor(() => px.logs.length === 1);
  const rec = JSON.parse(px.logs[0]);
  assert.equal(rec.frontend, "fe");
  assert.equal(rec.backend, "be");
  assert.equal(rec.server, "s1");
  assert.equal(rec.bytes_in, 3);
  assert.equal(rec.bytes_out, 3);
  assert.equal(rec.termination_state, "--");
  assert.equal(rec.client, "127.0.0.1");
  assert.match(rec.accept_date, /^\d{4}-\d\d-\d\dT/);
  assert.equal(typeof rec.tc, "number");
});

Deno.test("bytes are exact when the buffer is small and wraps", async () => {
  await using up = upstream(echoScript);
  await using px = await tcpProxy([up.address], { bufsize: 1024 });
  const payload = randomBytes(300_001);
  const conn = await Deno.connect({ port: px.port });
  const [back] = await Promise.all([
    readAll(conn),
    (async () => {
      // Odd-sized writes so the ring wraps at every offset.
      for (let off = 0; off < payload.length; off += 777) {
        await writeAll(conn, payload.subarray(off, Math.min(payload.length, off + 777)));
      }
      await conn.closeWrite();
    })(),
  ]);
  conn.close();
  assert.equal(await sha256(back), await sha256(payload));
  assert.equal(concat([back]).length, payload.length);
});
