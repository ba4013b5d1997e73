/**
 * Listeners: bound sockets that accept connections and hand them to a
 * frontend, within connection limits.
 *
 * A listener keeps one accept in flight while its limits have room. When a
 * limit is reached it stops accepting (pauses): excess clients wait in the
 * kernel backlog instead of being reset, as with HAProxy's maxconn. Releasing
 * a connection resumes paused listeners. Accept errors from the OS (too many
 * open files) pause the listener for a moment instead of spinning.
 *
 * @module
 */
import { type Address, addrFormatDeno } from "../core/addr_types.ts";

/** How long accepting pauses after an OS error such as EMFILE, in ms. */
export const ACCEPT_ERROR_PAUSE_MS = 100;

/**
 * A connection count with a maximum, shared by the listeners it limits (a
 * frontend's maxconn, the process's maxconn).
 */
export class ConnLimit {
  /** Current connections. */
  cur = 0;
  /** Highest `cur` seen. */
  peak = 0;
  /** Maximum connections, 0 for none. */
  max: number;
  /** Listeners paused because of this limit. */
  readonly paused = new Set<Listener>();

  constructor(max: number) {
    this.max = max;
  }

  /** True when one more connection fits. */
  hasRoom(): boolean {
    return this.max === 0 || this.cur < this.max;
  }
}

/** TLS material for a listener (PEM text). */
export interface ListenerTls {
  cert: string;
  key: string;
}

/** Receives accepted sockets. */
export type AcceptHandler = (sock: Deno.Conn, li: Listener) => void;

/** A bound socket accepting into a frontend. */
export class Listener {
  /** The address asked for (port may be 0). */
  readonly addr: Address;
  /** The TLS material, or null for plain. */
  readonly tls: ListenerTls | null;
  /** Limits checked before each accept, innermost first. */
  readonly limits: ConnLimit[];
  /** Connections accepted over the listener's life. */
  accepted = 0;
  /** Accept errors reported by the OS. */
  acceptErrors = 0;
  #onAccept: AcceptHandler;
  #sock: Deno.Listener | null = null;
  #accepting: Promise<void> | null = null;
  #closed = false;
  #errTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    addr: Address,
    tls: ListenerTls | null,
    limits: ConnLimit[],
    onAccept: AcceptHandler,
  ) {
    this.addr = addr;
    this.tls = tls;
    this.limits = limits;
    this.#onAccept = onAccept;
  }

  /** The bound address as text (with the real port when 0 was asked). */
  boundAddress(): string {
    return this.#sock ? addrFormatDeno(this.#sock.addr) : "-";
  }

  /** The bound port (TCP only), or 0. */
  boundPort(): number {
    const a = this.#sock?.addr;
    return a && a.transport === "tcp" ? a.port : 0;
  }

  /**
   * Binds the socket. Throws the runtime's error (AddrInUse, PermissionDenied,
   * bad certificate) for the caller to report.
   */
  bind(): void {
    const a = this.addr;
    if (a.kind === "unix") {
      if (this.tls) throw new Error("TLS on a unix socket is not supported");
      removeStaleSocket(a.path);
      this.#sock = Deno.listen({ transport: "unix", path: a.path });
    } else if (this.tls) {
      this.#sock = Deno.listenTls({
        hostname: a.host,
        port: a.port,
        cert: this.tls.cert,
        key: this.tls.key,
      });
    } else {
      this.#sock = Deno.listen({ hostname: a.host, port: a.port });
    }
  }

  /** Starts accepting if limits allow. */
  resume(): void {
    if (this.#closed || this.#accepting || !this.#sock) return;
    for (const lim of this.limits) {
      if (!lim.hasRoom()) {
        lim.paused.add(this);
        return;
      }
    }
    this.#accepting = this.#sock.accept().then(this.#accepted, this.#acceptFailed);
  }

  /** Resolves once the accept in flight (if any) has settled after `close()`. */
  async closed(): Promise<void> {
    while (this.#accepting !== null) await this.#accepting;
  }

  /**
   * Called when a connection accepted here ends: frees its place in every
   * limit and resumes the listeners those limits had paused.
   */
  release(): void {
    for (const lim of this.limits) {
      lim.cur--;
      if (lim.paused.size > 0 && lim.hasRoom()) {
        const paused = [...lim.paused];
        lim.paused.clear();
        for (const li of paused) li.resume();
      }
    }
  }

  /** Stops accepting for good and closes the socket. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#errTimer);
    for (const lim of this.limits) lim.paused.delete(this);
    try {
      this.#sock?.close();
    } catch {
      // Already closed.
    }
  }

  #accepted = (sock: Deno.Conn): void => {
    this.#accepting = null;
    if (this.#closed) {
      sock.close();
      return;
    }
    this.accepted++;
    for (const lim of this.limits) {
      lim.cur++;
      if (lim.cur > lim.peak) lim.peak = lim.cur;
    }
    if (this.addr.kind === "tcp" && !this.tls) {
      (sock as Deno.TcpConn).setNoDelay(true);
    }
    this.#onAccept(sock, this);
    this.resume();
  };

  #acceptFailed = (err: unknown): void => {
    this.#accepting = null;
    if (this.#closed) return;
    this.acceptErrors++;
    // EMFILE and friends: retry later rather than spin or give up.
    if (!(err instanceof Deno.errors.BadResource)) {
      this.#errTimer = setTimeout(() => {
        this.#errTimer = undefined;
        this.resume();
      }, ACCEPT_ERROR_PAUSE_MS);
    }
  };
}

/** Removes a leftover unix socket file (from a crash) before binding. */
function removeStaleSocket(path: string): void {
  try {
    if (Deno.lstatSync(path).isSocket) Deno.removeSync(path);
  } catch {
    // Missing file is the normal case; other errors surface at bind.
  }
}
