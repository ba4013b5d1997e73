/**
 * The HTTP worker's side of a connection whose TLS runs in a TLS worker
 * (`tls-isolation`): `RING_SOCK`, a data layer over two shared-memory rings
 * instead of a socket, and `RingAccepted`, what a listener gets in place of
 * an accepted socket.
 *
 * The rings are the connection's own SharedArrayBuffer: up (client to
 * here, written by the TLS worker) then down (here to client). Receiving
 * copies from the up ring straight into the stream's buffer; sending
 * copies the buffer's output into the down ring, so a send completes at
 * once unless the ring is full (then CO_FL_WR_PENDING waits for a room
 * bell, as a full socket waits for EPOLLOUT in ffi_sock.ts). Shutting the
 * write side finishes the down ring; closing rings CLOSE (after a
 * shutdown: the TLS worker sends what is left, then close_notify and FIN)
 * or ABORT.
 *
 * @module
 */
import { ByteRing, RING_HEADER } from "../core/byte_ring.ts";
import type { Buf } from "../buf/buffer.ts";
import type { Connection } from "./connection.ts";
import {
  CO_FL_ERROR,
  CO_FL_RD_PENDING,
  CO_FL_SOCK_WR_SH,
  CO_FL_WR_PENDING,
  type DataLayer,
} from "./conn_types.ts";
import {
  BELL_ABORT,
  BELL_CLOSE,
  BELL_DATA,
  BELL_ROOM,
  type RingConnMsg,
  type RingLink,
  type RingPeer,
} from "./ring_link.ts";
import { tlsInfoFromFacts } from "./tls_bind.ts";
import type { PpAddr } from "./proxy_proto.ts";

/** Where the second ring of a connection's SharedArrayBuffer starts. */
export function ringDownOffset(cap: number): number {
  return RING_HEADER + cap;
}

/** The SharedArrayBuffer of a connection's two rings of `cap` bytes each. */
export function ringPair(cap: number): SharedArrayBuffer {
  return new SharedArrayBuffer(2 * ByteRing.bytes(cap));
}

/** The HTTP worker's end of one connection: its rings, its link, its connection. */
export class RingEnd implements RingPeer {
  readonly id: number;
  readonly link: RingLink;
  /** Client to here. */
  readonly up: ByteRing;
  /** Here to client. */
  readonly down: ByteRing;
  conn: Connection | null = null;
  /** The other side went away before this one closed. */
  gone = false;

  constructor(link: RingLink, m: RingConnMsg) {
    this.id = m.id;
    this.link = link;
    this.up = new ByteRing(m.sab, 0, m.cap);
    this.down = new ByteRing(m.sab, ringDownOffset(m.cap), m.cap);
    tlsInfoFromFacts(this, m.tls);
    link.peers.set(m.id, this);
  }

  bell(kind: number): void {
    const conn = this.conn;
    // The TLS side only aborts (its client went away): CLOSE goes the other way.
    if (kind === BELL_ABORT) {
      this.gone = true;
      this.link.peers.delete(this.id);
      if (conn !== null) {
        conn.sockError(
          Object.assign(new Error("connection reset by peer"), { code: "ECONNRESET" }),
        );
      }
      return;
    }
    if (conn === null) return;
    if (kind === BELL_DATA) {
      if (conn.flags & CO_FL_RD_PENDING) pull(this, conn);
    } else if (kind === BELL_ROOM && (conn.flags & CO_FL_WR_PENDING)) {
      push(this, conn, conn.sndResume());
    }
  }
}

/**
 * A connection a TLS worker handed over, as a listener sees an accepted
 * socket (addresses, `destroy()`), until a Connection takes its end.
 */
export class RingAccepted {
  end: RingEnd | null;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Addresses of a PROXY header the TLS worker read, or null. */
  readonly proxied: { src: PpAddr | null; dst: PpAddr | null } | null;

  constructor(link: RingLink, m: RingConnMsg) {
    this.end = new RingEnd(link, m);
    this.remoteAddress = m.src;
    this.remotePort = m.srcPort;
    this.localAddress = m.dst;
    this.localPort = m.dstPort;
    this.proxied = m.proxied;
  }

  /** Closed (refused, dropped, or its client went away) before a connection took it. */
  get destroyed(): boolean {
    return this.end === null || this.end.gone;
  }

  /** Closes it: the TLS worker closes the client connection. */
  destroy(): void {
    const end = this.end;
    if (end === null) return;
    this.end = null;
    end.link.peers.delete(end.id);
    if (!end.gone) end.link.bell(end.id, BELL_ABORT);
  }

  /** Errors of a parked connection surface when it is served. */
  on(): this {
    return this;
  }

  off(): this {
    return this;
  }
}

/**
 * Copies what the up ring holds into the receive buffer until either is
 * exhausted; an empty ring after the producer finished is the client's end.
 */
function pull(end: RingEnd, conn: Connection): void {
  const buf = conn.rbuf!;
  const ring = end.up;
  let total = 0, eof = false;
  for (;;) {
    const view = buf.rcvView();
    if (view.length === 0) {
      buf.lastChunk = total + 1;
      conn.rcvStopped();
      break;
    }
    // The flag first: it is set after the last write (byte_ring.ts).
    const fin = ring.finished();
    const n = ring.read(view);
    if (n > 0) {
      buf.rcvCommit(n);
      total += n;
      if (n === view.length) continue;
    }
    buf.lastChunk = total;
    eof = fin && ring.avail() === 0;
    break;
  }
  if (total > 0) {
    if (ring.takeBlocked()) end.link.bell(end.id, BELL_ROOM);
    conn.rcvDone(total);
  }
  if (eof) conn.rcvEof();
}

/** Copies the output of `buf` into the down ring; a full ring waits for room. */
function push(end: RingEnd, conn: Connection, buf: Buf): void {
  const ring = end.down;
  let sent = 0;
  for (;;) {
    const view = buf.sndView();
    if (view.length === 0) break;
    const n = ring.write(view);
    if (n > 0) {
      buf.sndCommit(n);
      sent += n;
      if (n === view.length) continue;
    }
    if (ring.block()) continue;
    // Full: the rest goes on a room bell.
    conn.sndStarted(buf, buf.out);
    break;
  }
  if (sent > 0) {
    end.link.bell(end.id, BELL_DATA);
    conn.sent += sent;
    conn.wake();
  }
}

function endOf(conn: Connection): RingEnd {
  return conn.app as RingEnd;
}

function ringAttach(conn: Connection): void {
  endOf(conn).conn = conn;
}

function ringConnect(): void {
  throw new Error("a ring connection cannot connect");
}

function ringRcvBuf(conn: Connection, buf: Buf): void {
  conn.rcvStarted(buf);
  const end = endOf(conn);
  if (end.gone && end.up.avail() === 0) {
    conn.sockError(Object.assign(new Error("connection reset by peer"), { code: "ECONNRESET" }));
    return;
  }
  pull(end, conn);
}

function ringRcvStop(conn: Connection): void {
  conn.rcvStopped();
}

function ringSndBuf(conn: Connection, buf: Buf): void {
  push(endOf(conn), conn, buf);
}

function ringShutw(conn: Connection): void {
  const end = endOf(conn);
  end.down.finish();
  end.link.bell(end.id, BELL_DATA);
}

function ringClose(conn: Connection): void {
  const end = endOf(conn);
  conn.app = null;
  end.conn = null;
  end.link.peers.delete(end.id);
  if (end.gone) return;
  end.gone = true;
  const graceful = (conn.flags & (CO_FL_SOCK_WR_SH | CO_FL_ERROR)) === CO_FL_SOCK_WR_SH;
  end.link.bell(end.id, graceful ? BELL_CLOSE : BELL_ABORT);
}

/** Plaintext through shared-memory rings to a TLS worker. */
export const RING_SOCK: DataLayer = {
  name: "ring",
  attach: ringAttach,
  connect: ringConnect,
  rcvBuf: ringRcvBuf,
  rcvStop: ringRcvStop,
  sndBuf: ringSndBuf,
  shutw: ringShutw,
  close: ringClose,
};
