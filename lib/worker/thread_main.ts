/**
 * A worker thread's entry point (`new Worker(thread_main.ts)`, started by
 * threads.ts): it resolves the configuration the control thread sent, runs
 * one `Instance` on it with SO_REUSEPORT listeners and the shared counts,
 * and follows the control protocol (thread_proto.ts).
 *
 * @module
 */
import { resolveConfig } from "../cfg/config_check.ts";
import { errMsg, SluiceError } from "../core/errors.ts";
import { SharedCounts } from "../core/shared_count.ts";
import type { Backend, ServerStateView } from "../backend/backend.ts";
import type { Server } from "../backend/server.ts";
import { withHooksModule, workerLogTargets } from "./thread_config.ts";
import { Instance } from "./instance.ts";
import type { AskQuery, FromWorker, LimitFlag, ToWorker, WorkerStart } from "./thread_proto.ts";
import type { InstanceStats } from "../stats/stats_types.ts";
import { waitUntil, writeReply } from "./thread_proto.ts";
import { memoryUsage } from "node:process";
import { fdTableUse } from "../conn/ffi/libc.ts";
import { clearCache, formatShowCache } from "../stats/admin_cache.ts";
import { createAdminApi } from "../stats/admin_api.ts";
import type { AdminTarget } from "../stats/admin_types.ts";
import { tickNow } from "../core/time.ts";
import { getHeapStatistics } from "node:v8";
import { RingLink } from "../conn/ring_link.ts";
import { RingAccepted } from "../conn/ring_sock.ts";
import type { RingHub } from "../listener/listener.ts";

/** How often a worker reports its health (ms). */
const HEALTH_MS = 1000;
/** Heap use above this share of V8's limit is reported as OOM. */
const OOM_SHARE = 0.9;

/** The prefix of a LimitEvents key and the flag it raises. */
const LIMIT_FLAGS: Record<string, LimitFlag> = { maxconn: "CONNS", pool: "PAPER", queue: "QUEUE" };

// Deno's worker global: typed loosely, this module is only ever a worker.
const self = globalThis as unknown as {
  postMessage(m: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  close(): void;
};

let inst: Instance | null = null;
let reply: SharedArrayBuffer | null = null;
let slots: BroadcastChannel | null = null;
let health: ReturnType<typeof setInterval> | undefined;
let fdExhausted = 0;
/** The process's counters as the control thread last sent them (Prometheus service). */
let processStats: InstanceStats | null = null;

/**
 * `tls-isolation`: the links to the TLS workers, and the listeners their
 * connections go to, by address.
 */
const links = new Map<number, RingLink>();
const ringListeners = new Map<string, (sock: RingAccepted) => void>();
const hub: RingHub = {
  listen: (key, onConn) => ringListeners.set(key, onConn),
};

function addLink(index: number, port: MessagePort): void {
  links.get(index)?.close();
  const link = new RingLink(port);
  link.onConn = (m) => {
    const sock = new RingAccepted(link, m);
    const onConn = ringListeners.get(m.key);
    if (onConn === undefined) sock.destroy();
    else onConn(sock);
  };
  links.set(index, link);
}

/** Applying states the control thread published (not to be reported back). */
let applying = false;

function apply(i: Instance, states: ServerStateView[][]): void {
  applying = true;
  try {
    i.applyServerStates(states);
  } finally {
    applying = false;
  }
}

function post(m: FromWorker): void {
  self.postMessage(m);
}

async function start(m: WorkerStart): Promise<void> {
  reply = m.reply;
  for (const l of m.links) addLink(l.index, l.port);
  fdTableUse(new Uint8Array(m.fds));
  const own = workerLogTargets(m.config, (fn, line) => post({ t: "log", fn, line }));
  const config = m.hooksModule === null ? own : await withHooksModule(own, m.hooksModule);
  const resolved = resolveConfig(config);
  const counts = new SharedCounts(m.counts.names, m.counts.sab, m.counts.mine);
  const i = new Instance(resolved, {
    counts,
    lb: m.lb,
    reusePort: true,
    checks: false,
    unix: m.index === 0,
    events: (line, level) => post({ t: "event", line, level }),
    limit: (key, line) => post({ t: "limit", key, line }),
    ring: hub,
  });
  apply(i, m.servers);
  // Between workers: a freed server slot that others wait for (the oldest
  // waiter of the first one to look takes it), and a client address learnt
  // by source stickiness.
  const ch = new BroadcastChannel(m.slotChannel);
  const at = (be: Backend, srv: Server) => [i.backends.indexOf(be), be.servers.indexOf(srv)];
  for (const be of i.backends) {
    be.onSlotFree = (b, srv) => ch.postMessage(["slot", ...at(b, srv)]);
    be.onStickLearn = (b, key, srv) => ch.postMessage(["stick", ...at(b, srv), key]);
    // Passive health seen here: the control thread decides for every worker.
    be.onServerChange = (b, srv, reason) => {
      if (applying || reason === undefined) return;
      const [backend, server] = at(b, srv);
      post({ t: "opstate", backend, server, up: srv.opUp, reason });
    };
  }
  ch.onmessage = (e: MessageEvent<[string, number, number, string?]>) => {
    const [kind, b, s, key] = e.data;
    const be = i.backends[b];
    const srv = be?.servers[s];
    if (srv === undefined) return;
    if (kind === "slot") be.slotFreed(srv);
    else if (kind === "stick" && key !== undefined) be.stick?.set(key, srv, i.sched.now);
  };
  slots = ch;
  i.processStats = () => processStats ?? i.stats();
  await i.start();
  inst = i;
  health = setInterval(reportHealth, HEALTH_MS);
  post({ t: "ready", addresses: i.addresses() });
}

function reportHealth(): void {
  const i = inst;
  if (i === null) return;
  const flags = new Set<LimitFlag>();
  for (const k of i.limitEvents.recent()) {
    const f = LIMIT_FLAGS[k.split(":")[0]];
    if (f !== undefined) flags.add(f);
  }
  const fds = i.frontends.reduce(
    (n, fe) => n + fe.listeners.reduce((m, li) => m + li.fdExhausted, 0),
    0,
  );
  if (fds > fdExhausted) flags.add("FDS");
  fdExhausted = fds;
  const heap = getHeapStatistics();
  if (memoryUsage().heapUsed > OOM_SHARE * heap.heap_size_limit) flags.add("OOM");
  post({ t: "health", crashes: i.sched.counters().crashes, flags: [...flags] });
}

function answer(q: AskQuery): unknown {
  const i = inst!;
  switch (q.k) {
    case "stats":
      return i.stats({ raw: true });
    case "sessions":
      return i.sessions();
    case "servers":
      apply(i, q.states);
      return null;
    case "shutdown":
      return i.shutdownSessions(q.backend, q.server);
    case "cache":
      return q.cmd === "show"
        ? formatShowCache(i.caches(), tickNow())
        : clearCache(i.caches(), q.name);
    case "ssl": {
      // The worker's own certificates, through the same commands.
      const target = { sslCerts: () => i.sslCerts() } as unknown as AdminTarget;
      return createAdminApi(target).exec(q.command, undefined, q.payload ?? undefined);
    }
    case "unlisten":
      i.stopListening();
      return null;
    case "reopen":
      try {
        i.logs.reopen();
        return null;
      } catch (err) {
        return errMsg(err);
      }
  }
}

async function stop(graceful: boolean, graceMs?: number): Promise<void> {
  clearInterval(health);
  if (graceful && inst !== null && links.size > 0) {
    // tls-isolation: the TLS workers may still hand over connections they
    // accepted (handshakes under way): served until each says it is done.
    const grace = graceMs ?? inst.graceMs;
    const t0 = Date.now();
    await waitUntil(() => [...links.values()].every((l) => l.done), t0 + grace);
    graceMs = Math.max(0, grace - (Date.now() - t0));
  }
  await inst?.close({ graceful, graceMs });
  slots?.close();
  for (const l of links.values()) l.close();
  post({ t: "stopped" });
  self.close();
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  switch (m.t) {
    case "start":
      start(m).catch((err) => {
        const code = err instanceof SluiceError ? err.code : "ERR_STATE";
        post({ t: "failed", code, message: errMsg(err) });
      });
      return;
    case "ask": {
      let v: unknown;
      try {
        v = inst === null ? { error: "not started" } : answer(m.q);
      } catch (err) {
        v = { error: errMsg(err) };
      }
      writeReply(reply!, m.seq, v);
      return;
    }
    case "servers":
      if (inst !== null) apply(inst, m.states);
      return;
    case "link":
      addLink(m.index, m.port);
      return;
    case "unlink":
      links.get(m.index)?.close();
      links.delete(m.index);
      return;
    case "stats":
      processStats = m.stats;
      return;
    case "stop":
      stop(m.graceful, m.graceMs);
      return;
    case "crash":
      // Test hook: an exception no handler catches kills this isolate, as a bug would.
      setTimeout(() => {
        throw new Error("worker crash requested (test)");
      });
      return;
  }
};
