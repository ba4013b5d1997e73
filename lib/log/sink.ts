/**
 * Where log lines go. Writing never blocks the request path: lines queue in
 * memory while one asynchronous write is in flight, and when the sink is too
 * slow for the queue's byte budget, new lines are dropped and counted rather
 * than stalling streams or growing without bound.
 *
 * The sink owns the queue; each destination is a LogOut (sink_types.ts):
 * standard output or error and files here, syslog in syslog.ts.
 *
 * @module
 */
import { LogBuf } from "./log_buf.ts";
import { logHeaderInto, type LogHeaderSpec, type LogSdWriter } from "./log_header.ts";
import type { LogOut, LogOutEnv, LogTarget } from "./sink_types.ts";
import { SEV_INFO, syslogOutNew } from "./syslog.ts";

const ENC = new TextEncoder();

/** Longest line kept (the rest of a longer one is dropped with it). */
const MAX_LINE = 64 * 1024;

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

/** Options of a LogSink. */
export interface LogSinkOptions {
  /**
   * Receives the first failure of the destination (only syslog outputs
   * report; files and standard streams stop quietly). Default: a
   * `sluice: …` line on standard error.
   */
  report?: (message: string) => void;
  /** Syslog targets: longest wait for queued lines on close, in ms. Default 1000. */
  closeWaitMs?: number;
  /**
   * The header of each line (`log ... format NAME`). Default: RFC 5424 with
   * the target's facility for syslog targets, none (raw lines) otherwise.
   */
  header?: LogHeaderSpec;
  /** Longest line in bytes, header included (`log ... len N`); longer ones are cut. Default: no limit. */
  maxLen?: number;
  /**
   * Least severe level sent (`log TARGET FACILITY LEVEL`: 0 emerg … 7
   * debug); lines of a higher number are not for this sink. Default 7.
   */
  level?: number;
  /** More severe lines are sent with this severity (`MINLEVEL`). Default 0. */
  minLevel?: number;
}

/** The default reporter: one line on standard error, never throwing (stderr may be closed). */
function reportStderr(message: string): void {
  try {
    console.error(`sluice: ${message}`);
  } catch {
    // Nowhere to report to.
  }
}

/**
 * Standard output or error, or a file (`path` set; opened at once, and
 * again by `reopen()`): each batch is one write of newline-ended lines. A
 * failed write rejects (stdout closed, disk gone): the sink stops writing.
 */
class StreamOut implements LogOut {
  readonly closeWaitMs = Infinity;
  readonly #path: string | null;
  #out: { write(p: Uint8Array): Promise<number>; close(): void } | null;

  constructor(out: typeof Deno.stdout | null, path: string | null) {
    this.#out = out;
    this.#path = path;
    if (path !== null) this.reopen();
  }

  async put(lines: string[]): Promise<void> {
    await this.putBytes(ENC.encode(lines.join("\n") + "\n"));
  }

  async putBytes(bytes: Uint8Array): Promise<void> {
    const out = this.#out;
    if (out === null) throw new Deno.errors.BadResource("log file closed");
    let off = 0;
    while (off < bytes.length) off += await out.write(bytes.subarray(off));
  }

  reopen(): void {
    if (this.#path === null) return;
    const f = Deno.openSync(this.#path, { append: true, create: true, mode: 0o640 });
    const old = this.#out;
    this.#out = f;
    try {
      old?.close();
    } catch {
      // Already closed.
    }
  }

  /** Closes the file; standard output and error stay open. */
  close(): void {
    if (this.#path === null) return;
    try {
      this.#out?.close();
    } catch {
      // Already closed.
    }
    this.#out = null;
  }
}

/** The output for `target`, or null for "none" and functions (which the sink calls itself). */
function logOutNew(target: LogTarget, env: LogOutEnv, opts: LogSinkOptions): LogOut | null {
  if (target === "none" || typeof target === "function") return null;
  if (target === "stdout") return new StreamOut(Deno.stdout, null);
  if (target === "stderr") return new StreamOut(Deno.stderr, null);
  if ("file" in target) return new StreamOut(null, target.file);
  return syslogOutNew(target, env, { closeWaitMs: opts.closeWaitMs });
}

/** Resolves when `p` does or after `ms` (Infinity: when `p` does), whichever is first. */
async function waitAtMost(p: Promise<void>, ms: number): Promise<void> {
  if (ms === Infinity) return await p;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([p, new Promise<void>((resolve) => timer = setTimeout(resolve, ms))]);
  } finally {
    clearTimeout(timer);
  }
}

/** A line-oriented log destination. */
export class LogSink {
  /** Lines accepted. */
  lines = 0;
  /** Lines dropped because the queue was full or the sink failed. */
  dropped = 0;
  /** Least severe level this sink takes (7: every line). */
  readonly level: number;
  /** Severity floor: more severe lines are sent at this one. */
  readonly minLevel: number;
  readonly #header: LogHeaderSpec;
  readonly #maxLen: number;
  /** A function target, called at once. */
  readonly #fn: ((line: string) => void) | null;
  /** Any other target but "none". */
  readonly #out: LogOut | null;
  readonly #limit: number;
  /**
   * Byte outputs (standard streams, files): the batch lines are formatted
   * into, and the one being written (never touched while the write reads
   * it). One write per scheduler turn at most: the flush waits for the
   * turn's synchronous work to end.
   */
  #batch: LogBuf | null = null;
  #spare: LogBuf | null = null;
  #lineStart = 0;
  /** Bytes of the header of the scratch line (not counted in the queue's budget). */
  #headerLen = 0;
  /** Outputs that take lines (syslog, functions): each line is formatted here first. */
  #scratch: LogBuf | null = null;
  #queue: string[] = [];
  /** Bytes of log lines queued (syslog headers are not counted). */
  #queued = 0;
  #flushing: Promise<void> | null = null;
  #broken = false;

  /**
   * Opens `target` (a file at once; a unix syslog socket on first use).
   * Throws when the file cannot be opened, or for a unix syslog socket when
   * Deno runs without its unstable net API.
   */
  constructor(target: LogTarget, queueBytes: number, opts: LogSinkOptions = {}) {
    this.#limit = queueBytes;
    this.#fn = typeof target === "function" ? target : null;
    this.level = opts.level ?? 7;
    this.minLevel = opts.minLevel ?? 0;
    this.#maxLen = opts.maxLen ?? Infinity;
    this.#header = opts.header ??
      (typeof target === "object" && "syslog" in target
        ? { format: "rfc5424", facility: target.facility, host: hostName() }
        : { format: "raw", facility: 16, host: "-" });
    const report = opts.report ?? reportStderr;
    let reported = false;
    const env: LogOutEnv = {
      lost: (n) => this.dropped += n,
      report: (message) => {
        if (reported) return;
        reported = true;
        report(message);
      },
    };
    this.#out = logOutNew(target, env, opts);
    if (this.#out?.putBytes !== undefined) {
      this.#batch = new LogBuf(16 * 1024, queueBytes);
      this.#spare = new LogBuf(16 * 1024, queueBytes);
    } else if (this.#out !== null || this.#fn !== null) this.#scratch = new LogBuf(1024, MAX_LINE);
  }

  /** True when lines of `severity` (0-7) go to this sink (its level filter). */
  wants(severity: number): boolean {
    return severity <= this.level;
  }

  /**
   * Starts a line of `severity` (syslog's, 0-7: 6 info for access lines)
   * with its header: the buffer to format the rest into, or null when the
   * line would be dropped anyway (no log, a broken output). `sd` writes the
   * structured data of an RFC 5424 header. `end()` finishes it. The level
   * filter is the caller's (`wants()`).
   */
  begin(severity = SEV_INFO, sd: LogSdWriter | null = null): LogBuf | null {
    const sev = Math.max(severity, this.minLevel);
    const batch = this.#batch;
    if (batch !== null) {
      if (this.#broken) {
        this.dropped++;
        return null;
      }
      this.#lineStart = batch.n;
      if (this.#header.format !== "raw") logHeaderInto(batch, this.#header, sev, Date.now(), sd);
      return batch;
    }
    const scratch = this.#scratch;
    if (scratch === null) return null;
    scratch.n = 0;
    scratch.over = false;
    if (this.#header.format !== "raw") logHeaderInto(scratch, this.#header, sev, Date.now(), sd);
    this.#headerLen = scratch.n;
    return scratch;
  }

  /** Ends the line `begin()` started, cut to the sink's longest line. */
  end(): void {
    const batch = this.#batch;
    if (batch === null) {
      const scratch = this.#scratch!;
      if (scratch.over) this.dropped++;
      else {
        if (scratch.n > this.#maxLen) scratch.n = this.#maxLen;
        this.#writeLine(scratch.text(), scratch.n - this.#headerLen);
      }
      return;
    }
    if (batch.n - this.#lineStart > this.#maxLen) batch.n = this.#lineStart + this.#maxLen;
    batch.ch(0x0a);
    if (batch.over) {
      // Over the queue's byte budget: the sink is too slow, drop the line.
      batch.n = this.#lineStart;
      batch.over = false;
      this.dropped++;
      return;
    }
    this.lines++;
    this.#flushing ??= this.#flushBatches(this.#out!);
  }

  /** Opens the log file again (after a rotation moved it away). Throws when it cannot. */
  reopen(): void {
    this.#out?.reopen();
  }

  /**
   * Closes the file or socket (instance stop), after the queue is written;
   * for syslog, after at most `closeWaitMs`, the rest being dropped.
   */
  async close(): Promise<void> {
    const out = this.#out;
    if (out === null) return;
    await waitAtMost(this.drain(), out.closeWaitMs);
    if (this.#flushing !== null) {
      // A send that does not complete (the daemon stopped reading): give up.
      this.#broken = true;
      this.dropped += this.#queue.length;
      this.#queue = [];
      this.#queued = 0;
    }
    if (this.#batch !== null) this.#batch.n = 0;
    out.close();
  }

  /**
   * Queues one line (without its newline), with its header. `severity` is
   * the syslog one (6 info for access lines, 5 notice, 4 warning, 1 alert).
   */
  write(line: string, severity = SEV_INFO): void {
    const out = this.begin(severity);
    if (out === null) return;
    out.str(line);
    this.end();
  }

  /** Queues (or hands to a function) `line`, of which `bodyLen` bytes count in the budget. */
  #writeLine(line: string, bodyLen: number): void {
    const fn = this.#fn;
    if (fn !== null) {
      this.lines++;
      try {
        fn(line);
      } catch {
        this.dropped++;
      }
      return;
    }
    const out = this.#out;
    if (out === null) return;
    if (this.#broken || this.#queued + bodyLen + 1 > this.#limit) {
      this.dropped++;
      return;
    }
    this.lines++;
    this.#queue.push(line);
    this.#queued += bodyLen + 1;
    this.#flushing ??= this.#flush(out);
  }

  /** Resolves once every queued line is written (or dropped). */
  async drain(): Promise<void> {
    while (this.#flushing !== null) await this.#flushing;
  }

  /** Writes batches until none is left; the first waits for the turn to end. */
  async #flushBatches(out: LogOut): Promise<void> {
    await null;
    try {
      while (this.#batch!.n > 0) {
        const b = this.#batch!;
        this.#batch = this.#spare;
        this.#spare = b;
        await out.putBytes!(b.a.subarray(0, b.n));
        b.n = 0;
      }
    } catch {
      // stdout closed (EPIPE), a file that cannot be written: stop writing,
      // keep counting.
      this.#broken = true;
      this.dropped += countLines(this.#batch!);
      this.#batch!.n = 0;
    } finally {
      this.#flushing = null;
    }
  }

  async #flush(out: LogOut): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        this.#queued = 0;
        await out.put(batch);
      }
    } catch {
      // stdout closed (EPIPE), a file or socket that cannot be used: stop
      // writing, keep counting.
      this.#broken = true;
      this.dropped += this.#queue.length;
      this.#queue = [];
      this.#queued = 0;
    } finally {
      this.#flushing = null;
    }
  }
}

/** Newline-ended lines in a batch (dropped when the output breaks). */
function countLines(b: LogBuf): number {
  let n = 0;
  for (let i = 0; i < b.n; i++) if (b.a[i] === 0x0a) n++;
  return n;
}
