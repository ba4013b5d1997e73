/**
 * A connection: one socket, its flags and error code, the data layer that
 * moves its bytes, and the handshake layer (if any) that must finish first.
 *
 * Sockets are `node:net` sockets (see conn/sock.ts for why). Received bytes
 * are copied into the receive buffer as they arrive and counted in `rcvd`.
 * Sends are handed to the runtime without a copy, one at a time (the runtime
 * would otherwise queue them without bound): the bytes stay in the buffer,
 * untouched, until the runtime reports them written, and only then leave it
 * and count in `sent`. Events wake the owner task, which reads and resets the
 * counters when it runs; after `close()` they only settle the bookkeeping.
 *
 * @module
 */
import type { Socket } from "node:net";
import { errMsg } from "../core/errors.ts";
import type { Buf } from "../buf/buffer.ts";
import type { Scheduler } from "../sched/scheduler.ts";
import type { Task } from "../sched/task.ts";
import { TASK_WOKEN_IO } from "../sched/task_types.ts";
import {
  CO_ER_BROKEN_PIPE,
  CO_ER_NOT_FOUND,
  CO_ER_OTHER,
  CO_ER_PERM,
  CO_ER_REFUSED,
  CO_ER_RESET,
  CO_ER_TIMEOUT,
  CO_ER_TLS,
  CO_ER_UNREACH,
  CO_FL_CLOSED,
  CO_FL_CONNECTED,
  CO_FL_ERROR,
  CO_FL_HANDSHAKE,
  CO_FL_RD_PENDING,
  CO_FL_SOCK_RD_SH,
  CO_FL_SOCK_WR_SH,
  CO_FL_WAIT_L4_CONN,
  CO_FL_WR_PENDING,
  type DataLayer,
  type HandshakeLayer,
} from "./conn_types.ts";
import { sockAdopt } from "./sock.ts";
import { FfiAccepted } from "./ffi_listen.ts";
import { RingAccepted } from "./ring_sock.ts";
import type { FfiSock } from "./ffi_sock.ts";
import type { PpAddr } from "./proxy_proto.ts";

const ERR_CODES: Record<string, number> = {
  ECONNREFUSED: CO_ER_REFUSED,
  ECONNRESET: CO_ER_RESET,
  ECONNABORTED: CO_ER_RESET,
  ECANCELED: CO_ER_RESET,
  EPIPE: CO_ER_BROKEN_PIPE,
  EHOSTUNREACH: CO_ER_UNREACH,
  ENETUNREACH: CO_ER_UNREACH,
  EADDRNOTAVAIL: CO_ER_UNREACH,
  ENOENT: CO_ER_NOT_FOUND,
  ENOTFOUND: CO_ER_NOT_FOUND,
  EAI_AGAIN: CO_ER_NOT_FOUND,
  EACCES: CO_ER_PERM,
  EPERM: CO_ER_PERM,
  ETIMEDOUT: CO_ER_TIMEOUT,
};

/** Maps a socket error (Node-style `code`) to a CO_ER_* code. */
export function connErrCode(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") {
    const c = ERR_CODES[code];
    if (c !== undefined) return c;
    if (
      code.startsWith("ERR_SSL") || code.startsWith("ERR_TLS") ||
      code.includes("CERT") || code.includes("VERIFY") || code.includes("SIGNATURE")
    ) return CO_ER_TLS;
  }
  if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
    return CO_ER_PERM;
  }
  return CO_ER_OTHER;
}

/** One socket and its layers. */
export class Connection {
  /** CO_FL_* bits. */
  flags = 0;
  /** CO_ER_* code of the first error. */
  errCode = 0;
  /** Message of the first error, for event logs (never sent to peers). */
  errMsg = "";
  /** The socket, once accepted or connected (the TLS socket after a handshake). */
  sock: Socket | null = null;
  /** The file descriptor of an FFI connection (ffi_sock.ts), or -1. */
  fd = -1;
  /** The FFI side of the connection (its readiness), or null. */
  ffi: FfiSock | null = null;
  /**
   * The in-process peer its data layer talks to instead of a socket (a
   * static backend's request state), or null.
   */
  app: object | null = null;
  /** Moves bytes. */
  readonly xprt: DataLayer;
  /** Runs before data may flow, or null. */
  readonly hs: HandshakeLayer | null;
  /** Bytes received since the owner last looked. */
  rcvd = 0;
  /**
   * Times a server connection was taken from an idle pool: one or more
   * proves the server keeps connections alive (`http-reuse aggressive`).
   */
  reuses = 0;
  /** Bytes sent since the owner last looked. */
  sent = 0;
  /**
   * Sends in flight (0 or 1). Their bytes are still read by the runtime, so
   * the buffer must not be reused until this is 0.
   */
  ioPending = 0;
  /**
   * Addresses a PROXY protocol header gave (`accept-proxy`), until the owner
   * takes them; `src` null means the real connection's (LOCAL, UNKNOWN).
   */
  proxied: { src: PpAddr | null; dst: PpAddr | null } | null = null;
  /** The PROXY header to send first on a server connection (`send-proxy`), or null. */
  ppOut: Uint8Array | null = null;
  /**
   * The name a server connection sends as SNI and verifies, when the server
   * computes it per request (`sni EXPR`; "" for none); null: the server's.
   */
  tlsName: string | null = null;
  /** Task woken by completions; set by the owner before any I/O starts. */
  owner!: Task;
  /** Buffer received bytes go into while receiving is on. */
  rbuf: Buf | null = null;
  /** Buffer the send in flight reads from. */
  wbuf: Buf | null = null;
  #sched: Scheduler;

  constructor(sched: Scheduler, xprt: DataLayer, hs: HandshakeLayer | null = null) {
    this.#sched = sched;
    this.xprt = xprt;
    this.hs = hs;
  }

  /** True once data may flow: connected, no handshake pending, no error. */
  isReady(): boolean {
    return (this.flags & (CO_FL_CONNECTED | CO_FL_HANDSHAKE | CO_FL_ERROR | CO_FL_CLOSED)) ===
      CO_FL_CONNECTED;
  }

  /** Wakes the owner for I/O (also after close: it may wait to release buffers). */
  wake(): void {
    this.#sched.wakeup(this.owner, TASK_WOKEN_IO);
  }

  /** Records the first error and wakes the owner. */
  setError(code: number, err: unknown): void {
    if (this.flags & CO_FL_CLOSED) return;
    if (!(this.flags & CO_FL_ERROR)) {
      this.flags |= CO_FL_ERROR;
      this.errCode = code;
      this.errMsg = errMsg(err);
    }
    this.wake();
  }

  /** Adopts an accepted socket; a handshake layer then starts at once. */
  attachAccepted(sock: Socket | FfiAccepted | RingAccepted): void {
    if (sock instanceof FfiAccepted) {
      this.fd = sock.fd;
      sock.fd = -1;
    } else if (sock instanceof RingAccepted) {
      // TLS (and any PROXY header) ran in a TLS worker: plaintext from here.
      this.app = sock.end;
      this.proxied = sock.proxied;
      sock.end = null;
    } else {
      this.sock = sock;
      sockAdopt(this, sock);
    }
    this.flags |= CO_FL_CONNECTED;
    if (this.hs) {
      this.flags |= CO_FL_HANDSHAKE;
      this.hs.start(this);
    } else this.xprt.attach(this);
  }

  /** Marks the L4 connect as started (the data layer's `connect` does it). */
  connectStarted(): void {
    this.flags |= CO_FL_WAIT_L4_CONN;
  }

  /** The L4 connect completed: start the handshake or become ready. */
  connected(): void {
    if (this.flags & CO_FL_CLOSED) return;
    this.flags = (this.flags & ~CO_FL_WAIT_L4_CONN) | CO_FL_CONNECTED;
    if (this.hs) {
      this.flags |= CO_FL_HANDSHAKE;
      this.hs.start(this);
    } else this.xprt.attach(this);
    this.wake();
  }

  /** The handshake layer finished; `sock` is now the socket data flows on. */
  handshakeDone(sock: Socket): void {
    if (this.flags & CO_FL_CLOSED) {
      sock.destroy();
      return;
    }
    this.sock = sock;
    this.flags &= ~CO_FL_HANDSHAKE;
    this.xprt.attach(this);
    this.wake();
  }

  /** Called by the data layer when it starts receiving into `buf`. */
  rcvStarted(buf: Buf): void {
    this.flags |= CO_FL_RD_PENDING;
    this.rbuf = buf;
  }

  /** Called by the data layer when it stops receiving (`rbuf` is full). */
  rcvStopped(): void {
    this.flags &= ~CO_FL_RD_PENDING;
    this.rbuf = null;
  }

  /** `n` bytes were placed (and committed) in `rbuf`. */
  rcvDone(n: number): void {
    this.rcvd += n;
    this.wake();
  }

  /** The peer closed its write side (end of stream). */
  rcvEof(): void {
    this.rcvStopped();
    this.flags |= CO_FL_SOCK_RD_SH;
    this.wake();
  }

  /** Called by the data layer when it hands `n` bytes of `buf` to the socket. */
  sndStarted(buf: Buf, n: number): void {
    this.flags |= CO_FL_WR_PENDING;
    this.ioPending++;
    buf.sndPending = n;
    this.wbuf = buf;
  }

  /**
   * A data layer whose sends complete at once (FFI, rings) takes back the
   * send that waited for room (`sndStarted(buf, buf.out)`), to send it now.
   */
  sndResume(): Buf {
    const buf = this.wbuf!;
    this.flags &= ~CO_FL_WR_PENDING;
    this.ioPending--;
    buf.sndPending = 0;
    this.wbuf = null;
    return buf;
  }

  /** The send in flight was written (or failed with `err`, or was cancelled by close). */
  sndDone(err: unknown): void {
    if (!(this.flags & CO_FL_WR_PENDING)) return;
    const buf = this.wbuf!;
    const n = buf.sndPending;
    this.flags &= ~CO_FL_WR_PENDING;
    this.ioPending--;
    buf.sndPending = 0;
    this.wbuf = null;
    if (err) {
      this.setError(connErrCode(err), err);
      this.wake(); // also after close: the owner may be waiting to release
      return;
    }
    buf.sndCommit(n);
    this.sent += n;
    this.wake();
  }

  /** A socket error: stops receiving, records the error. */
  sockError(err: unknown): void {
    this.rcvStopped();
    this.setError(connErrCode(err), err);
  }

  /** Shuts our write side once (FIN after pending data). */
  shutw(): void {
    if (this.flags & (CO_FL_SOCK_WR_SH | CO_FL_CLOSED)) return;
    this.flags |= CO_FL_SOCK_WR_SH;
    if (this.sock !== null || this.fd >= 0 || this.app !== null) this.xprt.shutw(this);
  }

  /**
   * Closes the socket once. Receiving stops, and a send in flight is settled
   * at once (its bytes stay counted as output, which the caller drops): the
   * socket is gone, so the runtime can no longer send them anywhere, and the
   * late cancellation report is ignored.
   */
  close(): void {
    if (this.flags & CO_FL_CLOSED) return;
    this.flags |= CO_FL_CLOSED;
    this.rcvStopped();
    if (this.flags & CO_FL_WR_PENDING) {
      this.flags &= ~CO_FL_WR_PENDING;
      this.ioPending--;
      this.wbuf!.sndPending = 0;
      this.wbuf = null;
    }
    if (this.sock !== null || this.fd >= 0 || this.app !== null) this.xprt.close(this);
  }
}
