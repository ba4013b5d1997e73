/**
 * Turns the parsed sections into a SluiceConfig: a frontend per `frontend`
 * and `listen`, a backend per `backend` and `listen`, in file order. Only the
 * settings the file gives are set, so resolveConfig() applies sluice's
 * defaults to the rest, with these HAProxy semantics made explicit:
 *
 * - `mode` defaults to `tcp` (HAProxy's default), not sluice's `http`.
 * - HTTP frontends get `forwardFor` false unless `option forwardfor` is in
 *   force in the frontend; a backend's own goes to its `http.forwardFor`
 *   (HAProxy adds the header when either asks). `forwardedProto` (sluice's
 *   X-Forwarded-Proto) follows the frontend's or its default backend's.
 * - `timeout tarpit` defaults to the `timeout connect` in force, as HAProxy.
 * - `errorfile` of the backend and the frontend are merged, the backend's
 *   winning (HAProxy uses the backend's once the backend is chosen).
 * - `timeout check` becomes each checked server's `check.timeout`; `option
 *   httpchk` and `http-check` make every check of the backend an HTTP one,
 *   `option tcp-check` and `tcp-check` rules a scripted TCP one.
 * - HTTP-only settings inherited from `defaults` by a `mode tcp` proxy are
 *   dropped, as HAProxy drops them (with a warning); written in the `mode
 *   tcp` section itself they are errors.
 *
 * @module
 */
import { SluiceError } from "../core/errors.ts";
import { lbAlgoDef, parseBalance } from "../lb/lb_algos.ts";
import { cfgError, type CfgWarning, cfgWarning } from "./cfg_at.ts";
import { cfgBackendLogBuild, cfgFrontendLogBuild } from "./cfg_proxy_log.ts";
import type { CfgGlobalDraft } from "./cfg_global.ts";
import type { CfgSources } from "./cfg_sources.ts";
import { cfgServerBuild } from "./cfg_server.ts";
import { cfgStaticBuild } from "./cfg_static.ts";
import type { CfgProxyDraft, CfgSetting } from "./cfg_types.ts";
import type {
  BackendConfig,
  CheckConfig,
  CompressionConfig,
  ConnectionMode,
  ForwardForConfig,
  FrontendConfig,
  HttpBackendConfig,
  ProxyMode,
  SluiceConfig,
  TcpCheckRuleConfig,
  TimeoutsConfig,
} from "./config_types.ts";

/** Throws when an HTTP-only setting was written in a `mode tcp` section. */
function cfgHttpOnly(
  p: CfgProxyDraft,
  settings: [CfgSetting<unknown> | undefined, string][],
): void {
  for (const [s, kw] of settings) {
    if (s !== undefined && !s.inherited) {
      throw cfgError(
        s.where,
        `"${kw}" needs mode http (section "${p.label}" is in mode tcp)`,
      );
    }
  }
}

/** The mode of a proxy: HAProxy's default is tcp. */
function cfgMode(p: CfgProxyDraft): ProxyMode {
  return p.mode?.value ?? "tcp";
}

/** Copies the timeouts named in `keys` that the draft sets; undefined when none is set. */
function cfgTimeouts(
  p: CfgProxyDraft,
  keys: (keyof TimeoutsConfig)[],
): TimeoutsConfig | undefined {
  const t: TimeoutsConfig = {};
  let any = false;
  for (const k of keys) {
    const s = p.timeouts[k];
    if (s !== undefined) {
      t[k] = s.value;
      any = true;
    }
  }
  return any ? t : undefined;
}

/** The raw responses of `errorfile` lines, by status. */
function cfgErrorFiles(p: CfgProxyDraft): Record<number, Uint8Array> {
  const out: Record<number, Uint8Array> = {};
  for (const [code, s] of Object.entries(p.errorFiles)) out[Number(code)] = s.value;
  return out;
}

/** The frontend of a `frontend` or `listen` section; `be` is the draft of its backend, if parsed. */
function cfgFrontendBuild(p: CfgProxyDraft, be: CfgProxyDraft | undefined): FrontendConfig {
  const mode = cfgMode(p);
  let defaultBackend: string | undefined;
  if (p.kind === "listen") defaultBackend = p.name;
  else if (p.defaultBackend !== undefined) defaultBackend = p.defaultBackend.value;
  else if (mode !== "http" && p.rules.useBackends.length === 0) {
    throw cfgError(p.where, `section "${p.label}" has no "default_backend"`);
  }
  // An HTTP frontend without one answers 503 to what its rules leave; a
  // TCP one closes the connections no use_backend rule routes.
  const f: FrontendConfig = { name: p.name, mode, binds: p.binds.map((b) => b.bind) };
  if (defaultBackend !== undefined) f.defaultBackend = defaultBackend;
  const r = p.rules;
  if (Object.values(r).some((list) => list.length > 0)) {
    f.rules = { ...r };
  }
  if (p.maxconn !== undefined) f.maxconn = p.maxconn.value;
  if (p.inspectDelay !== undefined) f.inspectDelay = p.inspectDelay.value;
  const timeouts = cfgTimeouts(p, ["client", "httpRequest", "httpKeepAlive", "tarpit"]);
  if (timeouts !== undefined) f.timeouts = timeouts;
  if (mode === "tcp") {
    cfgHttpOnly(p, [
      [p.forwardFor?.value ? p.forwardFor : undefined, "option forwardfor"],
      [cfgCloses(p), `option ${CONN_OPTION[p.connMode?.value ?? "keep-alive"]}`],
      [p.bufferRequest, "option http-buffer-request"],
      [p.monitorUri, "monitor-uri"],
      [p.timeouts.tarpit, "timeout tarpit"],
      ...cfgCompSettings(p),
      ...Object.values(p.errorFiles).map((s): [CfgSetting<unknown>, string] => [s, "errorfile"]),
    ]);
    return f;
  }
  const tarpit = p.timeouts.tarpit ?? p.timeouts.connect;
  if (tarpit !== undefined) f.timeouts = { ...f.timeouts, tarpit: tarpit.value };
  const other = be !== undefined && be !== p && cfgMode(be) === "http" ? be : undefined;
  const own = p.forwardFor?.value ?? false;
  f.http = {
    forwardFor: cfgForwardFor(own),
    forwardedProto: own !== false || (other?.forwardFor?.value ?? false) !== false,
  };
  if (p.connMode !== undefined) f.http.connectionMode = p.connMode.value;
  if (p.bufferRequest?.value) f.http.bufferRequest = true;
  if (p.monitorUri !== undefined) f.http.monitorUri = p.monitorUri.value;
  const comp = cfgCompression(p);
  if (comp !== undefined) f.http.compression = comp;
  const errorFiles = {
    ...cfgErrorFiles(p),
    ...(other === undefined ? {} : cfgErrorFiles(other)),
  };
  if (Object.keys(errorFiles).length > 0) f.http.errorFiles = errorFiles;
  return f;
}

/** The `compression` lines of a section, for cfgHttpOnly(). */
function cfgCompSettings(p: CfgProxyDraft): [CfgSetting<unknown> | undefined, string][] {
  return [
    [p.compAlgos, "compression algo"],
    [p.compTypes, "compression type"],
    [p.compOffload, "compression offload"],
  ];
}

/** The model's compression settings of a section (algorithms in preference order), or undefined. */
function cfgCompression(p: CfgProxyDraft): CompressionConfig | undefined {
  if (p.compAlgos === undefined && p.compTypes === undefined && p.compOffload === undefined) {
    return undefined;
  }
  const c: CompressionConfig = {};
  if (p.compAlgos !== undefined) c.algos = [...p.compAlgos.value];
  if (p.compTypes !== undefined) c.types = [...p.compTypes.value];
  if (p.compOffload !== undefined) c.offload = true;
  return c;
}

/** The options of `option forwardfor` as the model says them (true for none). */
function cfgForwardFor(v: false | ForwardForConfig): boolean | ForwardForConfig {
  return v === false ? false : Object.keys(v).length === 0 ? true : { ...v };
}

/** The connection mode when it closes something (keep-alive changes nothing in mode tcp). */
function cfgCloses(p: CfgProxyDraft): CfgSetting<ConnectionMode> | undefined {
  return p.connMode?.value === "keep-alive" ? undefined : p.connMode;
}

/** The option that sets each connection mode, for messages. */
const CONN_OPTION: Readonly<Record<ConnectionMode, string>> = {
  "keep-alive": "http-keep-alive",
  "server-close": "http-server-close",
  "close": "httpclose",
};

/** The HTTP settings of a backend section in http mode, or undefined when it sets none. */
function cfgBackendHttp(p: CfgProxyDraft): HttpBackendConfig | undefined {
  const h: HttpBackendConfig = {};
  const ff = p.forwardFor?.value ?? false;
  if (ff !== false) h.forwardFor = cfgForwardFor(ff);
  if (p.connMode !== undefined && p.connMode.value !== "keep-alive") {
    h.connectionMode = p.connMode.value;
  }
  if (p.bufferRequest?.value) h.bufferRequest = true;
  if (p.abortOnClose?.value) h.abortOnClose = true;
  const comp = cfgCompression(p);
  if (comp !== undefined) h.compression = comp;
  return Object.keys(h).length === 0 ? undefined : h;
}

/** The HTTP check settings of a backend, or undefined for TCP checks. */
function cfgCheckHttp(p: CfgProxyDraft): CheckConfig["http"] | undefined {
  const chk = p.httpchk?.value;
  if (chk === undefined) {
    for (
      const [s, kw] of [[p.checkSend, "http-check send"], [
        p.checkExpect,
        "http-check expect",
      ]] as const
    ) {
      if (s !== undefined && !s.inherited) {
        throw cfgError(s.where, `"${kw}" needs "option httpchk" in section "${p.label}"`);
      }
    }
    return undefined;
  }
  const send = p.checkSend?.value ?? {};
  const http: NonNullable<CheckConfig["http"]> = {
    method: send.method ?? chk.method,
    path: send.path ?? chk.path,
  };
  const host = send.host ?? chk.host;
  if (host !== undefined) http.host = host;
  const e = p.checkExpect?.value;
  if (e !== undefined) {
    http.expect = {
      match: e.match as NonNullable<typeof http.expect>["match"],
      pattern: e.pattern,
    };
    if (e.negate) http.expect.negate = true;
  }
  return http;
}

/** The `tcp-check` script of a backend with `option tcp-check`, or undefined. */
function cfgTcpChecks(p: CfgProxyDraft): TcpCheckRuleConfig[] | undefined {
  const rules = p.tcpChecks;
  if (p.tcpCheckOpt === undefined) {
    if (rules !== undefined && !rules.inherited) {
      throw cfgError(rules.where, `"tcp-check" needs "option tcp-check" in section "${p.label}"`);
    }
    return undefined;
  }
  return rules?.value.map((r) => ({ ...r })) ?? [];
}

/** The backend of a `backend` or `listen` section. */
function cfgBackendBuild(p: CfgProxyDraft): BackendConfig {
  const mode = cfgMode(p);
  const b: BackendConfig = { name: p.name, mode, servers: [] };
  const lb = p.balance === undefined ? "" : parseBalance(p.balance.value);
  const layer7 = typeof lb !== "string" && lbAlgoDef(lb.algo)!.http;
  if (mode === "tcp") {
    cfgHttpOnly(p, [
      [layer7 ? p.balance : undefined, `balance ${p.balance?.value}`],
      [p.cookie, "cookie"],
      [p.httpReuse, "http-reuse"],
      [p.forwardFor?.value ? p.forwardFor : undefined, "option forwardfor"],
      [cfgCloses(p), `option ${CONN_OPTION[p.connMode?.value ?? "keep-alive"]}`],
      [p.bufferRequest, "option http-buffer-request"],
      [p.abortOnClose, "option abortonclose"],
      [p.timeouts.tarpit, "timeout tarpit"],
      ...cfgCompSettings(p),
      ...Object.values(p.errorFiles).map((s): [CfgSetting<unknown>, string] => [s, "errorfile"]),
    ]);
  }
  if (p.balance !== undefined && !(layer7 && mode === "tcp")) b.balance = p.balance.value;
  if (p.retries !== undefined) b.retries = p.retries.value;
  if (p.redispatch !== undefined) b.redispatch = p.redispatch.value;
  if (p.httpReuse !== undefined && mode === "http") b.httpReuse = p.httpReuse.value;
  if (p.fullconn !== undefined) b.fullconn = p.fullconn.value;
  const bhttp = mode === "http" ? cfgBackendHttp(p) : undefined;
  if (bhttp !== undefined) b.http = bhttp;
  const timeouts = cfgTimeouts(p, ["server", "connect", "tunnel", "queue", "tarpit"]);
  if (timeouts !== undefined) b.timeouts = timeouts;
  if (p.cookie !== undefined && mode === "http") b.cookie = { ...p.cookie.value };
  if (p.stickTable !== undefined && p.stickOn === undefined) {
    throw cfgError(p.stickTable.where, '"stick-table" needs "stick on src" in the same section');
  }
  if (p.stickOn !== undefined && p.stickTable === undefined) {
    throw cfgError(p.stickOn.where, '"stick on src" needs a "stick-table" in the same section');
  }
  if (p.stickTable !== undefined) b.stickSource = { ...p.stickTable.value };
  // A listen section's rules are its frontend's (HAProxy runs them once).
  const r = p.rules;
  if (p.kind === "backend" && r.acls.length + r.httpRequest.length + r.httpResponse.length > 0) {
    b.rules = { acls: r.acls, httpRequest: r.httpRequest, httpResponse: r.httpResponse };
  }
  const http = cfgCheckHttp(p);
  const check = { timeout: p.timeouts.check?.value, http, tcpCheck: cfgTcpChecks(p) };
  b.servers = p.servers.map((s) => cfgServerBuild(s, check));
  const st = cfgStaticBuild(p, mode);
  if (st !== undefined) b.static = st;
  return b;
}

/** Records where the settings of proxy `p` were written, as fields under `path`. */
function cfgProxySources(sources: CfgSources, path: string, p: CfgProxyDraft): void {
  sources.field(path, p.where);
  const settings: [string, { where: string } | undefined][] = [
    ["mode", p.mode],
    ["maxconn", p.maxconn],
    ["defaultBackend", p.defaultBackend],
    ["inspectDelay", p.inspectDelay],
    ["balance", p.balance],
    ["retries", p.retries],
    ["redispatch", p.redispatch],
    ["httpReuse", p.httpReuse],
    ["fullconn", p.fullconn],
    ["cookie", p.cookie],
    ["stickSource", p.stickTable],
    ["log.targets", p.logTargets],
    ["log.format", typeof p.logFormat?.value === "object" ? p.logFormat : undefined],
    ["log.formatSd", p.logFormatSd],
    ["log.uniqueIdFormat", p.uniqueIdFormat],
    ["log.uniqueIdHeader", p.uniqueIdHeader],
    ["log.captureRequest", p.captures],
    ["log.captureResponse", p.captures],
    ...Object.entries(p.timeouts).map((
      [k, t],
    ): [string, { where: string }] => [`timeouts.${k}`, t]),
    ...Object.entries(p.errorFiles).map(([k, e]): [string, { where: string }] => [
      `http.errorFiles.${k}`,
      e,
    ]),
    ...p.binds.map((b, j): [string, { where: string }] => [`binds[${j}]`, b]),
    ...p.servers.map((b, j): [string, { where: string }] => [`servers[${j}]`, b]),
    ["static", p.static],
    ["static.root", p.static?.rootWhere ? { where: p.static.rootWhere } : undefined],
    ...Object.entries(p.rules).map(([k, list]): [string, { where: string } | undefined] => [
      `rules.${k}`,
      list[0],
    ]),
  ];
  for (const [field, s] of settings) {
    if (s !== undefined) sources.field(`${path}.${field}`, s.where);
  }
}

/** Where cfgBuild() reports: errors and warnings are added, places recorded. */
export interface CfgBuildReport {
  readonly errors: SluiceError[];
  readonly sources: CfgSources;
  readonly warnings?: CfgWarning[];
}

/**
 * Builds the configuration of parsed sections. `proxies` are the
 * frontend/backend/listen drafts in file order. Reports file:line errors for
 * what only the whole section can tell (a missing `default_backend`, an
 * HTTP-only keyword in a tcp section...); everything else is left to
 * resolveConfig(). A section that fails is built as a stand-in (its name and
 * mode, nothing else) so that what refers to it reports nothing more; the
 * errors of a section with a syntax error are not reported (they would
 * mostly repeat it).
 */
export function cfgBuild(
  proxies: CfgProxyDraft[],
  g: CfgGlobalDraft,
  report: CfgBuildReport,
): SluiceConfig {
  const { errors, sources } = report;
  const warn = (where: string, msg: string) => report.warnings?.push(cfgWarning(where, msg));
  const cfg: SluiceConfig = { global: { ...g.global }, frontends: [], backends: [] };
  for (const [k, where] of Object.entries(g.wheres)) sources.field(`global.${k}`, where);
  g.logWheres.forEach((where, i) => sources.field(`global.log.targets[${i}]`, where));
  const backends = new Map<string, CfgProxyDraft>();
  for (const p of proxies) if (p.kind !== "frontend") backends.set(p.name, p);
  const formats = new Set<string>();
  /** fn's result, or `standIn` when it throws (the error reported unless the section is broken). */
  const attempt = <T>(p: CfgProxyDraft, fn: () => T, standIn: T): T => {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof SluiceError)) throw err;
      if (!sources.isBroken(p.where) && !sources.isBroken(err.where ?? p.where)) errors.push(err);
      sources.breakAt(p.where);
      return standIn;
    }
  };
  for (const p of proxies) {
    if (p.stats !== undefined) {
      attempt(p, () => cfgStatsBuild(cfg, p, sources), undefined);
      continue;
    }
    const mode = cfgMode(p);
    if (p.kind === "frontend" || p.kind === "listen") {
      // A listen section serves its own servers, whatever default_backend it inherited.
      const be = p.kind === "listen" ? p : backends.get(p.defaultBackend?.value ?? "");
      cfgProxySources(sources, `frontends[${cfg.frontends.length}]`, p);
      const build = () => {
        const f = cfgFrontendBuild(p, be);
        f.log = cfgFrontendLogBuild(p, mode, warn);
        return f;
      };
      cfg.frontends.push(attempt(p, build, { name: p.name, mode, binds: [] }));
      if (typeof p.logFormat?.value === "string") formats.add(p.logFormat.value);
    }
    if (p.kind === "backend" || p.kind === "listen") {
      cfgProxySources(sources, `backends[${cfg.backends.length}]`, p);
      const build = (): BackendConfig => ({ ...cfgBackendBuild(p), log: cfgBackendLogBuild(p) });
      cfg.backends.push(attempt(p, build, { name: p.name, mode, servers: [] }));
    }
  }
  // Text logs are httplog lines for HTTP streams and tcplog lines otherwise,
  // whichever is named: the choice only tells text from JSON.
  const format = formats.has("httplog") ? "httplog" : formats.has("tcplog") ? "tcplog" : undefined;
  if (format !== undefined) cfg.global = { ...cfg.global, log: { ...cfg.global!.log, format } };
  return cfg;
}

/** The stats listener of a section with `stats enable`: its bind address serves the page, not traffic. */
function cfgStatsBuild(cfg: SluiceConfig, p: CfgProxyDraft, sources: CfgSources): void {
  if (p.stats === undefined) return;
  if (p.stats.where === "") {
    throw cfgError(p.where, `section "${p.label}" sets stats options without "stats enable"`);
  }
  if (p.servers.length > 0 || p.defaultBackend?.inherited === false) {
    throw cfgError(
      p.stats.where,
      `a "stats enable" section only serves stats in sluice (no servers, no default_backend)`,
    );
  }
  if (p.binds.length !== 1) {
    throw cfgError(p.where, `the stats section "${p.label}" needs exactly one bind`);
  }
  if (cfg.global!.stats !== undefined) {
    throw cfgError(p.stats.where, "only one stats listener is supported");
  }
  cfg.global = {
    ...cfg.global,
    stats: {
      address: p.binds[0].bind.address,
      ...(p.stats.auth === undefined ? {} : { auth: p.stats.auth }),
      ...(p.stats.refresh === undefined ? {} : { refresh: p.stats.refresh }),
    },
  };
  sources.field("global.stats", p.binds[0].where);
}
