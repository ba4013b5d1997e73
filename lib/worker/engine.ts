/**
 * What the handle (handle.ts) runs a configuration on: one `Instance` on
 * this thread, or a `WorkerGroup` of worker threads under this one. Both
 * answer the runtime API the same way, so the handle, the stats listener and
 * the admin socket do not know which it is.
 *
 * @module
 */
import type { InstanceStats } from "../stats/stats_types.ts";
import type { AdminSession, AdminState } from "../stats/admin_types.ts";
import { errMsg } from "../core/errors.ts";
import type { Instance, ListenAddress } from "./instance.ts";
import type { WorkerGroup } from "./threads.ts";

/** A running configuration, on one thread or several. */
export interface Engine {
  /** Worker threads (1: this thread alone). */
  readonly threads: number;
  /** The worker group, or null on one thread. */
  readonly group: WorkerGroup | null;
  /** The instance that answers for the configuration on this thread (with threads: the control thread's). */
  readonly local: Instance;
  addresses(): ListenAddress[];
  stats(): InstanceStats;
  adminState(): AdminState;
  setServer(
    backend: string,
    server: string,
    change: { state?: "ready" | "drain" | "maint"; weight?: number },
  ): void;
  setMaxconn(backend: string, server: string, maxconn: number): void;
  shutdownSessions(backend: string, server: string): number;
  sessions(): AdminSession[];
  /** Reopens log files; an error text or null. */
  reopenLogs(): string | null;
  event(line: string, level?: "notice" | "warning" | "alert"): void;
  close(opts?: { graceful?: boolean; graceMs?: number }): Promise<void>;
}

/** One instance on this thread. */
export function instanceEngine(inst: Instance): Engine {
  return {
    threads: 1,
    group: null,
    local: inst,
    addresses: () => inst.addresses(),
    stats: () => inst.stats(),
    adminState: () => inst.adminState(),
    setServer: (b, s, c) => inst.setServer(b, s, c),
    setMaxconn: (b, s, n) => inst.setMaxconn(b, s, n),
    shutdownSessions: (b, s) => inst.shutdownSessions(b, s),
    sessions: () => inst.sessions(),
    reopenLogs: () => {
      try {
        inst.logs.reopen();
        return null;
      } catch (err) {
        return errMsg(err);
      }
    },
    event: (line, level) => inst.event(line, level),
    close: (opts) => inst.close(opts),
  };
}

/**
 * Worker threads: changes go to the control thread's instance first (which
 * checks them and throws for a bad name or value), then to every worker
 * before the call returns.
 */
export function groupEngine(g: WorkerGroup): Engine {
  const m = g.mirror;
  return {
    threads: g.threads,
    group: g,
    local: m,
    addresses: () => g.addresses(),
    stats: () => g.stats(),
    adminState: () => m.adminState(),
    setServer: (b, s, c) => {
      m.setServer(b, s, c);
      g.syncServers();
    },
    setMaxconn: (b, s, n) => {
      m.setMaxconn(b, s, n);
      g.syncServers();
    },
    shutdownSessions: (b, s) => g.shutdownSessions(b, s),
    sessions: () => g.sessions(),
    reopenLogs: () => g.reopenLogs(),
    event: (line, level) => m.event(line, level),
    close: (opts) => g.close(opts),
  };
}
