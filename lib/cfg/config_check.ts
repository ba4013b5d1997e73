/**
 * Checks a configuration object and resolves it: every default applied,
 * every address parsed, every reference followed, every rule compiled.
 * Errors name the field (`backends[0].servers[1].weight`) and why, with
 * code ERR_CONFIG (or ERR_ADDRESS for addresses). One function per section:
 * the global settings here, the backends in config_backend.ts, the
 * frontends here and their rules in config_rules.ts.
 *
 * @module
 */
import type { SluiceError } from "../core/errors.ts";
import { DEFAULT_BUFSIZE } from "../core/pool.ts";
import { ffiUnavailable } from "../conn/ffi/libc.ts";
import { cfgErrors } from "./cfg_at.ts";
import { DEFAULT_BUDGET } from "../sched/scheduler.ts";
import { ipNetParse } from "../rules/acl_ip.ts";
import { authScope } from "../rules/auth.ts";
import { resolveUserlists } from "./config_userlist.ts";
import { resolveCaches } from "./config_cache.ts";
import { cacheScope } from "../rules/act_cache.ts";
import { GENERATED_STATUSES } from "../http/http_reply.ts";
import { resolveBackends } from "./config_backend.ts";
import {
  DEFAULT_ADMIN_TIMEOUT,
  DEFAULT_CERT_EXPIRY_WARNING_DAYS,
  DEFAULT_GRACE_MS,
  DEFAULT_LARGE_BUFFERS,
  DEFAULT_LOG_QUEUE_BYTES,
  DEFAULT_MAXCONN,
  DEFAULT_MAXHDRS,
  DEFAULT_MAXREWRITE,
  DEFAULT_TIMEOUTS,
} from "./config_defaults.ts";
import type {
  ResolvedBackend,
  ResolvedBind,
  ResolvedConfig,
  ResolvedFrontend,
  ResolvedGlobal,
  ResolvedHttp,
  ResolvedStats,
} from "./config_resolved_types.ts";
import { resolveRules } from "./config_rules.ts";
import { resolveBindTls } from "./config_bind_tls.ts";
import { resolveConnMode, resolveForwardFor } from "./config_http.ts";
import { resolveCompression } from "./config_comp.ts";
import { frontendLogOf, globalLogTargetsOf } from "./config_log.ts";
import type {
  BindConfig,
  CrtListRef,
  FrontendConfig,
  GlobalConfig,
  ProxyMode,
  SluiceConfig,
} from "./config_types.ts";
import {
  resolveAddress,
  resolveBool,
  ResolveErrors,
  resolveFail,
  resolveHooks,
  resolveInt,
  resolveMode,
  resolveName,
  resolvePem,
  resolveTimeout,
  resolveTlsVersions,
} from "./config_values.ts";

// global

function statsOf(s: NonNullable<SluiceConfig["global"]>["stats"]): ResolvedStats {
  const at = "global.stats";
  if (typeof s !== "object" || s === null) {
    resolveFail(at, "expected { address, auth?, allow?, refresh? }");
  }
  const { addr } = resolveAddress(`${at}.address`, s.address, { port0: true });
  if (addr.kind !== "tcp") resolveFail(`${at}.address`, "the stats listener needs host:port");
  if (s.auth !== undefined && (typeof s.auth !== "string" || !/^[^:\s]+:\S+$/.test(s.auth))) {
    resolveFail(`${at}.auth`, 'expected "user:password"');
  }
  const allow = s.allow ?? [];
  if (!Array.isArray(allow)) resolveFail(`${at}.allow`, "expected a list of networks");
  allow.forEach((c, i) => {
    const n = typeof c === "string" ? ipNetParse(c) : "not text";
    if (typeof n === "string") {
      resolveFail(`${at}.allow[${i}]`, `invalid network ${JSON.stringify(c)}: ${n}`);
    }
  });
  return {
    host: addr.host,
    port: addr.port,
    auth: s.auth ?? null,
    allow,
    refresh: resolveInt(`${at}.refresh`, s.refresh, 10, 0, 3600),
  };
}

function adminSocketOf(
  a: NonNullable<GlobalConfig["adminSocket"]>,
): ResolvedGlobal["adminSocket"] {
  const at = "global.adminSocket";
  if (typeof a !== "object" || a === null || typeof a.path !== "string" || a.path === "") {
    resolveFail(at, "expected { path, mode?, timeout? }");
  }
  return {
    path: a.path,
    mode: resolveInt(`${at}.mode`, a.mode, 0o600, 0, 0o777),
    timeout: resolveTimeout(`${at}.timeout`, a.timeout, DEFAULT_ADMIN_TIMEOUT),
  };
}

/** `global.pidfile`: a file name, or null. */
function pidfileOf(p: unknown): string | null {
  if (p === undefined) return null;
  if (typeof p !== "string" || p === "" || p.includes("\0")) {
    resolveFail("global.pidfile", "expected a file name");
  }
  return p;
}

/**
 * `global.io`; when unset, the environment's `SLUICE_IO` (where readable
 * without a prompt), else "ffi" where it can run (Linux on x86-64 or arm64,
 * FFI permitted: the command line always is) and "node" elsewhere (an
 * embedder that does not grant --allow-ffi). The variable lets a service
 * manager, or a test run, switch the I/O layer without touching
 * configuration files.
 */
function ioOf(io: unknown): "node" | "ffi" {
  if (io === "node" || io === "ffi") return io;
  if (io !== undefined) {
    resolveFail("global.io", `expected "node" or "ffi", got ${JSON.stringify(io)}`);
  }
  let env: string | undefined;
  try {
    const q = Deno.permissions.querySync({ name: "env", variable: "SLUICE_IO" });
    if (q.state === "granted") env = Deno.env.get("SLUICE_IO");
  } catch {
    // No permission API (a restricted worker): the default.
  }
  if (env === undefined || env === "") return ffiUnavailable() === null ? "ffi" : "node";
  if (env === "node" || env === "ffi") return env;
  resolveFail("SLUICE_IO", `expected "node" or "ffi", got ${JSON.stringify(env)}`);
}

/** Most worker threads (HAProxy's MAX_THREADS on 64-bit systems). */
export const MAX_THREADS = 64;

/** The global settings (all optional): limits, buffers, logs, stats, admin socket. */
function globalOf(g: GlobalConfig): ResolvedGlobal {
  // Replaced by per-server settings sized by need (HAProxy's idle pools).
  for (
    const [old, now] of [["serverIdleTimeout", "poolPurgeDelay"], ["serverIdleMax", "poolMaxConn"]]
  ) {
    if (Object.hasOwn(g, old)) {
      resolveFail(
        `global.${old}`,
        `replaced by each server's ${now} (see docs/http.md#keep-alive)`,
      );
    }
  }
  const maxconn = resolveInt("global.maxconn", g.maxconn, DEFAULT_MAXCONN, 1, 1_000_000);
  const bufsize = resolveInt("global.bufsize", g.bufsize, DEFAULT_BUFSIZE, 1024, 1 << 20);
  const buffers = resolveInt("global.buffers", g.buffers, 2 * maxconn + 64, 2, 1 << 24);
  const log = g.log ?? {};
  const targets = globalLogTargetsOf(log);
  const format = log.format ?? "tcplog";
  if (format !== "tcplog" && format !== "httplog" && format !== "json") {
    resolveFail(
      "global.log.format",
      `expected "tcplog", "httplog" or "json", got ${JSON.stringify(format)}`,
    );
  }
  const maxRewrite = resolveInt(
    "global.maxRewrite",
    g.maxRewrite,
    DEFAULT_MAXREWRITE,
    0,
    bufsize >> 1,
  );
  return {
    maxconn,
    bufsize,
    buffers,
    largeBuffers: resolveInt(
      "global.largeBuffers",
      g.largeBuffers,
      DEFAULT_LARGE_BUFFERS,
      0,
      1 << 20,
    ),
    maxHdrs: resolveInt("global.maxHdrs", g.maxHdrs, DEFAULT_MAXHDRS, 1, 10_000),
    maxRewrite,
    maxBody: resolveInt("global.maxBody", g.maxBody, 0, 0, Number.MAX_SAFE_INTEGER),
    runqueueDepth: resolveInt("global.runqueueDepth", g.runqueueDepth, DEFAULT_BUDGET, 1, 100_000),
    sslCertExpiryWarning: resolveInt(
      "global.sslCertExpiryWarning",
      g.sslCertExpiryWarning,
      DEFAULT_CERT_EXPIRY_WARNING_DAYS,
      0,
      3650,
    ),
    io: ioOf(g.io),
    graceMs: resolveTimeout("global.graceMs", g.graceMs, DEFAULT_GRACE_MS),
    stats: g.stats === undefined ? null : statsOf(g.stats),
    adminSocket: g.adminSocket === undefined ? null : adminSocketOf(g.adminSocket),
    pidfile: pidfileOf(g.pidfile),
    nbthread: g.nbthread === undefined
      ? null
      : resolveInt("global.nbthread", g.nbthread, 1, 1, MAX_THREADS),
    tlsIsolation: resolveBool("global.tlsIsolation", g.tlsIsolation, false),
    tlsThreads: resolveInt("global.tlsThreads", g.tlsThreads, 1, 1, MAX_THREADS),
    log: {
      targets,
      format,
      queueBytes: resolveInt(
        "global.log.queueBytes",
        log.queueBytes,
        DEFAULT_LOG_QUEUE_BYTES,
        0,
        1 << 30,
      ),
    },
  };
}

// frontends

/** Checks a replacement response: a complete HTTP/1.x response head with the right status. */
function errorFile(where: string, status: number, v: unknown, maxSize: number): Uint8Array {
  const bytes = typeof v === "string"
    ? new TextEncoder().encode(v)
    : v instanceof Uint8Array
    ? v
    : null;
  if (bytes === null) resolveFail(where, "expected the raw response as a string or bytes");
  const text = new TextDecoder("latin1").decode(bytes);
  const m = /^HTTP\/1\.[01] (\d{3})[ \r]/.exec(text);
  if (m === null) {
    resolveFail(where, 'expected a raw HTTP response starting with "HTTP/1.1 <status>"');
  }
  if (Number(m[1]) !== status) resolveFail(where, `the response has status ${m[1]}, not ${status}`);
  if (!text.includes("\r\n\r\n")) {
    resolveFail(where, "the response head does not end with an empty line (CRLF CRLF)");
  }
  if (bytes.length > maxSize) {
    resolveFail(where, `the response is larger than a buffer (${maxSize} bytes)`);
  }
  return bytes;
}

/**
 * The listeners of the frontend at `at`: at least one, addresses parsed, TLS
 * checked. A listener in error is recorded in `errs` and left out.
 */
function bindsOf(at: string, list: BindConfig[], errs: ResolveErrors): ResolvedBind[] {
  if (!Array.isArray(list) || list.length === 0) {
    resolveFail(`${at}.binds`, "at least one bind address is needed");
  }
  return list.map((b, j) => errs.run(() => bindOf(`${at}.binds[${j}]`, b), null))
    .filter((b) => b !== null);
}

/** SNI filters: a list of non-empty names. */
function filtersOf(at: string, v: unknown): string[] {
  if (!Array.isArray(v) || !v.every((f) => typeof f === "string" && f !== "")) {
    resolveFail(at, "expected a list of names");
  }
  return [...v];
}

/** A certificate's file name (runtime API name): text without spaces or control characters. */
function certFileOf(where: string, v: unknown): string {
  if (typeof v !== "string" || !/^[\x21-\x7e\x80-\uffff]+$/.test(v)) {
    resolveFail(where, `expected a file name, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A certificate's `crtList` (where `show ssl crt-list` lists it): a file name and a line number. */
function crtListOf(where: string, v: unknown): CrtListRef {
  const r = v as CrtListRef;
  if (typeof v !== "object" || v === null || !Number.isSafeInteger(r.line) || r.line < 0) {
    resolveFail(where, "expected { file, line } (line: 0 or more)");
  }
  return { file: certFileOf(`${where}.file`, r.file), line: r.line };
}

/** One listener at `bat`. */
function bindOf(bat: string, b: BindConfig): ResolvedBind {
  if (typeof b !== "object" || b === null) resolveFail(bat, "expected a bind object");
  const { addr } = resolveAddress(`${bat}.address`, b.address, { port0: true });
  let tls: ResolvedBind["tls"] = null;
  if (b.tls !== undefined) {
    if (typeof b.tls !== "object" || b.tls === null) {
      resolveFail(`${bat}.tls`, "expected { cert, key }");
    }
    if (addr.kind === "unix") resolveFail(`${bat}.tls`, "TLS on a unix socket is not supported");
    if (b.tls.isolated === true) {
      // An HTTP worker's copy under tls-isolation: the TLS worker has the rest.
      return { addr, tls: { cert: "", key: "", isolated: true }, acceptProxy: false };
    }
    tls = {
      cert: resolvePem(`${bat}.tls.cert`, b.tls.cert),
      key: resolvePem(`${bat}.tls.key`, b.tls.key),
      ...resolveTlsVersions(`${bat}.tls`, b.tls),
    };
    const bind = resolveBindTls(`${bat}.tls`, b.tls);
    if (Object.keys(bind).length > 0) tls.bind = bind;
    if (b.tls.filters !== undefined) tls.filters = filtersOf(`${bat}.tls.filters`, b.tls.filters);
    if (b.tls.file !== undefined) tls.file = certFileOf(`${bat}.tls.file`, b.tls.file);
    if (b.tls.crtList !== undefined) tls.crtList = crtListOf(`${bat}.tls.crtList`, b.tls.crtList);
    const more = b.tls.sniCerts;
    if (more !== undefined) {
      if (!Array.isArray(more)) {
        resolveFail(`${bat}.tls.sniCerts`, "expected a list of { cert, key }");
      }
      tls.sniCerts = more.map((c, k) => {
        const at = `${bat}.tls.sniCerts[${k}]`;
        if (typeof c !== "object" || c === null) resolveFail(at, "expected { cert, key }");
        const pair = {
          cert: resolvePem(`${at}.cert`, c.cert),
          key: resolvePem(`${at}.key`, c.key),
        };
        let out: typeof pair & { filters?: string[]; file?: string; crtList?: CrtListRef } = pair;
        if (c.filters !== undefined) {
          out = { ...out, filters: filtersOf(`${at}.filters`, c.filters) };
        }
        if (c.file !== undefined) out = { ...out, file: certFileOf(`${at}.file`, c.file) };
        if (c.crtList !== undefined) {
          out = { ...out, crtList: crtListOf(`${at}.crtList`, c.crtList) };
        }
        return out;
      });
    }
  }
  return { addr, tls, acceptProxy: resolveBool(`${bat}.acceptProxy`, b.acceptProxy, false) };
}

/** `monitor-uri`: a request target without spaces or control characters, as bytes; null for none. */
function monitorUriOf(where: string, v: unknown): Uint8Array | null {
  if (v === undefined) return null;
  if (typeof v !== "string" || !/^[\x21-\x7e]+$/.test(v)) {
    resolveFail(where, `expected a path such as "/health", got ${JSON.stringify(v)}`);
  }
  return new TextEncoder().encode(v);
}

/** The HTTP settings of the frontend at `at` (in http mode): timeouts, headers, error files. */
function httpOf(at: string, f: FrontendConfig, bufsize: number): ResolvedHttp {
  const h = f.http ?? {};
  const errorFiles = new Map<number, Uint8Array>();
  for (const [k, v] of Object.entries(h.errorFiles ?? {})) {
    const status = Number(k);
    if (!GENERATED_STATUSES.includes(status)) {
      resolveFail(
        `${at}.http.errorFiles`,
        `status ${k} is not one sluice generates (${GENERATED_STATUSES.join(", ")})`,
      );
    }
    errorFiles.set(status, errorFile(`${at}.http.errorFiles.${k}`, status, v, bufsize));
  }
  const t = f.timeouts ?? {};
  return {
    httpRequestTimeout: resolveTimeout(
      `${at}.timeouts.httpRequest`,
      t.httpRequest,
      DEFAULT_TIMEOUTS.httpRequest,
    ),
    keepAliveTimeout: resolveTimeout(
      `${at}.timeouts.httpKeepAlive`,
      t.httpKeepAlive,
      DEFAULT_TIMEOUTS.httpKeepAlive,
    ),
    forwardFor: resolveForwardFor(`${at}.http.forwardFor`, h.forwardFor, true),
    connMode: resolveConnMode(`${at}.http.connectionMode`, h.connectionMode),
    bufferRequest: resolveBool(`${at}.http.bufferRequest`, h.bufferRequest, false),
    monitorUri: monitorUriOf(`${at}.http.monitorUri`, h.monitorUri),
    tarpitTimeout: resolveTimeout(
      `${at}.timeouts.tarpit`,
      t.tarpit,
      resolveTimeout(`${at}.timeouts.connect`, t.connect, DEFAULT_TIMEOUTS.connect),
    ),
    forwardedProto: resolveBool(`${at}.http.forwardedProto`, h.forwardedProto, true),
    forwarded: resolveBool(`${at}.http.forwarded`, h.forwarded, false),
    compression: resolveCompression(`${at}.http.compression`, h.compression),
    errorFiles,
  };
}

/** What a frontend is resolved against: the global settings and the backends. */
interface FrontendEnv {
  readonly global: ResolvedGlobal;
  readonly backends: readonly ResolvedBackend[];
  /** Names of the frontends before this one (this one's is added). */
  readonly names: Set<string>;
  readonly errs: ResolveErrors;
}

/** The default backend of the frontend at `at`, or null (http only), of its mode. */
function defaultBackendOf(
  at: string,
  f: FrontendConfig,
  mode: ProxyMode,
  backends: readonly ResolvedBackend[],
): ResolvedBackend | null {
  const be = f.defaultBackend === undefined
    ? null
    : backends.find((b) => b.name === f.defaultBackend);
  if (be === undefined) {
    resolveFail(`${at}.defaultBackend`, `no backend named ${JSON.stringify(f.defaultBackend)}`);
  }
  if (be === null) {
    if (mode !== "http" && !((f.rules?.useBackends?.length ?? 0) > 0)) {
      resolveFail(
        `${at}.defaultBackend`,
        "a tcp frontend needs a default backend (or use_backend rules)",
      );
    }
  } else if (be.mode !== mode) {
    resolveFail(
      `${at}.defaultBackend`,
      `backend "${be.name}" is in ${be.mode} mode, frontend in ${mode} mode`,
    );
  }
  return be;
}

/** One frontend at `at`. */
function frontendOf(at: string, f: FrontendConfig, env: FrontendEnv): ResolvedFrontend {
  if (typeof f !== "object" || f === null) resolveFail(at, "expected a frontend object");
  const fname = resolveName(`${at}.name`, f.name);
  if (env.names.has(fname)) resolveFail(`${at}.name`, `duplicate frontend name "${fname}"`);
  env.names.add(fname);
  const fmode = resolveMode(`${at}.mode`, f.mode);
  // Each part on its own, so that one run reports the errors of every part.
  const errs = env.errs;
  const be = errs.run(() => defaultBackendOf(at, f, fmode, env.backends), null);
  const binds = errs.run(() => bindsOf(at, f.binds, errs), []);
  const bufsize = env.global.bufsize;
  const http = errs.run((): ResolvedHttp | null => {
    if (fmode === "http") return httpOf(at, f, bufsize);
    if (f.http !== undefined) resolveFail(`${at}.http`, 'HTTP settings need mode "http"');
    return null;
  }, null);
  const rules = f.rules === undefined ? null : errs.run(
    () =>
      resolveRules(`${at}.rules`, f.rules!, {
        name: fname,
        mode: fmode,
        backends: env.backends,
        bufsize,
        errs,
      }),
    null,
  );
  const hooks = resolveHooks(`${at}.hooks`, f.hooks, fmode);
  const json = env.global.log.format === "json";
  const log = errs.run(
    () => frontendLogOf(at, f.log, fmode, json),
    frontendLogOf(at, {}, fmode, json),
  );
  return {
    hooks,
    rules,
    log,
    name: fname,
    mode: fmode,
    binds,
    maxconn: resolveInt(`${at}.maxconn`, f.maxconn, env.global.maxconn, 1, 1_000_000),
    clientTimeout: resolveTimeout(
      `${at}.timeouts.client`,
      f.timeouts?.client,
      DEFAULT_TIMEOUTS.client,
    ),
    backend: be?.name ?? null,
    http,
    inspectDelay: resolveTimeout(`${at}.inspectDelay`, f.inspectDelay, 0),
  };
}

/**
 * Checks `cfg` and resolves it, collecting every error instead of stopping
 * at the first: `resolved` is null when there is any. Errors name the field
 * (`frontends[0].defaultBackend`) or, for rules read from a file, the
 * `file:line` of the rule.
 */
export function checkConfig(
  cfg: SluiceConfig,
): { resolved: ResolvedConfig | null; errors: SluiceError[] } {
  const errs = new ResolveErrors();
  // With global settings in error, the frontends are checked against the defaults.
  const global = errs.run(() => globalOf(cfg.global ?? {}), null) ?? globalOf({ io: "node" });
  // Rules find the userlists that http_auth() names in the scope.
  const userlists = errs.run(() => resolveUserlists(cfg.userlists, errs), new Map());
  // ... and the caches that cache-use and cache-store name.
  const caches = errs.run(() => resolveCaches(cfg.caches, errs), resolveCaches(undefined, errs));
  const [backends, frontends] = authScope({ userlists, proxy: "" }, () => {
    const backends = errs.run(
      () => cacheScope(caches, "be", () => resolveBackends(cfg.backends, errs, global.bufsize)),
      [],
    );
    const frontends = errs.run(() =>
      cacheScope(caches, "fe", () => {
        if (!Array.isArray(cfg.frontends) || cfg.frontends.length === 0) {
          resolveFail("frontends", "at least one frontend is needed");
        }
        const env: FrontendEnv = { global, backends, names: new Set(), errs };
        return cfg.frontends.map((f, i) =>
          errs.run(() => frontendOf(`frontends[${i}]`, f, env), null)
        );
      }), []);
    return [backends, frontends] as const;
  });
  if (errs.list.length > 0) return { resolved: null, errors: errs.list };
  const fes = frontends.filter((f) => f !== null);
  return {
    resolved: { global, frontends: fes, backends: withFullconn(backends, fes), caches },
    errors: [],
  };
}

/**
 * Backends whose `fullconn` was not given get HAProxy's: 10% of the sum of
 * the maxconn of the frontends that may send them streams (default backend
 * and `use_backend` rules), at least 1.
 */
function withFullconn(
  backends: ResolvedBackend[],
  frontends: readonly ResolvedFrontend[],
): ResolvedBackend[] {
  return backends.map((b) => {
    if (b.fullconn > 0) return b;
    let sum = 0;
    for (const f of frontends) {
      const named = f.backend === b.name ||
        (f.rules?.useBackends ?? []).some((u) => u.backend === b.name);
      if (named) sum += f.maxconn;
    }
    return { ...b, fullconn: Math.max(1, Math.ceil(sum / 10)) };
  });
}

/**
 * Checks `cfg` and returns it resolved. Throws a SluiceError when it has an
 * error; when it has several, the error lists them all (its `errors`).
 */
export function resolveConfig(cfg: SluiceConfig): ResolvedConfig {
  const { resolved, errors } = checkConfig(cfg);
  if (resolved === null) throw cfgErrors(errors);
  return resolved;
}
