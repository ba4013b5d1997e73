/**
 * Checks and resolves the logging parts of a configuration: log targets
 * (global, and each proxy's list where `"global"` stands for the global
 * ones), a frontend's log-format strings (compiled here), captures and
 * unique ids, a backend's health check logging.
 *
 * @module
 */
import { lc, TCHAR } from "../http/h1_chars.ts";
import { type LogFormat, logFormatCompile, type LogSlots } from "../log/log_format.ts";
import { LOG_HEADER_FORMATS, LOG_LEVELS, type LogHeaderSpec } from "../log/log_header.ts";
import { hostName } from "../log/sink.ts";
import type { LogTarget } from "../log/sink_types.ts";
import { SYSLOG_FACILITIES } from "../log/syslog.ts";
import type {
  BackendLogConfig,
  FrontendLogConfig,
  LogConfig,
  LogTargetConfig,
  ProxyMode,
} from "./config_types.ts";
import { resolveAddress, resolveBool, resolveFail, resolveInt } from "./config_values.ts";

/** One log target with its defaults applied. */
export interface ResolvedLogTarget {
  readonly target: LogTarget;
  readonly header: LogHeaderSpec;
  /** Least severe level taken (0 emerg … 7 debug). */
  readonly level: number;
  /** Severity floor (more severe lines are sent at this one). */
  readonly minLevel: number;
  /** Longest line, header included (Infinity: no limit). */
  readonly maxLen: number;
  /** Equal for targets that write the same way to the same place (they share one sink). */
  readonly key: string;
}

/** A proxy's targets: `"global"` stands for the global ones. */
export type ResolvedLogTargets = readonly ("global" | ResolvedLogTarget)[];

/** A frontend's logging, resolved. */
export interface ResolvedFrontendLog {
  readonly targets: ResolvedLogTargets;
  /** The compiled `format`, or null for sluice's own httplog/tcplog writers. */
  readonly format: LogFormat | null;
  /** The compiled `formatSd`, or null. */
  readonly sd: LogFormat | null;
  readonly dontLogNull: boolean;
  readonly separateErrors: boolean;
  readonly captureRequest: readonly { name: Uint8Array; len: number }[];
  readonly captureResponse: readonly { name: Uint8Array; len: number }[];
  readonly uniqueId: LogFormat | null;
  readonly uniqueIdHeader: string | null;
  /** The samples its formats take on the request and response heads. */
  readonly slots: LogSlots;
}

/** A backend's logging, resolved. */
export interface ResolvedBackendLog {
  readonly targets: ResolvedLogTargets;
  readonly healthChecks: boolean;
}

/** A syslog target `{ syslog, facility }`: UDP `host:port` or `unix:/path`. */
function syslogTarget(
  at: string,
  t: { syslog: unknown; facility?: unknown },
  fac: number,
): LogTarget {
  if (typeof t.syslog === "string" && t.syslog.startsWith("/")) {
    resolveFail(`${at}.syslog`, `expected "unix:${t.syslog}" for a unix socket`);
  }
  const { addr } = resolveAddress(`${at}.syslog`, t.syslog, {});
  return addr.kind === "unix"
    ? { syslog: "unix", path: addr.path, facility: fac }
    : { syslog: "udp", host: addr.host, port: addr.port, facility: fac };
}

/** A facility name's number. */
function facilityOf(at: string, v: unknown): number {
  const n = SYSLOG_FACILITIES.indexOf(v as string);
  if (n < 0) {
    resolveFail(at, `unknown facility ${JSON.stringify(v)}`);
  }
  return n;
}

/** A level name's severity. */
function levelOf(at: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  const n = LOG_LEVELS.indexOf(v as string);
  if (n < 0) {
    resolveFail(at, `unknown level ${JSON.stringify(v)} (expected ${LOG_LEVELS.join(", ")})`);
  }
  return n;
}

/** Keys of functions, so that two targets calling the same function share a sink. */
const fnKeys = new WeakMap<(line: string) => void, number>();
let fnSeq = 0;

/**
 * A target (`LogConfig.target`'s forms, or a LogTargetConfig): where, its
 * header, its levels. `at` is the path of the target object.
 */
export function logTargetOf(at: string, t: LogTargetConfig): ResolvedLogTarget {
  if (typeof t !== "object" || t === null) resolveFail(at, "expected { target, ... }");
  for (const k of Object.keys(t)) {
    if (!["target", "format", "facility", "level", "minLevel", "maxLen"].includes(k)) {
      resolveFail(
        `${at}.${k}`,
        "unknown field (expected target, format, facility, level, minLevel, maxLen)",
      );
    }
  }
  const tt = t.target as unknown;
  const inner = typeof tt === "object" && tt !== null && "syslog" in tt
    ? (tt as { facility?: unknown }).facility
    : undefined;
  if (inner !== undefined && t.facility !== undefined) {
    resolveFail(`${at}.facility`, "the facility is given twice (here and in target)");
  }
  const facility = t.facility !== undefined
    ? facilityOf(`${at}.facility`, t.facility)
    : inner !== undefined
    ? facilityOf(`${at}.target.facility`, inner)
    : 16;
  let target: LogTarget;
  if (tt === "stdout" || tt === "stderr" || typeof tt === "function") target = tt as LogTarget;
  else if (typeof tt === "object" && tt !== null && "file" in tt) {
    const f = (tt as { file: unknown }).file;
    if (typeof f !== "string" || f === "") resolveFail(`${at}.target.file`, "expected a file path");
    target = { file: f };
  } else if (typeof tt === "object" && tt !== null && "syslog" in tt) {
    for (const k of Object.keys(tt)) {
      if (k !== "syslog" && k !== "facility") {
        resolveFail(`${at}.target.${k}`, "unknown field (expected syslog or facility)");
      }
    }
    target = syslogTarget(`${at}.target`, tt as { syslog: unknown }, facility);
  } else {
    // The one global target may also be "none" (no log at all).
    const none = at === "global.log" ? '"none", ' : "";
    return resolveFail(
      `${at}.target`,
      `expected "stdout", "stderr", ${none}a function, { file } or { syslog, facility? }`,
    );
  }
  const syslog = typeof target === "object" && "syslog" in target;
  const format = t.format ?? (syslog ? "rfc5424" : "raw");
  if (!LOG_HEADER_FORMATS.includes(format)) {
    resolveFail(
      `${at}.format`,
      `unknown format ${JSON.stringify(format)} (expected ${LOG_HEADER_FORMATS.join(", ")})`,
    );
  }
  const level = levelOf(`${at}.level`, t.level, 7);
  const minLevel = levelOf(`${at}.minLevel`, t.minLevel, 0);
  const maxLen = t.maxLen === undefined
    ? Infinity
    : resolveInt(`${at}.maxLen`, t.maxLen, 0, 80, 65535);
  const where = typeof target === "function"
    ? `fn${fnKeys.get(target) ?? (fnKeys.set(target, ++fnSeq), fnSeq)}`
    : JSON.stringify(target);
  const header: LogHeaderSpec = { format, facility, host: format === "raw" ? "-" : hostName() };
  return {
    target,
    header,
    level,
    minLevel,
    maxLen,
    key: `${where} ${format} ${facility} ${level} ${minLevel} ${maxLen}`,
  };
}

/** The global targets: `targets`, or the one `target` (none for "none"). */
export function globalLogTargetsOf(log: LogConfig): ResolvedLogTarget[] {
  if (log.targets !== undefined) {
    if (log.target !== undefined) {
      resolveFail("global.log.targets", "give either target or targets, not both");
    }
    if (!Array.isArray(log.targets)) resolveFail("global.log.targets", "expected an array");
    return log.targets.map((t, i) => logTargetOf(`global.log.targets[${i}]`, t));
  }
  const t = log.target ?? "stdout";
  if (t === "none") return [];
  // The path names the target itself, as before targets existed.
  const r = logTargetOf("global.log", { target: t });
  return [r];
}

/** A proxy's target list at `at` (default: the global targets). */
function proxyTargetsOf(at: string, list: unknown): ResolvedLogTargets {
  if (list === undefined) return ["global"];
  if (!Array.isArray(list)) resolveFail(at, 'expected an array of "global" and targets');
  let global = false;
  const out: ("global" | ResolvedLogTarget)[] = [];
  list.forEach((t, i) => {
    if (t === "global") {
      // HAProxy adds the global targets once, however often "log global" is written.
      if (!global) out.push("global");
      global = true;
    } else out.push(logTargetOf(`${at}[${i}]`, t as LogTargetConfig));
  });
  return out;
}

/** A header name to capture or send. */
function headerName(at: string, v: unknown): string {
  if (typeof v !== "string" || v === "" || ![...v].every((c) => TCHAR[c.charCodeAt(0)] === 1)) {
    resolveFail(at, `expected a header name, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** `capture ... header` entries. */
function capturesOf(at: string, v: unknown): { name: Uint8Array; len: number }[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) resolveFail(at, "expected an array of { name, len }");
  return v.map((c, i) => {
    if (typeof c !== "object" || c === null) resolveFail(`${at}[${i}]`, "expected { name, len }");
    const name = headerName(`${at}[${i}].name`, c.name);
    if (c.len === undefined) resolveFail(`${at}[${i}].len`, "missing (the most characters kept)");
    return { name: lc(name), len: resolveInt(`${at}[${i}].len`, c.len, 0, 1, 65535) };
  });
}

/** A log-format string at `at`, compiled. */
function formatOf(
  at: string,
  v: unknown,
  opts: Parameters<typeof logFormatCompile>[1],
): LogFormat {
  if (typeof v !== "string") resolveFail(at, "expected a log-format string");
  if (/[\r\n\0]/.test(v)) resolveFail(at, "control characters are not allowed");
  const f = logFormatCompile(v, opts);
  if (typeof f === "string") resolveFail(at, f);
  return f;
}

/**
 * The logging of the frontend at `at` (`${at}.log`) in `mode`; `json` when
 * the global format is JSON (no log-format strings then).
 */
export function frontendLogOf(
  at: string,
  l: FrontendLogConfig | undefined,
  mode: ProxyMode,
  json: boolean,
): ResolvedFrontendLog {
  const p = `${at}.log`;
  const c = l ?? {};
  if (typeof c !== "object" || c === null) resolveFail(p, "expected an object");
  const http = mode === "http";
  for (const k of ["captureRequest", "captureResponse", "uniqueIdHeader"] as const) {
    if (!http && c[k] !== undefined) resolveFail(`${p}.${k}`, 'needs mode "http"');
  }
  if (json) {
    for (const k of ["format", "formatSd"] as const) {
      if (c[k] !== undefined) {
        resolveFail(
          `${p}.${k}`,
          'log-format strings write text lines (global.log.format is "json")',
        );
      }
    }
  }
  const captureRequest = capturesOf(`${p}.captureRequest`, c.captureRequest);
  const captureResponse = capturesOf(`${p}.captureResponse`, c.captureResponse);
  const slots: LogSlots = {
    reqCaptures: captureRequest.length,
    resCaptures: captureResponse.length,
    req: [],
    res: [],
  };
  const lineOpts = { http, mandatory: true, inline: false, slots };
  const format = c.format === undefined ? null : formatOf(`${p}.format`, c.format, lineOpts);
  const sd = c.formatSd === undefined ? null : formatOf(`${p}.formatSd`, c.formatSd, lineOpts);
  const uniqueId = c.uniqueIdFormat === undefined
    ? null
    : formatOf(`${p}.uniqueIdFormat`, c.uniqueIdFormat, { http, mandatory: false, inline: true });
  let uniqueIdHeader: string | null = null;
  if (c.uniqueIdHeader !== undefined) {
    uniqueIdHeader = headerName(`${p}.uniqueIdHeader`, c.uniqueIdHeader);
    if (uniqueId === null) {
      resolveFail(`${p}.uniqueIdHeader`, "needs uniqueIdFormat (unique-id-format)");
    }
  }
  return {
    targets: proxyTargetsOf(`${p}.targets`, c.targets),
    format,
    sd,
    dontLogNull: resolveBool(`${p}.dontLogNull`, c.dontLogNull, false),
    separateErrors: resolveBool(`${p}.separateErrors`, c.separateErrors, false),
    captureRequest,
    captureResponse,
    uniqueId,
    uniqueIdHeader,
    slots,
  };
}

/** The logging of the backend at `at`. */
export function backendLogOf(at: string, l: BackendLogConfig | undefined): ResolvedBackendLog {
  const p = `${at}.log`;
  const c = l ?? {};
  if (typeof c !== "object" || c === null) resolveFail(p, "expected an object");
  return {
    targets: proxyTargetsOf(`${p}.targets`, c.targets),
    healthChecks: resolveBool(`${p}.healthChecks`, c.healthChecks, false),
  };
}
