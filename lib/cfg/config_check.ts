/**
 * Checks a configuration object and resolves it: every default applied,
 * every address parsed, every reference followed. Errors name the field
 * (`backends[0].servers[1].weight`) and why, with code ERR_CONFIG (or
 * ERR_ADDRESS for addresses).
 *
 * @module
 */
import type { Address } from "../core/addr_types.ts";
import { errMsg, SluiceError } from "../core/errors.ts";
import { DEFAULT_BUFSIZE } from "../core/pool.ts";
import { DEFAULT_BUDGET } from "../sched/scheduler.ts";
import { parseAddress } from "./address.ts";
import type { CheckConfig as ProbeCheckConfig } from "../check/check_types.ts";
import { checkConfigResolve } from "../check/check_config.ts";
import type { LbSpec } from "../lb/lb_types.ts";
import { lbAlgoDef, lbAlgoExpected, parseBalance } from "../lb/lb_algos.ts";
import { aclDeclare } from "../rules/acl.ts";
import { ipNetParse } from "../rules/acl_ip.ts";
import type { LogTarget } from "../log/sink_types.ts";
import { SYSLOG_FACILITIES } from "../log/syslog.ts";
import { compileCondition, condMisuse, evalCondition } from "../rules/acl_cond.ts";
import {
  type AclCtx,
  type AclMap,
  SMP_USE_CONN,
  SMP_USE_REQ,
  SMP_USE_RES,
} from "../rules/acl_types.ts";
import {
  compileHttpRule,
  compileUseBackend,
  type CondCompiler,
  type HttpRule,
  type RuleCond,
  type UseBackendRule,
} from "../rules/http_rules.ts";
import { cfgLexLine } from "./cfg_lexer.ts";
import type {
  BindTlsConfig,
  CheckConfig,
  CookieConfig,
  FrontendHooks,
  FrontendRules,
  LogFormat,
  ProxyMode,
  RuleText,
  ServerConfig,
  SluiceConfig,
  TimeoutsConfig,
} from "./config_types.ts";
import { MAX_DURATION_MS } from "./duration.ts";
import { GENERATED_STATUSES } from "../http/http_reply.ts";

/** Default process maxconn. */
export const DEFAULT_MAXCONN = 4096;
/** Default grace period after a stop signal, in ms. */
export const DEFAULT_GRACE_MS = 10_000;
/** Default timeouts, in ms (0: none). */
export const DEFAULT_TIMEOUTS: Readonly<Required<TimeoutsConfig>> = {
  client: 30_000,
  server: 30_000,
  connect: 5_000,
  tunnel: 0,
  queue: 0,
  httpRequest: 10_000,
  httpKeepAlive: 10_000,
};
/** Default HTTP limits and server connection reuse. */
export const DEFAULT_MAXHDRS = 101;
export const DEFAULT_MAXREWRITE = 1024;
export const DEFAULT_SERVER_IDLE_TIMEOUT = 4_000;
export const DEFAULT_SERVER_IDLE_MAX = 256;
/** Default connection retries. */
export const DEFAULT_RETRIES = 3;
/** Large buffers per instance (4 × bufsize each). */
export const DEFAULT_LARGE_BUFFERS = 256;
/** Default redispatch: on the last retry only. */
export const DEFAULT_REDISPATCH = -1;
/** Default health check interval, rise and fall (HAProxy's). */
export const DEFAULT_CHECK_INTER = 2_000;
export const DEFAULT_CHECK_RISE = 2;
export const DEFAULT_CHECK_FALL = 3;
/** Default passive-health error limit (HAProxy's). */
export const DEFAULT_ERROR_LIMIT = 10;
/** Default size and expiry of the source stickiness table. */
export const DEFAULT_STICK_SIZE = 100_000;
export const DEFAULT_STICK_EXPIRE = 30 * 60_000;
/** Default queue of log bytes waiting for a slow sink. */
export const DEFAULT_LOG_QUEUE_BYTES = 1 << 20;

/** TLS client settings of a resolved server. */
export interface ResolvedServerTls {
  serverName: string;
  caCerts?: string[];
  noVerifyHost: boolean;
  noVerify: boolean;
}

/** Passive health settings with defaults applied. */
export interface ResolvedObserve {
  layer7: boolean;
  errorLimit: number;
  onError: "fail-check" | "fastinter" | "mark-down";
}

/** A server with defaults applied. */
export interface ResolvedServer {
  name: string;
  addr: Address;
  tls: ResolvedServerTls | null;
  /** PROXY protocol version sent first on each connection, 0 for none. */
  sendProxy: 0 | 1 | 2;
  weight: number;
  maxconn: number;
  maxqueue: number;
  backup: boolean;
  slowstart: number;
  state: "ready" | "drain" | "maint";
  cookie: string;
  /** Health check, validated; CheckTask applies its defaults. */
  check: ProbeCheckConfig | null;
  observe: ResolvedObserve | null;
}

/** Cookie persistence with defaults applied. */
export interface ResolvedCookie {
  name: string;
  mode: "insert" | "prefix";
  indirect: boolean;
  nocache: boolean;
  attributes: string;
}

/** A backend with defaults applied. */
export interface ResolvedBackend {
  name: string;
  mode: ProxyMode;
  balance: LbSpec;
  retries: number;
  redispatch: number;
  timeouts: { connect: number; server: number; tunnel: number; queue: number };
  cookie: ResolvedCookie | null;
  stickSource: { size: number; expire: number } | null;
  hooks: FrontendHooks | null;
  servers: ResolvedServer[];
}

/** A listener with its address parsed. */
export interface ResolvedBind {
  addr: Address;
  tls: BindTlsConfig | null;
  acceptProxy: boolean;
}

/** HTTP settings of a frontend with defaults applied. */
export interface ResolvedHttp {
  httpRequestTimeout: number;
  keepAliveTimeout: number;
  forwardFor: boolean;
  forwardedProto: boolean;
  forwarded: boolean;
  errorFiles: Map<number, Uint8Array>;
}

/** Compiled rules of a frontend (backends by name; the instance links them). */
export interface ResolvedRules {
  /** `tcp-request connection accept|reject` rules. */
  tcpRequest: { accept: boolean; cond: RuleCond<AclCtx> | null }[];
  httpRequest: HttpRule<AclCtx>[];
  httpResponse: HttpRule<AclCtx>[];
  useBackends: UseBackendRule<AclCtx>[];
}

/** A frontend with defaults applied. */
export interface ResolvedFrontend {
  name: string;
  mode: ProxyMode;
  binds: ResolvedBind[];
  maxconn: number;
  clientTimeout: number;
  /** The default backend, or null (HTTP only: unrouted requests get 503). */
  backend: string | null;
  http: ResolvedHttp | null;
  rules: ResolvedRules | null;
  hooks: FrontendHooks | null;
}

/** The stats listener with defaults applied. */
export interface ResolvedStats {
  host: string;
  port: number;
  auth: string | null;
  allow: string[];
  refresh: number;
}

/** A configuration ready to run. */
export interface ResolvedConfig {
  global: {
    maxconn: number;
    bufsize: number;
    buffers: number;
    largeBuffers: number;
    runqueueDepth: number;
    graceMs: number;
    maxHdrs: number;
    maxRewrite: number;
    maxBody: number;
    serverIdleTimeout: number;
    serverIdleMax: number;
    log: {
      target: LogTarget;
      format: LogFormat;
      queueBytes: number;
    };
    stats: ResolvedStats | null;
    adminSocket: { path: string; mode: number } | null;
  };
  frontends: ResolvedFrontend[];
  backends: ResolvedBackend[];
}

const NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

function fail(where: string, why: string): never {
  throw new SluiceError("ERR_CONFIG", `Invalid configuration at ${where}: ${why}`, where);
}

function int(
  where: string,
  v: unknown,
  dflt: number,
  min: number,
  max: number,
): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    fail(where, `expected an integer, got ${JSON.stringify(v)}`);
  }
  if (v < min || v > max) fail(where, `${v} is outside ${min}..${max}`);
  return v;
}

function name(where: string, v: unknown): string {
  if (typeof v !== "string" || !NAME.test(v)) {
    fail(where, `expected a name of letters, digits, "-", "_", ".", ":", got ${JSON.stringify(v)}`);
  }
  return v;
}

function timeout(where: string, v: unknown, dflt: number): number {
  return int(where, v, dflt, 0, MAX_DURATION_MS);
}

function mode(where: string, v: unknown): ProxyMode {
  if (v === undefined || v === "http") return "http";
  if (v === "tcp") return "tcp";
  return fail(where, `unknown mode ${JSON.stringify(v)} (expected "http" or "tcp")`);
}

function bool(where: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== "boolean") fail(where, `expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** Checks a replacement response: a complete HTTP/1.x response head with the right status. */
function errorFile(where: string, status: number, v: unknown, maxSize: number): Uint8Array {
  const bytes = typeof v === "string"
    ? new TextEncoder().encode(v)
    : v instanceof Uint8Array
    ? v
    : null;
  if (bytes === null) fail(where, "expected the raw response as a string or bytes");
  const text = new TextDecoder("latin1").decode(bytes);
  const m = /^HTTP\/1\.[01] (\d{3})[ \r]/.exec(text);
  if (m === null) fail(where, 'expected a raw HTTP response starting with "HTTP/1.1 <status>"');
  if (Number(m[1]) !== status) fail(where, `the response has status ${m[1]}, not ${status}`);
  if (!text.includes("\r\n\r\n")) {
    fail(where, "the response head does not end with an empty line (CRLF CRLF)");
  }
  if (bytes.length > maxSize) {
    fail(where, `the response is larger than a buffer (${maxSize} bytes)`);
  }
  return bytes;
}

function pem(where: string, v: unknown): string {
  if (typeof v !== "string" || !v.includes("-----BEGIN ")) fail(where, "expected PEM text");
  return v;
}

function address(where: string, text: unknown, opts: { port0?: boolean; tls?: boolean }) {
  if (typeof text !== "string") fail(where, "expected an address string");
  try {
    return parseAddress(text, opts);
  } catch (err) {
    if (err instanceof SluiceError) {
      throw new SluiceError(
        "ERR_ADDRESS",
        `Invalid configuration at ${where}: ${err.message}`,
        where,
      );
    }
    throw err;
  }
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `"roundrobin"`, …, or `"hdr(name)"`. */
function balanceSpec(where: string, v: unknown): LbSpec {
  if (v === undefined) return { algo: "roundrobin" };
  const spec = typeof v === "string"
    ? parseBalance(v)
    : `unknown algorithm ${JSON.stringify(v)} (expected ${lbAlgoExpected()})`;
  return typeof spec === "string" ? fail(where, spec) : spec;
}

function adminState(where: string, v: unknown): "ready" | "drain" | "maint" {
  if (v === undefined) return "ready";
  if (v === "ready" || v === "drain" || v === "maint") return v;
  return fail(where, `expected "ready", "drain" or "maint", got ${JSON.stringify(v)}`);
}

/** A cookie value: a token, so it can be sent and matched without quoting. */
function cookieValue(where: string, v: unknown, dflt: string): string {
  if (v === undefined) return dflt;
  if (typeof v !== "string" || !TOKEN.test(v) || v.includes("~")) {
    fail(where, `expected a cookie value of token characters (no "~"), got ${JSON.stringify(v)}`);
  }
  return v;
}

function cookie(where: string, c: CookieConfig): ResolvedCookie {
  if (typeof c !== "object" || c === null) fail(where, "expected { name, mode }");
  if (typeof c.name !== "string" || !TOKEN.test(c.name)) {
    fail(`${where}.name`, `expected a cookie name (token), got ${JSON.stringify(c.name)}`);
  }
  if (c.mode !== "insert" && c.mode !== "prefix") {
    fail(`${where}.mode`, `expected "insert" or "prefix", got ${JSON.stringify(c.mode)}`);
  }
  const attributes = c.attributes ?? "Path=/";
  // Sent as a header value: visible ASCII and spaces only (no CR/LF injection).
  if (typeof attributes !== "string" || !/^[\x20-\x7e]*$/.test(attributes)) {
    fail(`${where}.attributes`, "expected visible ASCII text");
  }
  return {
    name: c.name,
    mode: c.mode,
    indirect: bool(`${where}.indirect`, c.indirect, false),
    nocache: bool(`${where}.nocache`, c.nocache, false),
    attributes,
  };
}

function check(
  where: string,
  c: CheckConfig,
  addr: Address,
  tls: ResolvedServerTls | null,
): ProbeCheckConfig {
  if (typeof c !== "object" || c === null) fail(where, "expected a check object");
  const type = c.type ?? (c.http !== undefined ? "http" : "tcp");
  if (type !== "tcp" && type !== "http") {
    fail(`${where}.type`, `expected "tcp" or "http", got ${JSON.stringify(type)}`);
  }
  const inter = int(`${where}.inter`, c.inter, DEFAULT_CHECK_INTER, 10, MAX_DURATION_MS);
  const r: ProbeCheckConfig = {
    type,
    inter,
    fastinter: int(`${where}.fastinter`, c.fastinter, inter, 10, MAX_DURATION_MS),
    downinter: int(`${where}.downinter`, c.downinter, inter, 10, MAX_DURATION_MS),
    rise: int(`${where}.rise`, c.rise, DEFAULT_CHECK_RISE, 1, 1000),
    fall: int(`${where}.fall`, c.fall, DEFAULT_CHECK_FALL, 1, 1000),
    timeout: int(`${where}.timeout`, c.timeout, inter, 1, MAX_DURATION_MS),
  };
  if (c.port !== undefined) r.port = int(`${where}.port`, c.port, 0, 1, 65535);
  if (addr.kind === "unix" && c.port !== undefined) {
    fail(`${where}.port`, "a unix socket has no port");
  }
  if (bool(`${where}.tls`, c.tls, tls !== null)) {
    r.tls = tls === null ? {} : {
      ca: tls.caCerts,
      sni: tls.serverName,
      verify: tls.noVerify ? "none" : "required",
      verifyHost: !tls.noVerifyHost,
    };
  }
  if (type === "http") {
    const h = c.http ?? {};
    const method = h.method ?? "GET";
    if (typeof method !== "string" || !TOKEN.test(method)) {
      fail(`${where}.http.method`, `expected a method token, got ${JSON.stringify(method)}`);
    }
    const path = h.path ?? "/";
    if (typeof path !== "string" || !/^(\/[\x21-\x7e]*|\*)$/.test(path)) {
      fail(
        `${where}.http.path`,
        `expected a request target without spaces, got ${JSON.stringify(path)}`,
      );
    }
    if (h.host !== undefined && (typeof h.host !== "string" || !/^[\x21-\x7e]+$/.test(h.host))) {
      fail(`${where}.http.host`, `expected a host name, got ${JSON.stringify(h.host)}`);
    }
    let status: [number, number] = [200, 399];
    const es = h.expectStatus;
    if (typeof es === "number") status = [int(`${where}.http.expectStatus`, es, 200, 100, 599), es];
    else if (Array.isArray(es) && es.length === 2) {
      const lo = int(`${where}.http.expectStatus[0]`, es[0], 200, 100, 599);
      const hi = int(`${where}.http.expectStatus[1]`, es[1], 399, lo, 599);
      status = [lo, hi];
    } else if (es !== undefined) {
      fail(`${where}.http.expectStatus`, "expected a status or [low, high]");
    }
    if (
      h.expectString !== undefined && (typeof h.expectString !== "string" || h.expectString === "")
    ) {
      fail(`${where}.http.expectString`, "expected non-empty text");
    }
    r.http = {
      method,
      path,
      host: h.host,
      expect: { status, string: h.expectString },
    };
  } else if (c.http !== undefined) fail(`${where}.http`, 'HTTP check settings need type "http"');
  try {
    checkConfigResolve(r);
    return r;
  } catch (err) {
    return fail(where, errMsg(err));
  }
}

function observe(sat: string, s: ServerConfig): ResolvedObserve | null {
  const o = s.observe;
  if (o === undefined) return null;
  const where = `${sat}.observe`;
  if (typeof o !== "object" || o === null) fail(where, "expected { mode, errorLimit?, onError? }");
  if (o.mode !== "layer4" && o.mode !== "layer7") {
    fail(`${where}.mode`, `expected "layer4" or "layer7", got ${JSON.stringify(o.mode)}`);
  }
  const onError = o.onError ?? "fail-check";
  if (onError !== "fail-check" && onError !== "fastinter" && onError !== "mark-down") {
    fail(`${where}.onError`, `expected "fail-check", "fastinter" or "mark-down"`);
  }
  if (s.check === undefined) {
    fail(where, "passive observation needs a health check to bring the server back (add check)");
  }
  return {
    layer7: o.mode === "layer7",
    errorLimit: int(`${where}.errorLimit`, o.errorLimit, DEFAULT_ERROR_LIMIT, 1, 100_000),
    onError,
  };
}

function statsOf(s: NonNullable<SluiceConfig["global"]>["stats"]): ResolvedStats {
  const at = "global.stats";
  if (typeof s !== "object" || s === null) {
    fail(at, "expected { address, auth?, allow?, refresh? }");
  }
  const { addr } = address(`${at}.address`, s.address, { port0: true });
  if (addr.kind !== "tcp") fail(`${at}.address`, "the stats listener needs host:port");
  if (s.auth !== undefined && (typeof s.auth !== "string" || !/^[^:\s]+:\S+$/.test(s.auth))) {
    fail(`${at}.auth`, 'expected "user:password"');
  }
  const allow = s.allow ?? [];
  if (!Array.isArray(allow)) fail(`${at}.allow`, "expected a list of networks");
  allow.forEach((c, i) => {
    const n = typeof c === "string" ? ipNetParse(c) : "not text";
    if (typeof n === "string") {
      fail(`${at}.allow[${i}]`, `invalid network ${JSON.stringify(c)}: ${n}`);
    }
  });
  return {
    host: addr.host,
    port: addr.port,
    auth: s.auth ?? null,
    allow,
    refresh: int(`${at}.refresh`, s.refresh, 10, 0, 3600),
  };
}

function adminSocketOf(a: { path: string; mode?: number }): { path: string; mode: number } {
  const at = "global.adminSocket";
  if (typeof a !== "object" || a === null || typeof a.path !== "string" || a.path === "") {
    fail(at, "expected { path, mode? }");
  }
  return { path: a.path, mode: int(`${at}.mode`, a.mode, 0o600, 0, 0o777) };
}

/**
 * A log target: stdout, stderr, none, a function, `{ file }`, or
 * `{ syslog, facility }` with `syslog` a UDP `"host:port"` or a unix socket
 * `"unix:/path"` (the address syntax of servers).
 */
function logTarget(t: unknown): LogTarget {
  const at = "global.log.target";
  if (t === "stdout" || t === "stderr" || t === "none" || typeof t === "function") {
    return t as LogTarget;
  }
  if (typeof t === "object" && t !== null && "file" in t) {
    const f = (t as { file: unknown }).file;
    if (typeof f !== "string" || f === "") fail(`${at}.file`, "expected a file path");
    return { file: f };
  }
  if (typeof t === "object" && t !== null && "syslog" in t) {
    const { syslog, facility } = t as { syslog: unknown; facility?: unknown };
    for (const k of Object.keys(t)) {
      if (k !== "syslog" && k !== "facility") {
        fail(`${at}.${k}`, "unknown field (expected syslog or facility)");
      }
    }
    if (typeof syslog === "string" && syslog.startsWith("/")) {
      fail(`${at}.syslog`, `expected "unix:${syslog}" for a unix socket`);
    }
    const { addr } = address(`${at}.syslog`, syslog, {});
    const fac = facility ?? "local0";
    const n = SYSLOG_FACILITIES.indexOf(fac as string);
    if (n < 0) fail(`${at}.facility`, `unknown facility ${JSON.stringify(fac)}`);
    return addr.kind === "unix"
      ? { syslog: "unix", path: addr.path, facility: n }
      : { syslog: "udp", host: addr.host, port: addr.port, facility: n };
  }
  return fail(
    at,
    'expected "stdout", "stderr", "none", a function, { file } or { syslog, facility? }',
  );
}

/** Checks TypeScript hooks: functions, HTTP mode only. */
function hooksOf(at: string, hooks: FrontendHooks | undefined, m: ProxyMode): FrontendHooks | null {
  if (hooks === undefined) return null;
  if (typeof hooks !== "object" || hooks === null) fail(at, "expected { onRequest?, onResponse? }");
  if (m !== "http") fail(at, 'hooks need mode "http"');
  for (const k of ["onRequest", "onResponse"] as const) {
    if (hooks[k] !== undefined && typeof hooks[k] !== "function") {
      fail(`${at}.${k}`, "expected a function");
    }
  }
  return hooks;
}

/** The words and error place of a rule given as text or as words. */
function ruleWords(where: string, r: RuleText): { words: string[]; where: string } {
  if (typeof r === "string") return { words: cfgLexLine(r, where, {}), where };
  if (typeof r !== "object" || r === null || !Array.isArray(r.words)) {
    fail(where, "expected a rule as text or { words, where }");
  }
  return { words: r.words, where: r.where ?? where };
}

/** Compiles a frontend's ACLs, http-request/response rules and use_backend rules. */
function compileRules(
  at: string,
  r: FrontendRules,
  ctx: { mode: ProxyMode; backends: ResolvedBackend[]; bufsize: number },
): ResolvedRules {
  if (typeof r !== "object" || r === null) {
    fail(at, "expected { acls?, useBackends?, httpRequest?, httpResponse? }");
  }
  const list = (k: keyof FrontendRules) => {
    const v = r[k];
    if (v === undefined) return [];
    if (!Array.isArray(v)) fail(`${at}.${k}`, "expected a list of rules");
    return v.map((x, i) => ruleWords(`${at}.${k}[${i}]`, x));
  };
  if (ctx.mode !== "http") {
    for (const k of ["useBackends", "httpRequest", "httpResponse"] as const) {
      if ((r[k]?.length ?? 0) > 0) fail(`${at}.${k}`, 'HTTP rules need mode "http"');
    }
  }
  const acls: AclMap = new Map();
  for (const a of list("acls")) aclDeclare(acls, ["acl", ...a.words], a.where);
  // A condition may only use fetches the rule can feed: a connection rule
  // knows the client address, a response rule the response (and variables).
  const condFor = (use: number, refuse: (kw: string, acl: string) => string) => {
    const compile: CondCompiler<AclCtx> = (words, where) => {
      const c = compileCondition(words, acls, where);
      const bad = condMisuse(c, use);
      if (bad !== null) fail(where, refuse(bad.expr.fetch.kw, bad.acl.name));
      return (x) => evalCondition(c, x);
    };
    return compile;
  };
  const named = (acl: string) => acl.startsWith("{") ? "" : ` (ACL "${acl}")`;
  const cond = condFor(
    SMP_USE_REQ,
    (kw, acl) => `"${kw}"${named(acl)} is only known in http-response rules, not in request rules`,
  );
  const resCond = condFor(
    SMP_USE_RES,
    (kw, acl) =>
      `"${kw}"${
        named(acl)
      } reads the request, which http-response rules cannot see: keep the value with "http-request set-var(txn.NAME)" and test "var(txn.NAME)"`,
  );
  const connCond = condFor(
    SMP_USE_CONN,
    (kw, acl) =>
      `tcp-request connection rules can only use src, src_port, dst, dst_port and ssl_fc (not "${kw}"${
        named(acl)
      }): nothing else is known yet`,
  );
  const httpRequest = list("httpRequest").map((x) => {
    const rule = compileHttpRule(x.words, x.where, false, cond);
    if ((rule.action.fixedReply?.bytes.length ?? 0) > ctx.bufsize) {
      fail(x.where, `the response is larger than a buffer (${ctx.bufsize} bytes)`);
    }
    return rule;
  });
  const httpResponse = list("httpResponse").map((x) => {
    const rule = compileHttpRule(x.words, x.where, true, resCond);
    if ((rule.action.fixedReply?.bytes.length ?? 0) > ctx.bufsize) {
      fail(x.where, `the response is larger than a buffer (${ctx.bufsize} bytes)`);
    }
    return rule;
  });
  const useBackends = list("useBackends").map((x) => {
    const u = compileUseBackend(x.words, x.where, cond);
    const be = ctx.backends.find((b) => b.name === u.backend);
    if (be === undefined) {
      fail(x.where, `use_backend: no backend named ${JSON.stringify(u.backend)}`);
    }
    if (be.mode !== "http") fail(x.where, `use_backend: backend "${be.name}" is not in http mode`);
    return u;
  });
  const tcpRequest = list("tcpRequest").map((x) => {
    const [kind, verdict, ...rest] = x.words;
    if (kind !== "connection" || (verdict !== "accept" && verdict !== "reject")) {
      fail(
        x.where,
        `unsupported rule "tcp-request ${
          x.words.slice(0, 2).join(" ")
        }" (supported: tcp-request connection accept|reject [if|unless condition])`,
      );
    }
    if (rest.length > 0 && rest[0] !== "if" && rest[0] !== "unless") {
      fail(
        x.where,
        `unexpected ${JSON.stringify(rest[0])} after tcp-request connection ${verdict}`,
      );
    }
    return { accept: verdict === "accept", cond: rest.length > 0 ? connCond(rest, x.where) : null };
  });
  return { tcpRequest, httpRequest, httpResponse, useBackends };
}

/** `sendProxy`: absent, "v1" or "v2". */
function sendProxyOf(at: string, v: unknown): 0 | 1 | 2 {
  if (v === undefined) return 0;
  if (v === "v1") return 1;
  if (v === "v2") return 2;
  return fail(at, `expected "v1" or "v2", got ${JSON.stringify(v)}`);
}

/** Checks `cfg` and returns it resolved; throws SluiceError on the first problem. */
export function resolveConfig(cfg: SluiceConfig): ResolvedConfig {
  const g = cfg.global ?? {};
  const maxconn = int("global.maxconn", g.maxconn, DEFAULT_MAXCONN, 1, 1_000_000);
  const bufsize = int("global.bufsize", g.bufsize, DEFAULT_BUFSIZE, 1024, 1 << 20);
  const buffers = int("global.buffers", g.buffers, 2 * maxconn + 64, 2, 1 << 24);
  const log = g.log ?? {};
  const target = logTarget(log.target ?? "stdout");
  const format = log.format ?? "tcplog";
  if (format !== "tcplog" && format !== "httplog" && format !== "json") {
    fail(
      "global.log.format",
      `expected "tcplog", "httplog" or "json", got ${JSON.stringify(format)}`,
    );
  }
  const maxRewrite = int("global.maxRewrite", g.maxRewrite, DEFAULT_MAXREWRITE, 0, bufsize >> 1);
  const resolved: ResolvedConfig = {
    global: {
      maxconn,
      bufsize,
      buffers,
      largeBuffers: int("global.largeBuffers", g.largeBuffers, DEFAULT_LARGE_BUFFERS, 0, 1 << 20),
      maxHdrs: int("global.maxHdrs", g.maxHdrs, DEFAULT_MAXHDRS, 1, 10_000),
      maxRewrite,
      maxBody: int("global.maxBody", g.maxBody, 0, 0, Number.MAX_SAFE_INTEGER),
      serverIdleTimeout: timeout(
        "global.serverIdleTimeout",
        g.serverIdleTimeout,
        DEFAULT_SERVER_IDLE_TIMEOUT,
      ),
      serverIdleMax: int(
        "global.serverIdleMax",
        g.serverIdleMax,
        DEFAULT_SERVER_IDLE_MAX,
        0,
        1_000_000,
      ),
      runqueueDepth: int("global.runqueueDepth", g.runqueueDepth, DEFAULT_BUDGET, 1, 100_000),
      graceMs: timeout("global.graceMs", g.graceMs, DEFAULT_GRACE_MS),
      stats: g.stats === undefined ? null : statsOf(g.stats),
      adminSocket: g.adminSocket === undefined ? null : adminSocketOf(g.adminSocket),
      log: {
        target,
        format,
        queueBytes: int(
          "global.log.queueBytes",
          log.queueBytes,
          DEFAULT_LOG_QUEUE_BYTES,
          0,
          1 << 30,
        ),
      },
    },
    frontends: [],
    backends: [],
  };

  // No backend at all is fine when the frontends answer everything
  // themselves (a metrics-only frontend); a frontend naming one checks it.
  if (!Array.isArray(cfg.backends)) fail("backends", "expected a list of backends");
  const beNames = new Set<string>();
  cfg.backends.forEach((b, i) => {
    const at = `backends[${i}]`;
    if (typeof b !== "object" || b === null) fail(at, "expected a backend object");
    const bname = name(`${at}.name`, b.name);
    if (beNames.has(bname)) fail(`${at}.name`, `duplicate backend name "${bname}"`);
    beNames.add(bname);
    const balance = balanceSpec(`${at}.balance`, b.balance);
    const t = b.timeouts ?? {};
    const connect = timeout(`${at}.timeouts.connect`, t.connect, DEFAULT_TIMEOUTS.connect);
    if (!Array.isArray(b.servers) || b.servers.length === 0) {
      fail(`${at}.servers`, "at least one server is needed");
    }
    const srvNames = new Set<string>();
    const servers = b.servers.map((s, j): ResolvedServer => {
      const sat = `${at}.servers[${j}]`;
      if (typeof s !== "object" || s === null) fail(sat, "expected a server object");
      const sname = name(`${sat}.name`, s.name);
      if (srvNames.has(sname)) fail(`${sat}.name`, `duplicate server name "${sname}"`);
      srvNames.add(sname);
      const { addr, tls: tlsPrefix } = address(`${sat}.address`, s.address, { tls: true });
      let tls: ResolvedServerTls | null = null;
      if (tlsPrefix || s.tls !== undefined) {
        if (addr.kind === "unix") fail(`${sat}.tls`, "TLS to a unix socket is not supported");
        const st = s.tls ?? {};
        if (typeof st !== "object" || st === null) fail(`${sat}.tls`, "expected an object");
        if (st.ca !== undefined && !Array.isArray(st.ca)) {
          fail(`${sat}.tls.ca`, "expected a list of PEM texts");
        }
        const ca = st.ca?.map((c, k) => pem(`${sat}.tls.ca[${k}]`, c));
        if (st.sni !== undefined && (typeof st.sni !== "string" || st.sni === "")) {
          fail(`${sat}.tls.sni`, `expected a host name, got ${JSON.stringify(st.sni)}`);
        }
        if (st.verifyHost !== undefined && typeof st.verifyHost !== "boolean") {
          fail(
            `${sat}.tls.verifyHost`,
            `expected true or false, got ${JSON.stringify(st.verifyHost)}`,
          );
        }
        if (st.verify !== undefined && st.verify !== "required" && st.verify !== "none") {
          fail(
            `${sat}.tls.verify`,
            `expected "required" or "none", got ${JSON.stringify(st.verify)}`,
          );
        }
        tls = {
          serverName: st.sni ?? addr.host,
          caCerts: ca,
          noVerifyHost: st.verifyHost === false,
          noVerify: st.verify === "none",
        };
      }
      return {
        name: sname,
        addr,
        tls,
        sendProxy: sendProxyOf(`${sat}.sendProxy`, s.sendProxy),
        weight: int(`${sat}.weight`, s.weight, 1, 0, 256),
        maxconn: int(`${sat}.maxconn`, s.maxconn, 0, 0, 1_000_000),
        maxqueue: int(`${sat}.maxqueue`, s.maxqueue, 0, 0, 1_000_000),
        backup: bool(`${sat}.backup`, s.backup, false),
        slowstart: timeout(`${sat}.slowstart`, s.slowstart, 0),
        state: adminState(`${sat}.state`, s.state),
        cookie: cookieValue(`${sat}.cookie`, s.cookie, sname),
        check: s.check === undefined ? null : check(`${sat}.check`, s.check, addr, tls),
        observe: observe(sat, s),
      };
    });
    const cookies = new Set<string>();
    for (const [j, s] of servers.entries()) {
      if (cookies.has(s.cookie)) {
        fail(`${at}.servers[${j}].cookie`, `duplicate cookie value "${s.cookie}"`);
      }
      cookies.add(s.cookie);
    }
    const mode_ = mode(`${at}.mode`, b.mode);
    if (b.cookie !== undefined && mode_ !== "http") {
      fail(`${at}.cookie`, 'cookie persistence needs mode "http"');
    }
    if (lbAlgoDef(balance.algo)!.http && mode_ !== "http") {
      fail(`${at}.balance`, `"${balance.algo}" needs mode "http"`);
    }
    const ss = b.stickSource;
    if (ss !== undefined && (typeof ss !== "object" || ss === null)) {
      fail(`${at}.stickSource`, "expected { size?, expire? }");
    }
    resolved.backends.push({
      hooks: hooksOf(`${at}.hooks`, b.hooks, mode_),
      name: bname,
      mode: mode_,
      balance,
      retries: int(`${at}.retries`, b.retries, DEFAULT_RETRIES, 0, 100),
      redispatch: int(`${at}.redispatch`, b.redispatch, DEFAULT_REDISPATCH, -1, 100),
      cookie: b.cookie === undefined ? null : cookie(`${at}.cookie`, b.cookie),
      stickSource: ss === undefined ? null : {
        size: int(`${at}.stickSource.size`, ss.size, DEFAULT_STICK_SIZE, 1, 10_000_000),
        expire: timeout(`${at}.stickSource.expire`, ss.expire, DEFAULT_STICK_EXPIRE),
      },
      timeouts: {
        connect,
        server: timeout(`${at}.timeouts.server`, t.server, DEFAULT_TIMEOUTS.server),
        tunnel: timeout(`${at}.timeouts.tunnel`, t.tunnel, DEFAULT_TIMEOUTS.tunnel),
        queue: timeout(`${at}.timeouts.queue`, t.queue, connect),
      },
      servers,
    });
  });

  if (!Array.isArray(cfg.frontends) || cfg.frontends.length === 0) {
    fail("frontends", "at least one frontend is needed");
  }
  const feNames = new Set<string>();
  cfg.frontends.forEach((f, i) => {
    const at = `frontends[${i}]`;
    if (typeof f !== "object" || f === null) fail(at, "expected a frontend object");
    const fname = name(`${at}.name`, f.name);
    if (feNames.has(fname)) fail(`${at}.name`, `duplicate frontend name "${fname}"`);
    feNames.add(fname);
    const fmode = mode(`${at}.mode`, f.mode);
    const be = f.defaultBackend === undefined
      ? null
      : resolved.backends.find((b) => b.name === f.defaultBackend);
    if (be === undefined) {
      fail(`${at}.defaultBackend`, `no backend named ${JSON.stringify(f.defaultBackend)}`);
    }
    if (be === null) {
      if (fmode !== "http") fail(`${at}.defaultBackend`, "a tcp frontend needs a default backend");
    } else if (be.mode !== fmode) {
      fail(
        `${at}.defaultBackend`,
        `backend "${be.name}" is in ${be.mode} mode, frontend in ${fmode} mode`,
      );
    }
    if (!Array.isArray(f.binds) || f.binds.length === 0) {
      fail(`${at}.binds`, "at least one bind address is needed");
    }
    const binds = f.binds.map((b, j): ResolvedBind => {
      const bat = `${at}.binds[${j}]`;
      if (typeof b !== "object" || b === null) fail(bat, "expected a bind object");
      const { addr } = address(`${bat}.address`, b.address, { port0: true });
      let tls: BindTlsConfig | null = null;
      if (b.tls !== undefined) {
        if (typeof b.tls !== "object" || b.tls === null) {
          fail(`${bat}.tls`, "expected { cert, key }");
        }
        if (addr.kind === "unix") fail(`${bat}.tls`, "TLS on a unix socket is not supported");
        tls = { cert: pem(`${bat}.tls.cert`, b.tls.cert), key: pem(`${bat}.tls.key`, b.tls.key) };
        const more = b.tls.sniCerts;
        if (more !== undefined) {
          if (!Array.isArray(more)) fail(`${bat}.tls.sniCerts`, "expected a list of { cert, key }");
          tls.sniCerts = more.map((c, k) => {
            const at = `${bat}.tls.sniCerts[${k}]`;
            if (typeof c !== "object" || c === null) fail(at, "expected { cert, key }");
            return { cert: pem(`${at}.cert`, c.cert), key: pem(`${at}.key`, c.key) };
          });
        }
      }
      return { addr, tls, acceptProxy: bool(`${bat}.acceptProxy`, b.acceptProxy, false) };
    });
    let http: ResolvedHttp | null = null;
    if (fmode === "http") {
      const h = f.http ?? {};
      const errorFiles = new Map<number, Uint8Array>();
      for (const [k, v] of Object.entries(h.errorFiles ?? {})) {
        const status = Number(k);
        if (!GENERATED_STATUSES.includes(status)) {
          fail(
            `${at}.http.errorFiles`,
            `status ${k} is not one sluice generates (${GENERATED_STATUSES.join(", ")})`,
          );
        }
        errorFiles.set(status, errorFile(`${at}.http.errorFiles.${k}`, status, v, bufsize));
      }
      const t = f.timeouts ?? {};
      http = {
        httpRequestTimeout: timeout(
          `${at}.timeouts.httpRequest`,
          t.httpRequest,
          DEFAULT_TIMEOUTS.httpRequest,
        ),
        keepAliveTimeout: timeout(
          `${at}.timeouts.httpKeepAlive`,
          t.httpKeepAlive,
          DEFAULT_TIMEOUTS.httpKeepAlive,
        ),
        forwardFor: bool(`${at}.http.forwardFor`, h.forwardFor, true),
        forwardedProto: bool(`${at}.http.forwardedProto`, h.forwardedProto, true),
        forwarded: bool(`${at}.http.forwarded`, h.forwarded, false),
        errorFiles,
      };
    } else if (f.http !== undefined) {
      fail(`${at}.http`, 'HTTP settings need mode "http"');
    }
    const rules = f.rules === undefined ? null : compileRules(`${at}.rules`, f.rules, {
      mode: fmode,
      backends: resolved.backends,
      bufsize,
    });
    const hooks = hooksOf(`${at}.hooks`, f.hooks, fmode);
    resolved.frontends.push({
      hooks,
      rules,
      name: fname,
      mode: fmode,
      binds,
      maxconn: int(`${at}.maxconn`, f.maxconn, maxconn, 1, 1_000_000),
      clientTimeout: timeout(`${at}.timeouts.client`, f.timeouts?.client, DEFAULT_TIMEOUTS.client),
      backend: be?.name ?? null,
      http,
    });
  });
  return resolved;
}
