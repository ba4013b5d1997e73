/**
 * Syslog outputs of the log sink: one message per line (RFC 5424 by
 * default, or the `log` line's format), sent as a UDP datagram to `host:port` or as a datagram to a local unix socket
 * (`/dev/log`, HAProxy's `log /dev/log local0`).
 *
 * Unix datagrams need Deno's unstable net API (`Deno.listenDatagram` with
 * transport "unixpacket", which despite its name is SOCK_DGRAM; node:dgram
 * has no unix sockets). deno.json enables it with `"unstable": ["net"]`;
 * embedders run Deno with `--unstable-net`. What we measured on Linux:
 * a socket takes one send at a time (a second one fails "Busy"); a send
 * waits while the receiver's queue is full (net.unix.max_dgram_qlen, 10 by
 * default) and completes once the daemon reads; closing the socket does not
 * cancel it. node:dgram, for UDP, sends datagrams issued in one tick in
 * reverse order. So both outputs send from the sink's bounded queue, one
 * datagram at a time (in order), and the sink waits at most `closeWaitMs`
 * on close.
 *
 * @module
 */
import dgram from "node:dgram";
import { errMsg, SluiceError } from "../core/errors.ts";
import type { LogOut, LogOutEnv } from "./sink_types.ts";

/** Syslog severities sluice writes (RFC 5424). */
export const SEV_ALERT = 1;
export const SEV_WARNING = 4;
export const SEV_NOTICE = 5;
export const SEV_INFO = 6;

/** Syslog facility names, in code order (local0 = 16). */
export const SYSLOG_FACILITIES: readonly string[] = [
  "kern",
  "user",
  "mail",
  "daemon",
  "auth",
  "syslog",
  "lpr",
  "news",
  "uucp",
  "cron",
  "auth2",
  "ftp",
  "ntp",
  "audit",
  "alert",
  "cron2",
  "local0",
  "local1",
  "local2",
  "local3",
  "local4",
  "local5",
  "local6",
  "local7",
];

/**
 * Default longest wait, in ms, for queued lines when a syslog output closes
 * (a daemon that stopped reading, a DNS lookup that hangs).
 */
export const SYSLOG_CLOSE_WAIT_MS = 1000;

const ENC = new TextEncoder();

/** Options of a syslog output. */
export interface SyslogOutOptions {
  /** Longest wait for queued lines on close, in ms. Default 1000. */
  closeWaitMs?: number;
}

/** How syslog messages leave: one datagram at a time, never two at once. */
interface DgramSender {
  /** The destination as reports name it: `syslog at "10.0.0.5:514"`. */
  readonly name: string;
  /** Sends one datagram; rejects with the reason it was lost. */
  send(bytes: Uint8Array): Promise<void>;
  close(): void;
}

/**
 * UDP through node:dgram (stable Deno API). The socket does not keep the
 * process alive; a datagram the kernel cannot take is lost, as a packet.
 */
class UdpSender implements DgramSender {
  readonly name: string;
  readonly #host: string;
  readonly #port: number;
  readonly #sock: dgram.Socket;
  /** Fails the send in flight, for a socket error that skips its callback. */
  #fail: ((err: Error) => void) | null = null;

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
    this.name = `syslog at "${host.includes(":") ? `[${host}]` : host}:${port}"`;
    this.#sock = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
    this.#sock.on("error", (err) => this.#fail?.(err));
    this.#sock.unref();
  }

  send(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#fail = reject;
      this.#sock.send(bytes, this.#port, this.#host, (err) => {
        this.#fail = null;
        if (err) reject(err);
        else resolve();
      });
    });
  }

  close(): void {
    this.#sock.close();
  }
}

/**
 * A failed unix send, with a hint when Deno's permissions refused it: Deno
 * lets a program reach paths under /dev (such as /dev/log) only with
 * --allow-all, while the daemon's own socket elsewhere (systemd's
 * /run/systemd/journal/dev-log, which /dev/log links to) needs only the
 * usual --allow-net --allow-read --allow-write.
 */
function unixSendError(err: unknown): never {
  if (!(err instanceof Deno.errors.NotCapable)) throw err;
  throw new Deno.errors.NotCapable(
    `${err.message} (Deno reaches sockets under /dev only with --allow-all; ` +
      "use the daemon's socket outside /dev, such as /run/systemd/journal/dev-log)",
  );
}

/**
 * A local unix datagram socket (`/dev/log`). Our end is bound on first use
 * in a private temporary directory, removed on close; when it cannot be
 * bound, every send fails with that reason. Throws SluiceError ERR_CONFIG
 * when Deno runs without its unstable net API.
 */
class UnixSender implements DgramSender {
  readonly name: string;
  readonly #to: Deno.UnixAddr;
  /** Our bound socket, on first use; null before and after close. */
  #sock: Deno.DatagramConn | null = null;
  /** The private directory holding the bound socket's path. */
  #dir: string | null = null;
  /** Why our socket could not be bound. */
  #bindErr: unknown = null;

  constructor(path: string) {
    // Checked here, at start or reload, rather than failing line by line.
    if (typeof Deno.listenDatagram !== "function") {
      throw new SluiceError(
        "ERR_CONFIG",
        `Cannot log to unix syslog socket "${path}": Deno's unstable net API is off ` +
          '(run Deno with --unstable-net, or "unstable": ["net"] in deno.json)',
      );
    }
    this.name = `unix syslog socket "${path}"`;
    this.#to = { transport: "unixpacket", path };
  }

  send(bytes: Uint8Array): Promise<void> {
    if (this.#sock === null && this.#bindErr === null) this.#bind();
    if (this.#sock === null) return Promise.reject(this.#bindErr);
    // ENOENT (no daemon), ECONNREFUSED (a stale socket file), EPROTOTYPE (a
    // stream socket), EMSGSIZE (a line too long) reject; so does a closed socket.
    return this.#sock.send(bytes, this.#to).then(() => {}, unixSendError);
  }

  close(): void {
    this.#bindErr ??= new Deno.errors.BadResource("closed");
    try {
      this.#sock?.close();
    } catch {
      // Already closed.
    }
    this.#sock = null;
    this.#removeDir();
  }

  /** Binds our end (a sink that never writes creates nothing). */
  #bind(): void {
    try {
      this.#dir = Deno.makeTempDirSync({ prefix: "sluice-syslog-" });
      this.#sock = Deno.listenDatagram({ transport: "unixpacket", path: `${this.#dir}/log.sock` });
    } catch (err) {
      this.#removeDir();
      const why = errMsg(err);
      this.#bindErr = new Error(`cannot bind a local socket: ${why}`);
    }
  }

  #removeDir(): void {
    const dir = this.#dir;
    this.#dir = null;
    if (dir === null) return;
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // Already gone.
    }
  }
}

/**
 * A syslog output: each line (its header already written by the sink, see
 * log_header.ts) sent as one datagram. A
 * line that cannot be sent is lost and counted, and the next one is tried
 * (a restarted daemon gets lines again); the first failure is reported.
 */
class SyslogOut implements LogOut {
  readonly closeWaitMs: number;
  readonly #sender: DgramSender;
  readonly #env: LogOutEnv;
  #closed = false;
  /** The batch being sent, and the index of its next line to send. */
  #batch: string[] | null = null;
  #next = 0;

  constructor(sender: DgramSender, env: LogOutEnv, opts: SyslogOutOptions) {
    this.#sender = sender;
    this.#env = env;
    this.closeWaitMs = opts.closeWaitMs ?? SYSLOG_CLOSE_WAIT_MS;
  }

  /** Sends one line at a time; `#batch`/`#next` let close() count what it gives up. */
  async put(lines: string[]): Promise<void> {
    this.#batch = lines;
    this.#next = 0;
    try {
      while (this.#next < lines.length) {
        if (this.#closed) {
          this.#env.lost(lines.length - this.#next);
          return;
        }
        try {
          await this.#sender.send(ENC.encode(lines[this.#next++]));
        } catch (err) {
          this.#env.lost(1);
          this.#env.report(
            `Cannot send logs to ${this.#sender.name}: ${
              errMsg(err)
            }; log lines are dropped (and counted) while it fails`,
          );
        }
      }
    } finally {
      this.#batch = null;
    }
  }

  reopen(): void {}

  /**
   * Closes the socket. Lines of the batch not yet sent (the sink gave up
   * waiting: the send in flight does not complete) are counted at once; the
   * one in flight counts when it fails.
   */
  close(): void {
    this.#closed = true;
    const b = this.#batch;
    if (b !== null) {
      this.#env.lost(b.length - this.#next);
      this.#next = b.length;
    }
    this.#sender.close();
  }
}

/**
 * The output for a syslog target: UDP to `host:port`, or a unix socket at
 * `path`. Throws SluiceError ERR_CONFIG for a unix socket when Deno runs
 * without its unstable net API.
 */
export function syslogOutNew(
  t:
    | { syslog: "udp"; host: string; port: number; facility: number }
    | { syslog: "unix"; path: string; facility: number },
  env: LogOutEnv,
  opts: SyslogOutOptions,
): LogOut {
  const sender = t.syslog === "udp" ? new UdpSender(t.host, t.port) : new UnixSender(t.path);
  return new SyslogOut(sender, env, opts);
}
