/**
 * Listeners: bound sockets that accept connections and hand them to a
 * frontend, within connection limits.
 *
 * A connection that arrives while a limit (the frontend's or the process's
 * maxconn) is reached is not reset: it is parked, unread, in a FIFO, and
 * handed over as soon as a slot frees — from the client's side it waits as
 * if in the kernel backlog, like HAProxy. node:net cannot stop accepting, so
 * the park is bounded by the listen backlog; beyond it new connections are
 * closed and counted (`parkDrops`). The kernel backlog itself is set to the
 * frontend's maxconn (capped by the system's somaxconn).
 *
 * @module
 */
import net, { type Server, type Socket } from "node:net";
import { setImmediate } from "node:timers";
import { FfiAccepted, FfiAcceptor } from "../conn/ffi_listen.ts";
import { RingAccepted } from "../conn/ring_sock.ts";
import { TlsCerts, type TlsVersions } from "../conn/tls_sock.ts";
import type { TlsBindOptions } from "../conn/tls_bind.ts";
import type { HandshakeLayer } from "../conn/conn_types.ts";
import { type Address, addrFormat } from "../core/addr_types.ts";
import {
  sharedAdd,
  type SharedCount,
  sharedGet,
  sharedRaise,
  sharedTryTake,
} from "../core/shared_count.ts";

/**
 * A connection count with a maximum, shared by the listeners it limits (a
 * frontend's maxconn, the process's maxconn). With worker threads the limit
 * is the process's: `shared` counts every thread's connections and the
 * maximum applies to that sum, while `cur` stays this thread's.
 */
export class ConnLimit {
  /** Current connections (of this thread). */
  cur = 0;
  /** Highest `cur` seen. */
  peak = 0;
  /** Maximum connections, 0 for none. */
  max: number;
  /** Listeners holding parked connections because of this limit. */
  readonly waiting = new Set<Listener>();
  /** The process-wide count when worker threads share this limit, else null. */
  readonly shared: SharedCount | null;
  /** With worker threads: the highest process-wide count seen (the stats' smax). */
  readonly sharedPeak: SharedCount | null;

  constructor(max: number, shared: SharedCount | null = null, peak: SharedCount | null = null) {
    this.max = max;
    this.shared = shared;
    this.sharedPeak = peak;
  }

  /** Connections counted against the maximum: every thread's when shared. */
  get total(): number {
    return this.shared === null ? this.cur : sharedGet(this.shared);
  }

  /** True when one more connection fits. */
  hasRoom(): boolean {
    return this.max === 0 || this.total < this.max;
  }

  /** Counts one more connection if it fits (atomically across threads); returns whether it did. */
  take(): boolean {
    if (this.shared !== null) {
      if (!sharedTryTake(this.shared, this.max)) return false;
      if (this.sharedPeak !== null) sharedRaise(this.sharedPeak, sharedGet(this.shared));
    } else if (this.max !== 0 && this.cur >= this.max) return false;
    if (++this.cur > this.peak) this.peak = this.cur;
    return true;
  }

  /** Uncounts a connection. */
  give(): void {
    this.cur--;
    if (this.shared !== null) sharedAdd(this.shared, -1);
  }
}

/** How often parked connections retry a limit that other threads free (ms). */
const SHARED_RETRY_MS = 10;

/** TLS material for a listener (PEM text). */
export interface ListenerTls extends TlsVersions {
  cert: string;
  key: string;
  /** SNI filters of the default certificate (crt-list). */
  filters?: readonly string[];
  /** More certificates, chosen by the SNI the client sends (the pair above is the default). */
  sniCerts?: { cert: string; key: string; filters?: readonly string[]; file?: string }[];
  /** Client certificates, ALPN, strict-sni (tls_bind.ts). */
  bind?: TlsBindOptions;
  /** The default certificate's file (runtime API name). */
  file?: string;
  /**
   * TLS runs in a TLS worker (`tls-isolation`): this listener binds no
   * socket and gets its connections, decrypted, from the worker's ring hub.
   */
  isolated?: boolean;
}

/**
 * Where the listeners of an HTTP worker under `tls-isolation` get the
 * connections TLS workers hand over, by listener address (`host:port`).
 */
export interface RingHub {
  listen(key: string, onConn: (sock: RingAccepted) => void): void;
}

/**
 * An accepted connection: a node:net socket, an fd of the FFI layer, or a
 * connection a TLS worker handed over (`tls-isolation`).
 */
export type AcceptedSock = Socket | FfiAccepted | RingAccepted;

/** Receives accepted sockets (paused, unread). */
export type AcceptHandler = (sock: AcceptedSock, li: Listener) => void;

/** How a listener's connections move bytes: node:net, or libc through FFI (ffi_sock.ts). */
export type IoMode = "node" | "ffi";

function ignoreError(): void {
  // A parked client that resets is noticed when it is served.
}

/** A bound socket accepting into a frontend. */
export class Listener {
  /** The address asked for (port may be 0). */
  readonly addr: Address;
  /** The TLS material, or null for plain. */
  readonly tls: ListenerTls | null;
  /** Limits checked before each accept, innermost first. */
  readonly limits: ConnLimit[];
  /** Kernel backlog, also the bound of the park. */
  readonly backlog: number;
  /** Certificates (checked and loaded at bind) when TLS is on. */
  certs: TlsCerts | null = null;
  /** Connections start with a PROXY protocol header (`accept-proxy`). */
  acceptProxy = false;
  /** The handshake layers of its connections (made once by the frontend), or undefined. */
  acceptHs: HandshakeLayer | null | undefined = undefined;
  /** Where an isolated TLS listener's connections come from (HTTP worker threads), or null. */
  ringHub: RingHub | null = null;
  /** Connections handed to the frontend over the listener's life. */
  accepted = 0;
  /** Connections closed because the park was full. */
  parkDrops = 0;
  #onAccept: AcceptHandler;
  readonly #onLimit: ((li: Listener) => void) | null;
  readonly #io: IoMode;
  #srv: Server | null = null;
  /** The listening socket when it is an FFI one (plain TCP with `io: "ffi"`). */
  #ffi: FfiAcceptor | null = null;
  #parked: AcceptedSock[] = [];
  /** The hub key while listening on a ring hub (`tls-isolation`), else null. */
  #ringKey: string | null = null;
  /** Retries parked connections while a limit shared with other threads is full. */
  #retry: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Bind with SO_REUSEPORT (worker threads each bind the address). */
  readonly #reusePort: boolean;
  #closed = false;
  #closing: Promise<void> | null = null;

  constructor(
    addr: Address,
    tls: ListenerTls | null,
    limits: ConnLimit[],
    opts: {
      backlog: number;
      onAccept: AcceptHandler;
      onLimit?: (li: Listener) => void;
      /** Default "node". */
      io?: IoMode;
      /** Bind with SO_REUSEPORT, so that every worker thread has its own socket on the address. */
      reusePort?: boolean;
    },
  ) {
    this.addr = addr;
    this.tls = tls;
    this.limits = limits;
    this.backlog = opts.backlog;
    this.#onAccept = opts.onAccept;
    this.#onLimit = opts.onLimit ?? null;
    this.#io = opts.io ?? "node";
    this.#reusePort = opts.reusePort ?? false;
  }

  /**
   * Its connections are FFI ones (plain TCP with `io: "ffi"`; TLS, PROXY
   * protocol and unix sockets stay on node:net). Known once bound.
   */
  get ffi(): boolean {
    return this.#ffi !== null;
  }

  /** Times the FFI socket paused accepting because the process was out of fds (EMFILE). */
  get fdExhausted(): number {
    return this.#ffi?.fdExhausted ?? 0;
  }

  /** The bound address as text (with the real port when 0 was asked). */
  boundAddress(): string {
    const port = this.boundPort();
    return this.addr.kind === "unix" ? addrFormat(this.addr) : addrFormat({ ...this.addr, port });
  }

  /** The bound port (TCP only), or 0. */
  boundPort(): number {
    if (this.#ffi !== null) return this.#ffi.port;
    if (this.#ringKey !== null) return this.addr.kind === "tcp" ? this.addr.port : 0;
    const a = this.#srv?.address();
    return a !== null && typeof a === "object" ? a.port : 0;
  }

  /**
   * Checks and loads the certificates (TLS listeners; at bind, or for the
   * control thread of worker threads, which binds nothing but answers the
   * runtime API's certificate commands). Throws naming the bad one.
   */
  loadCerts(): void {
    if (this.tls && this.tls.isolated !== true) {
      this.certs = new TlsCerts([this.tls, ...(this.tls.sniCerts ?? [])], this.tls);
    }
  }

  /** Connections parked right now. */
  get parked(): number {
    return this.#parked.length;
  }

  /**
   * Binds and starts accepting. Rejects with the runtime's error
   * (EADDRINUSE, EACCES, bad certificate) for the caller to report.
   */
  bind(): Promise<void> {
    this.loadCerts();
    const a = this.addr;
    if (this.tls?.isolated === true) {
      // The TLS worker bound the address; the handshake is done there.
      if (this.ringHub === null) {
        return Promise.reject(new Error("tls-isolation: no TLS worker serves this listener"));
      }
      this.#ringKey = addrFormat(a);
      this.ringHub.listen(this.#ringKey, this.#onConnection);
      return Promise.resolve();
    }
    if (this.#io === "ffi" && a.kind === "tcp" && this.tls === null && !this.acceptProxy) {
      const acc = new FfiAcceptor(this.#onConnection);
      try {
        acc.bind(a.host, a.port, this.backlog, { reusePort: this.#reusePort });
      } catch (err) {
        return Promise.reject(err);
      }
      this.#ffi = acc;
      return Promise.resolve();
    }
    if (a.kind === "unix") removeStaleSocket(a.path);
    const srv = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, this.#onConnection);
    this.#srv = srv;
    return new Promise((resolve, reject) => {
      srv.once("error", reject);
      const opts = a.kind === "unix"
        ? { path: a.path, backlog: this.backlog }
        : { host: a.host, port: a.port, backlog: this.backlog, reusePort: this.#reusePort };
      srv.listen(opts, () => {
        srv.off("error", reject);
        srv.on("error", ignoreError);
        resolve();
      });
    });
  }

  /**
   * Takes over the bound socket of `old` (same address, a reload): new
   * connections come here from now on, with no moment where none accepts;
   * connections parked at `old` move here. `old` stops accepting but its
   * connections live on in their own instance.
   */
  adopt(old: Listener): void {
    // Certificate first: if it is bad, nothing has moved yet.
    this.loadCerts();
    if (old.#ffi !== null) {
      this.#ffi = old.#ffi;
      this.#ffi.onConn = this.#onConnection;
      old.#ffi = null;
    } else {
      // (An isolated TLS listener is never adopted: it lives in a worker
      // thread, and a reload with threads starts new workers.)
      const srv = old.#srv!;
      srv.off("connection", old.#onConnection);
      srv.on("connection", this.#onConnection);
      this.#srv = srv;
      old.#srv = null;
    }
    old.#closed = true;
    for (const lim of old.limits) lim.waiting.delete(old);
    const parked = old.#parked;
    old.#parked = [];
    for (const s of parked) {
      s.off("error", ignoreError);
      if (!s.destroyed) this.#onConnection(s);
    }
  }

  /**
   * True when this (bound) listener can serve `addr` of a new
   * configuration: same host and port — its real port, or port 0 both.
   */
  serves(addr: Address): boolean {
    const a = this.addr;
    if (a.kind === "unix" || addr.kind === "unix") {
      return a.kind === addr.kind && addrFormat(a) === addrFormat(addr);
    }
    return a.host === addr.host &&
      (addr.port === this.boundPort() || (addr.port === 0 && a.port === 0));
  }

  /** True while bound and accepting. */
  get bound(): boolean {
    return (this.#srv !== null || this.#ffi !== null || this.#ringKey !== null) && !this.#closed;
  }

  /** Its I/O mode as configured. */
  get io(): IoMode {
    return this.#io;
  }

  /**
   * Called when a connection accepted here ends: frees its place in every
   * limit and hands parked connections over while there is room.
   */
  release(): void {
    for (const lim of this.limits) {
      lim.give();
      if (lim.waiting.size > 0 && lim.hasRoom()) {
        for (const li of [...lim.waiting]) li.#unpark();
      }
    }
  }

  /**
   * Stops accepting for good; parked connections are closed. Resolves once
   * the listening socket is closed (Node's own 'close' event would wait for
   * every connection ever accepted, which the frontend owns, so it is not
   * awaited).
   */
  close(): Promise<void> {
    this.#closing ??= new Promise((resolve) => {
      // Connections the kernel already queued here are taken, not reset.
      this.#ffi?.drain();
      this.#closed = true;
      clearTimeout(this.#retry);
      for (const lim of this.limits) lim.waiting.delete(this);
      for (const s of this.#parked) s.destroy();
      this.#parked = [];
      const srv = this.#srv;
      if (srv !== null && srv.listening) srv.close();
      this.#ffi?.close();
      setImmediate(resolve);
    });
    return this.#closing;
  }

  /** Counts the connection in every limit, or in none when one is full. */
  #take(): boolean {
    const lims = this.limits;
    for (let i = 0; i < lims.length; i++) {
      if (lims[i].take()) continue;
      while (i-- > 0) lims[i].give();
      return false;
    }
    return true;
  }

  /** Hands a connection already counted in every limit to the frontend. */
  #accept(sock: AcceptedSock): void {
    this.accepted++;
    // FFI sockets have TCP_NODELAY from accept.
    if (
      this.addr.kind === "tcp" && !(sock instanceof FfiAccepted) && !(sock instanceof RingAccepted)
    ) {
      sock.setNoDelay(true);
    }
    this.#onAccept(sock, this);
  }

  #onConnection = (sock: AcceptedSock): void => {
    // A TLS worker's connection (tls-isolation) was accepted there: it is
    // served after this listener closes, until the TLS worker says it sends
    // no more (thread_main.ts stop()), as a connection accepted here is.
    if (this.#closed && !(sock instanceof RingAccepted)) {
      sock.destroy();
      return;
    }
    if (this.#parked.length === 0 && this.#take()) {
      this.#accept(sock);
      return;
    }
    if (this.#parked.length >= this.backlog) {
      this.parkDrops++;
      sock.destroy();
      return;
    }
    sock.on("error", ignoreError);
    this.#parked.push(sock);
    this.#onLimit?.(this);
    for (const lim of this.limits) if (!lim.hasRoom()) lim.waiting.add(this);
    this.#retryShared();
  };

  #unpark(): void {
    while (this.#parked.length > 0) {
      const sock = this.#parked[0];
      if (sock.destroyed) {
        this.#parked.shift()!.off("error", ignoreError);
        continue;
      }
      if (!this.#take()) break;
      this.#parked.shift();
      sock.off("error", ignoreError);
      this.#accept(sock);
    }
    if (this.#parked.length === 0) { for (const lim of this.limits) lim.waiting.delete(this); }
    else this.#retryShared();
  }

  /**
   * A place freed by another worker thread is not announced here: while
   * connections are parked on a shared limit, try again every few ms.
   */
  #retryShared(): void {
    if (this.#retry !== undefined || this.#closed) return;
    if (!this.limits.some((l) => l.shared !== null)) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#unpark();
    }, SHARED_RETRY_MS);
  }
}

/** Removes a leftover unix socket file (from a crash) before binding. */
function removeStaleSocket(path: string): void {
  try {
    if (Deno.lstatSync(path).isSocket) Deno.removeSync(path);
  } catch {
    // Missing file is the normal case; other errors surface at bind.
  }
}
