/**
 * The `global` section: process-wide settings (GlobalConfig).
 *
 * | keyword                                  | sets                                 |
 * | ---------------------------------------- | ------------------------------------ |
 * | `maxconn N`                              | `maxconn`                            |
 * | `log TARGET [len N] [format F] FAC [LVL]` | `log.targets[]` (one per line)       |
 * | `tune.bufsize N`                         | `bufsize`                            |
 * | `tune.buffers.limit N`                   | `buffers`                            |
 * | `tune.maxrewrite N`                      | `maxRewrite`                         |
 * | `tune.http.maxhdr N`                     | `maxHdrs`                            |
 * | `tune.runqueue-depth N`                  | `runqueueDepth`                      |
 * | `ssl-cert-expiry-warning DAYS` (sluice)  | `sslCertExpiryWarning`               |
 * | `tune.io node\|ffi` (sluice)             | `io`                                 |
 * | `hard-stop-after D`                      | `graceMs`                            |
 * | `nbthread N`                             | `nbthread` (worker threads)          |
 * | `tls-isolation on\|off` (sluice)         | `tlsIsolation` (TLS worker threads)  |
 * | `tls-threads N` (sluice)                 | `tlsThreads`                         |
 * | `stats socket PATH [mode M] [level admin]` | `adminSocket`                      |
 * | `stats timeout D`                        | `adminSocket.timeout`                |
 * | `pidfile FILE`                           | `pidfile`                            |
 * | `ca-base DIR`, `crt-base DIR`            | where later TLS file names are       |
 * | `ssl-default-bind-options OPT…`          | TLS versions of later `bind … ssl`   |
 * | `ssl-default-server-options OPT…`        | TLS versions of later `server … ssl` |
 * | `ssl-default-{bind,server}-ciphers[uites]` | checked cipher lists (cfg_ciphers.ts) |
 * | `ssl-server-verify none\|required`      | `verify` of later `server … ssl`     |
 *
 * Process management that sluice leaves to the service manager loads with
 * one warning saying what to do instead: `daemon`, `master-worker`, `user`,
 * `group`, `chroot`, `expose-fd listeners` on a `stats socket` line,
 * `tune.ssl.default-dh-param`.
 *
 * @module
 */
import type { CfgStmt } from "./cfg_types.ts";
import { cfgLogLine } from "./cfg_log.ts";
import type { GlobalConfig } from "./config_types.ts";
import { MAX_THREADS } from "./config_check.ts";
import {
  cfgTlsCiphers,
  type CfgTlsDefaults,
  cfgTlsOption,
  type CfgTlsVersionOpts,
  cfgTlsVersions,
} from "./cfg_tls.ts";

/** The global settings as parsed so far. */
export interface CfgGlobalDraft {
  global: GlobalConfig;
  /** `file:line` of the keyword that set each field. */
  wheres: Partial<Record<keyof GlobalConfig, string>>;
  /** `file:line` of each `log` line, in order (`global.log.targets[i]`). */
  logWheres: string[];
  /** `stats timeout`, for a `stats socket` line after it. */
  adminTimeout?: number;
  /** `ca-base`, `crt-base`, `ssl-default-*-options`, for the proxy lines after them. */
  tls: CfgTlsDefaults;
}

/** The Deno permissions sluice runs with, as warnings name them. */
const DENO_FLAGS = "--allow-net, --allow-read, --allow-write, --allow-env, --allow-ffi " +
  "(narrow them, e.g. --allow-read=/etc/sluice; see docs/deployment.md)";

/**
 * What sluice does instead of the process management keywords it accepts
 * with a warning, by keyword; `$1` is the keyword's argument.
 */
const INSTEAD: Record<string, { args: number; text: string }> = {
  "daemon": {
    args: 0,
    text: "sluice stays in the foreground; start it from a service manager " +
      "(deploy/sluice.service for systemd) or a container runtime",
  },
  "master-worker": {
    args: 1,
    text: "sluice is one process that reloads in place: SIGHUP or SIGUSR2 re-reads the " +
      "files and keeps the listeners, so no master process is needed",
  },
  "user": {
    args: 1,
    text: 'sluice does not switch users: run it as user "$1" from the service manager ' +
      `(User=$1 in deploy/sluice.service); Deno's permissions confine it: ${DENO_FLAGS}`,
  },
  "group": {
    args: 1,
    text: 'sluice does not switch groups: run it with group "$1" from the service manager ' +
      `(Group=$1 in deploy/sluice.service); Deno's permissions confine it: ${DENO_FLAGS}`,
  },
  "chroot": {
    args: 1,
    text: "sluice does not chroot: run it from the service manager, which confines its " +
      "files (ProtectSystem=strict in deploy/sluice.service, or RootDirectory=$1), and " +
      `Deno's permissions confine it: ${DENO_FLAGS}`,
  },
  "tune.ssl.default-dh-param": {
    args: 1,
    text: "sluice's TLS (rustls) offers ECDHE key exchanges only, so there are no DH " +
      "parameters to size",
  },
};

/** Accepts a keyword of INSTEAD with its warning. */
function cfgGlobalInstead(stmt: CfgStmt): void {
  const { at, args } = stmt;
  const { args: max, text } = INSTEAD[at.kw];
  at.args(args, at.kw === "master-worker" ? 0 : max, max);
  if (at.kw === "master-worker" && args.length > 0) at.oneOf(args[0], ["no-exit-on-failure"]);
  if (at.kw === "tune.ssl.default-dh-param") at.int(args[0]);
  const kw = [at.kw, ...args].join(" ");
  at.warn(`"${kw}": ${text.replaceAll("$1", args[0] ?? "")}`);
}

/** Integer tuning keywords and the GlobalConfig field each sets. */
const TUNE: Record<string, keyof GlobalConfig> = {
  "maxconn": "maxconn",
  "tune.bufsize": "bufsize",
  "tune.buffers.limit": "buffers",
  "tune.maxrewrite": "maxRewrite",
  "tune.http.maxhdr": "maxHdrs",
  "tune.runqueue-depth": "runqueueDepth",
  "ssl-cert-expiry-warning": "sslCertExpiryWarning",
};

/**
 * `log TARGET [len N] [format F] FACILITY [LEVEL [MINLEVEL]]` (cfg_log.ts):
 * each line adds a target.
 */
function cfgGlobalLog(g: CfgGlobalDraft, { at, args }: CfgStmt): void {
  if (args[0] === "global") throw at.badValue("global", '"log global" is for proxy sections');
  const t = cfgLogLine(at, args);
  const log = g.global.log ?? {};
  g.global.log = { ...log, targets: [...(log.targets ?? []), t] };
  g.wheres.log ??= at.where;
  g.logWheres.push(at.where);
}

/**
 * Applies one `global` statement. `at.kw` is the keyword, `args` the words
 * after it. Throws for anything not in the table above.
 */
export function cfgGlobalKeyword(g: CfgGlobalDraft, stmt: CfgStmt): void {
  const { at, args } = stmt;
  const kw = at.kw;
  const field = TUNE[kw];
  if (field !== undefined) {
    at.args(args, 1, 1);
    (g.global as Record<string, unknown>)[field] = at.int(args[0]);
    g.wheres[field] = at.where;
    return;
  }
  if (INSTEAD[kw] !== undefined) return cfgGlobalInstead(stmt);
  switch (kw) {
    case "log":
      return cfgGlobalLog(g, stmt);
    case "ca-base":
    case "crt-base":
      at.args(args, 1, 1);
      g.tls[kw === "ca-base" ? "caBase" : "crtBase"] = at.path(args[0]);
      return;
    case "ssl-default-bind-options":
    case "ssl-default-server-options": {
      at.args(args, 1, Infinity);
      const o: CfgTlsVersionOpts = {};
      for (let i = 0; i < args.length;) {
        const next = cfgTlsOption(at, args, i, o, {
          lists: false,
          bind: kw === "ssl-default-bind-options",
        });
        if (next < 0) throw at.unsupported(`${kw} ${args[i]}`);
        i = next;
      }
      // Checked now (no version left is an error here, not on each line).
      cfgTlsVersions(at, o, {});
      const d = g.tls[kw === "ssl-default-bind-options" ? "bind" : "server"];
      d.min = o.min;
      d.max = o.max;
      d.off = o.off;
      d.oldAt = o.oldAt;
      return;
    }
    case "ssl-server-verify":
      at.args(args, 1, 1);
      g.tls.serverVerify = at.oneOf(args[0], ["none", "required"] as const);
      return;
    case "ssl-default-bind-ciphers":
    case "ssl-default-bind-ciphersuites":
    case "ssl-default-server-ciphers":
    case "ssl-default-server-ciphersuites":
      at.args(args, 1, 1);
      cfgTlsCiphers(
        at,
        kw.endsWith("suites") ? "ciphersuites" : "ciphers",
        args[0],
        g.tls[kw.startsWith("ssl-default-bind") ? "bind" : "server"],
      );
      return;
    case "tune.io":
      at.args(args, 1, 1);
      g.global.io = at.oneOf(args[0], ["node", "ffi"]) as "node" | "ffi";
      g.wheres.io = at.where;
      return;
    case "hard-stop-after":
      at.args(args, 1, 1);
      g.global.graceMs = at.duration(args[0]);
      g.wheres.graceMs = at.where;
      return;
    case "nbthread":
      at.args(args, 1, 1);
      g.global.nbthread = at.int(args[0]);
      if (g.global.nbthread < 1 || g.global.nbthread > MAX_THREADS) {
        throw at.badValue(args[0], `from 1 to ${MAX_THREADS}`);
      }
      g.wheres.nbthread = at.where;
      return;
    case "tls-isolation":
      at.args(args, 1, 1);
      g.global.tlsIsolation = at.oneOf(args[0], ["on", "off"]) === "on";
      return;
    case "tls-threads":
      at.args(args, 1, 1);
      g.global.tlsThreads = at.int(args[0]);
      if (g.global.tlsThreads < 1 || g.global.tlsThreads > MAX_THREADS) {
        throw at.badValue(args[0], `from 1 to ${MAX_THREADS}`);
      }
      return;
    case "pidfile":
      at.args(args, 1, 1);
      if (g.wheres.pidfile !== undefined) {
        throw at.fail(`"pidfile" is given twice (the first one is at ${g.wheres.pidfile})`);
      }
      g.global.pidfile = at.path(args[0]);
      g.wheres.pidfile = at.where;
      return;
    case "stats":
      if (args[0] === "timeout") {
        const tat = at.sub("stats timeout");
        tat.args(args, 2, 2);
        g.adminTimeout = tat.duration(args[1]);
        if (g.global.adminSocket !== undefined) g.global.adminSocket.timeout = g.adminTimeout;
        return;
      }
      return cfgStatsSocket(g, stmt);
    default:
      throw at.unsupported(kw);
  }
}

/**
 * `stats socket PATH [mode OCTAL] [level admin] [expose-fd listeners]`: the
 * runtime API on a unix socket.
 */
function cfgStatsSocket(g: CfgGlobalDraft, { at, args }: CfgStmt): void {
  if (args[0] !== "socket") {
    throw at.unsupported(args.length > 0 ? `stats ${args[0]}` : at.kw);
  }
  const sat = at.sub("stats socket");
  const path = args[1];
  if (path === undefined) throw sat.fail(`missing value for "stats socket"`);
  if (!path.startsWith("/") && !path.startsWith("./")) {
    throw sat.badValue(
      path,
      "expected a unix socket path (TCP runtime API sockets are not supported)",
    );
  }
  const sock: NonNullable<GlobalConfig["adminSocket"]> = { path };
  if (g.adminTimeout !== undefined) sock.timeout = g.adminTimeout;
  for (let i = 2; i < args.length; i += 2) {
    const k = args[i], v = args[i + 1];
    if (k === "mode") {
      if (v === undefined || !/^[0-7]{3,4}$/.test(v)) {
        throw sat.sub("stats socket mode").badValue(
          v ?? "",
          "expected an octal mode such as 600",
        );
      }
      sock.mode = parseInt(v, 8);
    } else if (k === "level") {
      if (v !== "admin") {
        throw sat.sub("stats socket level").badValue(
          v ?? "",
          "only level admin is supported (protect the socket with its mode)",
        );
      }
    } else if (k === "expose-fd") {
      sat.sub("stats socket expose-fd").oneOf(v ?? "", ["listeners"]);
      sat.warn(
        '"stats socket ... expose-fd listeners": sluice reloads in place (SIGHUP or ' +
          "SIGUSR2) and hands its listeners over inside the process, so there are none " +
          "to expose",
      );
    } else throw sat.unsupported(`stats socket ${k}`);
  }
  g.global.adminSocket = sock;
  g.wheres.adminSocket = at.where;
}
