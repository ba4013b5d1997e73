/**
 * The running sluice an embedder holds: `startSluice()` checks a
 * configuration, starts an `Instance` and wraps it in a `SluiceHandle`
 * shaped like `Deno.serve()`'s server (`addresses`, an `AbortSignal`
 * option, `onListen`, `finished`, `await using`), plus what an operator
 * needs at run time: counters, server changes, the runtime API, reload.
 *
 * The handle owns what outlives one configuration — the stats listener,
 * the admin socket, the runtime API, the instances a reload replaced and
 * that are still draining — so that a reload only swaps the `Instance`.
 * mod.ts re-exports this module's public part.
 *
 * @module
 */
import { resolveConfig } from "../cfg/config_check.ts";
import { loadConfigFiles } from "../cfg/config_load.ts";
import { configCount } from "../cfg/config_summary.ts";
import { cfgErrors } from "../cfg/cfg_at.ts";
import { startStatsServer, type StatsServer } from "../stats/stats_server.ts";
import { formatCsv } from "../stats/stats_csv.ts";
import { createAdminApi } from "../stats/admin_api.ts";
import { type AdminSocket, serveAdminSocket } from "../stats/admin_socket.ts";
import type { AdminTarget } from "../stats/admin_types.ts";
import { VERSION } from "../version.ts";
import { hostName } from "../log/sink.ts";
import type { SluiceConfig } from "../cfg/config_types.ts";
import { errMsg, SluiceError } from "../core/errors.ts";
import { MAX_THREADS } from "../cfg/config_check.ts";
import { Instance, type ListenAddress } from "./instance.ts";
import type { InstanceStats } from "../stats/stats_types.ts";
import type { ResolvedConfig } from "../cfg/config_resolved_types.ts";
import { pidfileRemove, pidfileWrite } from "./pidfile.ts";
import { type Engine, groupEngine, instanceEngine } from "./engine.ts";
import { WorkerGroup } from "./threads.ts";
import { functionPath, withHooksModule } from "./thread_config.ts";

/** Options of `SluiceHandle.close()`. */
export interface CloseOptions {
  /**
   * Let live connections finish (up to `graceMs`) before closing them.
   * Default false: close them at once.
   */
  graceful?: boolean;
  /** Grace period in ms. Default: the configuration's `global.graceMs`. */
  graceMs?: number;
}

/**
 * Options of `startSluice()`: how the embedding program follows and ends
 * the proxy's life, as with `Deno.serve()`.
 */
export interface StartOptions {
  /**
   * Aborting it closes sluice gracefully, as `handle.close({ graceful: true })`
   * does (live connections get `global.graceMs` to finish); `finished`
   * resolves once everything is released. A signal already aborted, or
   * aborted before `startSluice()` resolves, makes it reject with the
   * signal's reason, and nothing stays bound.
   *
   * @example
   * ```ts
   * import { startSluice } from "@sluice/sluice";
   *
   * const ac = new AbortController();
   * const proxy = await startSluice({
   *   global: { log: { target: "none" } },
   *   frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
   *   backends: [{ name: "be", servers: [{ name: "s1", address: "127.0.0.1:9" }] }],
   * }, { signal: ac.signal });
   * ac.abort();
   * await proxy.finished; // closed
   * ```
   */
  signal?: AbortSignal;
  /**
   * Called once, when every listener (and the stats listener and admin
   * socket, when configured) is bound, before `startSluice()` resolves,
   * with the bound addresses (real ports when port 0 was asked). Not called
   * again on reload. If it throws, sluice closes and `startSluice()` rejects
   * with that error.
   *
   * @example
   * ```ts
   * import { startSluice } from "@sluice/sluice";
   *
   * await using _proxy = await startSluice({
   *   global: { log: { target: "none" } },
   *   frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
   *   backends: [{ name: "be", servers: [{ name: "s1", address: "127.0.0.1:9" }] }],
   * }, {
   *   onListen(addresses) {
   *     for (const a of addresses) console.log(`listening on ${a.address} (${a.frontend})`);
   *   },
   * });
   * ```
   */
  onListen?: (addresses: readonly ListenAddress[]) => void;
  /**
   * Worker threads (HAProxy's `nbthread`) when the configuration's
   * `global.nbthread` does not say (also on reloads). Default: the number
   * of cores the process may use for `{ configFile }`, 1 for a configuration
   * object (whose hooks may be functions); the environment variable
   * `SLUICE_THREADS` changes that default for objects without functions.
   * With more than one, hooks come from `hooksModule` (a function cannot
   * cross threads: passing one is an ERR_CONFIG error saying so). See
   * docs/threads.md.
   */
  threads?: number;
  /**
   * URL of a module exporting `frontends` and/or `backends`: records from a
   * proxy's name to its hooks (`FrontendHooks`). Every worker thread imports
   * it; it works with one thread too.
   *
   * @example
   * ```ts ignore
   * // hooks.ts
   * export const frontends = {
   *   web: { onRequest: (ctx) => ctx.setHeader("X-Seen", "1") },
   * };
   * // main.ts
   * await startSluice(config, { threads: 4, hooksModule: new URL("./hooks.ts", import.meta.url) });
   * ```
   */
  hooksModule?: string | URL;
  /**
   * With threads: `"narrow"` (default) starts each worker with only the
   * permissions it needs (network; reading the files its configuration
   * reads; writing its log files and unix sockets; FFI for the FFI data
   * layer; no environment, no subprocess), which needs Deno's
   * `--unstable-worker-options` (without it Deno exits saying so);
   * `"inherit"` gives workers the process's permissions.
   */
  workerPermissions?: "narrow" | "inherit";
}

/** A running sluice. */
export interface SluiceHandle extends AsyncDisposable {
  /** Every bound address, with real ports when port 0 was asked. */
  readonly addresses: readonly ListenAddress[];
  /**
   * Resolves when sluice is closed and everything is released — after
   * `close()`, the `signal` option's abort, or `await using` — whichever
   * closed it. It never rejects (a failure to close is `close()`'s to
   * report).
   */
  readonly finished: Promise<void>;
  /**
   * Runs runtime API commands (HAProxy's line protocol, as on the admin
   * socket) and returns their output: `show stat`, `show info`,
   * `show servers state`, `show sess`, `set server b/s state drain`,
   * `set weight b/s 50%`, `set maxconn server b/s 10`,
   * `disable server b/s`, `shutdown sessions server b/s`, `help`;
   * several separated by `;`. A command line ending with `<<` takes the
   * lines after it, up to an empty line, as its payload (`set ssl cert`).
   *
   * @example
   * ```ts ignore
   * console.log(handle.admin("show stat"));
   * handle.admin(`set ssl cert /etc/sluice/site.pem <<\n${pem}`);
   * handle.admin("commit ssl cert /etc/sluice/site.pem");
   * ```
   */
  admin(line: string): string;
  /** A server's maxconn at run time (0: none); queued streams get new slots at once. */
  setMaxconn(backend: string, server: string, maxconn: number): void;
  /** Closes every stream on a server; returns how many. */
  shutdownSessions(backend: string, server: string): number;
  /** Port of the stats listener (`global.stats`), 0 without one. */
  readonly statsPort: number;
  /** A snapshot of counters: per frontend, backend, server, pool, scheduler. */
  stats(): InstanceStats;
  /**
   * Changes a server at run time, like HAProxy's `set server`: its admin
   * state (`"ready"`, `"drain"`: no new streams except sticky ones,
   * `"maint"`: no traffic, checks stopped) and/or its weight (0 to 256; a
   * slowstart server ramps up to it). Throws SluiceError (ERR_CONFIG) for an
   * unknown backend or server or a bad value.
   *
   * @example
   * ```ts ignore
   * handle.setServer("app", "srv1", { state: "drain" });
   * handle.setServer("app", "srv2", { weight: 50 });
   * ```
   */
  setServer(
    backend: string,
    server: string,
    change: { state?: "ready" | "drain" | "maint"; weight?: number },
  ): void;
  /** `setServer(backend, server, { state })`, like HAProxy's `set server b/s state`. */
  setServerState(backend: string, server: string, state: "ready" | "drain" | "maint"): void;
  /** `setServer(backend, server, { weight })`, like HAProxy's `set weight b/s N`. */
  setWeight(backend: string, server: string, weight: number): void;
  /**
   * Replaces the configuration without dropping a connection: the new one
   * is checked and started first (listeners on the same addresses are
   * taken over, never closed), then the old one stops gracefully — its
   * kept-alive clients get `Connection: close` on their next response, and
   * what is still open after `graceMs` is closed. A configuration that fails
   * to load or bind throws and leaves the running one untouched.
   *
   * @example
   * ```ts ignore
   * await handle.reload({ configFile: "haproxy.cfg" });
   * ```
   */
  reload(
    config: SluiceConfig | { configFile: string | string[] },
    options?: { graceMs?: number },
  ): Promise<void>;
  /**
   * Stops accepting and closes connections (at once, or gracefully). Resolves
   * when everything is released. Calling it again returns the same promise.
   */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * Checks `config`, binds every listener and starts proxying. Throws a
 * {@linkcode SluiceError} (code ERR_CONFIG, ERR_ADDRESS, ERR_BIND or ERR_TLS)
 * when the configuration is invalid or an address cannot be bound; nothing
 * stays bound then.
 *
 * With `{ configFile }` (a path or a list of paths; a directory stands for
 * its `*.cfg` files), the configuration is read from HAProxy-syntax files,
 * like `sluice -f FILE` (`${NAME}` expansion reads the environment, so it
 * needs `--allow-env`). Every error of the files is in the one error thrown
 * (its `errors`, each at `file:line`); warnings go to the log as events.
 *
 * With `global.pidfile`, the process id is written to that file once
 * everything listens (a file that cannot be written is an ERR_CONFIG error,
 * and nothing stays bound), and removed by `close()`.
 *
 * `options` follows `Deno.serve()`: `signal` closes sluice gracefully when
 * aborted, `onListen` is told the bound addresses; the handle's `finished`
 * resolves once it is closed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startSluice } from "@sluice/sluice";
 *
 * // A TCP echo server to proxy to.
 * const upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * (async () => {
 *   for await (const c of upstream) c.readable.pipeTo(c.writable).catch(() => {});
 * })();
 *
 * const proxy = await startSluice({
 *   global: { log: { target: "none" } },
 *   frontends: [{ name: "fe", mode: "tcp", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
 *   backends: [{
 *     name: "be",
 *     mode: "tcp",
 *     servers: [{ name: "s1", address: `127.0.0.1:${upstream.addr.port}` }],
 *   }],
 * });
 * const client = await Deno.connect({ port: proxy.addresses[0].port });
 * await client.write(new TextEncoder().encode("ping"));
 * const buf = new Uint8Array(4);
 * await client.read(buf);
 * assert(new TextDecoder().decode(buf) === "ping");
 * client.close();
 * await proxy.close();
 * upstream.close();
 * ```
 */
export async function startSluice(
  config: SluiceConfig | { configFile: string | string[] },
  options: StartOptions = {},
): Promise<SluiceHandle> {
  const { signal, onListen } = options;
  signal?.throwIfAborted();
  const hooksModule = options.hooksModule === undefined ? null : String(options.hooksModule);
  const fromFile = "configFile" in config;
  // The hooks module is applied where the configuration runs (startEngine()).
  let { resolved, warnings, model } = loadConfig(config);
  let threads = threadsOf(options.threads, resolved, model, fromFile);
  const inherit = options.workerPermissions === "inherit";
  let inst = await startEngine(threads, resolved, model, hooksModule, null, inherit);
  // Like HAProxy's "Proxy ... started." lines, once per process start.
  for (const w of warnings) inst.event(w, "warning");
  inst.event(`configuration loaded: ${configCount(resolved)}`);
  // The runtime API, the stats listener and the admin socket belong to the
  // handle: they survive reloads and always show the running configuration.
  const startTime = Date.now();
  const target: AdminTarget = {
    stats: () => inst.stats(),
    state: () => inst.adminState(),
    info: () => ({
      pid: Deno.pid,
      startTime,
      maxconn: resolved.global.maxconn,
      listeners: inst.addresses().length,
      stopping: closing !== null,
      node: hostName(),
      nbthread: inst.threads,
      threads: inst.group === null
        ? undefined
        : { flags: inst.group.flags(), restarts: inst.group.restarts },
    }),
    setServer: (b, s, change) => inst.setServer(b, s, change),
    setMaxconn: (b, s, n) => inst.setMaxconn(b, s, n),
    shutdownSessions: (b, s) => inst.shutdownSessions(b, s),
    sessions: () => inst.sessions(),
    caches: () => inst.local.caches(),
    // Worker threads each hold their own caches: asked of every worker.
    cacheCommand: (cmd, name) => inst.group?.cacheCommand(cmd, name) ?? null,
    reopenLogs: () => inst.reopenLogs(),
    sslCerts: () => inst.local.sslCerts(),
    forwardSsl: (command, payload) => inst.group?.forwardSsl(command, payload),
    crtLists: () => inst.local.crtLists(),
  };
  const api = createAdminApi(target);
  let statsServer: StatsServer | null = null;
  const st = resolved.global.stats;
  if (st !== null) {
    try {
      statsServer = startStatsServer({ ...st, version: VERSION }, {
        stats: () => inst.stats(),
        csv: () => formatCsv(inst.stats(), inst.adminState()),
      });
    } catch (err) {
      await inst.close();
      const msg = errMsg(err);
      throw new SluiceError("ERR_BIND", `Cannot listen on "${st.host}:${st.port}" (stats): ${msg}`);
    }
  }
  let adminSocket: AdminSocket | null = null;
  const as = resolved.global.adminSocket;
  if (as !== null) {
    try {
      adminSocket = await serveAdminSocket(as.path, api, { mode: as.mode, timeoutMs: as.timeout });
    } catch (err) {
      await statsServer?.close();
      await inst.close();
      throw err;
    }
  }
  // Written once everything listens, removed once everything is closed.
  let pidfile = resolved.global.pidfile;
  if (pidfile !== null) {
    try {
      pidfileWrite(pidfile);
    } catch (err) {
      await adminSocket?.close();
      await statsServer?.close();
      await inst.close();
      throw err;
    }
  }
  /** Instances replaced by a reload, finishing their connections. */
  const draining = new Set<Promise<void>>();
  let closing: Promise<void> | null = null;
  const { promise: finished, resolve: closed } = Promise.withResolvers<void>();
  const onAbort = () => {
    // The error, if any, is close()'s: calling it again returns the same
    // promise.
    handle.close({ graceful: true }).catch(() => {});
  };
  const handle: SluiceHandle = {
    get addresses() {
      return inst.addresses();
    },
    finished,
    stats: () => inst.stats(),
    setServer: (backend, server, change) => inst.setServer(backend, server, change),
    setServerState: (backend, server, state) => inst.setServer(backend, server, { state }),
    setWeight: (backend, server, weight) => inst.setServer(backend, server, { weight }),
    async reload(next, opts = {}) {
      if (closing !== null) throw new SluiceError("ERR_STATE", "Cannot reload: sluice is closed");
      // Checked and started before anything changes: a bad configuration
      // never replaces the running one.
      let fresh: Engine | undefined;
      let cfg, warnings;
      try {
        let nextModel;
        ({ resolved: cfg, warnings, model: nextModel } = loadConfig(next));
        const n = threadsOf(options.threads, cfg, nextModel, "configFile" in next);
        if (grouped(n, cfg) !== (inst.group !== null)) {
          throw new SluiceError(
            "ERR_CONFIG",
            inst.group === null && n === 1
              ? "Cannot turn tls-isolation on by a reload: restart sluice"
              : threads === 1 && n === 1
              ? "Cannot turn tls-isolation off by a reload: restart sluice"
              : `Cannot change from ${threads} to ${n} threads by a reload: restart sluice`,
          );
        }
        fresh = await startEngine(n, cfg, nextModel, hooksModule, inst, inherit);
        threads = n;
        if (cfg.global.pidfile !== null && cfg.global.pidfile !== pidfile) {
          pidfileWrite(cfg.global.pidfile);
        }
      } catch (err) {
        // What the new configuration opened (its log file, say) goes too.
        await fresh?.close();
        inst.event(
          `reload refused, the running configuration stays: ${errMsg(err)}`,
          "warning",
        );
        throw err;
      }
      // Worker threads: the old ones stop accepting before the reload is
      // announced (a single thread's listeners were taken over already).
      inst.group?.stopListening();
      for (const w of warnings) fresh.event(w, "warning");
      fresh.event(`configuration reloaded: ${configCount(cfg)}`);
      if (pidfile !== null && pidfile !== cfg.global.pidfile) pidfileRemove(pidfile);
      pidfile = cfg.global.pidfile;
      const old = inst;
      inst = fresh;
      resolved = cfg;
      const done = old.close({ graceful: true, graceMs: opts.graceMs });
      draining.add(done);
      done.finally(() => draining.delete(done));
    },
    get statsPort() {
      return statsServer?.port ?? 0;
    },
    close(opts?: CloseOptions) {
      if (closing !== null) return closing;
      signal?.removeEventListener("abort", onAbort);
      closing = Promise.all([
        inst.close(opts),
        ...draining,
        statsServer?.close(),
        adminSocket?.close(),
      ])
        .then(() => {
          if (pidfile !== null) pidfileRemove(pidfile);
        });
      closing.then(closed, closed);
      return closing;
    },
    admin: (line: string) => api.exec(line),
    setMaxconn: (backend, server, maxconn) => inst.setMaxconn(backend, server, maxconn),
    shutdownSessions: (backend, server) => inst.shutdownSessions(backend, server),
    [Symbol.asyncDispose]: () => handle.close(),
  };
  // Aborted while binding: as if aborted before the call.
  if (signal?.aborted) {
    await handle.close();
    throw signal.reason;
  }
  try {
    onListen?.(inst.addresses());
  } catch (err) {
    await handle.close();
    throw err;
  }
  signal?.addEventListener("abort", onAbort, { once: true });
  engines.set(handle, () => inst);
  return handle;
}

/** Each handle's running engine (for threadGroupOf()). */
const engines = new WeakMap<SluiceHandle, () => Engine>();

/**
 * The worker group a handle runs on, or null on one thread. Not part of the
 * public API (mod.ts does not export it): tests use it to reach the
 * supervision hooks (`crashWorker()`).
 */
export function threadGroupOf(handle: SluiceHandle): WorkerGroup | null {
  return engines.get(handle)?.().group ?? null;
}

/**
 * The configuration object resolved, or the one read from `configFile` with
 * its warnings (`file:line: warning: ...`), and the model it came from.
 * Throws every error at once (see cfgErrors()).
 */
function loadConfig(
  config: SluiceConfig | { configFile: string | string[] },
): { resolved: ResolvedConfig; warnings: string[]; model: SluiceConfig } {
  if (!("configFile" in config)) {
    return { resolved: resolveConfig(config), warnings: [], model: config };
  }
  const files = Array.isArray(config.configFile) ? config.configFile : [config.configFile];
  const load = loadConfigFiles(files);
  if (load.resolved === null) throw cfgErrors(load.errors);
  return {
    resolved: load.resolved,
    warnings: load.warnings.map((w) => w.message),
    model: load.config,
  };
}

/**
 * Worker threads for a configuration: `global.nbthread`, else asked for,
 * else the cores this process may use for configuration files, else 1 (or
 * `SLUICE_THREADS` when readable, for a configuration without functions).
 */
function threadsOf(
  asked: number | undefined,
  cfg: ResolvedConfig,
  model: SluiceConfig,
  fromFile: boolean,
): number {
  let n = cfg.global.nbthread ?? asked ?? null;
  if (n === null) {
    const env = envThreads();
    n = fromFile ? (env ?? navigator.hardwareConcurrency) : 1;
    if (!fromFile && env !== null && functionPath(model) === null) n = env;
  }
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new SluiceError("ERR_CONFIG", `Invalid threads ${n}: expected 1 to ${MAX_THREADS}`);
  }
  if (grouped(n, cfg)) {
    const fn = functionPath(model);
    if (fn !== null) {
      throw new SluiceError(
        "ERR_CONFIG",
        `Cannot run ${n} threads with a function in the configuration (${fn}): functions ` +
          `cannot cross threads; give hooks as a module (StartOptions.hooksModule), or use threads: 1`,
      );
    }
  }
  return n;
}

/**
 * True when a configuration runs on worker threads under this one: more
 * than one thread, or TLS kept apart in TLS workers (`tls-isolation`, which
 * needs HTTP workers too).
 */
function grouped(threads: number, cfg: ResolvedConfig): boolean {
  return threads > 1 || cfg.global.tlsIsolation;
}

/** `SLUICE_THREADS` when set and readable, else null. */
function envThreads(): number | null {
  try {
    if (
      Deno.permissions.querySync({ name: "env", variable: "SLUICE_THREADS" }).state !== "granted"
    ) {
      return null;
    }
    const v = Deno.env.get("SLUICE_THREADS");
    return v === undefined || v === "" ? null : Number(v);
  } catch {
    return null;
  }
}

/**
 * Starts a configuration on `threads` threads, in place of `old` when
 * reloading (its listeners are taken over, or with threads its ports kept).
 */
async function startEngine(
  threads: number,
  resolved: ResolvedConfig,
  model: SluiceConfig,
  hooksModule: string | null,
  old: Engine | null,
  inheritPermissions: boolean,
): Promise<Engine> {
  if (grouped(threads, resolved)) {
    const g = await WorkerGroup.start({
      threads,
      config: model,
      hooksModule,
      previous: old?.group ?? undefined,
      inheritPermissions,
    });
    return groupEngine(g);
  }
  const cfg = hooksModule === null
    ? resolved
    : resolveConfig(await withHooksModule(model, hooksModule));
  const inst = new Instance(cfg);
  try {
    if (old === null) await inst.start();
    else await inst.startFrom(old.local);
  } catch (err) {
    await inst.close();
    throw err;
  }
  return instanceEngine(inst);
}
