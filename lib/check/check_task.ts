/**
 * The task that checks one server: waits its interval in the scheduler's
 * timer heap, runs a probe, counts the result in the server's health and
 * tells the server when it goes up or down.
 *
 * Like every task its work is synchronous: the probe is the only I/O edge.
 * When the probe settles, its callback only stores the result and wakes the
 * task; `process()` then counts it, calls `target.onCheck()` and sets the
 * next expiry. Passive reports from traffic (`failPassive()`, `forceDown()`,
 * `setFastinter()`) go the same way, so `onCheck()` never runs inside the
 * stream that observed the error.
 *
 * @module
 */
import { TICK_ETERNITY, tickIsExpired, tickNow } from "../core/time.ts";
import type { Scheduler } from "../sched/scheduler.ts";
import { TASK_WOKEN_MSG } from "../sched/task_types.ts";
import { checkConfigResolve } from "./check_config.ts";
import {
  CHECK_STATUS,
  type CheckConfig,
  type CheckResult,
  type CheckTransition,
  type ResolvedCheckConfig,
} from "./check_types.ts";
import { Health, type HealthInit, jitter } from "./health.ts";
import { ProbeTask } from "./probe_task.ts";
import { type ProbeAddr, probeResolved } from "./probe.ts";

/** The server a check task works for. */
export interface CheckTarget {
  /** Name for logs ("backend/server"). */
  readonly name: string;
  /** Where to connect (`cfg.port` replaces a TCP port). */
  readonly addr: ProbeAddr;
  /**
   * Called from the task's `process()` after each check and each passive
   * report, with "up"/"down" when the server's state changes (null
   * otherwise). Must not throw: the scheduler would kill the check task.
   */
  onCheck(result: CheckResult, transition: CheckTransition): void;
}

/** Options of a `CheckTask`. */
export interface CheckTaskOptions {
  /** Random numbers in [0, 1) for the first delay and jitter (default Math.random). */
  rnd?: () => number;
  /** Initial health (default "fully-up"; see `HealthInit`). */
  init?: HealthInit;
}

/** A read-only snapshot of a check for stats (HAProxy's check_* and chk* columns). */
export interface CheckStats {
  /** The state the checks decided. */
  readonly up: boolean;
  /** The health counter, in [0, rise+fall-1]. */
  readonly health: number;
  readonly rise: number;
  readonly fall: number;
  /** The last result (probe or passive), null before the first. */
  readonly last: CheckResult | null;
  /** A probe is running now. */
  readonly inProgress: boolean;
  /** Probes completed. */
  readonly checks: number;
  /** Failed results counted, probes and passive reports (HAProxy's chkfail). */
  readonly failed: number;
  /** Up-to-down transitions (HAProxy's chkdown). */
  readonly downs: number;
  /** Tick of the last transition, or -1 when none happened. */
  readonly lastChange: number;
}

/** Checks one server. Create, `start()`, and `stop()` on shutdown. */
export class CheckTask extends ProbeTask<CheckResult> {
  /** The configuration with every default applied. */
  readonly cfg: ResolvedCheckConfig;
  readonly #target: CheckTarget;
  readonly #health: Health;
  /** Passive failures waiting for `process()`, and the last one's text. */
  #passive = 0;
  #passiveInfo = "";
  /** A forced down waiting for `process()` (its text), or null. */
  #forceDown: string | null = null;
  /** Use fastinter until the next probe result even when fully up. */
  #fast = false;
  #last: CheckResult | null = null;
  #checks = 0;
  #failed = 0;
  #downs = 0;
  #lastChange = -1;

  /**
   * Throws an Error (see `checkConfigResolve()`) when `cfg` has a bad value;
   * build tasks while loading the configuration.
   */
  constructor(
    sched: Scheduler,
    target: CheckTarget,
    cfg: CheckConfig,
    opts: CheckTaskOptions = {},
  ) {
    super(sched, opts.rnd ?? Math.random);
    this.cfg = checkConfigResolve(cfg);
    this.#target = target;
    this.#health = new Health(this.cfg.rise, this.cfg.fall, opts.init ?? "fully-up");
  }

  /** The state the checks decided (the initial state until a transition). */
  get up(): boolean {
    return this.#health.up;
  }

  /** The last result, null before the first. */
  get last(): CheckResult | null {
    return this.#last;
  }

  /** A snapshot for stats. */
  get stats(): CheckStats {
    const h = this.#health;
    return {
      up: h.up,
      health: h.health,
      rise: h.rise,
      fall: h.fall,
      last: this.#last,
      inProgress: this.inProgress,
      checks: this.#checks,
      failed: this.#failed,
      downs: this.#downs,
      lastChange: this.#lastChange,
    };
  }

  /**
   * Counts one failure as if a check had failed (HAProxy's `observe` with
   * `on-error fail-check`): applied by the next `process()`, which calls
   * `onCheck()` with a HANA result and brings the next check closer.
   */
  failPassive(info = "error reported by traffic"): void {
    if (this.stopped) return;
    this.#passive++;
    this.#passiveInfo = info;
    this.sched.wakeup(this, TASK_WOKEN_MSG);
  }

  /**
   * Marks the server down at once (HAProxy's `on-error mark-down`): its
   * health drops to 0, so `rise` good checks bring it back. Applied by the
   * next `process()`.
   */
  forceDown(info = "marked down"): void {
    if (this.stopped) return;
    this.#forceDown = info;
    this.sched.wakeup(this, TASK_WOKEN_MSG);
  }

  /**
   * Checks at `fastinter` until the next result, even when fully up (HAProxy's
   * `on-error fastinter`); a pending check is brought closer.
   */
  setFastinter(): void {
    if (this.stopped) return;
    this.#fast = true;
    this.sched.wakeup(this, TASK_WOKEN_MSG);
  }

  /** The delay before the next check, before jitter. */
  #interval(): number {
    const h = this.#health;
    if (this.#fast && h.health === h.max) return this.cfg.fastinter;
    return h.nextInterval(this.cfg);
  }

  /** Records `r` and tells the target. */
  #report(r: CheckResult, tr: CheckTransition, now: number): void {
    this.#last = r;
    if (!r.ok) this.#failed++;
    if (tr !== null) {
      this.#lastChange = now;
      if (tr === "down") this.#downs++;
    }
    this.#target.onCheck(r, tr);
  }

  #passiveResult(info: string): CheckResult {
    return { ok: false, code: "HANA", reason: CHECK_STATUS.HANA.reason, info, durationMs: 0 };
  }

  process(now: number): void {
    if (this.stopped) return;
    const h = this.#health;
    let early = false;
    if (this.#passive > 0) {
      // Several reports since the last run count one by one, told once.
      let tr: CheckTransition = null;
      this.#failed += this.#passive - 1;
      for (; this.#passive > 0; this.#passive--) tr = h.report(false) ?? tr;
      this.#report(this.#passiveResult(this.#passiveInfo), tr, now);
      early = true;
    }
    if (this.#forceDown !== null) {
      const info = this.#forceDown;
      this.#forceDown = null;
      this.#report(this.#passiveResult(info), h.forceDown(), now);
      early = true;
    }
    if (this.#fast) early = true;

    const r = this.settled;
    if (r !== null) {
      this.settled = null;
      this.#checks++;
      const tr = h.report(r.ok);
      this.#fast = false;
      this.#report(r, tr, now);
      this.expire = now + jitter(this.#interval(), this.rnd);
      return;
    }
    if (this.inProgress) return; // its settling wakes us
    if (this.started && tickIsExpired(this.expire, now)) {
      this.expire = TICK_ETERNITY;
      this.#runProbe();
      return;
    }
    if (early && this.started) {
      // Woken before the timer by a passive report: bring the next check
      // closer if the new state wants a shorter interval (never further).
      const next = now + jitter(this.#interval(), this.rnd);
      if (next < this.expire) this.expire = next;
    }
  }

  #runProbe(): void {
    const start = tickNow();
    this.launch((signal) =>
      probeResolved(this.#target.addr, this.cfg, this.cfg.timeout, signal)
        .catch((err): CheckResult => ({
          // probe() never rejects; this only guards the task against a bug there.
          ok: false,
          code: "SOCKERR",
          reason: CHECK_STATUS.SOCKERR.reason,
          info: String(err),
          durationMs: Math.round(tickNow() - start),
        }))
    );
  }
}
