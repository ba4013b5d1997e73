/**
 * The control thread's side of worker threads (`nbthread` > 1): a
 * `WorkerGroup` is one configuration running on N workers (Deno `Worker`s,
 * thread_main.ts), each with its own scheduler, pool, listeners (SO_REUSEPORT:
 * the kernel spreads connections over the workers' sockets) and streams,
 * plus the control thread's own instance of the same configuration, which
 * binds nothing: it runs the health checks once for the process, holds the
 * servers' admin state, and publishes both to the workers.
 *
 * One proxy, not N: process, frontend and server connection counts and the
 * queues' waiter counts are shared (`SharedCounts`, Atomics), so maxconn
 * limits hold for the process; a server slot freed in one worker goes to a
 * stream waiting in another (BroadcastChannel). Stats are the exact sum of
 * every worker's (stats_merge.ts), asked synchronously (thread_proto.ts).
 *
 * Supervision: a worker whose isolate dies is replaced (its FFI listening
 * sockets are closed first, so no connection waits on a socket nobody
 * accepts from); a worker whose tasks crash repeatedly is replaced and asked
 * to drain and exit (apoptosis). Other workers' connections are never
 * touched.
 *
 * @module
 */
import { fileURLToPath as fromFileUrl } from "node:url";
import type { SluiceConfig } from "../cfg/config_types.ts";
import type { ResolvedConfig } from "../cfg/config_resolved_types.ts";
import { resolveConfig } from "../cfg/config_check.ts";
import { errMsg, SluiceError, type SluiceErrorCode } from "../core/errors.ts";
import { tickNow } from "../core/time.ts";
import { LimitEvents } from "../core/limit_events.ts";
import { SharedCounts, sharedGet } from "../core/shared_count.ts";
import { addrFormat } from "../core/addr_types.ts";
import { fdTableCloseAll } from "../conn/ffi/libc.ts";
import type { InstanceStats } from "../stats/stats_types.ts";
import type { AdminSession } from "../stats/admin_types.ts";
import { mergeInstanceStats } from "../stats/stats_merge.ts";
import {
  Instance,
  lbSharedSize,
  type ListenAddress,
  sharedCountNames,
  usesPrometheusService,
} from "./instance.ts";
import { withoutLogFunctions } from "./thread_config.ts";
import {
  type AskQuery,
  FD_TABLE_SIZE,
  type FromWorker,
  type LimitFlag,
  replyRegion,
  type TlsWorkerStart,
  type ToWorker,
  waitReply,
  type WorkerStart,
} from "./thread_proto.ts";

/** How long a synchronous question waits for every worker (ms). */
const ASK_TIMEOUT_MS = 2000;
/** How long a starting worker may take to bind (ms). */
const START_TIMEOUT_MS = 30_000;
/** Task crashes within CRASH_WINDOW_MS that make a worker sick. */
const CRASH_LIMIT = 20;
const CRASH_WINDOW_MS = 10_000;
/** Replacements within RESTART_WINDOW_MS after which dead workers are no longer replaced. */
const RESTART_LIMIT = 10;
const RESTART_WINDOW_MS = 60_000;
/** How often workers get the process's counters for their Prometheus service (ms). */
const STATS_PUSH_MS = 1000;
/** Time a stopping worker gets beyond the grace period before it is terminated (ms). */
const STOP_SLACK_MS = 5000;

/** Everything a group needs to start. */
export interface GroupOptions {
  /** Worker threads, 2 or more. */
  threads: number;
  /** The configuration model (no functions). */
  config: SluiceConfig;
  /** URL of the hooks module every worker imports, or null. */
  hooksModule: string | null;
  /** The group this one replaces (a reload): its port-0 addresses are kept. */
  previous?: WorkerGroup;
  /** Workers keep the process's permissions (no --unstable-worker-options needed). Default false. */
  inheritPermissions?: boolean;
}

/** One worker slot. */
interface Slot {
  /** An HTTP worker (thread_main.ts), or a TLS worker under `tls-isolation` (tls_main.ts). */
  kind: "http" | "tls";
  index: number;
  /** Its number on the ring links of `tls-isolation` (unique: a replacement gets a new one). */
  link: number;
  worker: Worker;
  reply: SharedArrayBuffer;
  /** The fds it holds open (see fdTableUse()): closed here if it dies. */
  fds: SharedArrayBuffer;
  /** Its shares of the shared counts: taken back out if it dies. */
  mine: SharedArrayBuffer;
  ready: boolean;
  /** Crash counts seen in health reports, with the time of the first of the window. */
  crashes: number;
  crashBase: number;
  crashSince: number;
  flags: LimitFlag[];
  /** Resolves when it posted `stopped` (or died). */
  stopped: Promise<void>;
  onStopped: () => void;
  /** Leaving: asked to stop, or replaced. */
  leaving: boolean;
}

/**
 * The Deno permissions of a worker: network, reading only the files its
 * configuration reads, writing only its log files and unix sockets, FFI
 * only for the FFI data layer; no environment, no subprocess.
 */
function workerPermissions(
  cfg: ResolvedConfig,
  reads: readonly string[],
  writes: readonly string[],
): Deno.PermissionOptionsObject {
  let sys: Deno.PermissionOptionsObject["sys"] = false;
  try {
    if (Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state === "granted") {
      sys = ["hostname"];
    }
  } catch {
    // No sys permission API: none.
  }
  return {
    net: true,
    read: reads.length > 0 ? [...reads] : false,
    write: writes.length > 0 ? [...writes] : false,
    ffi: cfg.global.io === "ffi",
    env: false,
    run: false,
    sys,
  };
}

/**
 * Files a configuration writes: log files, unix-socket listeners and
 * servers, unix syslog sockets (and the temporary directory where a sink binds its own
 * socket to send from, see syslog.ts).
 */
function writtenFiles(config: SluiceConfig, cfg: ResolvedConfig): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== "object") return;
    const o = v as Record<string, unknown>;
    if (typeof o.file === "string" && Object.keys(o).length <= 2) out.add(o.file);
    if (typeof o.syslog === "string" && /^(unix:)?\//.test(o.syslog)) {
      out.add(o.syslog.replace(/^unix:/, ""));
      out.add(tempDir());
    }
    for (const x of Object.values(o)) walk(x);
  };
  walk(config.global?.log);
  for (const f of config.frontends) walk(f.log);
  for (const b of config.backends ?? []) walk((b as { log?: unknown }).log);
  for (const f of cfg.frontends) {
    for (const b of f.binds) if (b.addr.kind === "unix") out.add(b.addr.path);
  }
  // Connecting to a unix socket server needs read and write on its path too.
  for (const b of cfg.backends) {
    for (const s of b.servers) if (s.addr.kind === "unix") out.add(s.addr.path);
  }
  return [...out];
}

/** Where Deno.makeTempDir() creates directories: TMPDIR when readable, else /tmp. */
function tempDir(): string {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: "TMPDIR" }).state === "granted") {
      return Deno.env.get("TMPDIR") ?? "/tmp";
    }
  } catch {
    // No env permission API: the default.
  }
  return "/tmp";
}

/**
 * Runs `fn` (synchronous) and returns the files it read through
 * Deno.readFileSync / readTextFileSync: what resolving a configuration
 * reads (map files...), so that workers get read permission for exactly
 * those. Resolution is synchronous, so nothing else runs meanwhile.
 */
function recordReads<T>(fn: () => T): { value: T; reads: string[] } {
  const d = Deno as unknown as Record<string, (p: string | URL) => unknown>;
  const names = ["readFileSync", "readTextFileSync"];
  const saved = names.map((n) => d[n]);
  const reads = new Set<string>();
  names.forEach((n, i) => {
    d[n] = (p: string | URL) => {
      reads.add(String(p));
      return saved[i].call(Deno, p);
    };
  });
  try {
    return { value: fn(), reads: [...reads] };
  } finally {
    names.forEach((n, i) => d[n] = saved[i]);
  }
}

/** A configuration running on worker threads, under the control thread. */
export class WorkerGroup {
  /** The control thread's instance: checks, admin state, events. Binds nothing. */
  readonly mirror: Instance;
  readonly threads: number;
  readonly counts: SharedCounts;
  /** The balancing state the workers share (roundrobin credits, static-rr cursor). */
  readonly lbState: SharedArrayBuffer;
  /** Workers replaced since start. */
  restarts = 0;
  readonly #opts: GroupOptions;
  readonly #cfg: ResolvedConfig;
  readonly #perms: Deno.PermissionOptionsObject;
  /**
   * TLS workers' permissions: network, and reading what resolving the
   * configuration reads (map files...); their certificates and keys come in
   * the start message.
   */
  readonly #tlsPerms: Deno.PermissionOptionsObject;
  /** `tls-isolation`: the TLS workers. */
  #tlsSlots: Slot[] = [];
  #links = 0;
  readonly #slotChannel = `sluice-slots-${crypto.randomUUID()}`;
  /** The model sent to workers: log functions as stand-ins, port 0 replaced by worker 0's ports. */
  #model: SluiceConfig;
  /** The log target functions the workers' lines go to. */
  readonly #logFns: ((line: string) => void)[];
  #slots: Slot[] = [];
  #addresses: ListenAddress[] = [];
  #seq = 0;
  #closing: Promise<void> | null = null;
  #publishQueued = false;
  #restartTimes: number[] = [];
  #statsTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Limits reached in any worker, logged at most every 10 s per kind for the process. */
  readonly #limits: LimitEvents = new LimitEvents((line, level) => this.mirror.event(line, level));

  private constructor(opts: GroupOptions, cfg: ResolvedConfig, reads: string[]) {
    this.#opts = opts;
    this.#cfg = cfg;
    this.threads = opts.threads;
    const { config: model, fns } = withoutLogFunctions(opts.config);
    this.#model = model;
    this.#logFns = fns;
    this.counts = new SharedCounts(sharedCountNames(cfg));
    // A hooks module on disk is read by every worker's import.
    const hooksFile = opts.hooksModule?.startsWith("file:") ? [fromFileUrl(opts.hooksModule)] : [];
    const writes = writtenFiles(opts.config, cfg);
    // Static backends read their directory (and nothing outside it: static_sock.ts).
    const roots = cfg.backends.flatMap((b) => b.static === null ? [] : [b.static.root]);
    this.#perms = workerPermissions(cfg, [...reads, ...hooksFile, ...writes, ...roots], writes);
    this.#tlsPerms = { ...workerPermissions(cfg, reads, []), ffi: false };
    this.lbState = new SharedArrayBuffer(lbSharedSize(cfg));
    this.mirror = new Instance(cfg, {
      counts: this.counts,
      lb: this.lbState,
      reusePort: false,
      checks: true,
      unix: false,
    });
    for (const be of this.mirror.backends) be.onServerChange = () => this.#publishSoon();
  }

  /**
   * Starts the workers: worker 0 first (it binds port-0 addresses, whose
   * ports the others then bind too), then the others together. Throws the
   * first worker's error (ERR_BIND, ERR_TLS...) with nothing left running.
   */
  static async start(opts: GroupOptions): Promise<WorkerGroup> {
    const { value: cfg, reads } = recordReads(() => resolveConfig(opts.config));
    const g = new WorkerGroup(opts, cfg, reads);
    try {
      // The runtime API's certificate commands and expiry figures are
      // answered here; a bad pair fails as a worker's bind would.
      for (const fe of g.mirror.frontends) {
        for (const li of fe.listeners) {
          try {
            li.loadCerts();
          } catch (err) {
            throw new SluiceError(
              "ERR_TLS",
              `Cannot use the certificate or key for "${addrFormat(li.addr)}": ${errMsg(err)}`,
            );
          }
        }
      }
      if (opts.previous !== undefined) g.#model = keepPorts(g.#model, cfg, opts.previous);
      if (cfg.global.tlsIsolation) {
        // TLS workers first: the first binds port-0 TLS addresses for all.
        g.#model = boundModel(g.#model, cfg, await g.#spawn(0, "tls"));
        const more = [];
        for (let i = 1; i < cfg.global.tlsThreads; i++) more.push(g.#spawn(i, "tls"));
        await Promise.all(more);
      }
      const first = g.#spawn(0);
      g.#addresses = await first;
      g.#model = boundModel(g.#model, cfg, g.#addresses);
      const rest = [];
      for (let i = 1; i < opts.threads; i++) rest.push(g.#spawn(i));
      await Promise.all(rest);
    } catch (err) {
      await g.close({ graceful: false });
      throw err;
    }
    g.mirror.startChecks();
    if (usesPrometheusService(cfg)) g.#pushStats();
    return g;
  }

  /**
   * Starts worker `index` (a new one, or the replacement of a dead or sick
   * one): an HTTP worker, or a TLS worker (`tls-isolation`).
   */
  #spawn(index: number, kind: "http" | "tls" = "http"): Promise<ListenAddress[]> {
    const tls = kind === "tls";
    const url = new URL(tls ? "./tls_main.ts" : "./thread_main.ts", import.meta.url);
    // Narrowing a worker's permissions is unstable in Deno 2.9: it needs
    // --unstable-worker-options (deno.json and the compile task pass it;
    // without it Deno exits saying so), unless the embedder opts out.
    const perms = tls ? this.#tlsPerms : this.#perms;
    const worker = this.#opts.inheritPermissions === true
      ? new Worker(url, { type: "module" })
      : new Worker(url, { type: "module", deno: { permissions: perms } });
    const { promise: stopped, resolve: onStopped } = Promise.withResolvers<void>();
    const slot: Slot = {
      kind,
      index,
      link: ++this.#links,
      worker,
      reply: replyRegion(),
      fds: new SharedArrayBuffer(FD_TABLE_SIZE),
      mine: new SharedArrayBuffer(SharedCounts.bytes(this.counts.names)),
      ready: false,
      crashes: 0,
      crashBase: 0,
      crashSince: Date.now(),
      flags: [],
      stopped,
      onStopped,
      leaving: false,
    };
    const { promise, resolve, reject } = Promise.withResolvers<ListenAddress[]>();
    const timer = setTimeout(() => {
      reject(new SluiceError("ERR_STATE", `${slotTitle(slot)} did not start in time`));
    }, START_TIMEOUT_MS);
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      switch (m.t) {
        case "ready":
          clearTimeout(timer);
          slot.ready = true;
          // tls-isolation: only now may TLS workers send it connections (its listeners are up).
          if (!tls) {
            for (const l of this.#linkTo(slot, this.#tlsSlots)) {
              worker.postMessage({ t: "link", ...l } satisfies ToWorker, [l.port]);
            }
          }
          resolve(m.addresses);
          return;
        case "failed":
          clearTimeout(timer);
          reject(new SluiceError(m.code as SluiceErrorCode, m.message));
          return;
        case "event":
          this.mirror.event(`${slotName(slot)}: ${m.line}`, m.level);
          return;
        case "log":
          this.#logFns[m.fn]?.(m.line);
          return;
        case "limit":
          this.#limits.report(m.key, m.line);
          return;
        case "opstate": {
          const be = this.mirror.backends[m.backend];
          const srv = be?.servers[m.server];
          if (srv !== undefined) be.setOpState(srv, m.up, m.reason, tickNow());
          return;
        }
        case "health":
          this.#health(slot, m.crashes, m.flags);
          return;
        case "stopped":
          slot.onStopped();
          return;
      }
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      clearTimeout(timer);
      reject(new SluiceError("ERR_STATE", `${slotTitle(slot)} failed: ${e.message}`));
      this.#died(slot, e.message);
    };
    if (tls) {
      this.#tlsSlots = this.#tlsSlots.filter((s) => s.index !== index || s.leaving);
      this.#tlsSlots.push(slot);
      const start: TlsWorkerStart = {
        t: "tls-start",
        index,
        config: this.#model,
        reply: slot.reply,
        links: this.#linkTo(slot, this.#slots.filter((s) => s.ready)),
      };
      worker.postMessage(start satisfies ToWorker, start.links.map((l) => l.port));
      return promise;
    }
    this.#slots = this.#slots.filter((s) => s.index !== index || s.leaving);
    this.#slots.push(slot);
    const start: WorkerStart = {
      t: "start",
      index,
      config: this.#httpModel(),
      hooksModule: this.#opts.hooksModule,
      counts: { sab: this.counts.sab, names: [...this.counts.names], mine: slot.mine },
      lb: this.lbState,
      reply: slot.reply,
      fds: slot.fds,
      slotChannel: this.#slotChannel,
      servers: this.mirror.serverStates(),
      links: [],
    };
    worker.postMessage(start satisfies ToWorker, start.links.map((l) => l.port));
    return promise;
  }

  /**
   * `tls-isolation`: a ring link between `slot` and each worker of `others`
   * (the other kind) still in service; theirs are posted now, `slot`'s are
   * returned. An HTTP worker is linked once ready (its listeners bound), so
   * that no TLS worker hands it a connection it cannot take yet.
   */
  #linkTo(slot: Slot, others: Slot[]): { index: number; port: MessagePort }[] {
    if (!this.#cfg.global.tlsIsolation) return [];
    const out = [];
    for (const o of others) {
      if (o.leaving) continue;
      const ch = new MessageChannel();
      o.worker.postMessage(
        { t: "link", index: slot.link, port: ch.port1 } satisfies ToWorker,
        [ch.port1],
      );
      out.push({ index: o.link, port: ch.port2 });
    }
    return out;
  }

  /** The model HTTP workers get: under `tls-isolation`, TLS binds without their keys. */
  #httpModel(): SluiceConfig {
    return this.#cfg.global.tlsIsolation ? isolatedModel(this.#model) : this.#model;
  }

  /** A worker's isolate died: close its listening sockets, replace it. */
  #died(slot: Slot, why: string): void {
    if (slot.leaving && !slot.ready) return;
    const wasLeaving = slot.leaving;
    slot.leaving = true;
    slot.ready = false;
    slot.worker.terminate();
    this.#closeFds(slot);
    slot.onStopped();
    // Its ring links (tls-isolation): the other side aborts their connections.
    const others = slot.kind === "tls" ? this.#slots : this.#tlsSlots;
    for (const o of others) {
      if (!o.leaving) o.worker.postMessage({ t: "unlink", index: slot.link } satisfies ToWorker);
    }
    if (this.#closing !== null || wasLeaving) return;
    this.#replace(slot, `${slotName(slot)} died (${why})`);
  }

  /**
   * Closes the sockets a terminated worker left open (FFI sockets are the
   * process's) and takes its connections and queued streams out of the
   * shared counts, so that no limit stays taken by a dead thread.
   */
  #closeFds(slot: Slot): void {
    if (slot.kind === "tls") return;
    this.counts.forget(slot.mine);
    const n = this.#cfg.global.io === "ffi" ? fdTableCloseAll(new Uint8Array(slot.fds)) : 0;
    if (n > 0) this.mirror.event(`worker ${slot.index + 1}: closed ${n} sockets it left open`);
  }

  /** Starts a worker in place of `slot`, unless workers keep dying. */
  #replace(slot: Slot, why: string): void {
    const now = Date.now();
    this.#restartTimes = this.#restartTimes.filter((t) => now - t < RESTART_WINDOW_MS);
    if (this.#restartTimes.length >= RESTART_LIMIT) {
      this.mirror.event(
        `${why}: not replaced, ${RESTART_LIMIT} workers were replaced in the last minute`,
        "alert",
      );
      return;
    }
    this.#restartTimes.push(now);
    this.restarts++;
    this.mirror.event(`${why}: starting a new ${slotName(slot)}`, "alert");
    this.#spawn(slot.index, slot.kind).then(
      () => {
        // The sick one (still alive) drains and exits: apoptosis.
        if (slot.ready) this.#stopSlot(slot, true);
      },
      (err) => this.mirror.event(`${slotName(slot)} could not restart: ${errMsg(err)}`, "alert"),
    );
  }

  #health(slot: Slot, crashes: number, flags: LimitFlag[]): void {
    const now = Date.now();
    if (now - slot.crashSince > CRASH_WINDOW_MS) {
      slot.crashSince = now;
      slot.crashBase = slot.crashes;
    }
    slot.crashes = crashes;
    slot.flags = crashes > slot.crashBase ? [...flags, "TASKS"] : flags;
    if (!slot.leaving && crashes - slot.crashBase >= CRASH_LIMIT && this.#closing === null) {
      slot.leaving = true;
      this.#replace(
        slot,
        `worker ${slot.index + 1} is sick (${crashes - slot.crashBase} task crashes)`,
      );
    }
  }

  /** Asks `slot` to stop; terminates it if it has not within the grace period. */
  #stopSlot(slot: Slot, graceful: boolean, graceMs?: number): Promise<void> {
    slot.leaving = true;
    if (!slot.ready) {
      slot.worker.terminate();
      slot.onStopped();
      return slot.stopped;
    }
    if (slot.kind === "http") {
      // tls-isolation: the TLS workers send it no new connection; those it has go on.
      for (const t of this.#tlsSlots) {
        if (!t.leaving) t.worker.postMessage({ t: "retire", index: slot.link } satisfies ToWorker);
      }
    }
    slot.worker.postMessage({ t: "stop", graceful, graceMs } satisfies ToWorker);
    const limit = (graceful ? (graceMs ?? this.#cfg.global.graceMs) : 0) + STOP_SLACK_MS;
    const timer = setTimeout(() => {
      slot.ready = false;
      slot.worker.terminate();
      this.#closeFds(slot);
      slot.onStopped();
    }, limit);
    return slot.stopped.then(() => {
      clearTimeout(timer);
      slot.ready = false;
      slot.worker.terminate();
      // tls-isolation: whatever it left open (cut by the grace period) is closed on the TLS side.
      if (slot.kind === "http") {
        for (const t of this.#tlsSlots) {
          t.worker.postMessage({ t: "unlink", index: slot.link } satisfies ToWorker);
        }
      }
    });
  }

  /**
   * `use-service prometheus-exporter` answers in a worker, which cannot ask
   * the others without waiting for itself: every second the control thread
   * sends every worker the process's merged counters to serve.
   */
  #pushStats(): void {
    const tick = () => {
      if (this.#closing !== null) return;
      try {
        const stats = this.stats();
        for (const s of this.#live()) {
          s.worker.postMessage({ t: "stats", stats } satisfies ToWorker);
        }
      } catch (err) {
        this.mirror.event(`stats for the workers' Prometheus service: ${errMsg(err)}`, "warning");
      }
      this.#statsTimer = setTimeout(tick, STATS_PUSH_MS);
    };
    tick();
  }

  /** Publishes the mirror's server states to every worker, once per turn of changes. */
  #publishSoon(): void {
    if (this.#publishQueued) return;
    this.#publishQueued = true;
    queueMicrotask(() => {
      this.#publishQueued = false;
      const states = this.mirror.serverStates();
      for (const s of this.#live()) s.worker.postMessage({ t: "servers", states });
    });
  }

  #live(): Slot[] {
    return this.#slots.filter((s) => s.ready && !s.leaving);
  }

  /**
   * Asks every live worker `q` and waits (blocking this thread, at most
   * ASK_TIMEOUT_MS in all) for their answers; a worker that does not answer
   * in time is left out.
   */
  ask(q: AskQuery, live: Slot[] = this.#live()): unknown[] {
    const seq = ++this.#seq;
    for (const s of live) s.worker.postMessage({ t: "ask", seq, q } satisfies ToWorker);
    const deadline = performance.now() + ASK_TIMEOUT_MS;
    const out: unknown[] = [];
    for (const s of live) {
      const v = waitReply(s.reply, seq, deadline);
      if (v === undefined) {
        this.mirror.event(
          `${slotName(s)} did not answer within ${ASK_TIMEOUT_MS} ms`,
          "warning",
        );
        continue;
      }
      if (v !== null && typeof v === "object" && "error" in v) {
        throw new SluiceError(
          "ERR_STATE",
          `${slotName(s)}: ${(v as { error: string }).error}`,
        );
      }
      out.push(v);
    }
    return out;
  }

  /** The bound addresses (every worker binds the same). */
  addresses(): ListenAddress[] {
    return this.#addresses;
  }

  /** Every worker's counters summed, with the control thread's view of servers and checks. */
  stats(): InstanceStats {
    const parts = this.ask({ k: "stats" }) as InstanceStats[];
    const mine = this.mirror.stats({ raw: true });
    // The control thread's pool and scheduler serve no stream: not counted.
    for (const k of ["inUse", "free", "allocated", "waits", "waiting", "limit"] as const) {
      mine.pool[k] = 0;
    }
    if (mine.largePool !== null) mine.largePool = null;
    // Peaks are the process's, kept in the shared counts (a sum would overstate them).
    const peak = (name: string) => ({ smax: sharedGet(this.counts.get(name)) });
    const cfg = this.#cfg;
    return mergeInstanceStats([mine, ...parts], {
      overrides: {
        actconn: sharedGet(this.counts.get("process")),
        frontends: Object.fromEntries(cfg.frontends.map((f) => [f.name, peak(`fepk/${f.name}`)])),
        backends: Object.fromEntries(cfg.backends.map((b) => [b.name, peak(`bepk/${b.name}`)])),
        servers: Object.fromEntries(
          cfg.backends.flatMap((b) =>
            b.servers.map((s) => [`${b.name}/${s.name}`, peak(`srvpk/${b.name}/${s.name}`)])
          ),
        ),
      },
    });
  }

  /** Live streams of every worker (ids made unique: id × 100 + worker). */
  sessions(): AdminSession[] {
    return (this.ask({ k: "sessions" }) as AdminSession[][]).flatMap((list, w) =>
      list.map((s) => ({ ...s, id: s.id * 100 + w }))
    );
  }

  /** Publishes the mirror's server states and waits until every worker has them. */
  syncServers(): void {
    this.ask({ k: "servers", states: this.mirror.serverStates() });
  }

  /** `shutdown sessions server` in every worker; returns how many streams were closed. */
  shutdownSessions(backend: string, server: string): number {
    this.mirror.shutdownSessions(backend, server); // checks the names
    return (this.ask({ k: "shutdown", backend, server }) as number[]).reduce((a, b) => a + b, 0);
  }

  /**
   * `show cache` / `clear cache [name]` in every worker (each has its own
   * caches): the outputs, each worker's under a `# worker N` line for show.
   */
  cacheCommand(cmd: "show" | "clear", name: string | undefined): string {
    const outs = this.ask({ k: "cache", cmd, name }) as string[];
    if (cmd === "clear") return outs.find((o) => o !== "") ?? "";
    return outs.map((o, i) => `# worker ${i + 1}\n${o}`).join("");
  }

  /** A certificate command that succeeded on the control thread, run in every worker too. */
  forwardSsl(command: string, payload: string | null): void {
    // tls-isolation: HTTP workers hold only servers' client certificates; a
    // listener's key (the payload of `set ssl cert`) must never reach them.
    if (!this.#cfg.global.tlsIsolation || this.#httpCertFile(command)) {
      this.ask({ k: "ssl", command, payload });
    }
    // tls-isolation: the listeners' certificates are the TLS workers'.
    this.ask({ k: "ssl", command, payload }, this.#liveTls());
  }

  /** True when the file of `command` (`... ssl cert FILE`) is a server's client certificate. */
  #httpCertFile(command: string): boolean {
    const file = command.replace(/^\S+ ssl cert /, "");
    return this.#cfg.backends.some((b) => b.servers.some((s) => s.tls?.clientCert?.file === file));
  }

  /** Every worker stops accepting now (a reload: see Instance.stopListening()). */
  stopListening(): void {
    this.ask({ k: "unlisten" }, this.#liveTls());
    this.ask({ k: "unlisten" });
  }

  #liveTls(): Slot[] {
    return this.#tlsSlots.filter((s) => s.ready && !s.leaving);
  }

  /** Reopens every log file (control thread and workers); an error text or null. */
  reopenLogs(): string | null {
    try {
      this.mirror.logs.reopen();
    } catch (err) {
      return errMsg(err);
    }
    for (const r of this.ask({ k: "reopen" })) if (typeof r === "string") return r;
    return null;
  }

  /** Each live worker's resource-limit flags. */
  flags(): string[][] {
    return this.#slots.filter((s) => !s.leaving).sort((a, b) => a.index - b.index).map((s) =>
      s.flags
    );
  }

  /** Test hook: makes worker `index` (a TLS worker with `kind` "tls") die as an uncaught exception would. */
  crashWorker(index: number, kind: "http" | "tls" = "http"): void {
    const slots = kind === "tls" ? this.#tlsSlots : this.#slots;
    slots.find((s) => s.index === index && !s.leaving)?.worker.postMessage(
      { t: "crash" } satisfies ToWorker,
    );
  }

  /** Resolves once worker `index` (of `kind`) is running again (after crashWorker()). */
  async workerReady(
    index: number,
    timeoutMs = 10_000,
    kind: "http" | "tls" = "http",
  ): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    const slots = () => kind === "tls" ? this.#tlsSlots : this.#slots;
    while (Date.now() < end) {
      if (slots().some((s) => s.index === index && s.ready && !s.leaving)) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  }

  /**
   * Stops every worker (gracefully: they drain within graceMs) and the
   * control thread's instance. Calling it again returns the same promise.
   */
  close(opts: { graceful?: boolean; graceMs?: number } = {}): Promise<void> {
    clearTimeout(this.#statsTimer);
    this.#closing ??= (async () => {
      await Promise.all(
        [...this.#tlsSlots, ...this.#slots].map((s) =>
          this.#stopSlot(s, opts.graceful ?? false, opts.graceMs)
        ),
      );
      await this.mirror.close();
    })();
    return this.#closing;
  }
}

/** "worker N" or "TLS worker N", for events. */
function slotName(s: Slot): string {
  return `${s.kind === "tls" ? "TLS worker" : "worker"} ${s.index + 1}`;
}

/** slotName() at the start of a sentence. */
function slotTitle(s: Slot): string {
  const n = slotName(s);
  return n[0].toUpperCase() + n.slice(1);
}

/**
 * The model of HTTP workers under `tls-isolation`: each TLS bind keeps its
 * address only, marked isolated (its connections come from a TLS worker),
 * so that no certificate, key or TLS option reaches a worker that parses
 * HTTP.
 */
export function isolatedModel(model: SluiceConfig): SluiceConfig {
  return {
    ...model,
    frontends: model.frontends.map((f) => ({
      ...f,
      binds: f.binds.map((b) =>
        b.tls === undefined ? b : { address: b.address, tls: { cert: "", key: "", isolated: true } }
      ),
    })),
  };
}

/**
 * The model with every port-0 bind replaced by the address worker 0 bound,
 * so that the other workers bind the same ports (SO_REUSEPORT).
 */
function boundModel(
  model: SluiceConfig,
  cfg: ResolvedConfig,
  addresses: (ListenAddress | undefined)[],
): SluiceConfig {
  let k = 0;
  return {
    ...model,
    frontends: model.frontends.map((f, i) => ({
      ...f,
      binds: f.binds.map((b, j) => {
        const a = cfg.frontends[i].binds[j].addr;
        const bound = addresses[k++];
        return a.kind === "tcp" && a.port === 0 && bound !== undefined
          ? { ...b, address: bound.address }
          : b;
      }),
    })),
  };
}

/**
 * A reload: port-0 binds of a frontend the previous group also had (same
 * name, same position, same host) keep the port it bound, as a
 * single-threaded reload keeps the socket.
 */
function keepPorts(model: SluiceConfig, cfg: ResolvedConfig, prev: WorkerGroup): SluiceConfig {
  const old = prev.addresses();
  return {
    ...model,
    frontends: model.frontends.map((f, i) => ({
      ...f,
      binds: f.binds.map((b, j) => {
        const a = cfg.frontends[i].binds[j].addr;
        if (a.kind !== "tcp" || a.port !== 0) return b;
        const same = old.filter((o) => o.frontend === f.name)[j];
        if (
          same === undefined || !same.address.startsWith(addrFormat({ ...a, port: 0 }).slice(0, -1))
        ) {
          return b;
        }
        return { ...b, address: same.address };
      }),
    })),
  };
}
