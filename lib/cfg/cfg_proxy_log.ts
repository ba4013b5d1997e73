/**
 * Logging keywords of proxy sections (rows of cfg_proxy.ts's KEYWORDS):
 *
 * | keyword                                      | draft field            |
 * | -------------------------------------------- | ---------------------- |
 * | `log global`, `log TARGET ... FACILITY ...`  | `logTargets` (appends) |
 * | `no log`                                     | `logTargets` = []      |
 * | `log-format STRING`                          | `logFormat`            |
 * | `log-format-sd STRING`                       | `logFormatSd`          |
 * | `[no] option dontlognull`                    | `dontLogNull`          |
 * | `[no] option log-separate-errors`            | `logSeparateErrors`    |
 * | `[no] option log-health-checks`              | `logHealthChecks`      |
 * | `capture request\|response header N len L`   | `captures`             |
 * | `unique-id-format STRING`                    | `uniqueIdFormat`       |
 * | `unique-id-header NAME`                      | `uniqueIdHeader`       |
 *
 * A proxy starts with the `log` lines of its `defaults` section; its own
 * lines are added to them (`no log` first to start afresh), as in HAProxy.
 *
 * @module
 */
import { cfgLogLine } from "./cfg_log.ts";
import type { CfgProxyDraft, CfgSetting, CfgStmt } from "./cfg_types.ts";
import { type CfgAt, cfgError } from "./cfg_at.ts";
import type { BackendLogConfig, FrontendLogConfig } from "./config_types.ts";

/** Records a setting written at `at`. */
function set<T>(at: CfgAt, value: T): CfgSetting<T> {
  return { value, where: at.where, inherited: false };
}

/** `log global`, or `log TARGET [len N] [format F] FACILITY [LEVEL [MINLEVEL]]`: one more target. */
export function cfgProxyLog(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  at.args(args, 1, Infinity);
  let t: "global" | ReturnType<typeof cfgLogLine> = "global";
  if (args[0] !== "global") t = cfgLogLine(at, args);
  else if (args.length > 1) throw at.fail('"log global" takes no other argument');
  p.logTargets = set(at, [...(p.logTargets?.value ?? []), t]);
}

/** `no log`: forgets the targets inherited or written so far. */
export function cfgProxyNoLog(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  at.args(args, 0, 0);
  p.logTargets = set(at, []);
}

/** The one argument of a log-format keyword (HAProxy: spaces escaped or quoted). */
function formatArg(at: CfgAt, args: string[]): string {
  if (args.length > 1) {
    throw at.fail(
      `"${at.kw}" expects one argument: escape its spaces ("\\ ") or quote it`,
    );
  }
  at.args(args, 1, 1);
  return args[0];
}

/** `log-format STRING` (replaces `option httplog`/`tcplog`, as in HAProxy). */
export function cfgLogFormatLine(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  p.logFormat = set(at, { format: formatArg(at, args) });
}

/** `log-format-sd STRING`. */
export function cfgLogFormatSd(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  p.logFormatSd = set(at, formatArg(at, args));
}

/** `unique-id-format STRING`. */
export function cfgUniqueIdFormat(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  p.uniqueIdFormat = set(at, formatArg(at, args));
}

/** `unique-id-header NAME`. */
export function cfgUniqueIdHeader(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  at.args(args, 1, 1);
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(args[0])) {
    throw at.badValue(args[0], "expected a header name");
  }
  p.uniqueIdHeader = set(at, args[0]);
}

/** `[no] option dontlognull|log-separate-errors|log-health-checks`: a boolean setting. */
export function cfgLogOption(
  field: "dontLogNull" | "logSeparateErrors" | "logHealthChecks",
  value: boolean,
): (p: CfgProxyDraft, stmt: CfgStmt) => void {
  return (p, { at, args }) => {
    at.args(args, 0, 0);
    p[field] = set(at, value);
  };
}

/** `capture request header NAME len N` / `capture response header NAME len N`. */
export function cfgCapture(dir: "request" | "response"): (p: CfgProxyDraft, stmt: CfgStmt) => void {
  return (p, { at, args }) => {
    if (args[0] !== "header") {
      throw at.unsupported(args.length > 0 ? `${at.kw} ${args[0]}` : at.kw);
    }
    at.args(args, 4, 4);
    const name = args[1];
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw at.badValue(name, "expected a header name");
    }
    if (args[2] !== "len") throw at.fail(`expected "len" after the header name, got "${args[2]}"`);
    const len = at.sub(`${at.kw} header len`).int(args[3]);
    if (len < 1 || len > 65535) throw at.badValue(args[3], "expected a length of 1 to 65535");
    p.captures ??= { request: [], response: [], where: at.where };
    p.captures[dir].push({ name, len });
  };
}

/** HAProxy's `option tcplog` as a log-format string, for an HTTP frontend that asks for it. */
const TCPLOG = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";

/**
 * The logging of a frontend or listen section in `mode`. A section without
 * `log` lines logs nothing (as HAProxy); one with a log format but no
 * target gets HAProxy's warning. `option httplog` in TCP mode falls back
 * to tcplog with a warning, as in HAProxy. HTTP-only settings written in a
 * TCP section are errors; inherited ones are dropped.
 */
export function cfgFrontendLogBuild(
  p: CfgProxyDraft,
  mode: "http" | "tcp",
  warn: (where: string, msg: string) => void,
): FrontendLogConfig {
  const l: FrontendLogConfig = { targets: p.logTargets?.value ?? [] };
  const f = p.logFormat;
  if (f !== undefined && l.targets!.length === 0) {
    warn(
      p.where,
      `log format ignored for section "${p.label}" since it has no log target ` +
        '(add "log global" to use the global ones)',
    );
  }
  if (f?.value === "httplog" && mode === "tcp") {
    warn(f.where, `"option httplog" needs mode http: section "${p.label}" logs tcplog lines`);
  } else if (f?.value === "tcplog" && mode === "http") l.format = TCPLOG;
  else if (typeof f?.value === "object") l.format = f.value.format;
  if (p.logFormatSd !== undefined) l.formatSd = p.logFormatSd.value;
  if (p.dontLogNull !== undefined) l.dontLogNull = p.dontLogNull.value;
  if (p.logSeparateErrors !== undefined) l.separateErrors = p.logSeparateErrors.value;
  if (p.uniqueIdFormat !== undefined) l.uniqueIdFormat = p.uniqueIdFormat.value;
  const httpOnly: [CfgSetting<unknown> | undefined, string][] = [
    [p.uniqueIdHeader, "unique-id-header"],
    [
      p.captures === undefined ? undefined : { ...p.captures, value: 0, inherited: false },
      "capture",
    ],
  ];
  if (mode === "tcp") {
    for (const [s, kw] of httpOnly) {
      if (s !== undefined && !s.inherited) {
        throw cfgError(s.where, `"${kw}" needs mode http (section "${p.label}" is in mode tcp)`);
      }
    }
    return l;
  }
  if (p.uniqueIdHeader !== undefined) l.uniqueIdHeader = p.uniqueIdHeader.value;
  if (p.captures !== undefined) {
    if (p.captures.request.length > 0) l.captureRequest = p.captures.request;
    if (p.captures.response.length > 0) l.captureResponse = p.captures.response;
  }
  return l;
}

/** The logging of a backend or listen section: its targets (none: its events go to the global ones). */
export function cfgBackendLogBuild(p: CfgProxyDraft): BackendLogConfig {
  const l: BackendLogConfig = { targets: p.logTargets?.value ?? [] };
  if (p.logHealthChecks !== undefined) l.healthChecks = p.logHealthChecks.value;
  return l;
}
