/**
 * The log targets of one proxy (HAProxy's list of `log` lines): each line
 * goes to every target whose level takes it, with that target's header.
 * An access line is formatted once: straight into the buffer of the only
 * target that takes it (the usual case), or into the first one's and then
 * copied into the others'.
 *
 * @module
 */
import type { LogBuf } from "./log_buf.ts";
import type { LogSdWriter } from "./log_header.ts";
import type { LogSink } from "./sink.ts";

/** Several sinks, each with its own level filter, written as one. */
export class Loggers {
  readonly sinks: readonly LogSink[];
  /** The sinks the line `begin()` started goes to (the first one holds it). */
  #to: LogSink[] = [];
  #body = 0;
  #sev = 0;
  #sd: LogSdWriter | null = null;

  constructor(sinks: readonly LogSink[]) {
    this.sinks = sinks;
  }

  /** True when some target takes lines of `severity`. */
  wants(severity: number): boolean {
    for (const s of this.sinks) if (s.wants(severity)) return true;
    return false;
  }

  /** Writes one line of `severity` to every target that takes it. */
  write(line: string, severity: number): void {
    for (const s of this.sinks) if (s.wants(severity)) s.write(line, severity);
  }

  /**
   * Starts a line of `severity`: the buffer to write its text into (after
   * the first target's header), or null when no target takes it. `end()`
   * finishes it.
   */
  begin(severity: number, sd: LogSdWriter | null = null): LogBuf | null {
    const to = this.#to;
    to.length = 0;
    for (const s of this.sinks) if (s.wants(severity)) to.push(s);
    while (to.length > 0) {
      const out = to[0].begin(severity, sd);
      if (out !== null) {
        this.#body = out.n;
        this.#sev = severity;
        this.#sd = sd;
        return out;
      }
      to.shift();
    }
    return null;
  }

  /** Ends the line `begin()` started, copying its text to the other targets. */
  end(out: LogBuf): void {
    const to = this.#to;
    for (let i = 1; i < to.length; i++) {
      const o = to[i].begin(this.#sev, this.#sd);
      if (o === null) continue;
      o.bytes(out.a, this.#body, out.n - this.#body);
      to[i].end();
    }
    to[0].end();
    to.length = 0;
    this.#sd = null;
  }
}
