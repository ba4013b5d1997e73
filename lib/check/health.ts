/**
 * The health counter of a checked server, as HAProxy keeps it (`struct
 * check`'s `health`, `rise`, `fall`), and the timing of checks. Pure state:
 * no I/O, no clock; randomness comes in as a function.
 *
 * The counter runs from 0 (fully down) to rise+fall-1 (fully up). A failure
 * takes one off, and once it drops below `rise` it falls to 0: the server
 * goes down. A success adds one, and once it reaches `rise` it jumps to the
 * top: the server comes up. Starting from either extreme that takes exactly
 * `fall` consecutive failures or `rise` consecutive successes, and one
 * opposite result on the way resets the count.
 *
 * @module
 */
import type { CheckTransition } from "./check_types.ts";

/**
 * Initial state, like HAProxy's `init-state`: "fully-up" (health at the top,
 * the default here), "up" (up, one failure turns it down), "down" (down, one
 * success turns it up), "fully-down" (health 0).
 */
export type HealthInit = "fully-up" | "up" | "down" | "fully-down";

/** The check intervals `nextInterval()` chooses from (defaults: `inter`, then 2000). */
export interface CheckIntervals {
  inter?: number;
  fastinter?: number;
  downinter?: number;
}

/** Fraction of an interval added or removed at random (HAProxy's `spread-checks`). */
export const CHECK_JITTER = 0.1;

/** A server's health counter. */
export class Health {
  /** Consecutive successes that turn a down server up. */
  readonly rise: number;
  /** Consecutive failures that turn an up server down. */
  readonly fall: number;
  /** The counter, in [0, rise+fall-1]. */
  health: number;
  /** The state the counter last decided. */
  up: boolean;

  /** Requires rise >= 1 and fall >= 1 (integers). */
  constructor(rise: number, fall: number, init: HealthInit = "fully-up") {
    this.rise = rise;
    this.fall = fall;
    const max = rise + fall - 1;
    switch (init) {
      case "fully-up":
        this.health = max;
        this.up = true;
        break;
      case "up":
        this.health = rise;
        this.up = true;
        break;
      case "down":
        this.health = rise - 1;
        this.up = false;
        break;
      default:
        this.health = 0;
        this.up = false;
    }
  }

  /** The top of the counter: rise+fall-1. */
  get max(): number {
    return this.rise + this.fall - 1;
  }

  /**
   * Counts one check result. Returns "up" or "down" when it changes the
   * server's state, null otherwise.
   */
  report(ok: boolean): CheckTransition {
    const max = this.rise + this.fall - 1;
    if (ok) {
      if (this.health < max) {
        this.health++;
        if (this.health >= this.rise) this.health = max;
      }
      if (!this.up && this.health >= this.rise) {
        this.up = true;
        return "up";
      }
      return null;
    }
    if (this.health > 0) {
      this.health--;
      if (this.health < this.rise) this.health = 0;
    }
    if (this.up && this.health < this.rise) {
      this.up = false;
      return "down";
    }
    return null;
  }

  /** Drops the counter to 0 at once; "down" when the server was up. */
  forceDown(): CheckTransition {
    this.health = 0;
    if (!this.up) return null;
    this.up = false;
    return "down";
  }

  /**
   * The delay before the next check: `inter` when fully up, `downinter` when
   * fully down, `fastinter` in between (the server is changing state and
   * deserves a quicker verdict).
   */
  nextInterval(cfg: CheckIntervals): number {
    const inter = cfg.inter ?? 2000;
    if (this.health >= this.rise + this.fall - 1) return inter;
    if (this.health === 0) return cfg.downinter ?? inter;
    return cfg.fastinter ?? inter;
  }
}

/**
 * Returns `ms` moved by up to ±10% at random, so that checks started
 * together drift apart. `rnd` returns a number in [0, 1).
 *
 * @example
 * ```ts
 * import { jitter } from "./health.ts";
 * jitter(1000, () => 0); // 900
 * jitter(1000, () => 0.5); // 1000
 * ```
 */
export function jitter(ms: number, rnd: () => number = Math.random): number {
  return ms + ms * CHECK_JITTER * (2 * rnd() - 1);
}

/**
 * The delay before a server's first check: uniformly random in [0, inter),
 * so that the servers of a big farm are not all checked at once at startup.
 *
 * @example
 * ```ts
 * import { firstDelay } from "./health.ts";
 * firstDelay(2000, () => 0.25); // 500
 * ```
 */
export function firstDelay(inter: number, rnd: () => number = Math.random): number {
  return inter * rnd();
}
