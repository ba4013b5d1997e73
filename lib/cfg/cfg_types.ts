/**
 * What the configuration file parser collects before it builds the
 * SluiceConfig: one draft per proxy section, keeping where each setting was
 * written and whether it came from a `defaults` section, so that the final
 * checks can point at the right line and treat inherited settings the way
 * HAProxy does.
 *
 * @module
 */
import type {
  BalanceAlgo,
  BindConfig,
  ConnectionMode,
  CookieConfig,
  ForwardForConfig,
  FrontendRules,
  LogTargetConfig,
  ObserveConfig,
  ProxyMode,
  StaticConfig,
  StickSourceConfig,
  TcpCheckRuleConfig,
  TimeoutsConfig,
} from "./config_types.ts";
import type { CfgExpectMatch } from "./cfg_tcpcheck.ts";
import type { CfgAt } from "./cfg_at.ts";
import type { CompAlgoName } from "../http/comp_algo.ts";
import type { CfgTlsVersionOpts } from "./cfg_tls.ts";

/** Capability bit: the keyword may appear in a `defaults` section. */
export const CFG_CAP_DEF = 1;
/** Capability bit: the keyword may appear in a `frontend` (and `listen`) section. */
export const CFG_CAP_FE = 2;
/** Capability bit: the keyword may appear in a `backend` (and `listen`) section. */
export const CFG_CAP_BE = 4;

/** Decodes capability bits into section names, for "not allowed" messages. */
export function cfgCapNames(caps: number): string[] {
  const names: string[] = [];
  if (caps & CFG_CAP_DEF) names.push("defaults");
  if (caps & CFG_CAP_FE) names.push("frontend");
  if (caps & CFG_CAP_BE) names.push("backend");
  if (caps & (CFG_CAP_FE | CFG_CAP_BE)) names.push("listen");
  return names;
}

/** One statement being applied: where and which keyword (`at`), and the words after the keyword. */
export interface CfgStmt {
  at: CfgAt;
  args: string[];
}

/** Proxy section kinds. */
export type CfgProxyKind = "defaults" | "frontend" | "backend" | "listen";

/** A value set by a keyword: where, and whether a `defaults` section set it. */
export interface CfgSetting<T> {
  readonly value: T;
  /** `file:line` of the keyword. */
  readonly where: string;
  /** True when copied from the `defaults` section in force. */
  readonly inherited: boolean;
}

/** Timeouts of the file: the model's plus `timeout check`. */
export type CfgTimeoutName = keyof TimeoutsConfig | "check";

/** Options of a `server` or `default-server` line, before defaults are merged in. */
export interface CfgServerOpts {
  weight?: number;
  maxconn?: number;
  maxqueue?: number;
  minconn?: number;
  poolMaxConn?: number;
  poolPurgeDelay?: number;
  poolLowConn?: number;
  backup?: boolean;
  /** `disabled`: start in maintenance. */
  disabled?: boolean;
  slowstart?: number;
  cookie?: string;
  /** `check`: health checks enabled. */
  check?: boolean;
  inter?: number;
  fastinter?: number;
  downinter?: number;
  rise?: number;
  fall?: number;
  port?: number;
  /** `check-ssl`. */
  checkSsl?: boolean;
  /** `check-send-proxy`: a PROXY header on check connections. */
  checkSendProxy?: boolean;
  /** `agent-check`, `agent-port`, `agent-inter`, `agent-send`. */
  agentCheck?: boolean;
  agentPort?: number;
  agentInter?: number;
  agentSend?: string;
  observe?: ObserveConfig["mode"];
  errorLimit?: number;
  onError?: ObserveConfig["onError"];
  /** `send-proxy` (1) / `send-proxy-v2` (2): a PROXY header first on each connection. */
  sendProxy?: 1 | 2;
  /** `ssl`: TLS to the server. */
  ssl?: boolean;
  verify?: "none" | "required";
  /** `ca-file`, read. */
  ca?: string;
  /** `ca-file @system-ca`: the runtime's trusted roots. */
  caSystem?: boolean;
  sni?: string;
  /** `sni EXPR` other than `str(NAME)`: a sample expression. */
  sniExpr?: string;
  /** `crt FILE`: the client certificate shown to the server, and the file. */
  clientCert?: { cert: string; key: string; file: string };
  /** `alpn LIST`. */
  alpn?: string[];
  /** `verifyhost NAME`. */
  verifyhost?: string;
  /** `check-sni NAME`. */
  checkSni?: string;
  /** `ssl-min-ver`, `ssl-max-ver`, `no-tlsv1x`, `force-tlsv1x`. */
  tlsVersions?: CfgTlsVersionOpts;
  /** What they (over `ssl-default-server-options`) come to, set on `server` lines with `ssl`. */
  minVersion?: "TLSv1.2" | "TLSv1.3";
  maxVersion?: "TLSv1.2" | "TLSv1.3";
}

/** A `server` line: its own options already merged over the `default-server` ones. */
export interface CfgServerDraft {
  name: string;
  /** Address in sluice's syntax (already translated from HAProxy's). */
  address: string;
  opts: CfgServerOpts;
  where: string;
}

/** `option httpchk [METHOD] [URI] [VERSION]`. */
export interface CfgHttpchk {
  method: string;
  path: string;
  /** From the old `HTTP/1.1\r\nHost:\ name` version hack. */
  host?: string;
}

/** `http-check send meth M uri U [ver V] [hdr host H]`. */
export interface CfgCheckSend {
  method?: string;
  path?: string;
  host?: string;
}

/** `http-check expect [!] status|rstatus|string|rstring PATTERN`. */
export type CfgCheckExpect = CfgExpectMatch;

/** A proxy section (or a `defaults` section) as parsed so far. */
export interface CfgProxyDraft {
  kind: CfgProxyKind;
  /** Name; `""` for an unnamed `defaults`. */
  name: string;
  /** The section as messages name it (`backend be`). */
  label: string;
  /** `file:line` of the section header. */
  where: string;
  mode?: CfgSetting<ProxyMode>;
  maxconn?: CfgSetting<number>;
  timeouts: Partial<Record<CfgTimeoutName, CfgSetting<number>>>;
  retries?: CfgSetting<number>;
  redispatch?: CfgSetting<number>;
  httpReuse?: CfgSetting<"never" | "safe" | "aggressive" | "always">;
  fullconn?: CfgSetting<number>;
  /** `option forwardfor [...]` (its options, `{}` for none) or `no option forwardfor` (false). */
  forwardFor?: CfgSetting<false | ForwardForConfig>;
  /** `option http-keep-alive|http-server-close|httpclose` (the last one wins). */
  connMode?: CfgSetting<ConnectionMode>;
  bufferRequest?: CfgSetting<boolean>;
  abortOnClose?: CfgSetting<boolean>;
  monitorUri?: CfgSetting<string>;
  /** `compression algo` lines, most recent first (inherited ones after). */
  compAlgos?: CfgSetting<CompAlgoName[]>;
  /** `compression type` lines, lowercase, most recent first. */
  compTypes?: CfgSetting<string[]>;
  /** `compression offload` (never inherited). */
  compOffload?: CfgSetting<true>;
  /** `option httplog`, `option tcplog` or `log-format` (the last one wins, as in HAProxy). */
  logFormat?: CfgSetting<"httplog" | "tcplog" | { format: string }>;
  /** `log` lines (`"global"` for `log global`), in order; `no log` empties the list. */
  logTargets?: CfgSetting<("global" | LogTargetConfig)[]>;
  logFormatSd?: CfgSetting<string>;
  dontLogNull?: CfgSetting<boolean>;
  logSeparateErrors?: CfgSetting<boolean>;
  logHealthChecks?: CfgSetting<boolean>;
  uniqueIdFormat?: CfgSetting<string>;
  uniqueIdHeader?: CfgSetting<string>;
  /** `capture request|response header NAME len N` (frontends only, never inherited). */
  captures?: {
    request: { name: string; len: number }[];
    response: { name: string; len: number }[];
    where: string;
  };
  balance?: CfgSetting<BalanceAlgo>;
  httpchk?: CfgSetting<CfgHttpchk>;
  checkSend?: CfgSetting<CfgCheckSend>;
  checkExpect?: CfgSetting<CfgCheckExpect>;
  /** `option tcp-check` (the last of it and `option httpchk` wins). */
  tcpCheckOpt?: CfgSetting<true>;
  /** The `tcp-check` rules, in order (a section's own replace the inherited ones). */
  tcpChecks?: CfgSetting<TcpCheckRuleConfig[]>;
  cookie?: CfgSetting<CookieConfig>;
  stickTable?: CfgSetting<StickSourceConfig>;
  stickOn?: CfgSetting<true>;
  defaultBackend?: CfgSetting<string>;
  /** `tcp-request inspect-delay`. */
  inspectDelay?: CfgSetting<number>;
  errorFiles: Record<number, CfgSetting<Uint8Array>>;
  /** Merged `default-server` options in force. */
  defaultServer: CfgServerOpts;
  /** Each address of the `bind` lines, with its line. */
  binds: { bind: BindConfig; where: string }[];
  servers: CfgServerDraft[];
  /** `static-*` lines (sluice's): files served instead of servers; `where` is the first line's. */
  static?: { value: Partial<StaticConfig>; where: string; rootWhere: string | null };
  /** `stats enable|uri|refresh|auth`: this section is the stats listener. */
  stats?: { where: string; uri?: string; refresh?: number; auth?: string };
  /** `acl`, `use_backend`, `http-request`, `http-response` lines, in order (words after the keyword). */
  rules: Required<{ [K in keyof FrontendRules]: { words: string[]; where: string }[] }>;
}
