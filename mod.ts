/**
 * sluice: an HTTP/1.1 and TCP reverse proxy and load balancer for Deno,
 * embeddable.
 *
 * ```ts
 * import { startSluice } from "./mod.ts";
 *
 * await using proxy = await startSluice({
 *   global: { log: { target: "none" } },
 *   frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
 *   backends: [{ name: "be", servers: [{ name: "s1", address: "127.0.0.1:9000" }] }],
 * });
 * console.log(proxy.addresses[0].address);
 * ```
 *
 * @module
 */
import { resolveConfig } from "./lib/cfg/config_check.ts";
import { parseConfigFiles } from "./lib/cfg/cfg_parser.ts";
import type { SluiceConfig } from "./lib/cfg/config_types.ts";
import { SluiceError } from "./lib/core/errors.ts";
import { Instance, type InstanceStats, type ListenAddress } from "./lib/worker/instance.ts";

export type {
  BackendConfig,
  BalanceAlgo,
  BindConfig,
  BindTlsConfig,
  CheckConfig,
  CookieConfig,
  FrontendConfig,
  FrontendHooks,
  FrontendRules,
  GlobalConfig,
  LogConfig,
  LogFormat,
  ObserveConfig,
  ProxyMode,
  RequestContext,
  ResponseContext,
  RuleText,
  ServerConfig,
  ServerTlsConfig,
  SluiceConfig,
  StickSourceConfig,
  TimeoutsConfig,
} from "./lib/cfg/config_types.ts";
export type {
  BackendStats,
  InstanceStats,
  ListenAddress,
  ProxyStats,
  ServerStats,
} from "./lib/worker/instance.ts";
export type { SluiceErrorCode } from "./lib/core/errors.ts";
export type { PoolCounters } from "./lib/core/pool.ts";
export type { SchedCounters } from "./lib/sched/scheduler.ts";
export { SluiceError };
export { parseDuration } from "./lib/cfg/duration.ts";
export { VERSION } from "./lib/version.ts";

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

/** A running sluice. */
export interface SluiceHandle extends AsyncDisposable {
  /** Every bound address, with real ports when port 0 was asked. */
  readonly addresses: readonly ListenAddress[];
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
 * With `{ configFile }` (a path or a list of paths), the configuration is
 * read from HAProxy-syntax files, like `sluice -f FILE` (`${NAME}`
 * expansion reads the environment, so it needs `--allow-env`).
 *
 * @example
 * ```ts
 * import { startSluice } from "./mod.ts";
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
 * console.assert(new TextDecoder().decode(buf) === "ping");
 * client.close();
 * await proxy.close();
 * upstream.close();
 * ```
 */
export async function startSluice(
  config: SluiceConfig | { configFile: string | string[] },
): Promise<SluiceHandle> {
  const cfg = "configFile" in config
    ? parseConfigFiles(
      Array.isArray(config.configFile) ? config.configFile : [config.configFile],
      Deno.env.toObject(),
    )
    : config;
  const inst = new Instance(resolveConfig(cfg));
  await inst.start();
  return {
    addresses: inst.addresses(),
    stats: () => inst.stats(),
    setServer: (backend, server, change) => inst.setServer(backend, server, change),
    setServerState: (backend, server, state) => inst.setServer(backend, server, { state }),
    setWeight: (backend, server, weight) => inst.setServer(backend, server, { weight }),
    close: (opts?: CloseOptions) => inst.close(opts),
    [Symbol.asyncDispose]: () => inst.close(),
  };
}
