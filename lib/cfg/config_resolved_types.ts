/**
 * The configuration ready to run: what resolveConfig() makes of a
 * SluiceConfig, every default applied, every address parsed, every rule
 * compiled. Fields that keep a setting's meaning and name are picked from
 * the model (config_types.ts) or from the runtime options they feed, so a
 * setting is declared once; the rest (parsed addresses, compiled rules) is
 * added here. Nothing writes a resolved configuration after resolveConfig()
 * returns it: every field is readonly.
 *
 * @module
 */
import type { CacheRegistry } from "../http/cache_store.ts";
import type { Address } from "../core/addr_types.ts";
import type { StaticSpec } from "../applet/static_types.ts";
import type { TlsBindOptions } from "../conn/tls_bind.ts";
import type { CookieSpec } from "../backend/persist.ts";
import type { AgentConfig } from "../check/agent.ts";
import type { CheckConfig as ProbeCheckConfig } from "../check/check_types.ts";
import type { HttpBackendOptions, HttpOptions } from "../http/http_ana.ts";
import type { LbSpec } from "../lb/lb_types.ts";
import type { ResolvedBackendLog, ResolvedFrontendLog, ResolvedLogTarget } from "./config_log.ts";
import type { AclCtx, AclFetch } from "../rules/acl_types.ts";
import type { HttpRule, RuleCond, UseBackendRule } from "../rules/http_rules.ts";
import type { TcpContentRule } from "../rules/tcp_rules.ts";
import type {
  BackendConfig,
  BindTlsConfig,
  FrontendConfig,
  FrontendHooks,
  GlobalConfig,
  LogFormat,
  ObserveConfig,
  ServerConfig,
  StatsConfig,
  StickSourceConfig,
  TimeoutsConfig,
} from "./config_types.ts";

/** TLS client settings of a resolved server. */
export interface ResolvedServerTls {
  readonly serverName: string;
  readonly caCerts?: string[];
  readonly noVerifyHost: boolean;
  readonly noVerify: boolean;
  /** `verifyHostName`: the name checked when no SNI is sent. */
  readonly verifyName?: string;
  readonly minVersion?: "TLSv1.2" | "TLSv1.3";
  readonly maxVersion?: "TLSv1.2" | "TLSv1.3";
  /**
   * The client certificate: live (its `cert` and `key` are replaced by the
   * runtime API's `commit ssl cert FILE`, and the checks share the object).
   */
  readonly clientCert?: { cert: string; key: string; readonly file?: string };
  /** `sniExpr` and its compiled fetch: evaluated on each request (the name replaces `serverName`). */
  readonly sniExpr?: { readonly text: string; readonly fetch: AclFetch };
  readonly alpn?: readonly string[];
}

/** Passive health settings with defaults applied. */
export interface ResolvedObserve
  extends Readonly<Required<Pick<ObserveConfig, "errorLimit" | "onError">>> {
  /** `mode: "layer7"`. */
  readonly layer7: boolean;
}

/** A server with defaults applied. */
export interface ResolvedServer extends
  Readonly<
    Required<
      Pick<
        ServerConfig,
        | "name"
        | "weight"
        | "maxconn"
        | "maxqueue"
        | "backup"
        | "slowstart"
        | "state"
        | "cookie"
        | "minconn"
        | "poolMaxConn"
        | "poolPurgeDelay"
        | "poolLowConn"
      >
    >
  > {
  readonly addr: Address;
  readonly tls: ResolvedServerTls | null;
  /** PROXY protocol version sent first on each connection, 0 for none. */
  readonly sendProxy: 0 | 1 | 2;
  /** Health check, validated; CheckTask applies its defaults. */
  readonly check: ProbeCheckConfig | null;
  /** Agent check, resolved, or null. */
  readonly agent: AgentConfig | null;
  readonly observe: ResolvedObserve | null;
}

/** A backend with defaults applied. */
export interface ResolvedBackend extends
  Readonly<
    Required<
      Pick<BackendConfig, "name" | "mode" | "retries" | "redispatch" | "httpReuse" | "fullconn">
    >
  > {
  readonly balance: LbSpec;
  readonly timeouts: Readonly<
    Required<Pick<TimeoutsConfig, "connect" | "server" | "tunnel" | "queue" | "tarpit">>
  >;
  /** `http-request` and `http-response` rules of the backend (none: null). */
  readonly rules: Pick<ResolvedRules, "httpRequest" | "httpResponse"> | null;
  readonly cookie: CookieSpec | null;
  readonly stickSource: Readonly<Required<StickSourceConfig>> | null;
  readonly hooks: FrontendHooks | null;
  /** HTTP settings (null in tcp mode). */
  readonly http: HttpBackendOptions | null;
  readonly log: ResolvedBackendLog;
  readonly servers: readonly ResolvedServer[];
  /** Files served instead of servers (then `servers` is empty), or null. */
  readonly static: StaticSpec | null;
}

/** A listener with its address parsed. */
export interface ResolvedBind {
  readonly addr: Address;
  /** The TLS material, and the handshake options resolved from it (config_bind_tls.ts). */
  readonly tls: (BindTlsConfig & { bind?: TlsBindOptions }) | null;
  readonly acceptProxy: boolean;
}

/**
 * HTTP settings of a frontend with defaults applied: the analyser's options
 * that come from the frontend, and the replacement responses it builds its
 * replies from.
 */
export interface ResolvedHttp extends
  Readonly<
    Pick<
      HttpOptions,
      | "httpRequestTimeout"
      | "keepAliveTimeout"
      | "forwardFor"
      | "forwardedProto"
      | "forwarded"
      | "connMode"
      | "bufferRequest"
      | "monitorUri"
      | "tarpitTimeout"
      | "compression"
    >
  > {
  readonly errorFiles: ReadonlyMap<number, Uint8Array>;
}

/** Compiled rules of a frontend (backends by name; the instance links them). */
export interface ResolvedRules {
  /** `tcp-request connection accept|reject` rules. */
  readonly tcpRequest: readonly { accept: boolean; cond: RuleCond<AclCtx> | null }[];
  readonly httpRequest: readonly HttpRule<AclCtx>[];
  readonly httpResponse: readonly HttpRule<AclCtx>[];
  readonly useBackends: readonly UseBackendRule<AclCtx>[];
  /** `tcp-request content accept|reject` rules (TCP mode). */
  readonly tcpContent: readonly TcpContentRule[];
}

/** A frontend with defaults applied. */
export interface ResolvedFrontend
  extends Readonly<Required<Pick<FrontendConfig, "name" | "mode" | "maxconn">>> {
  readonly binds: readonly ResolvedBind[];
  /** `timeouts.client`. */
  readonly clientTimeout: number;
  /** The default backend, or null (HTTP: unrouted requests get 503; TCP with use_backend: closed). */
  readonly backend: string | null;
  readonly http: ResolvedHttp | null;
  readonly rules: ResolvedRules | null;
  readonly hooks: FrontendHooks | null;
  /** `inspectDelay` in ms (0: `tcp-request content` rules decide at once). */
  readonly inspectDelay: number;
  readonly log: ResolvedFrontendLog;
}

/** The stats listener with defaults applied. */
export interface ResolvedStats extends Readonly<Required<Pick<StatsConfig, "allow" | "refresh">>> {
  readonly host: string;
  readonly port: number;
  /** `user:password`, or null for no authentication. */
  readonly auth: string | null;
}

/** Process-wide settings with defaults applied. */
export interface ResolvedGlobal extends
  Readonly<
    Required<
      Pick<
        GlobalConfig,
        | "maxconn"
        | "bufsize"
        | "buffers"
        | "largeBuffers"
        | "runqueueDepth"
        | "sslCertExpiryWarning"
        | "io"
        | "graceMs"
        | "maxHdrs"
        | "maxRewrite"
        | "maxBody"
      >
    >
  > {
  readonly log: {
    readonly targets: readonly ResolvedLogTarget[];
    readonly format: LogFormat;
    readonly queueBytes: number;
  };
  readonly stats: ResolvedStats | null;
  readonly adminSocket: Readonly<Required<NonNullable<GlobalConfig["adminSocket"]>>> | null;
  readonly pidfile: string | null;
  /** Worker threads asked for (`nbthread`), null when the configuration leaves it to the launcher. */
  readonly nbthread: number | null;
  /** TLS in dedicated TLS worker threads (`tls-isolation on`). */
  readonly tlsIsolation: boolean;
  /** TLS worker threads under tlsIsolation (`tls-threads`). */
  readonly tlsThreads: number;
}

/** A configuration ready to run. */
export interface ResolvedConfig {
  readonly global: ResolvedGlobal;
  readonly frontends: readonly ResolvedFrontend[];
  readonly backends: readonly ResolvedBackend[];
  /** The caches (`cache` sections) and the cache counters of the proxies using them. */
  readonly caches?: CacheRegistry;
}
