/**
 * The log sinks of an instance: one per distinct target (a target several
 * proxies name, or `log global` in each of them, is one sink), the global
 * targets, and each proxy's list as Loggers. Events (server state changes,
 * limits, failing hooks) go to their proxy's targets, or to the global ones
 * when it has none (HAProxy prints them on standard error then).
 *
 * @module
 */
import type { ResolvedLogTarget, ResolvedLogTargets } from "../cfg/config_log.ts";
import { Loggers } from "../log/loggers.ts";
import { LogSink } from "../log/sink.ts";
import { SEV_ALERT, SEV_NOTICE, SEV_WARNING } from "../log/syslog.ts";

/** An event's level, as the layers report them. */
export type EventLevel = "notice" | "warning" | "alert";

/** Every sink of an instance, by target. */
export class LogSinks {
  readonly #queueBytes: number;
  readonly #byKey = new Map<string, LogSink>();
  /** The global targets. */
  readonly global: Loggers;
  /** Writes event lines as JSON objects rather than `[LEVEL] text`. */
  readonly #json: boolean;

  constructor(global: readonly ResolvedLogTarget[], queueBytes: number, json: boolean) {
    this.#queueBytes = queueBytes;
    this.#json = json;
    this.global = new Loggers(global.map((t) => this.#sink(t)));
  }

  #sink(t: ResolvedLogTarget): LogSink {
    let s = this.#byKey.get(t.key);
    if (s === undefined) {
      s = new LogSink(t.target, this.#queueBytes, {
        header: t.header,
        level: t.level,
        minLevel: t.minLevel,
        maxLen: t.maxLen,
      });
      this.#byKey.set(t.key, s);
    }
    return s;
  }

  /** A proxy's targets (`"global"` standing for the global ones); possibly none. */
  loggersOf(targets: ResolvedLogTargets): Loggers {
    const sinks: LogSink[] = [];
    for (const t of targets) {
      for (const s of t === "global" ? this.global.sinks : [this.#sink(t)]) {
        if (!sinks.includes(s)) sinks.push(s);
      }
    }
    return sinks.length === this.global.sinks.length &&
        sinks.every((s, i) => s === this.global.sinks[i])
      ? this.global
      : new Loggers(sinks);
  }

  /** Every sink. */
  get sinks(): LogSink[] {
    return [...this.#byKey.values()];
  }

  /** Lines written and dropped, over every sink. */
  counts(): { lines: number; dropped: number } {
    let lines = 0, dropped = 0;
    for (const s of this.#byKey.values()) {
      lines += s.lines;
      dropped += s.dropped;
    }
    return { lines, dropped };
  }

  /** Opens the log files again (after a rotation). Throws the first failure, after trying every sink. */
  reopen(): void {
    let first: unknown = null;
    for (const s of this.#byKey.values()) {
      try {
        s.reopen();
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== null) throw first;
  }

  /** Closes every sink once its queue is out (syslog: within its wait). */
  async close(): Promise<void> {
    await Promise.all([...this.#byKey.values()].map((s) => s.close()));
  }

  /**
   * An event writer for a proxy with `loggers` (the global targets when it
   * has none): `[LEVEL] line`, or a JSON object, at the level's severity.
   */
  eventsTo(loggers: Loggers): (line: string, level: EventLevel) => void {
    const to = loggers.sinks.length > 0 ? loggers : this.global;
    return (line, level) => {
      const sev = level === "notice" ? SEV_NOTICE : level === "warning" ? SEV_WARNING : SEV_ALERT;
      if (!to.wants(sev)) return;
      to.write(
        this.#json
          ? JSON.stringify({ type: "event", date: new Date().toISOString(), level, message: line })
          : `[${level.toUpperCase()}] ${line}`,
        sev,
      );
    };
  }
}
