/**
 * Backends and their servers, checked and resolved (resolveConfig()'s
 * `backends` part): names unique, algorithm parsed (LB_ALGOS), servers'
 * addresses, TLS, health checks, passive observation and cookies checked,
 * every default applied. Errors name the field (`backends[0].servers[1].weight`).
 *
 * @module
 */
import type { Address } from "../core/addr_types.ts";
import { backendLogOf } from "./config_log.ts";
import { lbAlgoDef, lbAlgoExpected, parseBalance } from "../lb/lb_algos.ts";
import type { LbSpec } from "../lb/lb_types.ts";
import type { CookieSpec } from "../backend/persist.ts";
import {
  DEFAULT_ERROR_LIMIT,
  DEFAULT_POOL_PURGE_DELAY,
  DEFAULT_REDISPATCH,
  DEFAULT_RETRIES,
  DEFAULT_STICK_EXPIRE,
  DEFAULT_STICK_SIZE,
  DEFAULT_TIMEOUTS,
} from "./config_defaults.ts";
import type {
  ResolvedBackend,
  ResolvedObserve,
  ResolvedServer,
  ResolvedServerTls,
} from "./config_resolved_types.ts";
import type {
  BackendConfig,
  CookieConfig,
  HttpBackendConfig,
  ServerConfig,
} from "./config_types.ts";
import type { HttpBackendOptions } from "../http/http_ana.ts";
import { resolveConnMode, resolveForwardFor } from "./config_http.ts";
import { resolveCompression } from "./config_comp.ts";
import { resolveRules } from "./config_rules.ts";
import {
  resolveAddress,
  resolveBool,
  type ResolveErrors,
  resolveFail,
  resolveHooks,
  resolveInt,
  resolveMode,
  resolveName,
  resolvePem,
  resolveTimeout,
  resolveTlsVersions,
  TOKEN,
} from "./config_values.ts";
import { resolveAgent, resolveCheck } from "./config_health.ts";
import { resolveStatic } from "./config_static.ts";
import { resolveServerTlsExtra, resolveServerTlsMode } from "./config_server_tls.ts";

/** `"roundrobin"`, …, or `"hdr(name)"`. */
function balanceSpec(where: string, v: unknown): LbSpec {
  if (v === undefined) return { algo: "roundrobin" };
  const spec = typeof v === "string"
    ? parseBalance(v)
    : `unknown algorithm ${JSON.stringify(v)} (expected ${lbAlgoExpected()})`;
  return typeof spec === "string" ? resolveFail(where, spec) : spec;
}

function adminState(where: string, v: unknown): "ready" | "drain" | "maint" {
  if (v === undefined) return "ready";
  if (v === "ready" || v === "drain" || v === "maint") return v;
  return resolveFail(where, `expected "ready", "drain" or "maint", got ${JSON.stringify(v)}`);
}

/** A cookie value: a token, so it can be sent and matched without quoting. */
function cookieValue(where: string, v: unknown, dflt: string): string {
  if (v === undefined) return dflt;
  if (typeof v !== "string" || !TOKEN.test(v) || v.includes("~")) {
    resolveFail(
      where,
      `expected a cookie value of token characters (no "~"), got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

function cookie(where: string, c: CookieConfig): CookieSpec {
  if (typeof c !== "object" || c === null) resolveFail(where, "expected { name, mode }");
  if (typeof c.name !== "string" || !TOKEN.test(c.name)) {
    resolveFail(`${where}.name`, `expected a cookie name (token), got ${JSON.stringify(c.name)}`);
  }
  if (c.mode !== "insert" && c.mode !== "prefix") {
    resolveFail(`${where}.mode`, `expected "insert" or "prefix", got ${JSON.stringify(c.mode)}`);
  }
  const attributes = c.attributes ?? "Path=/";
  // Sent as a header value: visible ASCII and spaces only (no CR/LF injection).
  if (typeof attributes !== "string" || !/^[\x20-\x7e]*$/.test(attributes)) {
    resolveFail(`${where}.attributes`, "expected visible ASCII text");
  }
  return {
    name: c.name,
    mode: c.mode,
    indirect: resolveBool(`${where}.indirect`, c.indirect, false),
    nocache: resolveBool(`${where}.nocache`, c.nocache, false),
    attributes,
  };
}

function observe(sat: string, s: ServerConfig): ResolvedObserve | null {
  const o = s.observe;
  if (o === undefined) return null;
  const where = `${sat}.observe`;
  if (typeof o !== "object" || o === null) {
    resolveFail(where, "expected { mode, errorLimit?, onError? }");
  }
  if (o.mode !== "layer4" && o.mode !== "layer7") {
    resolveFail(`${where}.mode`, `expected "layer4" or "layer7", got ${JSON.stringify(o.mode)}`);
  }
  const onError = o.onError ?? "fail-check";
  if (onError !== "fail-check" && onError !== "fastinter" && onError !== "mark-down") {
    resolveFail(`${where}.onError`, `expected "fail-check", "fastinter" or "mark-down"`);
  }
  if (s.check === undefined) {
    resolveFail(
      where,
      "passive observation needs a health check to bring the server back (add check)",
    );
  }
  return {
    layer7: o.mode === "layer7",
    errorLimit: resolveInt(`${where}.errorLimit`, o.errorLimit, DEFAULT_ERROR_LIMIT, 1, 100_000),
    onError,
  };
}

/**
 * `maxconn` and `minconn` as HAProxy settles them: minconn defaults to
 * maxconn (a static limit), and a minconn above maxconn becomes the maxconn.
 */
function minMaxconnOf(sat: string, s: ServerConfig): { maxconn: number; minconn: number } {
  const maxconn = resolveInt(`${sat}.maxconn`, s.maxconn, 0, 0, 1_000_000);
  const minconn = resolveInt(`${sat}.minconn`, s.minconn, maxconn, 0, 1_000_000);
  if (minconn > maxconn) return { maxconn: minconn, minconn };
  return { maxconn, minconn: maxconn === 0 ? 0 : minconn };
}

/** `httpReuse`: absent (the default, "safe") or one of HAProxy's four. */
function httpReuseOf(at: string, v: unknown): "never" | "safe" | "aggressive" | "always" {
  if (v === undefined) return "safe";
  if (v === "never" || v === "safe" || v === "aggressive" || v === "always") return v;
  return resolveFail(
    at,
    `expected "never", "safe", "aggressive" or "always", got ${JSON.stringify(v)}`,
  );
}

/** `sendProxy`: absent, "v1" or "v2". */
function sendProxyOf(at: string, v: unknown): 0 | 1 | 2 {
  if (v === undefined) return 0;
  if (v === "v1") return 1;
  if (v === "v2") return 2;
  return resolveFail(at, `expected "v1" or "v2", got ${JSON.stringify(v)}`);
}

/** TLS towards a server (`tls://` address or `tls` settings), or null. */
function serverTlsOf(
  sat: string,
  s: ServerConfig,
  addr: Address,
  tlsPrefix: boolean,
): ResolvedServerTls | null {
  if (!tlsPrefix && s.tls === undefined) return null;
  if (addr.kind === "unix") resolveFail(`${sat}.tls`, "TLS to a unix socket is not supported");
  const st = s.tls ?? {};
  if (typeof st !== "object" || st === null) resolveFail(`${sat}.tls`, "expected an object");
  if (st.ca !== undefined && !Array.isArray(st.ca)) {
    resolveFail(`${sat}.tls.ca`, "expected a list of PEM texts");
  }
  const ca = st.ca?.map((c, k) => resolvePem(`${sat}.tls.ca[${k}]`, c));
  if (st.sni !== undefined && (typeof st.sni !== "string" || st.sni === "")) {
    resolveFail(`${sat}.tls.sni`, `expected a host name, got ${JSON.stringify(st.sni)}`);
  }
  if (st.verifyHost !== undefined && typeof st.verifyHost !== "boolean") {
    resolveFail(
      `${sat}.tls.verifyHost`,
      `expected true or false, got ${JSON.stringify(st.verifyHost)}`,
    );
  }
  if (st.verify !== undefined && st.verify !== "required" && st.verify !== "none") {
    resolveFail(
      `${sat}.tls.verify`,
      `expected "required" or "none", got ${JSON.stringify(st.verify)}`,
    );
  }
  return {
    serverName: st.sni ?? addr.host,
    caCerts: ca,
    noVerifyHost: st.verifyHost === false,
    noVerify: st.verify === "none",
    ...resolveTlsVersions(`${sat}.tls`, st),
    ...resolveServerTlsExtra(`${sat}.tls`, st),
  };
}

/** One server at `sat`; its name must not be in `names` (added to it). */
function serverOf(sat: string, s: ServerConfig, names: Set<string>): ResolvedServer {
  if (typeof s !== "object" || s === null) resolveFail(sat, "expected a server object");
  const sname = resolveName(`${sat}.name`, s.name);
  if (names.has(sname)) resolveFail(`${sat}.name`, `duplicate server name "${sname}"`);
  names.add(sname);
  const { addr, tls: tlsPrefix } = resolveAddress(`${sat}.address`, s.address, { tls: true });
  const tls = serverTlsOf(sat, s, addr, tlsPrefix);
  const sendProxy = sendProxyOf(`${sat}.sendProxy`, s.sendProxy);
  return {
    name: sname,
    addr,
    tls,
    sendProxy,
    weight: resolveInt(`${sat}.weight`, s.weight, 1, 0, 256),
    ...minMaxconnOf(sat, s),
    maxqueue: resolveInt(`${sat}.maxqueue`, s.maxqueue, 0, 0, 1_000_000),
    backup: resolveBool(`${sat}.backup`, s.backup, false),
    slowstart: resolveTimeout(`${sat}.slowstart`, s.slowstart, 0),
    state: adminState(`${sat}.state`, s.state),
    cookie: cookieValue(`${sat}.cookie`, s.cookie, sname),
    poolMaxConn: resolveInt(`${sat}.poolMaxConn`, s.poolMaxConn, -1, -1, 1_000_000),
    poolPurgeDelay: resolveTimeout(
      `${sat}.poolPurgeDelay`,
      s.poolPurgeDelay,
      DEFAULT_POOL_PURGE_DELAY,
    ),
    poolLowConn: resolveInt(`${sat}.poolLowConn`, s.poolLowConn, 0, 0, 1_000_000),
    check: s.check === undefined
      ? null
      : resolveCheck(`${sat}.check`, s.check, { addr, tls, sendProxy }),
    agent: s.agent === undefined ? null : resolveAgent(`${sat}.agent`, s.agent, addr),
    observe: observe(sat, s),
  };
}

/**
 * The servers of the backend at `at`: at least one, names and cookie values
 * unique. A server in error is recorded in `errs` and left out.
 */
function serversOf(at: string, list: ServerConfig[], errs: ResolveErrors): ResolvedServer[] {
  if (!Array.isArray(list) || list.length === 0) {
    resolveFail(`${at}.servers`, "at least one server is needed");
  }
  const names = new Set<string>();
  const servers = list.map((s, j) =>
    errs.run(() => serverOf(`${at}.servers[${j}]`, s, names), null)
  );
  const cookies = new Set<string>();
  for (const [j, s] of servers.entries()) {
    if (s === null) continue;
    if (cookies.has(s.cookie)) {
      errs.run(
        () => resolveFail(`${at}.servers[${j}].cookie`, `duplicate cookie value "${s.cookie}"`),
        null,
      );
    }
    cookies.add(s.cookie);
  }
  return servers.filter((s) => s !== null);
}

/** One backend at `at`; its name must not be in `names` (added to it). */
function backendOf(
  at: string,
  b: BackendConfig,
  ctx: { names: Set<string>; errs: ResolveErrors; bufsize: number },
): ResolvedBackend {
  const { names, errs } = ctx;
  if (typeof b !== "object" || b === null) resolveFail(at, "expected a backend object");
  const bname = resolveName(`${at}.name`, b.name);
  if (names.has(bname)) resolveFail(`${at}.name`, `duplicate backend name "${bname}"`);
  names.add(bname);
  const balance = balanceSpec(`${at}.balance`, b.balance);
  const t = b.timeouts ?? {};
  const connect = resolveTimeout(`${at}.timeouts.connect`, t.connect, DEFAULT_TIMEOUTS.connect);
  const mode = resolveMode(`${at}.mode`, b.mode);
  const stat = b.static === undefined ? null : resolveStatic(
    `${at}.static`,
    b.static,
    mode,
    Array.isArray(b.servers) ? b.servers.length : 0,
    b,
  );
  const servers = stat === null ? serversOf(at, b.servers, errs) : [];
  resolveServerTlsMode(at, b.servers, mode);
  if (b.cookie !== undefined && mode !== "http") {
    resolveFail(`${at}.cookie`, 'cookie persistence needs mode "http"');
  }
  if (lbAlgoDef(balance.algo)!.http && mode !== "http") {
    resolveFail(`${at}.balance`, `"${balance.algo}" needs mode "http"`);
  }
  const ss = b.stickSource;
  if (ss !== undefined && (typeof ss !== "object" || ss === null)) {
    resolveFail(`${at}.stickSource`, "expected { size?, expire? }");
  }
  if (b.http !== undefined && mode !== "http") {
    resolveFail(`${at}.http`, 'HTTP settings need mode "http"');
  }
  const rules = b.rules === undefined ? null : errs.run(() => {
    if (typeof b.rules !== "object" || b.rules === null) {
      resolveFail(`${at}.rules`, "expected { acls?, httpRequest?, httpResponse? }");
    }
    for (const k of Object.keys(b.rules)) {
      if (k !== "acls" && k !== "httpRequest" && k !== "httpResponse") {
        resolveFail(`${at}.rules.${k}`, "a backend has acls, httpRequest and httpResponse rules");
      }
    }
    const r = resolveRules(`${at}.rules`, b.rules!, {
      name: bname,
      mode,
      backends: [],
      bufsize: ctx.bufsize,
      errs,
    });
    return { httpRequest: r.httpRequest, httpResponse: r.httpResponse };
  }, null);
  return {
    hooks: resolveHooks(`${at}.hooks`, b.hooks, mode),
    http: mode === "http" ? backendHttpOf(`${at}.http`, b.http ?? {}) : null,
    rules,
    log: backendLogOf(at, b.log),
    name: bname,
    mode,
    balance,
    retries: resolveInt(`${at}.retries`, b.retries, DEFAULT_RETRIES, 0, 100),
    redispatch: resolveInt(`${at}.redispatch`, b.redispatch, DEFAULT_REDISPATCH, -1, 100),
    httpReuse: httpReuseOf(`${at}.httpReuse`, b.httpReuse),
    // 0 until the frontends are known: resolveConfig() sets HAProxy's default.
    fullconn: resolveInt(`${at}.fullconn`, b.fullconn, 0, 0, 10_000_000),
    cookie: b.cookie === undefined ? null : cookie(`${at}.cookie`, b.cookie),
    stickSource: ss === undefined ? null : {
      size: resolveInt(`${at}.stickSource.size`, ss.size, DEFAULT_STICK_SIZE, 1, 10_000_000),
      expire: resolveTimeout(`${at}.stickSource.expire`, ss.expire, DEFAULT_STICK_EXPIRE),
    },
    timeouts: {
      connect,
      server: resolveTimeout(`${at}.timeouts.server`, t.server, DEFAULT_TIMEOUTS.server),
      tunnel: resolveTimeout(`${at}.timeouts.tunnel`, t.tunnel, DEFAULT_TIMEOUTS.tunnel),
      queue: resolveTimeout(`${at}.timeouts.queue`, t.queue, connect),
      tarpit: resolveTimeout(`${at}.timeouts.tarpit`, t.tarpit, connect),
    },
    servers,
    static: stat,
  };
}

/** The HTTP settings of a backend in http mode. */
function backendHttpOf(at: string, h: HttpBackendConfig): HttpBackendOptions {
  if (typeof h !== "object" || h === null) resolveFail(at, "expected an object");
  return {
    connMode: resolveConnMode(`${at}.connectionMode`, h.connectionMode),
    forwardFor: resolveForwardFor(`${at}.forwardFor`, h.forwardFor, false),
    bufferRequest: resolveBool(`${at}.bufferRequest`, h.bufferRequest, false),
    abortOnClose: resolveBool(`${at}.abortOnClose`, h.abortOnClose, false),
    compression: resolveCompression(`${at}.compression`, h.compression),
  };
}

/**
 * Resolves `cfg.backends` (a list; it may be empty when the frontends
 * answer everything themselves). Errors go to `errs`; a backend in error is
 * a stand-in (its name and mode only) in the result, so that frontends
 * naming it report nothing more; the result is only usable when `errs` is
 * empty.
 */
export function resolveBackends(
  list: BackendConfig[],
  errs: ResolveErrors,
  bufsize: number,
): ResolvedBackend[] {
  // No backend at all is fine when the frontends answer everything
  // themselves (a metrics-only frontend); a frontend naming one checks it.
  if (!Array.isArray(list)) resolveFail("backends", "expected a list of backends");
  const names = new Set<string>();
  return list.map((b, i) => {
    const standIn = { name: b?.name, mode: b?.mode ?? "http" } as ResolvedBackend;
    return errs.run(() => backendOf(`backends[${i}]`, b, { names, errs, bufsize }), standIn);
  });
}
