/**
 * Event lines for limits being reached (buffer pool exhausted, maxconn
 * reached, queue full), at most one per kind every `intervalMs`: the next
 * line says how many occurrences it stands for, so a flood of connections
 * never becomes a flood of log lines.
 *
 * @module
 */

/** Rate-limited reporting of repeated events. */
export class LimitEvents {
  readonly #emit: (line: string, level: "notice" | "warning" | "alert", key: string) => void;
  readonly #intervalMs: number;
  readonly #last = new Map<string, { at: number; skipped: number }>();

  constructor(
    emit: (line: string, level: "notice" | "warning" | "alert", key: string) => void,
    intervalMs = 10_000,
  ) {
    this.#emit = emit;
    this.#intervalMs = intervalMs;
  }

  /** Reports `line` for `key` unless one was reported less than the interval ago (then counts it). */
  report(key: string, line: string, now = Date.now()): void {
    const e = this.#last.get(key);
    if (e !== undefined && now - e.at < this.#intervalMs) {
      e.skipped++;
      return;
    }
    const more = e !== undefined && e.skipped > 0
      ? ` (${e.skipped} more since the last report)`
      : "";
    this.#last.set(key, { at: now, skipped: 0 });
    this.#emit(line + more, "warning", key);
  }

  /** The keys reported (or held back) within the last interval: the limits in force now. */
  recent(now = Date.now()): string[] {
    const out: string[] = [];
    for (const [k, e] of this.#last) {
      if (now - e.at < this.#intervalMs) out.push(k);
    }
    return out;
  }
}
