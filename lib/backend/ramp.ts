/**
 * Slowstart: after a server comes back, its effective weight grows from
 * almost 0 to its configured weight over `slowstart` ms, so a cold server is
 * not flooded. One task per backend steps every ramping server a few times
 * per second and stops when none is left.
 *
 * @module
 */
import { TICK_ETERNITY } from "../core/time.ts";
import type { Scheduler } from "../sched/scheduler.ts";
import { Task } from "../sched/task.ts";
import type { Server } from "./server.ts";

/** Steps the effective weight of ramping servers. */
export class Ramp extends Task {
  readonly #sched: Scheduler;
  readonly #servers = new Set<Server>();
  readonly #changed: (srv: Server, now: number) => void;

  /** `changed` is told each time a server's effective weight moved. */
  constructor(sched: Scheduler, changed: (srv: Server, now: number) => void) {
    super();
    this.#sched = sched;
    this.#changed = changed;
  }

  /** Starts (or restarts) ramping `srv` from `srv.lastChange`. */
  add(srv: Server, now: number): void {
    if (srv.slowstart <= 0) return;
    this.#servers.add(srv);
    this.#step(now);
  }

  /** Number of servers still ramping. */
  get size(): number {
    return this.#servers.size;
  }

  process(now: number): void {
    this.#step(now);
  }

  crashed(err: unknown): void {
    console.error("sluice: internal error in slowstart:", err);
  }

  /** Stops every ramp (instance shutdown). */
  stop(): void {
    this.#servers.clear();
    this.#sched.kill(this);
  }

  #step(now: number): void {
    let next = TICK_ETERNITY;
    for (const srv of this.#servers) {
      const before = srv.effWeight;
      const going = srv.rampWeight(now);
      if (srv.effWeight !== before) this.#changed(srv, now);
      if (!going) {
        this.#servers.delete(srv);
        continue;
      }
      // About 20 steps over the ramp, at most 10 per second.
      const step = Math.max(100, Math.floor(srv.slowstart / 20));
      if (now + step < next) next = now + step;
    }
    this.expire = next;
    this.#sched.timerUpdate(this);
  }
}
