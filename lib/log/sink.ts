/**
 * Where log lines go. Writing never blocks the request path: lines queue in
 * memory while one asynchronous write is in flight, and when the sink is too
 * slow for the queue's byte budget, new lines are dropped and counted rather
 * than stalling streams or growing without bound.
 *
 * @module
 */

/** A line-oriented log destination. */
export class LogSink {
  /** Lines accepted. */
  lines = 0;
  /** Lines dropped because the queue was full or the sink failed. */
  dropped = 0;
  readonly #target: "stdout" | "stderr" | "none" | ((line: string) => void);
  readonly #limit: number;
  #queue: string[] = [];
  #queued = 0;
  #flushing: Promise<void> | null = null;
  #broken = false;
  #enc = new TextEncoder();

  constructor(
    target: "stdout" | "stderr" | "none" | ((line: string) => void),
    queueBytes: number,
  ) {
    this.#target = target;
    this.#limit = queueBytes;
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

  async #flush(): Promise<void> {
    const out = this.#target === "stderr" ? Deno.stderr : Deno.stdout;
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
