/**
 * HTTP mode end to end: forwarding rules, keep-alive on both sides, bodies by
 * every framing, upgrades, and how a misbehaving server or client is
 * answered — against raw-byte upstreams that record exactly what crossed the
 * wire.
 */
import assert from "node:assert/strict";
import { type SluiceConfig, type SluiceHandle, startSluice } from "../../mod.ts";
import type { HttpFrontendConfig, TimeoutsConfig } from "../../lib/cfg/config_types.ts";
import {
  concat,
  logInto,
  randomBytes,
  readAll,
  refusedPort,
  sha256,
  sleep,
  upstream,
  waitFor,
  writeAll,
} from "../helpers/net.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Px extends AsyncDisposable {
  handle: SluiceHandle;
  port: number;
  logs: string[];
}

async function httpPx(
  servers: string[],
  opts: { timeouts?: TimeoutsConfig; http?: HttpFrontendConfig; json?: boolean; retries?: number } =
    {},
): Promise<Px> {
  const logs: string[] = [];
  const cfg: SluiceConfig = {
    global: { log: { target: logInto(logs), format: opts.json ? "json" : undefined } },
    frontends: [{
      name: "fe",
      mode: "http",
      binds: [{ address: "127.0.0.1:0" }],
      timeouts: opts.timeouts,
      http: opts.http,
      defaultBackend: "be",
    }],
    backends: [{
      name: "be",
      mode: "http",
      retries: opts.retries,
      timeouts: opts.timeouts,
      servers: servers.map((address, i) => ({ name: `s${i + 1}`, address })),
    }],
  };
  const handle = await startSluice(cfg);
  return {
    handle,
    port: handle.addresses[0].port,
    logs,
    [Symbol.asyncDispose]: () => handle.close(),
  };
}

/** Reads from `conn` until `pred(text so far)` holds or EOF; returns the bytes. */
async function readUntil(conn: Deno.Conn, pred: (text: string) => boolean): Promise<string> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  let text = "";
  while (!pred(text)) {
    const n = await conn.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
    text = new TextDecoder("latin1").decode(concat(chunks));
  }
  return text;
}

/** A complete response has arrived (head plus Content-Length body, or chunked end). */
function responses(count: number): (t: string) => boolean {
  return (t) => {
    let pos = 0;
    for (let i = 0; i < count; i++) {
      const he = t.indexOf("\r\n\r\n", pos);
      if (he < 0) return false;
      const head = t.slice(pos, he);
      const cl = /content-length: *(\d+)/i.exec(head);
      if (cl) pos = he + 4 + Number(cl[1]);
      else if (/transfer-encoding: *chunked/i.test(head)) {
        const end = t.indexOf("0\r\n\r\n", he);
        if (end < 0) return false;
        pos = end + 5;
      } else pos = he + 4;
      if (pos > t.length) return false;
    }
    return true;
  };
}

/**
 * An upstream answering each request it can frame (Content-Length bodies
 * only) with `reply(head)`, recording everything received.
 */
function httpUpstream(
  reply: (head: string, body: string) => string,
  opts: { closeAfter?: boolean } = {},
) {
  const seen: string[] = [];
  const up = upstream(async (conn) => {
    let acc = "";
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return;
      const s = new TextDecoder("latin1").decode(buf.subarray(0, n));
      seen.push(s);
      acc += s;
      for (;;) {
        const he = acc.indexOf("\r\n\r\n");
        if (he < 0) break;
        const head = acc.slice(0, he);
        const cl = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (acc.length < he + 4 + cl) break;
        const body = acc.slice(he + 4, he + 4 + cl);
        acc = acc.slice(he + 4 + cl);
        await writeAll(conn, enc.encode(reply(head, body)));
        if (opts.closeAfter) return;
      }
    }
  });
  return Object.assign(up, { seen: () => seen.join("") });
}

const OK = (body = "ok") => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

Deno.test("http forwards a request with X-Forwarded-For/-Proto and without hop-by-hop headers", async () => {
  await using up = httpUpstream(() => OK("hi"));
  await using px = await httpPx([up.address]);
  const c = await Deno.connect({ port: px.port });
  await writeAll(
    c,
    enc.encode(
      "GET /p?q=1 HTTP/1.1\r\nHost: example.test\r\nConnection: keep-alive, X-Secret\r\n" +
        "Keep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\nX-Secret: s\r\n" +
        "X-Forwarded-Proto: https\r\nX-Keep: yes\r\n\r\n",
    ),
  );
  const res = await readUntil(c, responses(1));
  c.close();
  assert.match(res, /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(res.endsWith("\r\n\r\nhi"));
  const got = up.seen();
  assert.match(got, /^GET \/p\?q=1 HTTP\/1\.1\r\nHost: example\.test\r\n/);
  assert.match(got, /\r\nX-Keep: yes\r\n/);
  assert.match(got, /\r\nX-Forwarded-For: 127\.0\.0\.1\r\n/);
  assert.match(got, /\r\nX-Forwarded-Proto: http\r\n/, "the client's https claim is replaced");
  for (const h of ["Connection", "Keep-Alive", "TE", "Proxy-Connection", "X-Secret"]) {
    assert.ok(!new RegExp(`\r\n${h}:`, "i").test(got), `${h} was forwarded`);
  }
  await waitFor(() => px.logs.length === 1);
  assert.match(
    px.logs[0],
    / fe be\/s1 \d+\/0\/\d+\/\d+\/\d+ 200 \d+ - - ---- .* "GET \/p\?q=1 HTTP\/1\.1"$/,
  );
});

Deno.test("http keeps the client connection alive and reuses the server connection", async () => {
  await using up = httpUpstream((head) => OK(head.split(" ")[1]));
  await using px = await httpPx([up.address]);
  const c = await Deno.connect({ port: px.port });
  for (const path of ["/one", "/two", "/three"]) {
    await writeAll(c, enc.encode(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`));
    const res = await readUntil(c, responses(1));
    assert.ok(res.endsWith(path), res);
    assert.ok(!/connection: close/i.test(res));
  }
  c.close();
  assert.equal(up.accepted, 1, "one server connection for three requests");
  await waitFor(() => px.logs.length === 3);
  assert.match(px.logs[1], / \d+\/0\/0\/\d+\/\d+ 200 /, "Tc is 0 on a reused connection");
});

Deno.test("http answers pipelined requests in order", async () => {
  await using up = httpUpstream((head) => OK(head.split(" ")[1]));
  await using px = await httpPx([up.address]);
  const c = await Deno.connect({ port: px.port });
  await writeAll(
    c,
    enc.encode(
      "GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz" +
        "GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    ),
  );
  const res = await readAll(c);
  c.close();
  const text = dec.decode(res);
  const bodies = [...text.matchAll(/\r\n\r\n(\/[abc])/g)].map((m) => m[1]);
  assert.deepEqual(bodies, ["/a", "/b", "/c"]);
  assert.match(text, /connection: close\r\n\r\n\/c$/i);
});

Deno.test("http forwards Content-Length and chunked request bodies byte-exact", async () => {
  const payload = randomBytes(300_000);
  let gotHash = "";
  await using up = upstream(async (conn) => {
    // Raw bytes all the way: find the end of the head, then the body.
    let acc: Uint8Array = new Uint8Array(0);
    const buf = new Uint8Array(65536);
    let he = -1;
    while (he < 0) {
      const n = await conn.read(buf);
      if (n === null) return;
      acc = concat([acc, buf.subarray(0, n)]);
      for (let i = 3; i < acc.length && he < 0; i++) {
        if (acc[i - 3] === 13 && acc[i - 2] === 10 && acc[i - 1] === 13 && acc[i] === 10) {
          he = i + 1;
        }
      }
    }
    const head = dec.decode(acc.subarray(0, he));
    const cl = Number(/content-length: (\d+)/i.exec(head)![1]);
    const body = new Uint8Array(cl);
    body.set(acc.subarray(he));
    let off = acc.length - he;
    while (off < cl) {
      const n = await conn.read(body.subarray(off));
      if (n === null) break;
      off += n;
    }
    gotHash = await sha256(body);
    await writeAll(conn, enc.encode(OK()));
  });
  await using px = await httpPx([up.address]);
  const c = await Deno.connect({ port: px.port });
  await writeAll(
    c,
    enc.encode(`PUT /up HTTP/1.1\r\nHost: a\r\nContent-Length: ${payload.length}\r\n\r\n`),
  );
  await writeAll(c, payload);
  const res = await readUntil(c, responses(1));
  c.close();
  assert.match(res, /^HTTP\/1\.1 200 /);
  assert.equal(gotHash, await sha256(payload));
});

Deno.test("http re-validates and forwards a chunked request body as sent", async () => {
  const body =
    '4;ext=1\r\nWiki\r\n6\r\npedia \r\nE;q="a b"\r\nin \r\n\r\nchunks.\r\n0\r\nX-Trailer: t\r\n\r\n';
  let got = "";
  await using up = upstream(async (conn) => {
    got = await readUntil(conn, (t) => t.endsWith("0\r\nX-Trailer: t\r\n\r\n"));
    await writeAll(conn, enc.encode(OK()));
  });
  await using px = await httpPx([up.address]);
  const c = await Deno.connect({ port: px.port });
  const req = `POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${body}`;
  // One byte at a time: the chunk parser must work on any split.
  for (const ch of enc.encode(req)) await writeAll(c, Uint8Array.of(ch));
  const res = await readUntil(c, responses(1));
  c.close();
  assert.match(res, /^HTTP\/1\.1 200 /);
  assert.ok(got.endsWith(`\r\n\r\n${body}`), got);
  assert.match(got, /\r\nTransfer-Encoding: chunked\r\n/);
});

Deno.test("http forwards chunked, Content-Length and until-close responses", async () => {
  const big = "x".repeat(65536);
  await using up = upstream(async (conn) => {
    // Serves requests on the connection until a response ends by closing.
    for (;;) {
      const head = await readUntil(conn, (t) => t.includes("\r\n\r\n"));
      if (head === "") return;
      const path = head.split(" ")[1];
      if (path === "/chunked") {
        await writeAll(
          conn,
          enc.encode(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
          ),
        );
      } else if (path === "/big") {
        await writeAll(
          conn,
          enc.encode(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n${big}`),
        );
      } else {
        await writeAll(conn, enc.encode("HTTP/1.1 200 OK\r\n\r\nuntil the end"));
        await conn.closeWrite();
        await readAll(conn).catch(() => {});
        return;
      }
    }
  });
  await using px = await httpPx([up.address]);
  const c = await Deno.connect({ port: px.port });
  await writeAll(c, enc.encode("GET /chunked HTTP/1.1\r\nHost: a\r\n\r\n"));
  const r1 = await readUntil(c, responses(1));
  assert.ok(r1.endsWith("\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), r1);
  await writeAll(c, enc.encode("GET /big HTTP/1.1\r\nHost: a\r\n\r\n"));
  const r2 = await readUntil(c, responses(1));
  assert.ok(r2.endsWith(big));
  await writeAll(c, enc.encode("GET /close HTTP/1.1\r\nHost: a\r\n\r\n"));
  const r3 = dec.decode(await readAll(c));
  c.close();
  assert.match(r3, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(
    r3,
    /\r\nConnection: close\r\n/,
    "no length: the client must be told the connection ends",
  );
  assert.ok(r3.endsWith("until the end"));
});

Deno.test("http gives HEAD, 204 and 304 responses no body and keeps the connection", async () => {
  await using up = upstream(async (conn) => {
    for (;;) {
      const head = await readUntil(conn, (t) => t.includes("\r\n\r\n"));
      if (head === "") return;
      const path = head.split(" ")[1];
      const status = path === "/204"
        ? "204 No Content"
        : path === "/304"
        ? "304 Not Modified"
        : "200 OK";
      // Content-Length on HEAD/304 describes the resource, not a body.
      await writeAll(conn, enc.encode(`HTTP/1.1 ${status}\r\nContent-Length: 10\r\n\r\n`));
    }
  });
  await using px = await httpPx([up.address]);
  const c = await Deno.connect({ port: px.port });
  for (const [method, path] of [["HEAD", "/h"], ["GET", "/204"], ["GET", "/304"]]) {
    await writeAll(c, enc.encode(`${method} ${path} HTTP/1.1\r\nHost: a\r\n\r\n`));
    const res = await readUntil(c, (t) => t.includes("\r\n\r\n"));
    assert.ok(res.endsWith("\r\n\r\n"), `${path}: ${res}`);
  }
  // The connection is still usable: nothing was mistaken for a body.
  await writeAll(c, enc.encode("HEAD /again HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  const last = dec.decode(await readAll(c));
  c.close();
  assert.match(last, /^HTTP\/1\.1 200 OK\r\n/);
});

Deno.test("http relays 100 Continue before the final response", async () => {
  await using up = upstream(async (conn) => {
    const head = await readUntil(conn, (t) => t.includes("\r\n\r\n"));
    assert.match(head, /\r\nExpect: 100-continue\r\n/);
    await writeAll(conn, enc.encode("HTTP/1.1 100 Continue\r\n\r\n"));
    const body = await readUntil(conn, (t) => t.length >= 4);
    assert.equal(body, "data");
    await writeAll(conn, enc.encode(OK("done")));
  });
  await using px = await httpPx([up.address]);
  const c = await Deno.connect({ port: px.port });
  await writeAll(
    c,
    enc.encode("PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"),
  );
  const interim = await readUntil(c, (t) => t.includes("\r\n\r\n"));
  assert.equal(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  await writeAll(c, enc.encode("data"));
  const res = await readUntil(c, responses(1));
  c.close();
  assert.ok(res.endsWith("done"));
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / 200 /);
});

Deno.test("http honours Connection: close and HTTP/1.0 semantics", async () => {
  await using up = httpUpstream(() => OK());
  await using px = await httpPx([up.address]);
  // HTTP/1.0 without keep-alive: answered, then closed, told so.
  const c1 = await Deno.connect({ port: px.port });
  await writeAll(c1, enc.encode("GET / HTTP/1.0\r\n\r\n"));
  const r1 = dec.decode(await readAll(c1));
  c1.close();
  assert.match(r1, /\r\nConnection: close\r\n/);
  assert.match(
    up.seen(),
    /^GET \/ HTTP\/1\.0\r\n(?:[^\r]*\r\n)*Connection: keep-alive\r\n/,
    "servers are asked to keep it",
  );
  // HTTP/1.0 with keep-alive: kept, told so.
  const c2 = await Deno.connect({ port: px.port });
  await writeAll(c2, enc.encode("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  const r2 = await readUntil(c2, responses(1));
  assert.match(r2, /\r\nConnection: keep-alive\r\n/);
  await writeAll(c2, enc.encode("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  const r3 = dec.decode(await readAll(c2));
  c2.close();
  assert.match(r3, /\r\nConnection: close\r\n/);
});

Deno.test("http closes the server connection when the server says Connection: close", async () => {
  await using up = upstream(async (conn) => {
    await readUntil(conn, (t) => t.includes("\r\n\r\n"));
    await writeAll(
      conn,
      enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"),
    );
    await readAll(conn);
  });
  await using px = await httpPx([up.address]);
  const c = await Deno.connect({ port: px.port });
  for (let i = 0; i < 2; i++) {
    await writeAll(c, enc.encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    const r = await readUntil(c, responses(1));
    assert.ok(!/connection: close/i.test(r), "the client side stays alive");
  }
  c.close();
  assert.equal(up.accepted, 2, "a new server connection for each request");
});

Deno.test("http turns a 101 upgrade into a byte tunnel both ways", async () => {
  await using up = upstream(async (conn) => {
    const head = await readUntil(conn, (t) => t.includes("\r\n\r\n"));
    assert.match(head, /\r\nUpgrade: websocket\r\n/);
    assert.match(head, /\r\nConnection: upgrade\r\n/i);
    await writeAll(
      conn,
      enc.encode(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      ),
    );
    const ping = new Uint8Array(4);
    let got = 0;
    while (got < 4) got += (await conn.read(ping.subarray(got))) ?? 4;
    await writeAll(conn, concat([enc.encode("echo:"), ping]));
    await readAll(conn);
  });
  await using px = await httpPx([up.address]);
  const c = await Deno.connect({ port: px.port });
  await writeAll(
    c,
    enc.encode("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
  );
  const head = await readUntil(c, (t) => t.includes("\r\n\r\n"));
  assert.match(head, /^HTTP\/1\.1 101 /);
  assert.match(head, /\r\nUpgrade: websocket\r\n/);
  await writeAll(c, Uint8Array.of(0x81, 0x00, 0xff, 0x10));
  const back = new Uint8Array(9);
  let got = 0;
  while (got < 9) got += (await c.read(back.subarray(got))) ?? 9;
  assert.deepEqual(back, concat([enc.encode("echo:"), Uint8Array.of(0x81, 0x00, 0xff, 0x10)]));
  await c.closeWrite();
  assert.equal((await readAll(c)).length, 0);
  c.close();
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / 101 /);
});

Deno.test("http answers 502 for a garbage response and 503 when no server accepts", async () => {
  await using bad = upstream(async (conn) => {
    await readUntil(conn, (t) => t.includes("\r\n\r\n"));
    await writeAll(conn, enc.encode("ICY 200 OK\r\n\r\n"));
    await readAll(conn).catch(() => {});
  });
  await using px = await httpPx([bad.address]);
  const c = await Deno.connect({ port: px.port });
  await writeAll(c, enc.encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  const r = dec.decode(await readAll(c));
  c.close();
  assert.match(r, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
  assert.match(r, /\r\nconnection: close\r\n/i);
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / 502 \d+ - - PH-- /);

  await using down = await httpPx([`127.0.0.1:${refusedPort()}`], { retries: 1 });
  const c2 = await Deno.connect({ port: down.port });
  await writeAll(c2, enc.encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  const r2 = dec.decode(await readAll(c2));
  c2.close();
  assert.match(r2, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  await waitFor(() => down.logs.length === 1);
  assert.match(down.logs[0], / 503 \d+ - - SC-- .*\/1 0\/0 "GET \/ HTTP\/1\.1"$/);
});

Deno.test("http answers 504 when the server does not answer within the server timeout", async () => {
  await using mute = upstream(async (conn) => {
    await readAll(conn).catch(() => {});
  });
  await using px = await httpPx([mute.address], { timeouts: { server: 200 } });
  const c = await Deno.connect({ port: px.port });
  await writeAll(c, enc.encode("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n"));
  const r = dec.decode(await readAll(c));
  c.close();
  assert.match(r, /^HTTP\/1\.1 504 Gateway Timeout\r\n/);
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / 504 \d+ - - sH-- /);
  await waitFor(() => mute.live === 0, 2000, "server connection closed");
});

Deno.test("http closes the client when the server dies in the middle of a body, and logs SD", async () => {
  await using up = upstream(async (conn) => {
    await readUntil(conn, (t) => t.includes("\r\n\r\n"));
    await writeAll(conn, enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part"));
    await sleep(20);
  });
  await using px = await httpPx([up.address]);
  const c = await Deno.connect({ port: px.port });
  await writeAll(c, enc.encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  const r = dec.decode(await readAll(c).catch(() => new Uint8Array()));
  c.close();
  assert.ok(r === "" || r.endsWith("only part"), r);
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / 200 \d+ - - SD-- /);
});

Deno.test("http answers 408 to a request head that does not arrive in time (slowloris)", async () => {
  await using up = httpUpstream(() => OK());
  await using px = await httpPx([up.address], { timeouts: { httpRequest: 200, client: 10_000 } });
  const c = await Deno.connect({ port: px.port });
  await writeAll(c, enc.encode("GET / HTTP/1.1\r\nHost: a\r\n"));
  for (let i = 0; i < 3; i++) {
    await sleep(50);
    await writeAll(c, enc.encode(`X-Drip-${i}: 1\r\n`)).catch(() => {});
  }
  const r = dec.decode(await readAll(c).catch(() => new Uint8Array()));
  c.close();
  assert.match(r, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  assert.equal(up.accepted, 0);
  await waitFor(() => px.logs.length === 1);
  assert.match(px.logs[0], / 408 \d+ - - cR-- .* "<BADREQ>"$/);
});

Deno.test("http closes an idle keep-alive connection after the keep-alive timeout, silently", async () => {
  await using up = httpUpstream(() => OK());
  await using px = await httpPx([up.address], { timeouts: { httpKeepAlive: 150 } });
  const c = await Deno.connect({ port: px.port });
  await writeAll(c, enc.encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  await readUntil(c, responses(1));
  const t0 = Date.now();
  assert.equal((await readAll(c)).length, 0, "no 408 for an idle keep-alive connection");
  c.close();
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(px.logs.length, 1);
});

Deno.test("http sends an error file in place of a generated response", async () => {
  const custom =
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 7\r\nConnection: close\r\n\r\nno way!";
  await using up = httpUpstream(() => OK());
  await using px = await httpPx([up.address], { http: { errorFiles: { 400: custom } } });
  const c = await Deno.connect({ port: px.port });
  await writeAll(c, enc.encode("GET / HTTP/9.9\r\n\r\n"));
  const r = dec.decode(await readAll(c));
  c.close();
  assert.match(r, /^HTTP\/1\.1 505 /, "505 has no error file: built-in");
  const c2 = await Deno.connect({ port: px.port });
  await writeAll(c2, enc.encode("GET / HTTP/1.1\r\n\r\n"));
  const r2 = dec.decode(await readAll(c2));
  c2.close();
  assert.equal(r2, custom);
});

Deno.test("http turns an absolute-form target into origin form with a matching Host", async () => {
  await using up = httpUpstream(() => OK());
  await using px = await httpPx([up.address]);
  const c = await Deno.connect({ port: px.port });
  await writeAll(
    c,
    enc.encode(
      "GET http://api.test:8080/v1?x=1 HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n",
    ),
  );
  await readAll(c);
  c.close();
  const got = up.seen();
  assert.match(got, /^GET \/v1\?x=1 HTTP\/1\.1\r\n/);
  assert.match(got, /\r\nHost: api\.test:8080\r\n/);
  assert.ok(!got.includes("other.test"));
});

Deno.test("http adds Forwarded when asked and can leave X-Forwarded-For out", async () => {
  await using up = httpUpstream(() => OK());
  await using px = await httpPx([up.address], {
    http: { forwardFor: false, forwardedProto: false, forwarded: true },
  });
  const c = await Deno.connect({ port: px.port });
  await writeAll(
    c,
    enc.encode("GET / HTTP/1.1\r\nHost: a\r\nForwarded: for=6.6.6.6\r\nConnection: close\r\n\r\n"),
  );
  await readAll(c);
  c.close();
  const got = up.seen();
  assert.match(got, /\r\nForwarded: for=127\.0\.0\.1;proto=http\r\n/);
  assert.ok(!got.includes("6.6.6.6"), "the client's Forwarded is replaced");
  assert.ok(!/X-Forwarded-For/i.test(got));
});

Deno.test("http logs JSON records with the same fields", async () => {
  await using up = httpUpstream(() => OK());
  await using px = await httpPx([up.address], { json: true });
  const c = await Deno.connect({ port: px.port });
  await writeAll(c, enc.encode("GET /j HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  await readAll(c);
  c.close();
  await waitFor(() => px.logs.length === 1);
  const rec = JSON.parse(px.logs[0]);
  assert.equal(rec.status, 200);
  assert.equal(rec.http_request, "GET /j HTTP/1.1");
  assert.equal(rec.termination_state, "----");
  assert.equal(rec.server, "s1");
  assert.match(rec.request_date, /^\d{4}-/);
  for (const k of ["tr", "tw", "tc", "tr_server", "ta", "bytes_out", "bytes_in"]) {
    assert.equal(typeof rec[k], "number", k);
  }
});

Deno.test("http serves 200 concurrent keep-alive clients without mixing responses", async () => {
  await using up = httpUpstream((head) => OK(head.split(" ")[1]));
  await using px = await httpPx([up.address]);
  await Promise.all(Array.from({ length: 200 }, async (_, i) => {
    const c = await Deno.connect({ port: px.port });
    try {
      for (let k = 0; k < 3; k++) {
        await writeAll(c, enc.encode(`GET /c${i}-${k} HTTP/1.1\r\nHost: a\r\n\r\n`));
        const r = await readUntil(c, responses(1));
        assert.ok(r.endsWith(`/c${i}-${k}`), r);
      }
    } finally {
      c.close();
    }
  }));
  await waitFor(() => px.logs.length === 600, 10_000, "600 log lines");
  const st = px.handle.stats();
  assert.equal(st.frontends[0].stot, 200);
});

Deno.test("http sends a GET again on a fresh connection when a reused one was closed by the server", async () => {
  // Each server connection answers one request, then closes on the next one
  // without answering: what a server closing an idle connection looks like.
  await using up = upstream(async (conn) => {
    await readUntil(conn, (t) => t.includes("\r\n\r\n"));
    await writeAll(conn, enc.encode(OK("first")));
    await readUntil(conn, (t) => t.includes("\r\n\r\n"));
  });
  await using px = await httpPx([up.address]);
  const c = await Deno.connect({ port: px.port });
  await writeAll(c, enc.encode("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"));
  assert.ok((await readUntil(c, responses(1))).endsWith("first"));
  await writeAll(c, enc.encode("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"));
  const r2 = await readUntil(c, responses(1));
  assert.match(r2, /^HTTP\/1\.1 200 OK\r\n/, "retried instead of 502");
  assert.ok(r2.endsWith("first"));
  // A request with a body is not sent twice: the client gets a 502.
  await writeAll(c, enc.encode("POST /3 HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx"));
  const r3 = dec.decode(await readAll(c));
  c.close();
  assert.match(r3, /^HTTP\/1\.1 502 /);
  assert.equal(up.accepted, 2, "the POST went on the reused second connection");
});

Deno.test("http counts requests and responses by status class", async () => {
  await using up = httpUpstream((head) =>
    head.startsWith("GET /missing") ? "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n" : OK()
  );
  await using px = await httpPx([up.address]);
  const c = await Deno.connect({ port: px.port });
  for (const path of ["/a", "/b", "/missing"]) {
    await writeAll(c, enc.encode(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`));
    await readUntil(c, responses(1));
  }
  c.close();
  const bad = await Deno.connect({ port: px.port });
  await writeAll(bad, enc.encode("BAD\r\n\r\n"));
  await readAll(bad);
  bad.close();
  await waitFor(() => px.logs.length === 4);
  const st = px.handle.stats();
  const fe = st.frontends[0], be = st.backends[0];
  assert.equal(fe.req_tot, 3);
  assert.equal(fe.hrsp_2xx, 2);
  assert.equal(fe.hrsp_4xx, 2, "the 404 and our 400");
  assert.equal(fe.ereq, 1);
  assert.equal(be.hrsp_2xx, 2);
  assert.equal(be.hrsp_4xx, 1);
  assert.equal(be.servers[0].req_tot, 3);
  assert.ok(st.idle.reused >= 2);
});

Deno.test("http answers 413 to a body above the limit and 431 to too many headers", async () => {
  await using up = httpUpstream(() => OK());
  const logs: string[] = [];
  await using px = {
    handle: await startSluice({
      global: { maxBody: 10, maxHdrs: 5, log: { target: logInto(logs) } },
      frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
      backends: [{ name: "be", servers: [{ name: "s1", address: up.address }] }],
    }),
    async [Symbol.asyncDispose]() {
      await this.handle.close();
    },
  };
  const port = px.handle.addresses[0].port;
  const cases: [string, RegExp][] = [
    ["POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", /^HTTP\/1\.1 413 /],
    [
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n",
      /^HTTP\/1\.1 413 /,
    ],
    [
      "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n",
      /^HTTP\/1\.1 431 /,
    ],
    [`GET /${"x".repeat(20000)} HTTP/1.1\r\nHost: a\r\n\r\n`, /^HTTP\/1\.1 414 /],
    [`GET / HTTP/1.1\r\nHost: a\r\nX: ${"y".repeat(20000)}\r\n\r\n`, /^HTTP\/1\.1 431 /],
  ];
  for (const [req, re] of cases) {
    const c = await Deno.connect({ port });
    await writeAll(c, enc.encode(req)).catch(() => {});
    const r = dec.decode(await readAll(c).catch(() => new Uint8Array()));
    c.close();
    assert.match(r, re, req.slice(0, 40));
  }
  assert.equal(
    up.accepted <= 1,
    true,
    "only the chunked one may have reached the server before its size",
  );
});
