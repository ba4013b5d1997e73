/**
 * Socket glue: how a connection drives a `node:net` (or `node:tls`) socket.
 *
 * Why node:net and not `Deno.Conn`: with one `read()` promise per socket,
 * Deno polls each new read eagerly, so a connection whose data is already
 * there is served again at once while connections that need the reactor to
 * notice them wait for it; under load at 1000 connections some waited
 * seconds (measured: per-connection request counts from 3 to 460 in one run,
 * p99 over 1 s, with the JS scheduler unable to change which reads complete).
 * node:net sockets in Deno are readiness-driven like libuv and were served
 * evenly in the same test (p99 ~80 ms, counts 134..135). See docs/architecture.md.
 *
 * Receiving, once started, goes on while the receive buffer has room: each
 * chunk Node delivers is copied into the buffer at once (the copy is
 * synchronous, so buffer bytes never change behind the stream's back) and the
 * owner is woken. A chunk larger than the room keeps its tail aside, the
 * socket is paused, and receiving stops until the stream has room again.
 * (Pausing after every chunk instead cost an extra event-loop turn and two
 * poll registrations per read. Node's `onread` option would avoid the
 * allocation of each chunk, but Deno asks for its target buffer ahead of
 * time, when the room may still move.)
 *
 * @module
 */
import net, { type Socket } from "node:net";
import type { Buf } from "../buf/buffer.ts";
import type { Address } from "../core/addr_types.ts";
import type { Connection } from "./connection.ts";
import { CO_FL_CLOSED, CO_FL_ERROR, CO_FL_RD_PENDING, CO_FL_SOCK_WR_SH } from "./conn_types.ts";

/** The connection a socket belongs to (shared listeners read it from `this`). */
const CONN = Symbol("sluice.conn");
/** Received bytes not yet placed in a buffer. */
const REST = Symbol("sluice.rest");
/** The write-completion callback, made once per connection. */
const WRITTEN = Symbol("sluice.written");

/** The peer's EOF arrived while bytes were still held or no receive was armed. */
const EOF = Symbol("sluice.eof");

type SockExt = Socket & {
  [EOF]?: boolean;
  [CONN]?: Connection;
  [REST]?: Uint8Array | null;
  [WRITTEN]?: (err?: Error | null) => void;
};

function connOf(sock: Socket): Connection | undefined {
  return (sock as SockExt)[CONN];
}

function onEnd(this: Socket): void {
  // Node emits 'end' even while paused once its own buffer is empty, so the
  // EOF may overtake bytes we still hold: report it only after them.
  const sock = this as SockExt;
  const conn = sock[CONN];
  if (!conn || (conn.flags & CO_FL_CLOSED)) return;
  if (sock[REST] || !(conn.flags & CO_FL_RD_PENDING)) {
    sock[EOF] = true;
    conn.wake();
  } else conn.rcvEof();
}

function onError(this: Socket, err: Error): void {
  connOf(this)?.sockError(err);
}

/**
 * Copies what fits of `chunk` into the receive buffer; keeps the rest aside
 * and stops receiving when it does not all fit.
 */
function deliver(sock: SockExt, conn: Connection, chunk: Uint8Array): void {
  const buf = conn.rbuf!;
  const n = buf.putIn(chunk);
  buf.lastChunk = chunk.length;
  if (n < chunk.length) {
    sock[REST] = chunk.subarray(n);
    sock.pause();
    conn.rcvStopped();
  } else sock[REST] = null;
  if (n > 0) conn.rcvDone(n);
}

function onData(this: Socket, chunk: Uint8Array): void {
  const sock = this as SockExt;
  const conn = sock[CONN];
  if (!conn || (conn.flags & CO_FL_CLOSED)) {
    sock.pause();
    return;
  }
  if (!(conn.flags & CO_FL_RD_PENDING)) {
    // Not receiving (Node read ahead while paused): keep the bytes aside.
    sock.pause();
    const rest = sock[REST];
    if (rest) {
      const both = new Uint8Array(rest.length + chunk.length);
      both.set(rest);
      both.set(chunk, rest.length);
      sock[REST] = both;
    } else sock[REST] = chunk;
    conn.wake();
    return;
  }
  deliver(sock, conn, chunk);
}

/**
 * Makes `conn` the owner of `conn.sock` for data: error, end and chunk
 * handlers, and the write callback. The socket is left paused until
 * receiving starts.
 */
export function sockAttach(conn: Connection): void {
  const s = conn.sock as SockExt;
  s[CONN] = conn;
  s[REST] ??= null;
  s[WRITTEN] = (err) => conn.sndDone(err);
  // Pause before adding a 'data' listener, or Node starts flowing.
  s.pause();
  if (!s.listeners("error").includes(onError)) s.on("error", onError);
  s.on("end", onEnd);
  s.on("data", onData);
}

/** Adopts `sock` for `conn` before any data layer is attached (errors only). */
export function sockAdopt(conn: Connection, sock: Socket): void {
  (sock as SockExt)[CONN] = conn;
  sock.on("error", onError);
}

/** Starts receiving into the room of `buf` (bytes kept aside go first). */
export function sockRcvBuf(conn: Connection, buf: Buf): void {
  const sock = conn.sock as SockExt;
  conn.rcvStarted(buf);
  const rest = sock[REST];
  if (rest) {
    deliver(sock, conn, rest);
    if (sock[REST]) return;
  }
  if (sock[EOF]) conn.rcvEof();
  else if (sock.isPaused()) sock.resume();
}

/**
 * Stops receiving. The socket is not paused here (pausing and resuming cost
 * two poll registrations): bytes that still arrive are kept aside and pause
 * it then.
 */
export function sockRcvStop(conn: Connection): void {
  conn.rcvStopped();
}

/**
 * Sends the contiguous output of `buf`, without copying: the runtime reads
 * the bytes until the write callback (Deno's accepted and TLS sockets do, the
 * contract suite checks that the buffer is left alone until then).
 */
export function sockSndBuf(conn: Connection, buf: Buf): void {
  const view = buf.sndView();
  conn.sndStarted(buf, view.length);
  const sock = conn.sock as SockExt;
  sock.write(view, sock[WRITTEN]);
}

/** Half-closes: FIN (after close_notify for TLS) once queued data is out. */
export function sockShutw(conn: Connection): void {
  conn.sock!.end();
}

/**
 * Closes the socket: at once after an error or without a prior shutdown,
 * otherwise once the shutdown (TLS close_notify, FIN) is flushed.
 */
export function sockClose(conn: Connection): void {
  const sock = conn.sock!;
  if ((conn.flags & (CO_FL_SOCK_WR_SH | CO_FL_ERROR)) === CO_FL_SOCK_WR_SH) sock.destroySoon();
  else sock.destroy();
}

/** Starts a connect to `addr` for `conn`; `conn.connected()` follows. */
export function sockConnect(conn: Connection, addr: Address): void {
  conn.connectStarted();
  const sock: Socket = addr.kind === "unix"
    ? net.connect({ path: addr.path, allowHalfOpen: true })
    : net.connect({ host: addr.host, port: addr.port, allowHalfOpen: true, noDelay: true });
  conn.sock = sock;
  sockAdopt(conn, sock);
  sock.pause();
  sock.once("connect", () => conn.connected());
}
