/**
 * sluice: an HTTP/1.1 and TCP reverse proxy and load balancer for Deno,
 * embeddable.
 *
 * ```ts
 * import { startSluice } from "@sluice/sluice";
 *
 * await using proxy = await startSluice({
 *   global: { log: { target: "none" } },
 *   frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "be" }],
 *   backends: [{ name: "be", servers: [{ name: "s1", address: "127.0.0.1:9000" }] }],
 * });
 * console.log(proxy.addresses[0].address);
 * ```
 *
 * `startSluice()` returns a handle shaped like `Deno.serve()`'s server
 * (`addresses`, a `signal` option, `onListen`, `finished`) with run-time
 * controls (`stats()`, `setServer()`, `admin()`, `reload()`). The
 * configuration is a typed object (`SluiceConfig`) or HAProxy-syntax files
 * (`{ configFile }`). This module only re-exports; the code is in `lib/`.
 *
 * @module
 */
export {
  type CloseOptions,
  type SluiceHandle,
  type StartOptions,
  startSluice,
} from "./lib/worker/handle.ts";
export type {
  BackendConfig,
  BackendLogConfig,
  BalanceAlgo,
  BindConfig,
  BindTlsConfig,
  CacheConfig,
  CheckConfig,
  CompressionConfig,
  ConnectionMode,
  CookieConfig,
  CrtListRef,
  ForwardForConfig,
  FrontendConfig,
  FrontendHooks,
  FrontendLogConfig,
  FrontendRules,
  GlobalConfig,
  HttpBackendConfig,
  HttpFrontendConfig,
  LogConfig,
  LogFormat,
  LogLevel,
  LogTargetConfig,
  ObserveConfig,
  ProxyMode,
  RequestContext,
  ResponseContext,
  RuleText,
  ServerConfig,
  ServerTlsConfig,
  SluiceConfig,
  StaticConfig,
  StatsConfig,
  StickSourceConfig,
  TcpCheckRuleConfig,
  TimeoutsConfig,
  UserConfig,
  UserlistConfig,
} from "./lib/cfg/config_types.ts";
export type { ListenAddress } from "./lib/worker/instance.ts";
export type {
  BackendStats,
  CacheStats,
  HistogramRaw,
  InstanceStats,
  LatencySetRaw,
  LatencySnapshot,
  LatencyStats,
  ProxyStats,
  ServerStats,
} from "./lib/stats/stats_types.ts";
export type { SluiceErrorCode } from "./lib/core/errors.ts";
export type { PoolCounters } from "./lib/core/pool.ts";
export type { SchedCounters } from "./lib/sched/scheduler.ts";
export { SluiceError } from "./lib/core/errors.ts";
export { parseDuration } from "./lib/cfg/duration.ts";
export { VERSION } from "./lib/version.ts";
