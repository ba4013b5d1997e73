/**
 * One contract suite for the data layers, run against every implementation
 * and both ways a connection is born: raw and TLS, accepted by a Listener
 * and connected to a server. The peer is a plain Deno socket so the test sees
 * exactly what crossed the wire.
 */
import assert from "node:assert/strict";
import { Buf } from "../../lib/buf/buffer.ts";
import { Connection } from "../../lib/conn/connection.ts";
import {
  CO_ER_BROKEN_PIPE,
  CO_ER_RESET,
  CO_FL_ERROR,
  CO_FL_RD_PENDING,
  CO_FL_SOCK_RD_SH,
  CO_FL_WR_PENDING,
} from "../../lib/conn/conn_types.ts";
import { pollerAttach, pollerDetach } from "../../lib/conn/ffi/poller.ts";
import { ffiUnavailable } from "../../lib/conn/ffi/libc.ts";
import { FFI_SOCK } from "../../lib/conn/ffi_sock.ts";
import { RAW_SOCK } from "../../lib/conn/raw_sock.ts";
import { sockConnect } from "../../lib/conn/sock.ts";
import { TLS_SOCK, tlsAcceptLayer } from "../../lib/conn/tls_sock.ts";
import { tlsConnectLayer } from "../../lib/conn/tls_client.ts";
import { ConnLimit, Listener } from "../../lib/listener/listener.ts";
import { Scheduler } from "../../lib/sched/scheduler.ts";
import { Task } from "../../lib/sched/task.ts";
import { fixture, readAll, readN, waitFor, writeAll } from "../helpers/net.ts";

/** A task that only counts its runs, so completions can be awaited. */
class Owner extends Task {
  runs = 0;
  process(): void {
    this.runs++;
  }
  crashed(err: unknown): void {
    throw err;
  }
}

interface Pair {
  conn: Connection;
  peer: Deno.Conn;
  sched: Scheduler;
  owner: Owner;
  cleanup(): Promise<void>;
}

type Setup = () => Promise<Pair>;

async function connected(conn: Connection, owner: Owner, sched: Scheduler, peer: Deno.Conn) {
  await waitFor(() => conn.isReady() || (conn.flags & CO_FL_ERROR) !== 0, 5000, "ready");
  assert.ok(conn.isReady(), `not ready: ${conn.errMsg}`);
  return {
    conn,
    peer,
    sched,
    owner,
    async cleanup() {
      conn.close();
      try {
        peer.close();
      } catch {
        // Closed by the test.
      }
      await waitFor(() => conn.ioPending === 0, 2000, "sends settled");
      await new Promise((r) => setTimeout(r, 10));
      if (sched.io !== null) await pollerDetach(sched);
    },
  };
}

/** A scheduler that polls the FFI layer's epoll set, as an instance with `io: "ffi"` has. */
function ffiScheduler(): Scheduler {
  const sched = new Scheduler();
  sched.io = pollerAttach(sched);
  return sched;
}

function ffiConnectSetup(): Setup {
  return async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    const sched = ffiScheduler();
    const owner = new Owner();
    const conn = new Connection(sched, FFI_SOCK);
    conn.owner = owner;
    const accepted = listener.accept();
    FFI_SOCK.connect(conn, { kind: "tcp", host: "127.0.0.1", port });
    const peer = await accepted;
    listener.close();
    return connected(conn, owner, sched, peer);
  };
}

function ffiAcceptSetup(): Setup {
  return async () => {
    const sched = ffiScheduler();
    const owner = new Owner();
    let conn: Connection | null = null;
    const li = new Listener({ kind: "tcp", host: "127.0.0.1", port: 0 }, null, [new ConnLimit(0)], {
      backlog: 16,
      io: "ffi",
      onAccept: (sock) => {
        conn = new Connection(sched, FFI_SOCK);
        conn.owner = owner;
        conn.attachAccepted(sock);
      },
    });
    await li.bind();
    assert.ok(li.ffi);
    const peer = await Deno.connect({ hostname: "127.0.0.1", port: li.boundPort() });
    await waitFor(() => conn !== null, 2000, "accept");
    await li.close();
    return connected(conn!, owner, sched, peer);
  };
}

function connectSetup(tls: boolean): Setup {
  return async () => {
    const listener = tls
      ? Deno.listenTls({
        hostname: "127.0.0.1",
        port: 0,
        cert: fixture("server.crt"),
        key: fixture("server.key"),
      })
      : Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    const sched = new Scheduler();
    const owner = new Owner();
    const conn = tls
      ? new Connection(
        sched,
        TLS_SOCK,
        tlsConnectLayer({ serverName: "localhost", caCerts: [fixture("ca.crt")] }),
      )
      : new Connection(sched, RAW_SOCK);
    conn.owner = owner;
    const accepted = listener.accept();
    sockConnect(conn, { kind: "tcp", host: "127.0.0.1", port });
    const peer = await accepted;
    listener.close();
    if (tls) await (peer as Deno.TlsConn).handshake();
    return connected(conn, owner, sched, peer);
  };
}

function acceptSetup(tls: boolean): Setup {
  return async () => {
    const sched = new Scheduler();
    const owner = new Owner();
    let conn: Connection | null = null;
    const li = new Listener(
      { kind: "tcp", host: "127.0.0.1", port: 0 },
      tls ? { cert: fixture("server.crt"), key: fixture("server.key") } : null,
      [new ConnLimit(0)],
      {
        backlog: 16,
        onAccept: (sock) => {
          conn = li.certs
            ? new Connection(sched, TLS_SOCK, tlsAcceptLayer(li.certs))
            : new Connection(sched, RAW_SOCK);
          conn.owner = owner;
          conn.attachAccepted(sock);
        },
      },
    );
    await li.bind();
    const port = li.boundPort();
    const peer = tls
      ? await Deno.connectTls({ hostname: "localhost", port, caCerts: [fixture("ca.crt")] })
      : await Deno.connect({ hostname: "127.0.0.1", port });
    if (tls) await (peer as Deno.TlsConn).handshake();
    await waitFor(() => conn !== null, 2000, "accept");
    await li.close();
    return connected(conn!, owner, sched, peer);
  };
}

const SETUPS: [string, Setup][] = [
  ["raw, connected", connectSetup(false)],
  ["raw, accepted", acceptSetup(false)],
  ["tls, connected", connectSetup(true)],
  ["tls, accepted", acceptSetup(true)],
  // The FFI layer where it can run (Linux with --allow-ffi).
  ...(ffiUnavailable() === null
    ? [["ffi, connected", ffiConnectSetup()], ["ffi, accepted", ffiAcceptSetup()]] as [
      string,
      Setup,
    ][]
    : []),
];

function newBuf(size = 4096): Buf {
  const b = new Buf();
  b.attach(new Uint8Array(size));
  return b;
}

/**
 * Receives until `want` bytes arrived (or EOF), returning them. Receiving is
 * started again whenever it stopped on a full buffer, as the stream does.
 */
async function receive(p: Pair, buf: Buf, want: number): Promise<Uint8Array> {
  while (buf.in < want && !(p.conn.flags & CO_FL_SOCK_RD_SH)) {
    const before = buf.in;
    if (!(p.conn.flags & CO_FL_RD_PENDING) && buf.room() > 0) p.conn.xprt.rcvBuf(p.conn, buf);
    await waitFor(
      () => buf.in > before || (p.conn.flags & (CO_FL_SOCK_RD_SH | CO_FL_ERROR)) !== 0,
      5000,
      "receive",
    );
  }
  buf.forward(buf.in);
  return buf.peekOut();
}

for (const [name, setup] of SETUPS) {
  Deno.test(`data layer (${name}) receives bytes into the armed buffer`, async () => {
    const p = await setup();
    try {
      const buf = newBuf();
      await writeAll(p.peer, new TextEncoder().encode("hello"));
      const got = await receive(p, buf, 5);
      assert.equal(new TextDecoder().decode(got), "hello");
      assert.equal(p.conn.rcvd, 5);
      assert.ok(p.owner.runs >= 0);
    } finally {
      await p.cleanup();
    }
  });

  Deno.test(`data layer (${name}) keeps bytes that do not fit for the next receive`, async () => {
    const p = await setup();
    try {
      const buf = newBuf(1024);
      const payload = new Uint8Array(3000).map((_, i) => i & 255);
      await writeAll(p.peer, payload);
      const parts: Uint8Array[] = [];
      let total = 0;
      while (total < payload.length) {
        const chunk = await receive(p, buf, 1);
        // The buffer never holds more than its size.
        assert.ok(chunk.length <= 1024);
        parts.push(chunk);
        total += chunk.length;
        buf.sndCommit(buf.out); // consume, as a send would
      }
      const all = new Uint8Array(total);
      let off = 0;
      for (const c of parts) {
        all.set(c, off);
        off += c.length;
      }
      assert.deepEqual(all, payload);
    } finally {
      await p.cleanup();
    }
  });

  Deno.test(`data layer (${name}) sends the contiguous output`, async () => {
    const p = await setup();
    try {
      const buf = newBuf();
      buf.putIn(new TextEncoder().encode("world"));
      buf.forward(5);
      p.conn.xprt.sndBuf(p.conn, buf);
      // Asynchronous layers keep the send in flight, bytes in place; the
      // FFI layer hands them to the kernel at once.
      if (p.conn.flags & CO_FL_WR_PENDING) assert.equal(buf.sndPending, 5);
      else assert.equal(buf.sndPending, 0);
      await waitFor(() => !(p.conn.flags & CO_FL_WR_PENDING), 5000, "send");
      assert.equal(p.conn.sent, 5);
      assert.equal(buf.out, 0);
      assert.equal(new TextDecoder().decode(await readN(p.peer, 5)), "world");
    } finally {
      await p.cleanup();
    }
  });

  Deno.test(`data layer (${name}) shutw sends EOF after the data`, async () => {
    const p = await setup();
    try {
      const buf = newBuf();
      buf.putIn(new TextEncoder().encode("bye"));
      buf.forward(3);
      p.conn.xprt.sndBuf(p.conn, buf);
      await waitFor(() => !(p.conn.flags & CO_FL_WR_PENDING), 5000, "send");
      p.conn.shutw();
      assert.equal(new TextDecoder().decode(await readAll(p.peer)), "bye");
    } finally {
      await p.cleanup();
    }
  });

  Deno.test(`data layer (${name}) reports the peer's EOF after its last bytes`, async () => {
    const p = await setup();
    try {
      const buf = newBuf();
      await writeAll(p.peer, new TextEncoder().encode("last"));
      await p.peer.closeWrite();
      const got = await receive(p, buf, 1000);
      assert.equal(new TextDecoder().decode(got), "last");
      assert.ok(p.conn.flags & CO_FL_SOCK_RD_SH);
    } finally {
      await p.cleanup();
    }
  });

  Deno.test(`data layer (${name}) reports a peer reset as an error`, async () => {
    const p = await setup();
    try {
      const buf = newBuf();
      const out = newBuf(65536);
      out.putIn(new Uint8Array(65536));
      out.forward(65536);
      // Unread data at close makes the kernel send a reset: the peer gets
      // bytes it never reads, then closes.
      p.conn.xprt.sndBuf(p.conn, out);
      await waitFor(() => !(p.conn.flags & CO_FL_WR_PENDING), 5000, "send");
      p.conn.xprt.rcvBuf(p.conn, buf);
      p.peer.close();
      for (let i = 0; i < 50 && !(p.conn.flags & CO_FL_ERROR); i++) {
        if (!(p.conn.flags & CO_FL_WR_PENDING)) {
          out.head = 0;
          out.out = 65536;
          p.conn.xprt.sndBuf(p.conn, out);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(p.conn.flags & CO_FL_ERROR, "no error reported");
      assert.ok(
        [CO_ER_RESET, CO_ER_BROKEN_PIPE].includes(p.conn.errCode),
        `code ${p.conn.errCode}`,
      );
    } finally {
      await p.cleanup();
    }
  });

  Deno.test(`data layer (${name}) stops receiving at close`, async () => {
    const p = await setup();
    try {
      const buf = newBuf();
      p.conn.xprt.rcvBuf(p.conn, buf);
      assert.ok(p.conn.flags & CO_FL_RD_PENDING);
      p.conn.close();
      assert.equal(p.conn.flags & CO_FL_RD_PENDING, 0);
      await writeAll(p.peer, new Uint8Array(10)).catch(() => {});
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(buf.in, 0);
    } finally {
      await p.cleanup();
    }
  });

  Deno.test(`data layer (${name}) keeps one send in flight until the peer takes it`, async () => {
    const p = await setup();
    try {
      const out = newBuf(65536);
      // The peer does not read: a send stays in flight, later ones wait.
      let sends = 0;
      for (let i = 0; i < 400; i++) {
        if (!(p.conn.flags & CO_FL_WR_PENDING)) {
          out.head = 0;
          out.out = 65536;
          p.conn.xprt.sndBuf(p.conn, out);
          sends++;
        }
        await new Promise((r) => setTimeout(r, 1));
        if (sends > 2 && (p.conn.flags & CO_FL_WR_PENDING)) break;
      }
      assert.ok(p.conn.flags & CO_FL_WR_PENDING, "the kernel took everything");
      // Draining the peer lets the send finish.
      const drained = readN(p.peer, 65536 * sends);
      await waitFor(() => !(p.conn.flags & CO_FL_WR_PENDING), 5000, "send finished");
      p.conn.close();
      await drained.catch(() => {});
    } finally {
      await p.cleanup();
    }
  });

  Deno.test(`data layer (${name}) settles a send in flight when closed`, async () => {
    const p = await setup();
    try {
      const out = newBuf(65536);
      for (let i = 0; i < 400 && p.conn.ioPending === 0; i++) {
        out.head = 0;
        out.out = 65536;
        p.conn.xprt.sndBuf(p.conn, out);
        await new Promise((r) => setTimeout(r, 1));
      }
      assert.equal(p.conn.ioPending, 1);
      p.conn.close();
      await waitFor(() => p.conn.ioPending === 0, 2000, "send settled");
      assert.equal(out.sndPending, 0);
    } finally {
      await p.cleanup();
    }
  });
}
