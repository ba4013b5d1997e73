/**
 * What a health check (CheckTask) and an agent check (AgentTask) share: a
 * task that runs one asynchronous probe at a time, starts once at a random
 * point of its interval (so that checks of many servers do not all fire
 * together), and stops for good, aborting a running probe. A settled probe
 * hands its result to `process()` through `settled` and a wakeup, so results
 * are applied in the scheduler's turn, never from a promise callback.
 *
 * @module
 */
import { tickNow } from "../core/time.ts";
import type { Scheduler } from "../sched/scheduler.ts";
import { Task } from "../sched/task.ts";
import { TASK_WOKEN_IO } from "../sched/task_types.ts";
import { firstDelay } from "./health.ts";

/** A task running one probe at a time; `R` is a probe's result. */
export abstract class ProbeTask<R> extends Task {
  /** The settings; `inter` is the interval between probes. */
  abstract readonly cfg: { readonly inter: number };
  protected readonly sched: Scheduler;
  protected readonly rnd: () => number;
  /** A settled probe's result waiting for `process()`. */
  protected settled: R | null = null;
  protected started = false;
  protected stopped = false;
  /** The running probe, through its result hand-off; null when idle. */
  #inflight: Promise<void> | null = null;
  #abort: AbortController | null = null;

  constructor(sched: Scheduler, rnd: () => number) {
    super();
    this.sched = sched;
    this.rnd = rnd;
  }

  /** A probe is running now. */
  get inProgress(): boolean {
    return this.#inflight !== null;
  }

  /** Schedules the first probe after a random part of `inter`. Once only. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.expire = tickNow() + firstDelay(this.cfg.inter, this.rnd);
    this.sched.timerUpdate(this);
  }

  /**
   * Stops for good: the task leaves the scheduler, a running probe is
   * aborted and its result ignored. The promise resolves once that probe's
   * socket is closed (at once when none runs); awaiting it is optional but
   * lets a shutdown leave nothing behind.
   */
  stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.sched.kill(this);
      this.#abort?.abort();
    }
    return this.#inflight ?? Promise.resolve();
  }

  /** Runs `probe`; its result goes to `settled` and wakes the task (unless stopped meanwhile). */
  protected launch(probe: (signal: AbortSignal) => Promise<R>): void {
    const ac = new AbortController();
    this.#abort = ac;
    this.#inflight = probe(ac.signal).then((res) => {
      this.#inflight = null;
      this.#abort = null;
      if (this.stopped) return;
      this.settled = res;
      this.sched.wakeup(this, TASK_WOKEN_IO);
    });
  }

  /** The scheduler killed the task because `process()` threw (a callback did). */
  crashed(_err: unknown): void {
    this.stopped = true;
    this.#abort?.abort();
  }
}
