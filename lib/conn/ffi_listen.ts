/**
 * Listening through libc for the FFI data layer: a bound, listening socket
 * registered with the thread's poller, and the accepted connections it hands
 * out (`FfiAccepted`: an fd with its addresses, shaped like the node:net
 * socket the listener's park expects).
 *
 * @module
 */
import type { Address } from "../core/addr_types.ts";
import {
  AF_INET,
  AF_INET6,
  EAGAIN,
  EINTR,
  EMFILE,
  ENFILE,
  errno,
  fdClose,
  fdOpened,
  IPPROTO_IPV6,
  IPV6_V6ONLY,
  libc,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  sockaddrOf,
  sockaddrParse,
  SOL_SOCKET,
  SysError,
  tcpNoDelay,
} from "./ffi/libc.ts";
import { type IoHandler, poller } from "./ffi/poller.ts";

/** Connections taken per readiness event, so one busy listener cannot hold a turn. */
const ACCEPT_BATCH = 64;
/** How long accepting pauses when the process is out of file descriptors. */
const EMFILE_PAUSE_MS = 100;

const ZERO = new Int32Array([0]);
const ZERO_BYTES = new Uint8Array(ZERO.buffer);
const ONE = new Int32Array([1]);
const ONE_BYTES = new Uint8Array(ONE.buffer);

/** An accepted connection not yet given to a Connection. */
export class FfiAccepted {
  fd: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;

  constructor(fd: number, remote: { host: string; port: number }, local: Address) {
    this.fd = fd;
    this.remoteAddress = remote.host;
    this.remotePort = remote.port;
    this.localAddress = local.kind === "tcp" ? local.host : "";
    this.localPort = local.kind === "tcp" ? local.port : 0;
  }

  /** Closed (by `destroy()`) before a connection took it. */
  get destroyed(): boolean {
    return this.fd < 0;
  }

  /** Closes it (a refused or dropped connection). */
  destroy(): void {
    if (this.fd < 0) return;
    fdClose(this.fd);
    this.fd = -1;
  }

  /** Errors of a parked fd surface when it is served: nothing to listen to. */
  on(): this {
    return this;
  }

  off(): this {
    return this;
  }
}

/** A listening TCP socket on the poller. */
export class FfiAcceptor implements IoHandler {
  gen = 0;
  /** Receives each accepted connection (the listener's park or frontend). */
  onConn: (acc: FfiAccepted) => void;
  /** Accepts that failed for lack of file descriptors (EMFILE, ENFILE). */
  fdExhausted = 0;
  #fd = -1;
  #port = 0;
  #host = "";
  /** Bound to a wildcard address: the local address is asked per connection. */
  #wildcard = false;
  #paused = false;
  readonly #sa = new Uint8Array(28);
  readonly #saLen = new Uint32Array(1);
  readonly #saLenBytes = new Uint8Array(this.#saLen.buffer);
  #pauseTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(onConn: (acc: FfiAccepted) => void) {
    this.onConn = onConn;
  }

  /** The bound port. */
  get port(): number {
    return this.#port;
  }

  /** The listening socket's fd (-1 once closed). */
  get fd(): number {
    return this.#fd;
  }

  /**
   * Binds `host:port` (an IP literal) and listens with `backlog`. Throws a
   * SysError (EADDRINUSE, EACCES…) for the caller to report.
   */
  bind(host: string, port: number, backlog: number, opts: { reusePort?: boolean } = {}): void {
    const sa = sockaddrOf(host, port);
    if (sa === null) throw new Error(`not an IP address: "${host}"`);
    const l = libc();
    const v6 = sa.length === 28;
    const fd = l.socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new SysError("socket", errno());
    fdOpened(fd);
    try {
      l.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, ONE_BYTES, 4);
      if (opts.reusePort) l.setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, ONE_BYTES, 4);
      // "::" takes IPv4 too, as node:net does.
      if (v6) l.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, ZERO_BYTES, 4);
      if (l.bind(fd, sa, sa.length) !== 0) {
        throw new SysError("bind", errno(), `${v6 ? `[${host}]` : host}:${port}`);
      }
      if (l.listen(fd, backlog) !== 0) throw new SysError("listen", errno());
      this.#saLen[0] = 28;
      if (l.getsockname(fd, this.#sa, this.#saLenBytes) !== 0) {
        throw new SysError("getsockname", errno());
      }
    } catch (err) {
      fdClose(fd);
      throw err;
    }
    this.#fd = fd;
    this.#port = sockaddrParse(this.#sa).port;
    this.#host = host;
    this.#wildcard = host === "0.0.0.0" || host === "::";
    poller().registerListener(fd, this);
  }

  /** Accepts what is pending (a batch at most); returns how many connections it took. */
  ioEvent(): number {
    if (this.#fd < 0 || this.#paused) return 0;
    const l = libc();
    const sa = this.#sa, saLen = this.#saLen, saLenBytes = this.#saLenBytes;
    let n = 0;
    for (let i = 0; i < ACCEPT_BATCH; i++) {
      saLen[0] = 28;
      const fd = l.accept4(this.#fd, sa, saLenBytes, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        const e = errno();
        if (e === EINTR) continue;
        if (e === EAGAIN) return n;
        if (e === EMFILE || e === ENFILE) {
          this.#pause();
          return n;
        }
        // ECONNABORTED and the like: that client is gone, the next is not.
        continue;
      }
      fdOpened(fd);
      tcpNoDelay(fd);
      const remote = sockaddrParse(sa);
      let local: Address = { kind: "tcp", host: this.#host, port: this.#port };
      if (this.#wildcard) {
        saLen[0] = 28;
        if (l.getsockname(fd, sa, saLenBytes) === 0) {
          const a = sockaddrParse(sa);
          local = { kind: "tcp", host: a.host, port: a.port };
        }
      }
      n++;
      this.onConn(new FfiAccepted(fd, remote, local));
    }
    return n;
  }

  /**
   * Accepts every connection already queued in the kernel, before a close:
   * with SO_REUSEPORT, closing a listening socket resets the connections
   * still in its queue, which no other socket of the group would take.
   */
  drain(): void {
    while (this.ioEvent() === ACCEPT_BATCH);
  }

  /** Out of fds: stop accepting for a moment (the level-triggered event would spin). */
  #pause(): void {
    this.fdExhausted++;
    this.#paused = true;
    poller().unregister(this.#fd, false);
    this.#pauseTimer = setTimeout(() => {
      this.#pauseTimer = undefined;
      this.#paused = false;
      if (this.#fd >= 0) poller().registerListener(this.#fd, this);
    }, EMFILE_PAUSE_MS);
  }

  /** Stops listening and closes the socket. */
  close(): void {
    if (this.#fd < 0) return;
    clearTimeout(this.#pauseTimer);
    if (!this.#paused) poller().unregister(this.#fd, true);
    fdClose(this.#fd);
    this.#fd = -1;
  }
}
