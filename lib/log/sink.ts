/**
 * Where log lines go. Writing never blocks the request path: lines queue in
 * memory while one asynchronous write is in flight, and when the sink is too
 * slow for the queue's byte budget, new lines are dropped and counted rather
 * than stalling streams or growing without bound.
 *
 * @module
 */
import dgram from "node:dgram";

/**
 * Where lines go: standard output or error, nowhere, a function
 * (embedding), a file (appended; `reopen()` after rotation), or syslog over
 * UDP (RFC 5424, `facility` as a number: local0 = 16).
 */
export type LogTarget =
  | "stdout"
  | "stderr"
  | "none"
  | ((line: string) => void)
  | { file: string }
  | { syslog: true; host: string; port: number; facility: number };

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

/** The host name when already allowed (never prompts for the permission); else "-" (RFC 5424's nil). */
export function hostName(): string {
  try {
    if (Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state === "granted") {
      return Deno.hostname();
    }
  } catch {
    // Not available.
  }
  return "-";
}

/** A line-oriented log destination. */
export class LogSink {
  /** Lines accepted. */
  lines = 0;
  /** Lines dropped because the queue was full or the sink failed. */
  dropped = 0;
  readonly #target: LogTarget;
  /** An open log file (`{ file }` targets), reopened by `reopen()`. */
  #file: Deno.FsFile | null = null;
  /** A UDP socket for syslog targets. */
  #udp: dgram.Socket | null = null;
  #host = "-";
  readonly #limit: number;
  #queue: string[] = [];
  #queued = 0;
  #flushing: Promise<void> | null = null;
  #broken = false;
  #enc = new TextEncoder();

  constructor(target: LogTarget, queueBytes: number) {
    this.#target = target;
    this.#limit = queueBytes;
    if (typeof target === "object" && "file" in target) this.reopen();
    if (typeof target === "object" && "syslog" in target) {
      this.#udp = dgram.createSocket(target.host.includes(":") ? "udp6" : "udp4");
      this.#host = hostName();
      this.#udp.on("error", () => this.dropped++);
      this.#udp.unref();
    }
  }

  /** Opens the log file again (after a rotation moved it away). Throws when it cannot. */
  reopen(): void {
    const t = this.#target;
    if (typeof t !== "object" || !("file" in t)) return;
    const f = Deno.openSync(t.file, { append: true, create: true, mode: 0o640 });
    const old = this.#file;
    this.#file = f;
    try {
      old?.close();
    } catch {
      // Already closed.
    }
  }

  /** Closes the file or socket (instance stop), after the queue is written. */
  async close(): Promise<void> {
    await this.drain();
    try {
      this.#file?.close();
    } catch {
      // Already closed.
    }
    this.#file = null;
    this.#udp?.close();
    this.#udp = null;
  }

  /** Queues one line (without its newline). */
  write(line: string): void {
    const target = this.#target;
    if (target === "none") return;
    if (typeof target === "function") {
      this.lines++;
      try {
        target(line);
      } catch {
        this.dropped++;
      }
      return;
    }
    if (typeof target === "object" && "syslog" in target) {
      this.#syslog(target, line);
      return;
    }
    if (this.#broken || this.#queued + line.length + 1 > this.#limit) {
      this.dropped++;
      return;
    }
    this.lines++;
    this.#queue.push(line);
    this.#queued += line.length + 1;
    this.#flushing ??= this.#flush();
  }

  /** Resolves once every queued line is written (or dropped). */
  async drain(): Promise<void> {
    while (this.#flushing !== null) await this.#flushing;
  }

  /** One RFC 5424 datagram per line; a full socket buffer drops (and counts) rather than waits. */
  #syslog(t: { host: string; port: number; facility: number }, line: string): void {
    const udp = this.#udp;
    if (udp === null) return;
    const pri = t.facility * 8 + 6; // severity info
    const msg = `<${pri}>1 ${
      new Date().toISOString()
    } ${this.#host} sluice ${Deno.pid} - - ${line}`;
    this.lines++;
    udp.send(this.#enc.encode(msg), t.port, t.host, (err) => {
      if (err) this.dropped++;
    });
  }

  async #flush(): Promise<void> {
    const t = this.#target;
    const out = t === "stderr" ? Deno.stderr : typeof t === "object" ? this.#file! : Deno.stdout;
    try {
      while (this.#queue.length > 0) {
        const text = this.#queue.join("\n") + "\n";
        this.#queue = [];
        this.#queued = 0;
        const bytes = this.#enc.encode(text);
        let off = 0;
        while (off < bytes.length) off += await out.write(bytes.subarray(off));
      }
    } catch {
      // stdout closed (EPIPE) or similar: stop writing, keep counting.
      this.#broken = true;
      this.dropped += this.#queue.length;
      this.#queue = [];
      this.#queued = 0;
    } finally {
      this.#flushing = null;
    }
  }
}
