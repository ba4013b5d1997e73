/**
 * Idle server connections kept for reuse (HTTP keep-alive to servers).
 *
 * A connection whose response ended cleanly goes back to its server's idle
 * list instead of being closed; the next request for that server takes the
 * most recently used one. While idle, the connection keeps receiving into a
 * scratch buffer: any byte or EOF from the server means it is no longer
 * usable and it is closed at once, so a stale connection is never handed out
 * knowingly. Idle connections live at most `idleTimeout` ms and each server
 * keeps at most `maxPerServer`.
 *
 * @module
 */
import { Buf } from "../buf/buffer.ts";
import type { Connection } from "../conn/connection.ts";
import { CO_FL_CLOSED, CO_FL_ERROR, CO_FL_SOCK_RD_SH } from "../conn/conn_types.ts";
import { TICK_ETERNITY } from "../core/time.ts";
import type { Scheduler } from "../sched/scheduler.ts";
import { Task } from "../sched/task.ts";

/** Something that has idle connections (a server). */
export interface IdleOwner {
  /** Its idle connections, most recently used last. */
  readonly idle: Connection[];
  /** When each idle connection was parked (parallel to `idle`). */
  readonly idleSince: number[];
}

/** The task watching every idle connection of an instance. */
export class IdleConns extends Task {
  readonly idleTimeout: number;
  readonly maxPerServer: number;
  /** Connections reused, closed while idle, and parked. */
  reused = 0;
  expired = 0;
  parked = 0;
  readonly #sched: Scheduler;
  readonly #owners = new Set<IdleOwner>();
  readonly #scratch = new Buf();

  constructor(sched: Scheduler, opts: { idleTimeout: number; maxPerServer: number }) {
    super();
    this.#sched = sched;
    this.idleTimeout = opts.idleTimeout;
    this.maxPerServer = opts.maxPerServer;
    this.#scratch.attach(new Uint8Array(64));
  }

  /** Parks `conn` for `owner`, or closes it when the list is full. */
  put(owner: IdleOwner, conn: Connection, now: number): void {
    if (owner.idle.length >= this.maxPerServer || this.idleTimeout === 0) {
      conn.close();
      return;
    }
    conn.owner = this;
    conn.xprt.rcvStop(conn);
    conn.rcvd = 0;
    owner.idle.push(conn);
    owner.idleSince.push(now);
    this.#owners.add(owner);
    this.parked++;
    // Watch for the server closing (or talking out of turn).
    conn.xprt.rcvBuf(conn, this.#scratch);
    const exp = now + this.idleTimeout;
    if (exp < this.expire) {
      this.expire = exp;
      this.#sched.timerUpdate(this);
    }
  }

  /** Takes the most recent usable idle connection of `owner`, or null. */
  take(owner: IdleOwner): Connection | null {
    const list = owner.idle;
    while (list.length > 0) {
      const conn = list.pop()!;
      owner.idleSince.pop();
      if (conn.rcvd > 0 || (conn.flags & (CO_FL_ERROR | CO_FL_SOCK_RD_SH | CO_FL_CLOSED))) {
        conn.close();
        this.expired++;
        continue;
      }
      conn.xprt.rcvStop(conn);
      this.reused++;
      return conn;
    }
    return null;
  }

  /** Closes the idle connections of one server (it went down or into maintenance). */
  closeOwner(owner: IdleOwner): void {
    for (const c of owner.idle) c.close();
    owner.idle.length = 0;
    owner.idleSince.length = 0;
    this.#owners.delete(owner);
  }

  /** Closes every idle connection (instance stop). */
  closeAll(): void {
    for (const owner of this.#owners) {
      for (const c of owner.idle) c.close();
      owner.idle.length = 0;
      owner.idleSince.length = 0;
    }
    this.#owners.clear();
    this.expire = TICK_ETERNITY;
    this.#sched.timerUpdate(this);
  }

  process(now: number): void {
    const s = this.#scratch;
    s.head = s.out = s.in = 0;
    let next = TICK_ETERNITY;
    for (const owner of this.#owners) {
      const list = owner.idle, since = owner.idleSince;
      let w = 0;
      for (let r = 0; r < list.length; r++) {
        const c = list[r];
        const dead = c.rcvd > 0 || (c.flags & (CO_FL_ERROR | CO_FL_SOCK_RD_SH | CO_FL_CLOSED)) ||
          since[r] + this.idleTimeout <= now;
        if (dead) {
          c.close();
          this.expired++;
          continue;
        }
        list[w] = c;
        since[w] = since[r];
        w++;
        const exp = since[r] + this.idleTimeout;
        if (exp < next) next = exp;
      }
      list.length = w;
      since.length = w;
      if (w === 0) this.#owners.delete(owner);
      else {
        // Receiving may have stopped on the full scratch: start again.
        for (const c of list) if (c.rbuf === null) c.xprt.rcvBuf(c, s);
      }
    }
    this.expire = next;
  }

  crashed(err: unknown): void {
    console.error("sluice: internal error in idle connections:", err);
  }
}
