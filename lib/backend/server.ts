/**
 * A server of a backend: address, how to connect (raw or TLS), weight and
 * limits, its two states and its queue.
 *
 * - The admin state is what an operator asked: ready, drain (no new streams
 *   except sticky ones, existing ones finish) or maint (no traffic, checks
 *   stop).
 * - The operational state is what health checks (and passive observation)
 *   found: up or down. A server without checks is always up.
 *
 * The server takes new traffic when both say so and its effective weight is
 * above 0. The effective weight is the configured one, ramped from almost 0
 * during `slowstart` after the server came back.
 *
 * @module
 */
import { TlsFailLog } from "./tls_fail_log.ts";
import { TICK_ETERNITY } from "../core/time.ts";
import {
  sharedAdd,
  type SharedCount,
  sharedGet,
  sharedRaise,
  sharedTryTake,
} from "../core/shared_count.ts";
import type { Address } from "../core/addr_types.ts";
import type { Connection } from "../conn/connection.ts";
import type { DataLayer, HandshakeLayer } from "../conn/conn_types.ts";
import type { LbServer } from "../lb/lb_types.ts";
import type { IdleOwner } from "./idle_conns.ts";
import type { StreamTarget } from "../stream/stream.ts";
import { Counters } from "./counters.ts";
import { PendQueue } from "./queue.ts";

/** Admin state: ready for traffic. */
export const SRV_ADMIN_READY = 0;
/** Admin state: no new streams (except sticky ones), existing ones finish. */
export const SRV_ADMIN_DRAIN = 1;
/** Admin state: no traffic at all, checks stopped. */
export const SRV_ADMIN_MAINT = 2;

/** Admin state names, indexed by SRV_ADMIN_*. */
export const SRV_ADMIN_NAMES = ["ready", "drain", "maint"] as const;

/** Passive health settings of a server. */
export interface ServerObserve {
  layer7: boolean;
  errorLimit: number;
  onError: "fail-check" | "fastinter" | "mark-down";
}

/** One server. */
export class Server implements LbServer, StreamTarget, IdleOwner {
  readonly name: string;
  readonly addr: Address;
  /** Position in its group (active or backup) of the backend. */
  readonly lbIndex: number;
  /** Takes traffic only when no active server is up. */
  readonly backup: boolean;
  /** Data layer for connections to this server. */
  readonly xprt: DataLayer;
  /** Handshake layer (PROXY header, TLS) or null. */
  readonly hs: HandshakeLayer | null;
  /** PROXY protocol version sent first on each connection (0: none); such connections are private. */
  readonly sendProxy: 0 | 1 | 2;
  /** Weight as configured (an agent's `75%` is relative to it). */
  readonly iweight: number;
  /** Configured weight (changeable at run time). */
  uweight: number;
  /** Effective weight: `uweight` scaled by the slowstart ramp (fractional while ramping). */
  effWeight: number;
  /**
   * Maximum concurrent streams in force, 0 for none: `maxconnCfg`, or with a
   * `minconn` below it a limit that follows the backend's load (see
   * `limitFor()`).
   */
  maxconn: number;
  /** Configured maxconn (0: none), what `set maxconn server` changes. */
  maxconnCfg: number;
  /** `minconn`: the least the limit goes down to; equal to `maxconnCfg` for a static limit. */
  minconn: number;
  /** Most streams in this server's queue, 0 for no limit. */
  maxqueue: number;
  /** Slowstart ramp in ms (0: none). */
  readonly slowstart: number;
  /** Persistence cookie value. */
  readonly cookie: string;
  /** Passive health settings, or null. */
  readonly observe: ServerObserve | null;
  /** SRV_ADMIN_* state. */
  admin = SRV_ADMIN_READY;
  /** Operational state from checks: up or down. */
  opUp = true;
  /** Tick of the last state change (for slowstart and stats). */
  lastChange = 0;
  /** Milliseconds spent DOWN before the current state, and the tick it went down (-1: up). */
  downMs = 0;
  downSince = -1;
  /** Streams this thread assigned here (holding a slot). */
  curLocal = 0;
  /**
   * With worker threads: every thread's streams on this server, so that
   * its maxconn holds for the process and leastconn sees the real load.
   */
  shared: SharedCount | null = null;
  /** With worker threads: the most streams on this server at once, process-wide (smax). */
  sharedPeak: SharedCount | null = null;
  /** Streams waiting for a slot on this server. */
  readonly queue: PendQueue = new PendQueue();
  /** Consecutive errors seen on live traffic (passive health). */
  consecErrors = 0;
  /** Index in the backend's `sniFetches` of this server's `sni EXPR`, or -1. */
  sniIdx = -1;
  /** Rate limit of the TLS handshake failure log lines (tls_fail_log.ts). */
  readonly tlsFails = new TlsFailLog();
  /** Traffic counters. */
  readonly counters: Counters = new Counters();
  /** Idle kept-alive connections (HTTP), most recently used last. */
  readonly idle: Connection[] = [];
  /** When each idle connection was parked. */
  readonly idleSince: number[] = [];
  /** `pool-max-conn`: most idle connections, -1 unlimited, 0 none. */
  readonly poolMaxConn: number;
  /** `pool-purge-delay` in ms: every period, half the excess idle connections close; 0 keeps none. */
  readonly poolPurgeDelay: number;
  /** `pool-low-conn`: idle connections kept beyond the estimated need. */
  readonly poolLowConn: number;
  /** Most streams assigned at once since the last purge (idle pool sizing). */
  maxUsed = 0;
  /** Estimated connections needed (idle pool sizing, see idle_conns.ts). */
  estNeed = 0;
  /** Next purge of the idle connections. */
  purgeAt: number = TICK_ETERNITY;

  constructor(
    name: string,
    addr: Address,
    lbIndex: number,
    layers: { xprt: DataLayer; hs: HandshakeLayer | null },
    opts: {
      weight: number;
      maxconn: number;
      /** Default: `maxconn` (a static limit). */
      minconn?: number;
      maxqueue?: number;
      backup?: boolean;
      slowstart?: number;
      cookie?: string;
      observe?: ServerObserve | null;
      sendProxy?: 0 | 1 | 2;
      poolMaxConn?: number;
      poolPurgeDelay?: number;
      poolLowConn?: number;
    },
  ) {
    this.name = name;
    this.addr = addr;
    this.lbIndex = lbIndex;
    this.xprt = layers.xprt;
    this.hs = layers.hs;
    this.iweight = opts.weight;
    this.uweight = opts.weight;
    this.effWeight = opts.weight;
    this.maxconn = this.maxconnCfg = opts.maxconn;
    this.minconn = opts.minconn ?? opts.maxconn;
    this.maxqueue = opts.maxqueue ?? 0;
    this.backup = opts.backup ?? false;
    this.slowstart = opts.slowstart ?? 0;
    this.cookie = opts.cookie ?? name;
    this.observe = opts.observe ?? null;
    this.sendProxy = opts.sendProxy ?? 0;
    this.poolMaxConn = opts.poolMaxConn ?? -1;
    this.poolPurgeDelay = opts.poolPurgeDelay ?? 5000;
    this.poolLowConn = opts.poolLowConn ?? 0;
  }

  /** Up, ready and with weight: may take new traffic. */
  lbUp(): boolean {
    return this.opUp && this.admin === SRV_ADMIN_READY && this.effWeight > 0;
  }

  /** May take a sticky (persistent) stream: up and not in maintenance, whatever its weight. */
  stickyUp(): boolean {
    return this.opUp && this.admin !== SRV_ADMIN_MAINT;
  }

  /** The limit follows the backend's load (`minconn` below `maxconn`). */
  get dynamicLimit(): boolean {
    return this.maxconnCfg > 0 && this.minconn < this.maxconnCfg;
  }

  /**
   * The limit in force when the backend has `beconn` streams, as HAProxy's
   * srv_dynamic_maxconn(): `maxconn` once the backend reaches `fullconn`,
   * else on the ramp from `minconn`, never below it.
   */
  limitFor(beconn: number, fullconn: number): number {
    const max = this.maxconnCfg;
    if (beconn >= fullconn || this.minconn >= max) return max;
    return Math.max(this.minconn, Math.floor(beconn * max / fullconn));
  }

  /** Streams currently assigned (holding a slot): every thread's with worker threads. */
  get cur(): number {
    return this.shared === null ? this.curLocal : sharedGet(this.shared);
  }

  /** Has a free connection slot. */
  hasSlot(): boolean {
    return this.maxconn === 0 || this.cur < this.maxconn;
  }

  /** Takes a slot if one is free (atomically across threads); returns whether it did. */
  takeSlot(): boolean {
    if (this.shared !== null) {
      if (!sharedTryTake(this.shared, this.maxconn)) return false;
      if (this.sharedPeak !== null) sharedRaise(this.sharedPeak, sharedGet(this.shared));
    } else if (this.maxconn !== 0 && this.curLocal >= this.maxconn) return false;
    this.curLocal++;
    return true;
  }

  /** Gives a slot back. */
  dropSlot(): void {
    this.curLocal--;
    if (this.shared !== null) sharedAdd(this.shared, -1);
  }

  /** The queue has room for one more stream. */
  queueRoom(): boolean {
    return this.maxqueue === 0 || this.queue.total < this.maxqueue;
  }

  /**
   * Recomputes the effective weight at `now` (slowstart ramp); returns true
   * while the ramp is still going.
   */
  rampWeight(now: number): boolean {
    const s = this.slowstart;
    const elapsed = now - this.lastChange;
    if (s <= 0 || elapsed >= s || !this.opUp || this.admin !== SRV_ADMIN_READY) {
      this.effWeight = this.uweight;
      return false;
    }
    // A fraction of the weight, so even weight 1 ramps; never below 1/16 of
    // it (HAProxy's weight scale), so the server gets some traffic.
    const u = this.uweight;
    this.effWeight = u === 0 ? 0 : Math.max(u / 16, (u * elapsed) / s);
    return this.effWeight < this.uweight;
  }

  /** Status word for stats and logs: UP, DOWN, DRAIN, MAINT, with slowstart shown as UP. */
  status(): string {
    if (this.admin === SRV_ADMIN_MAINT) return "MAINT";
    if (!this.opUp) return "DOWN";
    if (this.admin === SRV_ADMIN_DRAIN) return "DRAIN";
    return "UP";
  }
}
