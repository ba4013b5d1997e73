/**
 * Large buffers for bulk transfers: a channel moving big chunks takes a
 * larger area (4 × bufsize, 16 × with the FFI layer) while one is free and gives it back when its traffic is
 * small again or the stream ends; bytes stay exact, heads keep the normal
 * size limit, and with `largeBuffers: 0` nothing changes but the speed.
 */
import assert from "node:assert/strict";
import { startSluice } from "../../mod.ts";
import { LARGE_BUFFER_FACTOR } from "../../lib/cfg/config_defaults.ts";
import { ffiUnavailable } from "../../lib/conn/ffi/libc.ts";
import { httpProxy } from "../helpers/http.ts";
import {
  concat,
  randomBytes,
  readAll,
  sha256,
  upstream,
  waitFor,
  writeAll,
} from "../helpers/net.ts";
import { tcpProxy } from "../helpers/proxy.ts";

const MB = 1 << 20;

Deno.test("tcp: a bulk transfer takes large buffers, stays byte-exact and gives them back", async () => {
  const down = randomBytes(4 * MB);
  await using up = upstream(async (conn) => {
    const [received] = await Promise.all([readAll(conn), writeAll(conn, down)]);
    await writeAll(conn, new TextEncoder().encode(await sha256(received)));
    await conn.closeWrite();
  });
  await using px = await tcpProxy([up.address]);
  const payload = randomBytes(3 * MB + 7);
  const conn = await Deno.connect({ port: px.port });
  const [got] = await Promise.all([
    readAll(conn),
    writeAll(conn, payload).then(() => conn.closeWrite()),
  ]);
  conn.close();
  assert.equal(await sha256(got.subarray(0, down.length)), await sha256(down));
  assert.equal(new TextDecoder().decode(got.subarray(down.length)), await sha256(payload));
  const st = px.handle.stats();
  assert.ok(st.largePool !== null && st.largePool.allocated > 0, "large buffers were used");
  // 4 × bufsize with node:net (SLUICE_IO=node), 16 × with the FFI layer.
  const io = Deno.env.get("SLUICE_IO") || (ffiUnavailable() === null ? "ffi" : "node");
  const factor = LARGE_BUFFER_FACTOR[io === "node" ? "node" : "ffi"];
  assert.equal(st.largePool.size, factor * st.pool.size);
  await waitFor(() => px.handle.stats().frontends[0].scur === 0, 2000, "stream ended");
  assert.equal(px.handle.stats().largePool!.inUse, 0, "given back at the end");
  assert.equal(px.handle.stats().pool.inUse, 0);
});

Deno.test("http: large bodies use large buffers, small requests after them give them back", async () => {
  const body = randomBytes(2 * MB);
  const hash = await sha256(body);
  let n = 0;
  // Keep-alive: one big response, then small ones, on the same connection.
  await using up = answering((head) =>
    head.startsWith("GET /big ") ? body : new TextEncoder().encode(`small ${n++}`)
  );
  await using px = await httpProxy([up.address]);
  const conn = await Deno.connect({ port: px.port });
  const reader = messages(conn);
  await writeAll(conn, new TextEncoder().encode("GET /big HTTP/1.1\r\nHost: a\r\n\r\n"));
  assert.equal(await sha256(await reader.next()), hash);
  assert.ok(px.handle.stats().largePool!.allocated > 0, "large buffers were used");
  for (let i = 0; i < 3; i++) {
    await writeAll(conn, new TextEncoder().encode(`GET /s${i} HTTP/1.1\r\nHost: a\r\n\r\n`));
    assert.equal(new TextDecoder().decode(await reader.next()), `small ${i}`);
  }
  // Small traffic again: the connection no longer holds a large buffer.
  await waitFor(() => px.handle.stats().largePool!.inUse === 0, 2000, "large buffers back");
  conn.close();
});

Deno.test("http: a head over bufsize is refused even after a large buffer was used", async () => {
  const body = randomBytes(MB);
  await using up = answering(() => body);
  await using px = await httpProxy([up.address]);
  const conn = await Deno.connect({ port: px.port });
  // An upload in bulk gives the request side a large buffer...
  const upload = randomBytes(MB);
  await writeAll(
    conn,
    new TextEncoder().encode(
      `POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: ${upload.length}\r\n\r\n`,
    ),
  );
  const reader = messages(conn);
  await writeAll(conn, upload);
  assert.equal((await reader.next()).length, body.length);
  // ...and the next head still has to fit in bufsize - maxrewrite.
  const huge = `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(20000)}\r\n\r\n`;
  await writeAll(conn, new TextEncoder().encode(huge));
  const rest = new TextDecoder().decode(await readAll(conn));
  assert.match(rest, /^HTTP\/1\.1 431 /);
  conn.close();
});

Deno.test("largeBuffers: 0 disables them; transfers are the same", async () => {
  const down = randomBytes(2 * MB);
  await using up = upstream(async (conn) => {
    await writeAll(conn, down);
    await conn.closeWrite();
  });
  await using h = await startSluice({
    global: { log: { target: "none" }, largeBuffers: 0 },
    frontends: [{
      name: "fe",
      mode: "tcp",
      binds: [{ address: "127.0.0.1:0" }],
      defaultBackend: "be",
    }],
    backends: [{ name: "be", mode: "tcp", servers: [{ name: "s", address: up.address }] }],
  });
  const conn = await Deno.connect({ port: h.addresses[0].port });
  const got = await readAll(conn);
  conn.close();
  assert.equal(await sha256(got), await sha256(down));
  assert.equal(h.stats().largePool, null);
});

/**
 * A keep-alive HTTP upstream: for each request head (its Content-Length
 * body read and dropped), a 200 with the body `answer` gives.
 */
function answering(answer: (head: string) => Uint8Array) {
  return upstream(async (conn) => {
    const next = messages(conn);
    for (;;) {
      const { head } = await next.message().catch(() => ({ head: null }));
      if (head === null) return;
      const payload = answer(head);
      await writeAll(
        conn,
        new TextEncoder().encode(`HTTP/1.1 200 OK\r\nContent-Length: ${payload.length}\r\n\r\n`),
      );
      await writeAll(conn, payload);
    }
  });
}

/** Reads HTTP/1.1 messages framed by Content-Length (none: no body) one after the other. */
function messages(conn: Deno.Conn) {
  let data: Uint8Array = new Uint8Array(0);
  const more = async () => {
    const buf = new Uint8Array(65536);
    const n = await conn.read(buf);
    if (n === null) throw new Error("connection closed");
    data = concat([data, buf.subarray(0, n)]);
  };
  const message = async (): Promise<{ head: string; body: Uint8Array }> => {
    let end: number;
    while ((end = findHeadEnd(data)) < 0) await more();
    const head = new TextDecoder().decode(data.subarray(0, end));
    const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
    while (data.length < end + 4 + len) await more();
    const body = data.slice(end + 4, end + 4 + len);
    data = data.slice(end + 4 + len);
    return { head, body };
  };
  return { message, next: async () => (await message()).body };
}

function findHeadEnd(a: Uint8Array): number {
  for (let i = 0; i + 3 < a.length; i++) {
    if (a[i] === 13 && a[i + 1] === 10 && a[i + 2] === 13 && a[i + 3] === 10) return i;
  }
  return -1;
}
