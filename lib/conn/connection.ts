/**
 * A connection: one socket, its flags and error code, the data layer that
 * moves its bytes, and the handshake layer (if any) that must finish first.
 *
 * Deno's socket API is asynchronous, so the layers start operations and the
 * completions land here: they update the buffer and the counters (`rcvd`,
 * `sent`), set flags, and wake the owner task. The owner reads and resets the
 * counters when it runs. Completions arriving after `close()` only settle the
 * bookkeeping, so a closed connection never touches its owner's state.
 *
 * @module
 */
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

/** Maps a Deno I/O error to a CO_ER_* code. */
export function connErrCode(err: unknown): number {
  if (err instanceof Deno.errors.ConnectionRefused) return CO_ER_REFUSED;
  if (
    err instanceof Deno.errors.ConnectionReset ||
    err instanceof Deno.errors.ConnectionAborted
  ) return CO_ER_RESET;
  if (err instanceof Deno.errors.BrokenPipe) return CO_ER_BROKEN_PIPE;
  if (
    err instanceof Deno.errors.AddrNotAvailable ||
    err instanceof Deno.errors.NetworkUnreachable
  ) return CO_ER_UNREACH;
  if (err instanceof Deno.errors.NotFound) return CO_ER_NOT_FOUND;
  if (
    err instanceof Deno.errors.PermissionDenied ||
    err instanceof Deno.errors.NotCapable
  ) return CO_ER_PERM;
  if (err instanceof Deno.errors.TimedOut) return CO_ER_TIMEOUT;
  if (err instanceof Deno.errors.InvalidData) return CO_ER_TLS;
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
  /** The socket, once accepted or connected. */
  sock: Deno.Conn | null = null;
  /** Moves bytes. */
  readonly xprt: DataLayer;
  /** Runs before data may flow, or null. */
  readonly hs: HandshakeLayer | null;
  /** Bytes received since the owner last looked. */
  rcvd = 0;
  /** Bytes sent since the owner last looked. */
  sent = 0;
  /** Receives and sends in flight (each references a buffer). */
  ioPending = 0;
  /** Other operations in flight (connect, handshake, shutdown). */
  opsPending = 0;
  /** Task woken by completions; set by the owner before any I/O starts. */
  owner!: Task;
  #sched: Scheduler;
  #rbuf: Buf | null = null;
  #wbuf: Buf | null = null;

  constructor(
    sched: Scheduler,
    xprt: DataLayer,
    hs: HandshakeLayer | null = null,
  ) {
    this.#sched = sched;
    this.xprt = xprt;
    this.hs = hs;
  }

  /** True once data may flow: connected, no handshake pending, no error. */
  isReady(): boolean {
    return (this.flags &
      (CO_FL_CONNECTED | CO_FL_HANDSHAKE | CO_FL_ERROR | CO_FL_CLOSED)) ===
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
      this.errMsg = err instanceof Error ? err.message : String(err);
    }
    this.wake();
  }

  /**
   * Adopts an accepted socket. With a handshake layer the connection is not
   * ready until it completes.
   */
  attachAccepted(sock: Deno.Conn): void {
    this.sock = sock;
    this.flags |= CO_FL_CONNECTED;
    if (this.hs) {
      this.flags |= CO_FL_HANDSHAKE;
      this.hs.start(this);
    }
  }

  /** Starts connecting with `connect` (which resolves to the socket). */
  connect(connect: Promise<Deno.Conn>): void {
    this.flags |= CO_FL_WAIT_L4_CONN;
    this.opsPending++;
    connect.then(this.#onConnect, this.#onConnectErr);
  }

  /** Marks the handshake done (called by handshake layers). */
  handshakeDone(): void {
    this.flags &= ~CO_FL_HANDSHAKE;
    this.wake();
  }

  /** Called by the data layer when it starts a receive into `buf`. */
  rcvStarted(buf: Buf): void {
    this.flags |= CO_FL_RD_PENDING;
    this.ioPending++;
    buf.rcvPending = true;
    this.#rbuf = buf;
  }

  /** Called by the data layer when it starts sending `n` bytes of `buf`. */
  sndStarted(buf: Buf, n: number): void {
    this.flags |= CO_FL_WR_PENDING;
    this.ioPending++;
    buf.sndPending = n;
    this.#wbuf = buf;
  }

  /** Completion of a receive: `n` bytes, or null at end of stream. */
  onRcv = (n: number | null): void => {
    this.flags &= ~CO_FL_RD_PENDING;
    this.ioPending--;
    const buf = this.#rbuf!;
    buf.rcvPending = false;
    this.#rbuf = null;
    if (this.flags & CO_FL_CLOSED) return this.wake();
    if (n === null) this.flags |= CO_FL_SOCK_RD_SH;
    else {
      buf.rcvCommit(n);
      this.rcvd += n;
    }
    this.wake();
  };

  /** Failure of a receive. A TLS peer closing without close_notify is EOF. */
  onRcvErr = (err: unknown): void => {
    this.flags &= ~CO_FL_RD_PENDING;
    this.ioPending--;
    this.#rbuf!.rcvPending = false;
    this.#rbuf = null;
    if (this.flags & CO_FL_CLOSED) return this.wake();
    if (err instanceof Deno.errors.UnexpectedEof) {
      this.flags |= CO_FL_SOCK_RD_SH;
      return this.wake();
    }
    this.setError(connErrCode(err), err);
  };

  /** Completion of a send of `n` bytes. */
  onSnd = (n: number): void => {
    this.flags &= ~CO_FL_WR_PENDING;
    this.ioPending--;
    const buf = this.#wbuf!;
    buf.sndPending = 0;
    this.#wbuf = null;
    buf.sndCommit(n);
    this.sent += n;
    this.wake();
  };

  /** Failure of a send. */
  onSndErr = (err: unknown): void => {
    this.flags &= ~CO_FL_WR_PENDING;
    this.ioPending--;
    this.#wbuf!.sndPending = 0;
    this.#wbuf = null;
    if (this.flags & CO_FL_CLOSED) return this.wake();
    this.setError(connErrCode(err), err);
  };

  /** Settles an operation that does not touch buffers (shutdown, handshake). */
  onOpDone = (): void => {
    this.opsPending--;
    this.wake();
  };

  /** Failure of an operation that does not touch buffers. */
  onOpErr = (err: unknown): void => {
    this.opsPending--;
    this.setError(connErrCode(err), err);
  };

  /** Shuts our write side once (FIN). */
  shutw(): void {
    if (this.flags & (CO_FL_SOCK_WR_SH | CO_FL_CLOSED)) return;
    this.flags |= CO_FL_SOCK_WR_SH;
    if (this.sock) this.xprt.shutw(this);
  }

  /** Closes the socket once. In-flight operations then fail and are ignored. */
  close(): void {
    if (this.flags & CO_FL_CLOSED) return;
    this.flags |= CO_FL_CLOSED;
    if (this.sock) this.xprt.close(this);
  }

  #onConnect = (sock: Deno.Conn): void => {
    this.opsPending--;
    if (this.flags & CO_FL_CLOSED) {
      // Given up (connect timeout) before the connect completed.
      sock.close();
      return;
    }
    this.sock = sock;
    this.flags &= ~CO_FL_WAIT_L4_CONN;
    if (sock.remoteAddr.transport === "tcp") {
      (sock as Deno.TcpConn).setNoDelay(true);
    }
    this.flags |= CO_FL_CONNECTED;
    if (this.hs) {
      this.flags |= CO_FL_HANDSHAKE;
      this.hs.start(this);
    }
    this.wake();
  };

  #onConnectErr = (err: unknown): void => {
    this.opsPending--;
    this.flags &= ~CO_FL_WAIT_L4_CONN;
    this.setError(connErrCode(err), err);
  };
}
