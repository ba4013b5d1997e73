/**
 * A task: something the scheduler runs when woken by I/O, a timer or a
 * message. Subclasses implement `process()`, which must do its work
 * synchronously, set `expire` to its next deadline, and return.
 *
 * @module
 */
import { TICK_ETERNITY } from "../core/time.ts";

/** Base class of every schedulable unit (streams, checks, applets). */
export abstract class Task {
  /** TASK_* bits: queued, running, wake reasons. */
  state = 0;
  /** The tick at which the task wants to be woken, or eternity. */
  expire: number = TICK_ETERNITY;
  /** Key under which the task sits in the timer heap (may be earlier than `expire`). */
  heapKey: number = TICK_ETERNITY;
  /** Position in the timer heap, -1 when not queued there. */
  heapIndex = -1;
  /** Wake reasons (TASK_WOKEN_*) of the current run, set by the scheduler. */
  woken = 0;

  /**
   * Runs one turn of the task; `woken` holds why. Must not throw; the scheduler
   * catches and kills a task that does, as a last resort.
   */
  abstract process(now: number): void;

  /** Called once when the scheduler kills a task whose `process()` threw. */
  abstract crashed(err: unknown): void;
}
