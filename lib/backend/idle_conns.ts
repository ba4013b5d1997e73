/**
 * Idle server connections kept for reuse (HTTP keep-alive to servers), as
 * HAProxy's idle pools: `http-reuse` says which requests may take one,
 * `pool-max-conn`, `pool-low-conn` and `pool-purge-delay` how many are kept.
 *
 * A connection whose response ended cleanly goes back to its owner's idle
 * list (its server's, or with `http-reuse never` its client stream's private
 * one) instead of being closed; a request takes the most recently used one.
 * While idle, the connection keeps receiving into a scratch buffer: any byte
 * or EOF from the server means it is no longer usable and it is closed at
 * once, so a stale connection is never handed out knowingly.
 *
 * How many stay (HAProxy's `srv_add_to_idle_list()` and
 * `srv_cleanup_idle_conns()`): a released connection is kept when the server
 * has fewer than `pool-max-conn` idle and either none is idle yet or the
 * connections in use plus the idle ones stay within the estimated need
 * (the most in use at once lately) plus `pool-low-conn`. Every
 * `pool-purge-delay`, half of the connections in excess of that need are
 * closed, the oldest first, and the estimate decays towards the last
 * period's peak. A load of 1,000 keep-alive clients thus keeps its 1,000
 * server connections, and a burst's extra connections go within a few
 * periods after it.
 *
 * @module
 */
import { Buf } from "../buf/buffer.ts";
import type { Connection } from "../conn/connection.ts";
import { CO_FL_CLOSED, CO_FL_ERROR, CO_FL_SOCK_RD_SH } from "../conn/conn_types.ts";
import { TICK_ETERNITY } from "../core/time.ts";
import type { Scheduler } from "../sched/scheduler.ts";
import { Task } from "../sched/task.ts";

/** Something that has idle connections: a server, or a stream's private pool. */
export interface IdleOwner {
  /** Its idle connections, most recently used last. */
  readonly idle: Connection[];
  /** When each idle connection was parked (parallel to `idle`). */
  readonly idleSince: number[];
  /** Most idle connections (`pool-max-conn`): -1 unlimited, 0 none. */
  readonly poolMaxConn: number;
  /** Purge period in ms (`pool-purge-delay`); 0 keeps none; -1 never purges (private pools). */
  readonly poolPurgeDelay: number;
  /** Idle connections kept beyond the estimated need (`pool-low-conn`). */
  readonly poolLowConn: number;
  /**
   * Connections in use now by this thread (a server's streams holding a
   * slot): idle pools are each thread's, so they are sized by its own use.
   */
  readonly curLocal: number;
  /** The most in use at once since the last purge. */
  maxUsed: number;
  /** Estimated need: at least the recent peak, decaying by halves. */
  estNeed: number;
  /** When the next purge is due (TICK_ETERNITY: none scheduled). */
  purgeAt: number;
}

/** Records that `owner` now has `cur` connections in use (call after each increase). */
export function idleNoteUse(owner: IdleOwner, cur: number): void {
  if (cur > owner.maxUsed) owner.maxUsed = cur;
  if (cur > owner.estNeed) owner.estNeed = cur;
}

/** The task watching every idle connection of an instance. */
export class IdleConns extends Task {
  /** Connections reused, closed while idle (server closed, purged), and parked. */
  reused = 0;
  expired = 0;
  parked = 0;
  readonly #sched: Scheduler;
  readonly #owners = new Set<IdleOwner>();
  readonly #scratch = new Buf();

  constructor(sched: Scheduler) {
    super();
    this.#sched = sched;
    this.#scratch.attach(new Uint8Array(64));
  }

  /** Parks `conn` for `owner`, or closes it when the owner keeps no more (see the module comment). */
  put(owner: IdleOwner, conn: Connection, now: number): void {
    const n = owner.idle.length;
    const purge = owner.poolPurgeDelay;
    const keep = purge !== 0 && (owner.poolMaxConn < 0 || n < owner.poolMaxConn) &&
      (n === 0 ||
        owner.curLocal + n <= Math.max(owner.curLocal, owner.estNeed) + owner.poolLowConn);
    if (!keep) {
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
    if (purge > 0 && owner.purgeAt === TICK_ETERNITY) {
      owner.purgeAt = now + purge;
      if (owner.purgeAt < this.expire) {
        this.expire = owner.purgeAt;
        this.#sched.timerUpdate(this);
      }
    }
  }

  /**
   * Takes the most recent usable idle connection of `owner`, or null; with
   * `provenOnly`, only one that was already reused (`http-reuse aggressive`
   * for a client's first request); only one made with SNI `tlsName` (a
   * server with `sni EXPR`; null: the server's own).
   */
  take(owner: IdleOwner, provenOnly = false, tlsName: string | null = null): Connection | null {
    const list = owner.idle, since = owner.idleSince;
    for (let i = list.length - 1; i >= 0; i--) {
      const conn = list[i];
      if (conn.rcvd > 0 || (conn.flags & (CO_FL_ERROR | CO_FL_SOCK_RD_SH | CO_FL_CLOSED))) {
        list.splice(i, 1);
        since.splice(i, 1);
        conn.close();
        this.expired++;
        continue;
      }
      if (provenOnly && conn.reuses === 0) continue;
      if (conn.tlsName !== tlsName) continue;
      if (i === list.length - 1) {
        list.pop();
        since.pop();
      } else {
        list.splice(i, 1);
        since.splice(i, 1);
      }
      conn.xprt.rcvStop(conn);
      conn.reuses++;
      this.reused++;
      return conn;
    }
    return null;
  }

  /** Closes the idle connections of one owner (a server down, a stream ended). */
  closeOwner(owner: IdleOwner): void {
    for (const c of owner.idle) c.close();
    owner.idle.length = 0;
    owner.idleSince.length = 0;
    owner.purgeAt = TICK_ETERNITY;
    this.#owners.delete(owner);
  }

  /** Closes every idle connection (instance stop). */
  closeAll(): void {
    for (const owner of this.#owners) {
      for (const c of owner.idle) c.close();
      owner.idle.length = 0;
      owner.idleSince.length = 0;
      owner.purgeAt = TICK_ETERNITY;
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
      // Connections the server closed (or wrote to) go at once.
      let w = 0;
      for (let r = 0; r < list.length; r++) {
        const c = list[r];
        if (c.rcvd > 0 || (c.flags & (CO_FL_ERROR | CO_FL_SOCK_RD_SH | CO_FL_CLOSED))) {
          c.close();
          this.expired++;
          continue;
        }
        list[w] = c;
        since[w] = since[r];
        w++;
      }
      list.length = w;
      since.length = w;
      if (owner.purgeAt <= now) this.#purge(owner, now);
      if (list.length === 0) {
        owner.purgeAt = TICK_ETERNITY;
        this.#owners.delete(owner);
        continue;
      }
      if (owner.purgeAt < next) next = owner.purgeAt;
      // Receiving may have stopped on the full scratch: start again.
      for (const c of list) if (c.rbuf === null) c.xprt.rcvBuf(c, s);
    }
    this.expire = next;
  }

  /**
   * One purge period of `owner` is over: close half of the connections in
   * excess of the need (rounded up), the oldest first, and update the need.
   */
  #purge(owner: IdleOwner, now: number): void {
    const list = owner.idle, since = owner.idleSince;
    const exceed = owner.curLocal + list.length - Math.max(owner.maxUsed, owner.estNeed);
    const kill = exceed > 0 ? Math.min(list.length, (exceed >> 1) + (exceed & 1)) : 0;
    owner.estNeed = Math.max(owner.maxUsed, (owner.estNeed + owner.maxUsed) >> 1);
    owner.maxUsed = owner.curLocal;
    if (kill > 0) {
      for (let i = 0; i < kill; i++) list[i].close();
      list.splice(0, kill);
      since.splice(0, kill);
      this.expired += kill;
    }
    owner.purgeAt = list.length > 0 && owner.poolPurgeDelay > 0
      ? now + owner.poolPurgeDelay
      : TICK_ETERNITY;
  }

  crashed(err: unknown): void {
    console.error("sluice: internal error in idle connections:", err);
  }
}
