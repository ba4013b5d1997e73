/**
 * The FFI data layer: plain TCP sockets driven through libc (socket, accept4,
 * connect, recv, send, shutdown, close) and the thread's epoll set
 * (ffi/poller.ts), instead of node:net. Opt-in (`global.io: "ffi"`,
 * `--io ffi`); TLS, PROXY protocol and unix sockets stay on node:net.
 *
 * Why: per request, node:net costs ~2 µs more than Deno.Conn and four
 * `recvfrom` calls (it reads until EAGAIN), and Deno.Conn is unfair at 1,000
 * connections (docs/architecture.md). Here I/O is synchronous and exact:
 *
 * - **Receiving** goes straight into the ring's free room (no chunk
 *   allocation, no copy). One `recv` per readiness edge: a short read means
 *   the socket is drained (TCP hands over all it has, up to the room); a
 *   read that fills the room may have left bytes, so the socket stays marked
 *   readable and the next `rcvBuf()` reads at once without waiting for an
 *   edge that would never come.
 * - **Sending** hands the contiguous output to the kernel, which copies it:
 *   sent bytes leave the ring at once, no send stays "in flight" holding the
 *   buffer. Only a full socket (EAGAIN or a short send) sets
 *   CO_FL_WR_PENDING until the EPOLLOUT edge, which sends the rest.
 * - **Connecting** is non-blocking; the EPOLLOUT edge (or an error) ends it.
 *
 * Needs `--allow-ffi`, which takes this thread out of Deno's permission
 * sandbox (libc can do anything): see README.
 *
 * @module
 */
import type { Buf } from "../buf/buffer.ts";
import type { Address } from "../core/addr_types.ts";
import { type Connection, connErrCode } from "./connection.ts";
import {
  CO_FL_CLOSED,
  CO_FL_ERROR,
  CO_FL_RD_PENDING,
  CO_FL_WR_PENDING,
  type DataLayer,
} from "./conn_types.ts";
import {
  AF_INET,
  AF_INET6,
  EAGAIN,
  EINPROGRESS,
  EINTR,
  EPOLLERR,
  EPOLLHUP,
  EPOLLOUT,
  EPOLLRDHUP,
  errno,
  fdClose,
  fdOpened,
  libc,
  MSG_NOSIGNAL,
  SHUT_WR,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  sockaddrOf,
  soError,
  SysError,
  tcpNoDelay,
} from "./ffi/libc.ts";
import { type IoHandler, poller } from "./ffi/poller.ts";

/** The FFI side of a connection: its fd and what the edges said. */
export class FfiSock implements IoHandler {
  gen = 0;
  readonly conn: Connection;
  fd: number;
  /** A readable edge came and the socket may still hold bytes. */
  rdReady = false;
  /** The non-blocking connect has not completed yet. */
  connecting = false;
  /** The peer shut its side (EPOLLRDHUP, EPOLLHUP): an EOF waits after the data. */
  rdhup = false;

  constructor(conn: Connection, fd: number) {
    this.conn = conn;
    this.fd = fd;
  }

  ioEvent(events: number): void {
    const conn = this.conn;
    if (conn.flags & CO_FL_CLOSED) return;
    if (this.connecting) {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      connectDone(this);
      // The server may have spoken (and closed) in the same edge.
      if (conn.flags & CO_FL_ERROR) return;
    } else if (events & EPOLLERR) {
      const e = soError(this.fd);
      if (e !== 0) {
        conn.sockError(new SysError("socket", e));
        return;
      }
    }
    // EPOLLIN, EPOLLRDHUP and EPOLLHUP all mean "recv has something to say".
    if (events & ~EPOLLOUT) {
      this.rdReady = true;
      if (events & (EPOLLRDHUP | EPOLLHUP)) this.rdhup = true;
      if (conn.flags & CO_FL_RD_PENDING) rcvNow(this);
    }
    if ((events & EPOLLOUT) && (conn.flags & CO_FL_WR_PENDING)) {
      sndNow(conn, this, conn.sndResume());
    }
  }
}

function fail(conn: Connection, err: SysError): void {
  conn.setError(connErrCode(err), err);
}

function connectDone(s: FfiSock): void {
  s.connecting = false;
  const e = soError(s.fd);
  if (e !== 0) fail(s.conn, new SysError("connect", e));
  else s.conn.connected();
}

/**
 * Receives into the room of the armed buffer until the socket is drained
 * (a short read), the buffer is full (the socket stays marked readable), or
 * the peer's EOF or an error. Usually one `recv`: a second one only when the
 * ring wraps, or to collect an EOF that came with the data (the edge that
 * announced both will not come again).
 */
function rcvNow(s: FfiSock): void {
  const conn = s.conn;
  const buf = conn.rbuf!;
  const l = libc();
  let total = 0, eof = false, err = 0;
  for (;;) {
    const view = buf.rcvView();
    const len = view.length;
    if (len === 0) {
      // Full: more may wait, tell the stream this producer sends in bulk
      // (more than fitted), as a node:net chunk would.
      buf.lastChunk = total + 1;
      conn.rcvStopped();
      break;
    }
    const n = l.recv(s.fd, view, len, 0);
    if (n > 0) {
      buf.rcvCommit(n);
      total += n;
      if (n === len || s.rdhup) continue;
      s.rdReady = false;
      buf.lastChunk = total;
      break;
    }
    if (n === 0) {
      eof = true;
      buf.lastChunk = total;
      break;
    }
    const e = errno();
    if (e === EINTR) continue;
    s.rdReady = false;
    buf.lastChunk = total;
    if (e !== EAGAIN) err = e;
    break;
  }
  if (total > 0) conn.rcvDone(total);
  if (eof) {
    s.rdReady = false;
    conn.rcvEof();
  } else if (err !== 0) conn.sockError(new SysError("recv", err));
}

/**
 * Sends the output of `buf` until it is all out or the socket is full (then
 * waits for EPOLLOUT with CO_FL_WR_PENDING set).
 */
function sndNow(conn: Connection, s: FfiSock, buf: Buf): void {
  const l = libc();
  let sent = 0;
  for (;;) {
    const view = buf.sndView();
    const len = view.length;
    if (len === 0) break;
    const n = l.send(s.fd, view, len, MSG_NOSIGNAL);
    if (n < 0) {
      const e = errno();
      if (e === EINTR) continue;
      if (e !== EAGAIN) {
        fail(conn, new SysError("send", e));
        return;
      }
    } else {
      buf.sndCommit(n);
      sent += n;
      if (n === len) continue;
    }
    // Full: the rest goes when the socket drains.
    conn.sndStarted(buf, buf.out);
    break;
  }
  if (sent > 0) {
    conn.sent += sent;
    conn.wake();
  }
}

/**
 * Registers an accepted fd's connection with the poller (a connected one is
 * already). Its first receive is speculative, as in HAProxy: a client
 * usually speaks first, often before the registration reports it.
 */
function ffiAttach(conn: Connection): void {
  if (conn.ffi !== null) return;
  const s = new FfiSock(conn, conn.fd);
  s.rdReady = true;
  conn.ffi = s;
  poller().register(s.fd, s);
}

function ffiRcvBuf(conn: Connection, buf: Buf): void {
  conn.rcvStarted(buf);
  const s = conn.ffi!;
  if (s.rdReady) rcvNow(s);
}

function ffiRcvStop(conn: Connection): void {
  conn.rcvStopped();
}

function ffiSndBuf(conn: Connection, buf: Buf): void {
  sndNow(conn, conn.ffi!, buf);
}

function ffiShutw(conn: Connection): void {
  libc().shutdown(conn.fd, SHUT_WR);
}

function ffiClose(conn: Connection): void {
  const fd = conn.fd;
  if (fd < 0) return;
  conn.fd = -1;
  if (conn.ffi !== null) poller().unregister(fd, true);
  fdClose(fd);
}

/** Kernel socket addresses of servers, made once per address. */
const SOCKADDRS = new Map<string, Uint8Array>();

/** Starts a non-blocking connect to `addr` (an IP literal; see `ffiCanConnect`). */
function ffiConnect(conn: Connection, addr: Address): void {
  conn.connectStarted();
  if (addr.kind !== "tcp") throw new Error("ffi connect needs a TCP address");
  const key = `${addr.host}|${addr.port}`;
  let sa = SOCKADDRS.get(key);
  if (sa === undefined) {
    sa = sockaddrOf(addr.host, addr.port)!;
    SOCKADDRS.set(key, sa);
  }
  const l = libc();
  const fd = l.socket(
    sa.length === 16 ? AF_INET : AF_INET6,
    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
    0,
  );
  if (fd < 0) {
    fail(conn, new SysError("socket", errno()));
    return;
  }
  fdOpened(fd);
  tcpNoDelay(fd);
  conn.fd = fd;
  const s = new FfiSock(conn, fd);
  conn.ffi = s;
  poller().register(fd, s);
  let r: number;
  do r = l.connect(fd, sa, sa.length); while (r < 0 && errno() === EINTR);
  if (r === 0) {
    conn.connected();
    return;
  }
  const e = errno();
  if (e === EINPROGRESS) s.connecting = true;
  else fail(conn, new SysError("connect", e, `${addr.host}:${addr.port}`));
}

/** True when the FFI layer can connect to `addr` (a TCP address with an IP literal host). */
export function ffiCanConnect(addr: Address): boolean {
  return addr.kind === "tcp" && sockaddrOf(addr.host, addr.port) !== null;
}

/** Plain TCP through libc and epoll. */
export const FFI_SOCK: DataLayer = {
  name: "ffi",
  attach: ffiAttach,
  connect: ffiConnect,
  rcvBuf: ffiRcvBuf,
  rcvStop: ffiRcvStop,
  sndBuf: ffiSndBuf,
  shutw: ffiShutw,
  close: ffiClose,
};
