/**
 * Task state bits (TASK_*). A task is queued at most once in the run queue and
 * at most once in the timer heap.
 *
 * @module
 */
import type { FlagTable } from "../core/flags.ts";

/** The task is in the run queue. */
export const TASK_QUEUED = 1 << 0;
/** The task's handler is running now. */
export const TASK_RUNNING = 1 << 1;
/** Woken because an I/O operation completed. */
export const TASK_WOKEN_IO = 1 << 2;
/** Woken because its expiry was reached. */
export const TASK_WOKEN_TIMER = 1 << 3;
/** Woken by another task or by the control plane (message, state change). */
export const TASK_WOKEN_MSG = 1 << 4;
/** Woken because a resource it waited for (a buffer, a server slot) is ready. */
export const TASK_WOKEN_RES = 1 << 5;
/** The task was freed: it is never run nor queued again. */
export const TASK_KILLED = 1 << 6;

/** All wake reasons. */
export const TASK_WOKEN_ANY = TASK_WOKEN_IO | TASK_WOKEN_TIMER |
  TASK_WOKEN_MSG | TASK_WOKEN_RES;

/** Names for `showFlags()`. */
export const TASK_FLAG_NAMES: FlagTable = [
  [TASK_QUEUED, "QUEUED"],
  [TASK_RUNNING, "RUNNING"],
  [TASK_WOKEN_IO, "WOKEN_IO"],
  [TASK_WOKEN_TIMER, "WOKEN_TIMER"],
  [TASK_WOKEN_MSG, "WOKEN_MSG"],
  [TASK_WOKEN_RES, "WOKEN_RES"],
  [TASK_KILLED, "KILLED"],
];
