/**
 * An instance: one running configuration on this thread — scheduler, buffer
 * pool, frontends with their listeners, backends with their servers, and the
 * log sinks. It binds everything or nothing, and stops either at once or
 * gracefully (stop accepting, let streams finish within the grace period,
 * then close the rest).
 *
 * @module
 */
import { cacheFigures, cacheProxyFields, type HttpCache } from "../http/cache_store.ts";
import { setImmediate } from "node:timers";
import { Backend } from "../backend/backend.ts";
import { Frontend } from "../frontend/frontend.ts";
import type { UseBackendRt } from "../frontend/use_backend.ts";
import type { UseBackendRule } from "../rules/http_rules.ts";
import type { AclCtx, AclFetch } from "../rules/acl_types.ts";
import { Server, SRV_ADMIN_NAMES } from "../backend/server.ts";
import { BackendChecks } from "../backend/checks.ts";
import { staticServer } from "../applet/static_server.ts";
import type {
  ResolvedBackend,
  ResolvedConfig,
  ResolvedFrontend,
  ResolvedGlobal,
  ResolvedServer,
} from "../cfg/config_resolved_types.ts";
import type { DataLayer, HandshakeLayer } from "../conn/conn_types.ts";
import { proxySendLayer } from "../conn/proxy_sock.ts";
import { addrFormat } from "../core/addr_types.ts";
import { errMsg, SluiceError } from "../core/errors.ts";
import type { InstanceStats, ProxyStats } from "../stats/stats_types.ts";
import type { AdminSession, AdminState, CrtLists } from "../stats/admin_types.ts";
import { CHECK_DEFAULT_FALL, CHECK_DEFAULT_RISE } from "../check/check_types.ts";
import { tickNow } from "../core/time.ts";
import { BufferPool } from "../core/pool.ts";
import { LARGE_BUFFER_FACTOR } from "../cfg/config_defaults.ts";
import { crtListsOf } from "../cfg/config_crt_lists.ts";
import { ffiUnavailable } from "../conn/ffi/libc.ts";
import { pollerAttach, pollerDetach } from "../conn/ffi/poller.ts";
import { FFI_SOCK, ffiCanConnect } from "../conn/ffi_sock.ts";
import { RAW_SOCK } from "../conn/raw_sock.ts";
import { TLS_SOCK } from "../conn/tls_sock.ts";
import { tlsConnectLayer } from "../conn/tls_client.ts";
import { clientCertUser, TlsCertStore, type TlsCertUser } from "../conn/tls_cert_store.ts";
import { certExpiries, CertExpiryWatch } from "./cert_expiry.ts";
import { ConnLimit, type Listener, type RingHub } from "../listener/listener.ts";
import { tlsServerContext } from "../conn/tls_sock.ts";
import { IdleConns } from "../backend/idle_conns.ts";
import type { HttpOptions } from "../http/http_ana.ts";
import { Replies } from "../http/http_reply.ts";
import { LimitEvents } from "../core/limit_events.ts";
import { accessLogger, logHeadsOf } from "./access_log.ts";
import { LogSinks } from "./log_sinks.ts";
import { Scheduler } from "../sched/scheduler.ts";
import { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from "../stats/prometheus.ts";
import { buildReply } from "../rules/act_reply.ts";
import type { Stream, StreamEnv } from "../stream/stream.ts";
import type { SharedCounts } from "../core/shared_count.ts";
import type { ServerStateView } from "../backend/backend.ts";
import { type LbShared, lbSharedAt, lbSharedBytes } from "../lb/lb_types.ts";

/**
 * How an instance runs as one of several worker threads (`nbthread` > 1):
 * the counts shared with the other workers, SO_REUSEPORT listeners, and
 * whether it runs the health checks (the control thread's instance does,
 * the workers take the results).
 */
export interface InstanceThread {
  /** The shared counts (names from sharedCountNames()). */
  counts: SharedCounts;
  /** The shared balancing state (lbSharedSize() bytes). */
  lb: SharedArrayBuffer;
  /** Listeners bind with SO_REUSEPORT: each worker has its own socket on each address. */
  reusePort: boolean;
  /** Run health checks here. */
  checks: boolean;
  /** Serve unix-socket listeners (one worker does: such a path cannot be bound twice). */
  unix: boolean;
  /**
   * Where limits reached go instead of the log, by kind (the control thread
   * rate-limits them for the whole process).
   */
  limit?: (key: string, line: string) => void;
  /** Where process events go instead of the global log targets (the control thread writes them once). */
  events?: (line: string, level: "notice" | "warning" | "alert") => void;
  /** Under `tls-isolation`: where TLS listeners get their connections from the TLS workers. */
  ring?: RingHub;
}

/** Bytes of a backend's part of the shared balancing state: its active, then its backup servers'. */
function lbSharedBytesOf(b: ResolvedBackend): number {
  const backups = b.servers.filter((s) => s.backup).length;
  return lbSharedBytes(b.servers.length - backups) + lbSharedBytes(backups);
}

/** Bytes of the balancing state worker threads share for `cfg` (see lbSharedOf()). */
export function lbSharedSize(cfg: ResolvedConfig): number {
  return Math.max(8, cfg.backends.reduce((n, b) => n + lbSharedBytesOf(b), 0));
}

/** Backend `index`'s part of the shared balancing state, laid out backend after backend. */
function lbSharedOf(
  sab: SharedArrayBuffer,
  cfg: ResolvedConfig,
  index: number,
): { active: LbShared; backup: LbShared } {
  let off = 0;
  for (let i = 0; i < index; i++) off += lbSharedBytesOf(cfg.backends[i]);
  const b = cfg.backends[index];
  const backups = b.servers.filter((s) => s.backup).length;
  const actives = b.servers.length - backups;
  return {
    active: lbSharedAt(sab, off, actives),
    backup: lbSharedAt(sab, off + lbSharedBytes(actives), backups),
  };
}

/** True when a frontend of `cfg` answers with `use-service prometheus-exporter`. */
export function usesPrometheusService(cfg: ResolvedConfig): boolean {
  return cfg.frontends.some((f) =>
    f.rules?.httpRequest.some((r) => {
      const a = (r.action as { answer?: { kind?: string; name?: string } }).answer;
      return a?.kind === "service" && a.name === "prometheus-exporter";
    }) ?? false
  );
}

/**
 * The names of the counts worker threads share for a configuration: the
 * process's connections, each frontend's, each server's streams, and the
 * streams waiting in each server's and backend's queue.
 */
export function sharedCountNames(cfg: ResolvedConfig): string[] {
  const names = ["process"];
  for (const f of cfg.frontends) names.push(`fe/${f.name}`, `fepk/${f.name}`);
  for (const b of cfg.backends) {
    names.push(`be/${b.name}`, `bepk/${b.name}`, `beq/${b.name}`);
    for (const s of b.servers) {
      names.push(
        `srv/${b.name}/${s.name}`,
        `srvpk/${b.name}/${s.name}`,
        `srvq/${b.name}/${s.name}`,
      );
    }
  }
  return names;
}

/** A listening address of a running instance. */
export interface ListenAddress {
  /** Frontend name. */
  frontend: string;
  /** Bound address as text, with the real port (`127.0.0.1:40123`, `unix:/p`). */
  address: string;
  /** Bound TCP port, 0 for unix sockets. */
  port: number;
  /** True when the listener terminates TLS. */
  tls: boolean;
}

function proxyStats(name: string, c: Frontend["counters"], now: number, raw = false): ProxyStats {
  return {
    name,
    scur: c.scur,
    smax: c.smax,
    stot: c.stot,
    bin: c.bin,
    bout: c.bout,
    econ: c.econ,
    eresp: c.eresp,
    ereq: c.ereq,
    wretr: c.wretr,
    cli_abrt: c.cliAbrt,
    srv_abrt: c.srvAbrt,
    dcon: c.deniedConn,
    dreq: c.dreq,
    dresp: c.dresp,
    rate: c.rate.rate(now),
    rate_max: c.rate.max,
    req_rate: c.reqRate.rate(now),
    req_rate_max: c.reqRate.max,
    req_tot: c.reqTot,
    hrsp_1xx: c.hrsp[0],
    hrsp_2xx: c.hrsp[1],
    hrsp_3xx: c.hrsp[2],
    hrsp_4xx: c.hrsp[3],
    hrsp_5xx: c.hrsp[4],
    hrsp_other: c.hrsp[5],
    lat: c.lat.snapshot(),
    ...(raw ? { latRaw: c.lat.raw() } : {}),
    comp_in: c.compIn,
    comp_out: c.compOut,
    comp_byp: c.compByp,
    comp_rsp: c.compRsp,
  };
}

/** Timeouts of the empty backend of a frontend without one (nothing is ever connected). */
const NO_BACKEND_TIMEOUTS = { connect: 5000, server: 30000, tunnel: 0, queue: 0 };

/**
 * The data and handshake layers of connections to a server: PROXY header
 * first, then TLS. Plain TCP to an IP address goes through FFI when `io` is.
 */
function serverLayers(
  s: ResolvedServer,
  io: "node" | "ffi",
): { xprt: DataLayer; hs: HandshakeLayer | null } {
  const tlsHs = s.tls ? tlsConnectLayer(s.tls) : null;
  const ffi = io === "ffi" && !s.tls && s.sendProxy === 0 && ffiCanConnect(s.addr);
  return {
    xprt: ffi ? FFI_SOCK : s.tls ? TLS_SOCK : RAW_SOCK,
    hs: s.sendProxy !== 0 ? proxySendLayer(tlsHs) : tlsHs,
  };
}

/**
 * The distinct `sni EXPR` fetches of a backend's servers, each server
 * pointed at its own (servers sharing a default-server line share one).
 */
function sniFetchesOf(b: ResolvedBackend, servers: Server[]): AclFetch[] {
  const out: AclFetch[] = [];
  const texts: string[] = [];
  b.servers.forEach((s, i) => {
    const e = s.tls?.sniExpr;
    if (e === undefined) return;
    let k = texts.indexOf(e.text);
    if (k < 0) {
      texts.push(e.text);
      k = out.push(e.fetch) - 1;
    }
    servers[i].sniIdx = k;
  });
  return out;
}

/** The instance's scheduler, polling the FFI sockets of the thread when `io` is "ffi". */
function newScheduler(g: ResolvedGlobal): Scheduler {
  const sched = new Scheduler({ budget: g.runqueueDepth });
  if (g.io === "ffi") {
    const why = ffiUnavailable();
    if (why !== null) throw new SluiceError("ERR_CONFIG", `Cannot use global.io "ffi": ${why}`);
    sched.io = pollerAttach(sched);
  }
  return sched;
}

/** The servers of a backend (active and backup ones numbered apart), in their configured admin state. */
function backendServers(b: ResolvedBackend, io: "node" | "ffi", now: number): Server[] {
  let nActive = 0, nBackup = 0;
  return b.servers.map((s) => {
    const srv = new Server(
      s.name,
      s.addr,
      s.backup ? nBackup++ : nActive++,
      serverLayers(s, io),
      {
        weight: s.weight,
        maxconn: s.maxconn,
        minconn: s.minconn,
        maxqueue: s.maxqueue,
        backup: s.backup,
        slowstart: s.slowstart,
        cookie: s.cookie,
        observe: s.observe,
        sendProxy: s.sendProxy,
        poolMaxConn: s.poolMaxConn,
        poolPurgeDelay: s.poolPurgeDelay,
        poolLowConn: s.poolLowConn,
      },
    );
    srv.admin = SRV_ADMIN_NAMES.indexOf(s.state);
    srv.lastChange = now;
    return srv;
  });
}

/** The HTTP analyser's options of a frontend, null for a TCP one. */
function httpOptions(f: ResolvedFrontend, g: ResolvedGlobal, log: boolean): HttpOptions | null {
  if (f.http === null) return null;
  return {
    httpRequestTimeout: f.http.httpRequestTimeout,
    keepAliveTimeout: f.http.keepAliveTimeout,
    bufsize: g.bufsize,
    maxRewrite: g.maxRewrite,
    maxHdrs: g.maxHdrs,
    maxBody: g.maxBody,
    forwardFor: f.http.forwardFor,
    connMode: f.http.connMode,
    bufferRequest: f.http.bufferRequest,
    monitorUri: f.http.monitorUri,
    tarpitTimeout: f.http.tarpitTimeout,
    forwardedProto: f.http.forwardedProto,
    forwarded: f.http.forwarded,
    compression: f.http.compression,
    replies: new Replies(f.http.errorFiles),
    log,
  };
}

/** A running configuration. */
export class Instance {
  readonly sched: Scheduler;
  /** How plain TCP connections move bytes. */
  readonly io: "node" | "ffi";
  readonly pool: BufferPool;
  /** Larger areas for bulk transfers (4 × bufsize), taken only when free; null when disabled. */
  readonly largePool: BufferPool | null;
  readonly processLimit: ConnLimit;
  readonly frontends: Frontend[] = [];
  readonly backends: Backend[] = [];
  /** Every log target's sink, the global ones, each proxy's. */
  readonly logs: LogSinks;
  /** An event of the whole process (limits, configuration), to the global targets. */
  readonly #event: (line: string, level: "notice" | "warning" | "alert") => void;
  /** Idle kept-alive server connections (HTTP). */
  readonly idle: IdleConns;
  readonly graceMs: number;
  /** Health checks, one set per backend. */
  readonly checks: BackendChecks[] = [];
  /** Limits reached, reported at most every 10 s per kind. */
  readonly limitEvents: LimitEvents = new LimitEvents((l, lv, key) =>
    this.thread?.limit !== undefined ? this.thread.limit(key, l) : this.#event(l, lv)
  );
  readonly #cfg: ResolvedConfig;
  #live = 0;
  readonly #sessIds = new WeakMap<Stream, number>();
  #sessSeq = 0;
  #drained: (() => void) | null = null;
  #closing: Promise<void> | null = null;
  /** Worker-thread settings, or null for a single-threaded process. */
  readonly thread: InstanceThread | null;
  /**
   * With worker threads: the whole process's counters for
   * `use-service prometheus-exporter` (as the control thread last sent
   * them), instead of this worker's alone.
   */
  processStats: (() => InstanceStats) | null = null;

  constructor(cfg: ResolvedConfig, thread: InstanceThread | null = null) {
    this.#cfg = cfg;
    this.thread = thread;
    const g = cfg.global;
    this.sched = newScheduler(g);
    this.io = g.io;
    this.pool = new BufferPool(g.bufsize, g.buffers);
    this.largePool = g.largeBuffers > 0
      ? new BufferPool(g.bufsize * LARGE_BUFFER_FACTOR[g.io], Math.max(2, g.largeBuffers))
      : null;
    this.processLimit = new ConnLimit(g.maxconn, thread?.counts.get("process") ?? null);
    this.graceMs = g.graceMs;
    this.logs = new LogSinks(g.log.targets, g.log.queueBytes, g.log.format === "json");
    this.#event = thread?.events ?? this.logs.eventsTo(this.logs.global);
    this.#certExpiry = new CertExpiryWatch(
      g.sslCertExpiryWarning,
      () => this.sslCerts(),
      (line) => this.#event(line, "warning"),
    );
    this.idle = new IdleConns(this.sched);
    for (const b of cfg.backends) this.#addBackend(b);
    const env = this.#streamEnv();
    for (const f of cfg.frontends) this.#addFrontend(f, env);
  }

  /** What the streams of this instance run on, and how they report buffer shortage. */
  #streamEnv(): StreamEnv {
    return {
      sched: this.sched,
      pool: this.pool,
      largePool: this.largePool ?? undefined,
      streamNew: this.#streamNew,
      streamFree: this.#streamFree,
      poolExhausted: () =>
        this.limitEvents.report(
          "pool",
          `buffer pool exhausted (${this.pool.limit} buffers in use): new streams wait for a buffer (raise global.buffers)`,
        ),
    };
  }

  /** A backend, its servers and its health checks. */
  #addBackend(b: ResolvedBackend): void {
    const servers = b.static !== null
      ? [staticServer(b.static, this.sched.now)]
      : backendServers(b, this.io, this.sched.now);
    const events = this.logs.eventsTo(this.logs.loggersOf(b.log.targets));
    const be = new Backend(this.sched, b.name, servers, {
      timeouts: b.timeouts,
      retries: b.retries,
      redispatch: b.redispatch,
      balance: b.balance,
      stickSource: b.stickSource,
      cookie: b.cookie,
      httpReuse: b.httpReuse,
      fullconn: b.fullconn,
      events,
      // A static backend's own server is not among the configured ones: nothing to share.
      lbShared: this.thread === null || b.static !== null
        ? null
        : lbSharedOf(this.thread.lb, this.#cfg, this.backends.length),
    });
    if (b.mode === "http") be.idle = this.idle;
    const counts = this.thread?.counts;
    if (counts !== undefined) {
      be.sharedScur = counts.get(`be/${b.name}`);
      be.sharedPeak = counts.get(`bepk/${b.name}`);
      be.queue.shared = counts.get(`beq/${b.name}`);
      // Workers leave logging server state changes to the control thread.
      if (!this.thread!.checks) be.logStates = false;
      // A static backend's own server (`<STATIC>`) has no limit to share.
      for (const s of servers) {
        s.shared = counts.find(`srv/${b.name}/${s.name}`);
        s.sharedPeak = counts.find(`srvpk/${b.name}/${s.name}`);
        s.queue.shared = counts.find(`srvq/${b.name}/${s.name}`);
      }
    }
    be.sniFetches = sniFetchesOf(b, servers);
    be.http = b.http;
    if (b.rules !== null && b.rules.httpRequest.length + b.rules.httpResponse.length > 0) {
      be.rules = b.rules;
    }
    be.hooks = b.hooks;
    be.limitEvents = this.limitEvents;
    this.backends.push(be);
    const checks = new BackendChecks(this.sched, be, {
      checks: b.static !== null ? [null] : b.servers.map((s) => s.check),
      agents: b.servers.map((s) => s.agent),
    });
    if (b.log.healthChecks) checks.logChecks = (line) => events(line, "notice");
    this.checks.push(checks);
  }

  /** A frontend with its listeners (not bound yet), rules and services. */
  #addFrontend(f: ResolvedFrontend, env: StreamEnv): void {
    const g = this.#cfg.global;
    // Without a default backend, what no rule routes or answers meets
    // an empty backend of the frontend's name: 503, as in HAProxy. It is
    // not listed in stats (HAProxy shows no backend row either).
    const be = f.backend === null
      ? new Backend(this.sched, f.name, [], { timeouts: NO_BACKEND_TIMEOUTS, retries: 0 })
      : this.#backend(f.backend);
    const loggers = this.logs.loggersOf(f.log.targets);
    const fe = new Frontend(env, f.name, be, {
      clientTimeout: f.clientTimeout,
      maxconn: f.maxconn,
      // The request line is kept for the log, and for unique ids (%r).
      http: httpOptions(f, g, loggers.sinks.length > 0 || f.log.uniqueId !== null),
      io: g.io,
      sharedConns: this.thread?.counts.get(`fe/${f.name}`) ?? null,
      sharedPeak: this.thread?.counts.get(`fepk/${f.name}`) ?? null,
      reusePort: this.thread?.reusePort ?? false,
    }, this.processLimit);
    const json = g.log.format === "json";
    fe.logger = accessLogger(f, loggers, { json, process: this.processLimit, sched: this.sched });
    fe.logHeads = logHeadsOf(f, this.processLimit, this.sched);
    fe.logCaptures = [f.log.captureRequest.length, f.log.captureResponse.length];
    if (f.rules !== null && f.rules.tcpRequest.length > 0) fe.connRules = f.rules.tcpRequest;
    fe.events = this.logs.eventsTo(loggers);
    fe.limitEvents = this.limitEvents;
    fe.services = {
      "prometheus-exporter": () =>
        buildReply(
          200,
          [["Content-Type", PROMETHEUS_CONTENT_TYPE], ["Cache-Control", "no-store"]],
          formatPrometheus(this.processStats?.() ?? this.stats()),
        ),
    };
    if (f.mode === "http") this.#httpRouting(fe, f);
    else if (
      f.rules !== null && (f.rules.tcpContent.length > 0 || f.rules.useBackends.length > 0)
    ) {
      fe.tcp = {
        content: f.rules.tcpContent,
        inspectDelay: f.inspectDelay,
        useBackends: f.rules.useBackends.map((u) => this.#useBackend(u)),
        byName: new Map(
          this.backends.filter((b) =>
            this.#cfg.backends.find((x) => x.name === b.name)!.mode === "tcp"
          )
            .map((b) => [b.name, b]),
        ),
      };
    }
    for (const b of f.binds) {
      if (b.addr.kind === "unix" && this.thread !== null && !this.thread.unix) continue;
      const li = fe.addListener(b.addr, b.tls, b.acceptProxy);
      li.ringHub = this.thread?.ring ?? null;
    }
    this.frontends.push(fe);
  }

  /** An HTTP frontend's hooks, `http-request`/`http-response` rules and `use_backend` targets. */
  #httpRouting(fe: Frontend, f: ResolvedFrontend): void {
    const cfg = this.#cfg;
    fe.hooks = f.hooks;
    fe.backendHooks = this.backends.some((b) => b.hooks !== null);
    fe.backendsByName = new Map(
      this.backends.filter((b) => cfg.backends.find((x) => x.name === b.name)!.mode === "http")
        .map((b) => [b.name, b]),
    );
    if (f.rules === null) return;
    fe.rules = {
      httpRequest: f.rules.httpRequest,
      httpResponse: f.rules.httpResponse,
      useBackends: f.rules.useBackends.map((u) => this.#useBackend(u)),
    };
  }

  /** A use_backend rule with its backend linked, or its name to build per request. */
  #useBackend(u: UseBackendRule<AclCtx>): UseBackendRt {
    return u.dynamic === undefined
      ? { backend: this.#backend(u.backend), dynamic: null, cond: u.cond }
      : { backend: null, dynamic: u.dynamic, cond: u.cond };
  }

  /** The backend of that name (the configuration checker made sure it exists). */
  #backend(name: string): Backend {
    return this.backends.find((b) => b.name === name)!;
  }

  /**
   * Binds every listener and starts accepting. On failure closes what was
   * bound and throws a SluiceError (ERR_BIND or ERR_TLS) naming the address.
   */
  async start(): Promise<void> {
    await this.#bindAll(this.frontends.flatMap((fe) => fe.listeners));
    this.startChecks();
  }

  /**
   * Starts in place of `old` (a reload): listeners on an address `old`
   * already listens on take its bound socket over (no moment without an
   * accepting socket, nothing to rebind), the others are bound. On failure
   * (an address in use, a bad certificate) nothing of `old` has changed.
   */
  async startFrom(old: Instance): Promise<void> {
    if (old.io !== this.io) {
      throw new SluiceError(
        "ERR_CONFIG",
        `Cannot change global.io from "${old.io}" to "${this.io}" by a reload: restart sluice`,
      );
    }
    const olds = old.frontends.flatMap((fe) => fe.listeners).filter((li) => li.bound);
    const pairs: [Listener, Listener][] = [];
    const fresh: Listener[] = [];
    for (const li of this.frontends.flatMap((fe) => fe.listeners)) {
      const o = olds.find((x) => x.serves(li.addr) && !pairs.some((p) => p[1] === x));
      if (o !== undefined) pairs.push([li, o]);
      else fresh.push(li);
    }
    for (const [li] of pairs) {
      if (li.tls === null) continue;
      try {
        tlsServerContext(li.tls.cert, li.tls.key);
      } catch (err) {
        const msg = errMsg(err);
        throw new SluiceError(
          "ERR_TLS",
          `Cannot use the certificate or key for "${addrFormat(li.addr)}": ${msg}`,
        );
      }
    }
    await this.#bindAll(fresh);
    for (const [li, o] of pairs) li.adopt(o);
    this.startChecks();
  }

  async #bindAll(all: Listener[]): Promise<void> {
    for (const li of all) {
      try {
        await li.bind();
      } catch (err) {
        await Promise.all(all.map((l) => l.close()));
        const what = addrFormat(li.addr);
        const msg = errMsg(err);
        if (li.tls && li.certs === null) {
          throw new SluiceError(
            "ERR_TLS",
            `Cannot use the certificate or key for "${what}": ${msg}`,
          );
        }
        const code = (err as { code?: string }).code ?? "";
        const why = code === "EADDRINUSE"
          ? "address already in use"
          : code === "EACCES"
          ? "permission denied"
          : code === "EADDRNOTAVAIL"
          ? "address not available on this host"
          : msg;
        throw new SluiceError("ERR_BIND", `Cannot listen on "${what}": ${why}`);
      }
    }
  }

  /** Writes an event line (configuration loaded, limits, …) to the log. */
  event(line: string, level: "notice" | "warning" | "alert" = "notice"): void {
    this.#event(line, level);
  }

  /**
   * Starts the health checks (after binding, so a failed start checks
   * nothing), unless this is a worker thread: the control thread checks.
   */
  startChecks(): void {
    if (this.thread !== null && !this.thread.checks) return;
    for (const c of this.checks) c.start();
    this.#certExpiry.start();
  }

  /** Every server's state, as the control thread publishes it: `[backend][server]`. */
  serverStates(): ServerStateView[][] {
    return this.backends.map((be) =>
      be.servers.map((s) => ({
        up: s.opUp,
        admin: s.admin,
        weight: s.uweight,
        maxconn: s.maxconnCfg,
      }))
    );
  }

  /** Takes the servers' states published by the control thread (see serverStates()). */
  applyServerStates(states: ServerStateView[][]): void {
    const now = this.sched.now = tickNow();
    this.backends.forEach((be, i) => {
      const row = states[i];
      if (row === undefined) return;
      be.servers.forEach((s, j) => {
        if (row[j] !== undefined) be.applyState(s, row[j], now);
      });
    });
  }

  /**
   * Changes a server at run time: admin state (`"ready"`, `"drain"`,
   * `"maint"`) and/or weight (0 to 256). Throws SluiceError ERR_CONFIG when
   * the backend or server does not exist or a value is out of range.
   */
  setServer(
    backend: string,
    server: string,
    change: { state?: "ready" | "drain" | "maint"; weight?: number },
  ): void {
    const be = this.backends.find((b) => b.name === backend);
    const srv = be?.servers.find((s) => s.name === server);
    if (be === undefined || srv === undefined) {
      throw new SluiceError("ERR_CONFIG", `No server "${backend}/${server}"`);
    }
    const w = change.weight;
    if (w !== undefined && (!Number.isInteger(w) || w < 0 || w > 256)) {
      throw new SluiceError(
        "ERR_CONFIG",
        `Invalid weight ${w} for "${backend}/${server}": expected 0..256`,
      );
    }
    const admin = change.state === undefined ? -1 : SRV_ADMIN_NAMES.indexOf(change.state);
    if (change.state !== undefined && admin < 0) {
      throw new SluiceError(
        "ERR_CONFIG",
        `Invalid state ${
          JSON.stringify(change.state)
        } for "${backend}/${server}": expected ready, drain or maint`,
      );
    }
    const now = this.sched.now = tickNow();
    if (w !== undefined) be.setWeight(srv, w, now);
    if (admin >= 0) {
      be.setAdmin(srv, admin, now);
      this.checks[this.backends.indexOf(be)].adminChanged(srv);
    }
  }

  /** Changes a server's maxconn at run time (0: none). */
  setMaxconn(backend: string, server: string, maxconn: number): void {
    const { be, srv } = this.#server(backend, server);
    if (!Number.isInteger(maxconn) || maxconn < 0 || maxconn > 1_000_000) {
      throw new SluiceError("ERR_CONFIG", `Invalid maxconn ${maxconn} for "${backend}/${server}"`);
    }
    be.setMaxconn(srv, maxconn);
  }

  /** Closes every stream on a server (HAProxy's `shutdown sessions server`); returns how many. */
  shutdownSessions(backend: string, server: string): number {
    const { srv } = this.#server(backend, server);
    let n = 0;
    for (const fe of this.frontends) {
      for (const strm of fe.streams) {
        if (strm.target === srv) {
          strm.kill();
          n++;
        }
      }
    }
    return n;
  }

  /** The configuration-side view the runtime API shows (`show servers state`, CSV). */
  adminState(): AdminState {
    const now = tickNow();
    return {
      frontends: this.#cfg.frontends.map((f) => ({
        name: f.name,
        mode: f.mode,
        maxconn: f.maxconn,
      })),
      backends: this.backends.map((be, i) => {
        const cb = this.#cfg.backends[i];
        return {
          name: be.name,
          mode: cb.mode,
          algo: cb.balance.algo === "hdr" ? `hdr(${cb.balance.hdr})` : cb.balance.algo,
          servers: be.servers.map((s, j) => {
            const cs = cb.servers[j];
            return {
              name: s.name,
              addr: s.addr.kind === "unix" ? "unix" : s.addr.host,
              port: s.addr.kind === "unix" ? 0 : s.addr.port,
              admin: SRV_ADMIN_NAMES[s.admin],
              up: s.opUp,
              weight: s.uweight,
              iweight: cs.weight,
              maxconn: s.maxconnCfg,
              maxqueue: s.maxqueue,
              lastChangeSec: Math.max(0, Math.floor((now - s.lastChange) / 1000)),
              tls: cs.tls !== null,
              check: cs.check === null ? null : {
                rise: cs.check.rise ?? CHECK_DEFAULT_RISE,
                fall: cs.check.fall ?? CHECK_DEFAULT_FALL,
                port: cs.check.port ?? (s.addr.kind === "unix" ? 0 : s.addr.port),
              },
            };
          }),
        };
      }),
    };
  }

  /** Live streams, for `show sess`. */
  /**
   * The listeners' certificates by file for the runtime API, made at the
   * first call (the listeners are bound by then); null when none is named.
   */
  sslCerts(): TlsCertStore | null {
    if (this.#certStore === undefined) {
      const users: TlsCertUser[] = this.frontends.flatMap((fe) => fe.listeners)
        .map((li) => li.certs).filter((c) => c !== null);
      for (const b of this.#cfg.backends) {
        for (const s of b.servers) {
          const cc = s.tls?.clientCert;
          if (cc?.file !== undefined) users.push(clientCertUser(cc));
        }
      }
      const store = new TlsCertStore(users);
      this.#certStore = store.files().length === 0 ? null : store;
    }
    return this.#certStore;
  }
  #certStore: TlsCertStore | null | undefined = undefined;
  readonly #certExpiry: CertExpiryWatch;

  /**
   * The listeners' crt-list files and `crt` directories for `show ssl
   * crt-list`, read from the configuration (the control thread's mirror
   * instance binds nothing, and answers the same).
   */
  crtLists(): CrtLists {
    return crtListsOf(this.#cfg.frontends);
  }

  sessions(): AdminSession[] {
    const now = Date.now();
    const out: AdminSession[] = [];
    for (const fe of this.frontends) {
      for (const strm of fe.streams) {
        let id = this.#sessIds.get(strm);
        if (id === undefined) this.#sessIds.set(strm, id = ++this.#sessSeq);
        out.push({
          id,
          proto: strm.txn === null ? "tcp" : "http",
          src: `${strm.cliAddr}:${strm.cliPort}`,
          frontend: fe.name,
          backend: strm.be.name,
          server: strm.target?.name ?? "<none>",
          ageMs: now - strm.acceptDate,
        });
      }
    }
    return out;
  }

  #server(backend: string, server: string): { be: Backend; srv: Server } {
    const be = this.backends.find((b) => b.name === backend);
    const srv = be?.servers.find((s) => s.name === server);
    if (be === undefined || srv === undefined) {
      throw new SluiceError("ERR_CONFIG", `No server "${backend}/${server}"`);
    }
    return { be, srv };
  }

  /** The bound addresses. */
  addresses(): ListenAddress[] {
    return this.frontends.flatMap((fe) =>
      fe.listeners.map((li) => ({
        frontend: fe.name,
        address: li.boundAddress(),
        port: li.boundPort(),
        tls: li.tls !== null,
      }))
    );
  }

  /** A snapshot of the counters; `raw` adds `latRaw` to each row, for mergeInstanceStats(). */
  stats(opts: { raw?: boolean } = {}): InstanceStats {
    const raw = opts.raw === true;
    const now = tickNow();
    return {
      frontends: this.frontends.map((fe) => ({
        ...proxyStats(fe.name, fe.counters, now, raw),
        ...cacheProxyFields(this.#cfg.caches, "fe", fe.name),
      })),
      backends: this.backends.map((be, i) => ({
        ...proxyStats(be.name, be.counters, now, raw),
        ...cacheProxyFields(this.#cfg.caches, "be", be.name),
        status: be.activeUp + be.backupUp > 0 ? "UP" : "DOWN",
        act: be.activeUp,
        bck: be.backupUp,
        qcur: be.queue.length,
        qmax: be.counters.qmax,
        wredis: be.counters.wredis,
        stick_entries: be.stick?.length ?? -1,
        servers: be.servers.map((s) => {
          const chk = this.checks[i].view(s);
          return {
            ...proxyStats(s.name, s.counters, now, raw),
            status: s.status(),
            weight: s.uweight,
            eweight: Math.round(s.effWeight * 100) / 100,
            backup: s.backup,
            qcur: s.queue.length,
            qmax: s.counters.qmax,
            wredis: s.counters.wredis,
            chkfail: s.counters.chkfail,
            chkdown: s.counters.chkdown,
            check_status: chk?.code ?? "",
            check_desc: chk?.info ?? "",
            check_health: chk?.health ?? -1,
            lastchg: Math.max(0, Math.floor((now - s.lastChange) / 1000)),
            downtime: Math.floor((s.downMs + (s.downSince >= 0 ? now - s.downSince : 0)) / 1000),
          };
        }),
      })),
      actconn: this.processLimit.cur,
      pool: this.pool.counters(),
      largePool: this.largePool?.counters() ?? null,
      sched: this.sched.counters(),
      idle: { reused: this.idle.reused, expired: this.idle.expired, parked: this.idle.parked },
      log: this.logs.counts(),
      ...cacheFigures(this.#cfg.caches),
      sslCerts: certExpiries(this.sslCerts()),
    };
  }

  /** The HTTP caches (`show cache`, `clear cache`). */
  caches(): ReadonlyMap<string, HttpCache> {
    return this.#cfg.caches?.caches ?? new Map();
  }

  /**
   * Stops accepting (a reload on worker threads: before the new
   * configuration is announced, so that every connection made after it
   * meets the new one): connections already queued are taken, then the
   * listening sockets close. Streams go on until close().
   */
  stopListening(): void {
    for (const fe of this.frontends) {
      fe.stopping = true;
      for (const li of fe.listeners) li.close();
    }
  }

  /**
   * Stops. Listeners close at once. With `graceful`, live streams get
   * `graceMs` to finish before being killed; without, they are killed now.
   * Resolves when every stream has released its resources and logs are out.
   */
  close(opts: { graceful?: boolean; graceMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(opts.graceful ?? false, opts.graceMs ?? this.graceMs);
    return this.#closing;
  }

  async #close(graceful: boolean, graceMs: number): Promise<void> {
    // Soft stop: each kept-alive client gets its current (or next) response
    // with "Connection: close" instead of a cut connection.
    for (const fe of this.frontends) fe.stopping = true;
    for (const c of this.checks) c.stop();
    this.#certExpiry.stop();
    for (const be of this.backends) be.stop();
    const closing = this.frontends.flatMap((fe) => fe.listeners.map((li) => li.close()));
    if (this.#live > 0) {
      const drained = new Promise<void>((resolve) => this.#drained = resolve);
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (graceful && graceMs > 0) {
        timer = setTimeout(() => this.#killAll(), graceMs);
      } else this.#killAll();
      await drained;
      clearTimeout(timer);
    }
    await Promise.all(closing);
    this.idle.closeAll();
    await this.logs.close();
    // Let a scheduler turn already queued run out before reporting closed.
    while (this.sched.counters().queued > 0) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (this.sched.io !== null) {
      this.sched.io = null;
      await pollerDetach(this.sched);
    }
  }

  #killAll(): void {
    for (const fe of this.frontends) for (const strm of fe.streams) strm.kill();
  }

  #streamNew = (): void => {
    this.#live++;
  };

  #streamFree = (): void => {
    if (--this.#live === 0 && this.#drained !== null) {
      const resolve = this.#drained;
      this.#drained = null;
      resolve();
    }
  };
}
