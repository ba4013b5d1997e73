/**
 * The cooperative taskset scheduler.
 *
 * I/O completions, timers and other tasks wake tasks; woken tasks wait in a
 * FIFO run queue. A turn runs at most `budget` tasks, in order, each once;
 * tasks woken during a turn run in a later turn. Between turns the scheduler
 * yields to the event loop with `setImmediate`, so socket readiness is polled
 * again before the next turn.
 *
 * Why turns: completions only mark tasks woken, so all the I/O the event
 * loop delivered in one tick is handled in one turn, in FIFO order, with at
 * most `budget` task runs before the event loop gets to poll sockets again.
 * A stream that always has data (a bulk transfer) runs once per turn like
 * every other woken stream and cannot hold the loop.
 *
 * Every timeout lives in one timer heap driven by one `setTimeout`.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { TICK_ETERNITY, tickNow } from "../core/time.ts";
import type { Task } from "./task.ts";
import { TimerHeap } from "./timer_heap.ts";
import {
  TASK_KILLED,
  TASK_QUEUED,
  TASK_RUNNING,
  TASK_WOKEN_ANY,
  TASK_WOKEN_TIMER,
} from "./task_types.ts";

/** Longest delay setTimeout accepts. */
const MAX_TIMER_DELAY = 0x7fffffff;

/** Default longest busy stretch before the loop waits for I/O once (see `#schedule`). */
export const DEFAULT_BREATHE_MS = 100;

/** Default number of tasks run per turn (HAProxy's tune.runqueue-depth). */
export const DEFAULT_BUDGET = 200;

/** Scheduler counters for stats and tests. */
export interface SchedCounters {
  /** Turns run. */
  turns: number;
  /** Task runs. */
  runs: number;
  /** Turns that left queued tasks unrun because the budget was spent. */
  budgetHits: number;
  /** Tasks killed because `process()` threw. */
  crashes: number;
  /** Tasks queued right now. */
  queued: number;
  /** Tasks waiting in the timer heap right now. */
  timers: number;
  /** Turns delayed to let the event loop wait for I/O (accepts, connects). */
  breaths: number;
}

/**
 * I/O readiness that is harvested rather than delivered (the FFI data
 * layer's poller): polled at the start of every turn, told when the
 * scheduler has nothing left to run so that it can wait for events itself.
 */
export interface SchedIo {
  /** Delivers pending readiness events (waking tasks); returns how many. */
  poll(): number;
  /** The scheduler ran out of work. */
  idle(): void;
}

/** A run queue, a timer heap and the loop that drives them. */
export class Scheduler {
  /** Harvested I/O (the FFI poller), or null when all I/O is event-driven. */
  io: SchedIo | null = null;
  /**
   * Tick of the current turn. Read once per turn like HAProxy's now_ms: a
   * turn is short next to any timeout, and reading the clock for every task
   * was a measurable cost.
   */
  now: number = tickNow();
  /** Maximum task runs per turn. */
  readonly budget: number;
  /** Longest stretch of continuous turns before the event loop is let to wait for I/O. */
  readonly breatheMs: number;
  #rq: (Task | undefined)[] = new Array(256);
  #rqHead = 0;
  #rqLen = 0;
  #timers = new TimerHeap();
  #turnPending = false;
  /** Tick a turn last went through a timer (the event loop waited for I/O). */
  /** When the event loop last got to wait for I/O (a breath or an empty run queue). */
  #idleAt = tickNow();
  #breaths = 0;
  #timerHandle: ReturnType<typeof setTimeout> | undefined;
  #timerAt = TICK_ETERNITY;
  #turns = 0;
  #runs = 0;
  #budgetHits = 0;
  #crashes = 0;

  constructor(options: { budget?: number; breatheMs?: number } = {}) {
    this.budget = options.budget ?? DEFAULT_BUDGET;
    this.breatheMs = options.breatheMs ?? DEFAULT_BREATHE_MS;
  }

  /** A turn is scheduled (its poll will see new I/O events). */
  get turnPending(): boolean {
    return this.#turnPending;
  }

  /** Marks `t` woken for `reason` (TASK_WOKEN_*) and queues it if needed. */
  wakeup(t: Task, reason: number): void {
    const st = t.state;
    t.state = st | reason;
    if (st & (TASK_QUEUED | TASK_KILLED)) return;
    t.state |= TASK_QUEUED;
    this.#push(t);
    if (!this.#turnPending) this.#schedule();
  }

  /**
   * Re-files `t` in the timer heap after its `expire` changed outside of its
   * own `process()` (the scheduler re-files it after each run).
   */
  timerUpdate(t: Task): void {
    if (t.state & TASK_KILLED) return;
    this.#timers.schedule(t);
    this.#armTimer();
  }

  /** Stops `t` for good: out of the timer heap, never run again. */
  kill(t: Task): void {
    t.state |= TASK_KILLED;
    this.#timers.remove(t);
    this.#armTimer();
  }

  /** A snapshot of the counters. */
  counters(): SchedCounters {
    return {
      turns: this.#turns,
      runs: this.#runs,
      budgetHits: this.#budgetHits,
      crashes: this.#crashes,
      queued: this.#rqLen,
      timers: this.#timers.size,
      breaths: this.#breaths,
    };
  }

  #push(t: Task): void {
    let rq = this.#rq;
    if (this.#rqLen === rq.length) {
      // Grow by unrolling the ring into a twice larger array.
      const bigger = new Array<Task | undefined>(rq.length * 2);
      for (let i = 0; i < this.#rqLen; i++) {
        bigger[i] = rq[(this.#rqHead + i) % rq.length];
      }
      this.#rq = rq = bigger;
      this.#rqHead = 0;
    }
    rq[(this.#rqHead + this.#rqLen) % rq.length] = t;
    this.#rqLen++;
  }

  #shift(): Task {
    const rq = this.#rq;
    const t = rq[this.#rqHead]!;
    rq[this.#rqHead] = undefined;
    this.#rqHead = (this.#rqHead + 1) % rq.length;
    this.#rqLen--;
    return t;
  }

  #wakeTimer = (t: Task): void => {
    this.wakeup(t, TASK_WOKEN_TIMER);
  };

  #turn = (): void => {
    this.#turnPending = false;
    this.#turns++;
    this.now = tickNow();
    const io = this.io;
    if (io !== null) io.poll();
    this.#timers.expire(this.now, this.#wakeTimer);
    const limited = this.#rqLen > this.budget;
    let n = limited ? this.budget : this.#rqLen;
    while (n-- > 0) {
      const t = this.#shift();
      if (t.state & TASK_KILLED) continue;
      // Wake reasons move to `woken` for this run; a wakeup during the run
      // (the task waking itself) queues it again with fresh reasons.
      t.woken = t.state & TASK_WOKEN_ANY;
      t.state = (t.state & ~(TASK_QUEUED | TASK_WOKEN_ANY)) | TASK_RUNNING;
      this.#runs++;
      try {
        t.process(this.now);
      } catch (err) {
        this.#crashes++;
        t.state |= TASK_KILLED;
        this.#timers.remove(t);
        t.crashed(err);
      }
      t.state &= ~TASK_RUNNING;
      if (!(t.state & TASK_KILLED)) this.#timers.schedule(t);
    }
    this.#armTimer();
    if (this.#rqLen > 0) {
      if (limited) this.#budgetHits++;
      if (!this.#turnPending) this.#schedule();
    } else if (io !== null) io.idle();
  };

  /**
   * Schedules the next turn. Normally with setImmediate (the next event-loop
   * iteration). But Deno's node:net accepts connections and completes
   * connects only when the loop gets to wait for I/O, which a loop always
   * busy with immediates never does: under saturation new connections then
   * waited seconds. So at most every `breatheMs` a turn goes through a zero
   * timer instead, which lets the loop wait on I/O once (measured with 1000
   * connections arriving at once under load: all accepted within 0.5 s
   * instead of 5 s; every 10 ms cost a third of the request rate, every
   * 100 ms nothing measurable).
   */
  #schedule(): void {
    this.#turnPending = true;
    const now = tickNow();
    if (now - this.#idleAt > this.breatheMs) {
      this.#idleAt = now;
      this.#breaths++;
      setTimeout(this.#turn, 0);
    } else setImmediate(this.#turn);
  }

  #onTimer = (): void => {
    this.#timerHandle = undefined;
    this.#timerAt = TICK_ETERNITY;
    this.now = tickNow();
    this.#timers.expire(this.now, this.#wakeTimer);
    this.#armTimer();
  };

  #armTimer(): void {
    const first = this.#timers.firstKey();
    if (first === TICK_ETERNITY) {
      if (this.#timerHandle !== undefined) {
        clearTimeout(this.#timerHandle);
        this.#timerHandle = undefined;
        this.#timerAt = TICK_ETERNITY;
      }
      return;
    }
    // A timer set for later than needed is replaced; one set earlier than
    // needed simply fires early and re-arms (cheaper than churning timers).
    if (first < this.#timerAt) {
      if (this.#timerHandle !== undefined) clearTimeout(this.#timerHandle);
      // setTimeout takes at most 2^31-1 ms; a longer wait fires early and re-arms.
      const delay = Math.min(MAX_TIMER_DELAY, Math.max(0, Math.ceil(first - tickNow())));
      this.#timerHandle = setTimeout(this.#onTimer, delay);
      this.#timerAt = first;
    }
  }
}
