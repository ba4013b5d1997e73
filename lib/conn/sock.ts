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
 * Receives are armed one at a time: `resume()` when armed, `pause()` as
 * soon as one chunk arrived. Chunks are copied into the armed room; a chunk
 * larger than the room keeps its tail for the next receive. (Node's `onread`
 * option would read without allocating, but Deno asks for the target before
 * the read is armed, when the room may still move: see docs/architecture.md.)
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
  if (sock[REST] || !(conn.flags & CO_FL_RD_PENDING)) sock[EOF] = true;
  else conn.rcvEof();
}

function onError(this: Socket, err: Error): void {
  connOf(this)?.sockError(err);
}

/** Places `chunk` into the armed room; keeps what does not fit. */
function deliver(sock: SockExt, conn: Connection, chunk: Uint8Array): void {
  const view = conn.rbuf!.rcvView();
  const n = chunk.length <= view.length ? chunk.length : view.length;
  view.set(n === chunk.length ? chunk : chunk.subarray(0, n));
  sock[REST] = n < chunk.length ? chunk.subarray(n) : null;
  conn.rcvDone(n);
}

function onData(this: Socket, chunk: Uint8Array): void {
  const sock = this as SockExt;
  sock.pause();
  const conn = sock[CONN];
  if (!conn || (conn.flags & CO_FL_CLOSED)) return;
  if (!(conn.flags & CO_FL_RD_PENDING)) {
    // Not armed (should not happen while paused): keep the bytes for later.
    const rest = sock[REST];
    if (rest) {
      const both = new Uint8Array(rest.length + chunk.length);
      both.set(rest);
      both.set(chunk, rest.length);
      sock[REST] = both;
    } else sock[REST] = chunk.slice();
    return;
  }
  deliver(sock, conn, chunk);
}

/**
 * Makes `conn` the owner of `conn.sock` for data: error, end and chunk
 * handlers, and the write callback. The socket is left paused until a
 * receive is armed.
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

/** Arms one receive into the room of `buf`. */
export function sockRcvBuf(conn: Connection, buf: Buf): void {
  const sock = conn.sock as SockExt;
  conn.rcvStarted(buf);
  const rest = sock[REST];
  if (rest) deliver(sock, conn, rest);
  else if (sock[EOF]) conn.rcvEof();
  else sock.resume();
}

/** Sends the contiguous output of `buf`. */
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
