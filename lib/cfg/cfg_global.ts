/**
 * The `global` section: process-wide settings (GlobalConfig).
 *
 * | keyword                                  | sets                                 |
 * | ---------------------------------------- | ------------------------------------ |
 * | `maxconn N`                              | `maxconn`                            |
 * | `log TARGET [format raw] [fac…]`         | `log.target`                         |
 * | `tune.bufsize N`                         | `bufsize`                            |
 * | `tune.buffers.limit N`                   | `buffers`                            |
 * | `tune.maxrewrite N`                      | `maxRewrite`                         |
 * | `tune.http.maxhdr N`                     | `maxHdrs`                            |
 * | `tune.runqueue-depth N`                  | `runqueueDepth`                      |
 * | `tune.io node\|ffi` (sluice)             | `io`                                 |
 * | `hard-stop-after D`                      | `graceMs`                            |
 * | `nbthread 1`                             | nothing (sluice runs one thread)     |
 *
 * @module
 */
import { cfgAddress } from "./cfg_address.ts";
import type { CfgStmt } from "./cfg_types.ts";
import { SYSLOG_FACILITIES } from "../log/syslog.ts";
import type { GlobalConfig } from "./config_types.ts";

/** The global settings as parsed so far. */
export interface CfgGlobalDraft {
  global: GlobalConfig;
  /** `file:line` of the `log` line, to refuse a second target. */
  logWhere?: string;
}

const LEVELS = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

/** Integer tuning keywords and the GlobalConfig field each sets. */
const TUNE: Record<string, keyof GlobalConfig> = {
  "maxconn": "maxconn",
  "tune.bufsize": "bufsize",
  "tune.buffers.limit": "buffers",
  "tune.maxrewrite": "maxRewrite",
  "tune.http.maxhdr": "maxHdrs",
  "tune.runqueue-depth": "runqueueDepth",
};

/**
 * `log <target> [format raw] [<facility> [<level> [<minlevel>]]]`. Targets:
 * stdout/stderr (also `fd@1`/`fd@2`), `file@PATH`, a syslog server
 * `host:port` (UDP), or a local syslog socket `/path` or `unix@/path` (unix
 * datagrams, as HAProxy's `log /dev/log local0`). sluice writes raw lines
 * only: the facility sets the syslog priority and nothing else; levels
 * other than info/debug would filter lines, which sluice cannot do yet.
 */
function cfgGlobalLog(g: CfgGlobalDraft, { at, args }: CfgStmt): void {
  at.args(args, 1, 7);
  if (g.logWhere !== undefined) {
    throw at.fail(
      `only one "log" target is supported (the first one is at ${g.logWhere})`,
    );
  }
  const a0 = args[0];
  let target: NonNullable<GlobalConfig["log"]>["target"];
  if (a0 === "stdout" || a0 === "fd@1") target = "stdout";
  else if (a0 === "stderr" || a0 === "fd@2") target = "stderr";
  else if (a0.startsWith("file@")) target = { file: at.path(a0.slice(5)) };
  else if (a0.startsWith("/") || a0.startsWith("unix@")) {
    target = { syslog: cfgAddress(at, a0, { bind: false }) };
  } else if (/^(udp[46]?@|ipv[46]@)?(\[[0-9a-fA-F:.]+\]|[^/@:\[\]]+):[0-9]+$/.test(a0)) {
    target = { syslog: a0.replace(/^[a-z0-9]+@/, "") };
  } else {
    throw at.badValue(
      a0,
      "expected stdout, stderr, file@PATH, a syslog server host:port (UDP), or a syslog unix socket /PATH or unix@/PATH",
    );
  }
  let i = 1;
  while (args[i] === "format" || args[i] === "len" || args[i] === "sample") {
    if (args[i] !== "format") throw at.unsupported(`log ${args[i]}`);
    const f = at.sub("log format").value(args, i + 1);
    if (f !== "raw") {
      throw at.sub("log format").badValue(f, 'sluice writes raw lines only (use "format raw")');
    }
    i += 2;
  }
  if (i < args.length) {
    const facility = at.sub("log facility").oneOf(args[i++], SYSLOG_FACILITIES);
    if (typeof target === "object" && "syslog" in target) target.facility = facility;
  }
  if (i < args.length) {
    const level = at.sub("log level").oneOf(args[i++], LEVELS);
    if (level !== "info" && level !== "debug") {
      throw at.sub("log level").badValue(
        level,
        "sluice cannot filter log lines by level yet (use info or debug)",
      );
    }
  }
  if (i < args.length) at.sub("log minlevel").oneOf(args[i++], LEVELS);
  if (i < args.length) throw at.fail(`unexpected argument "${args[i]}" for "log"`);
  g.logWhere = at.where;
  g.global.log = { ...g.global.log, target };
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
    return;
  }
  switch (kw) {
    case "log":
      return cfgGlobalLog(g, stmt);
    case "tune.io":
      at.args(args, 1, 1);
      g.global.io = at.oneOf(args[0], ["node", "ffi"]) as "node" | "ffi";
      return;
    case "hard-stop-after":
      at.args(args, 1, 1);
      g.global.graceMs = at.duration(args[0]);
      return;
    case "nbthread":
      at.args(args, 1, 1);
      if (args[0] !== "1") throw at.badValue(args[0], "sluice runs one thread (nbthread 1)");
      return;
    case "daemon":
      throw at.unsupported(
        kw,
        "sluice runs in the foreground (start it from a service manager such as systemd)",
      );
    case "stats": {
      // stats socket PATH [mode OCTAL] [level admin|operator|user] [expose-fd listeners]
      if (args[0] !== "socket") throw at.unsupported(args.length > 0 ? `stats ${args[0]}` : kw);
      const sat = at.sub("stats socket");
      const path = args[1];
      if (path === undefined) throw sat.fail(`missing value for "stats socket"`);
      if (!path.startsWith("/") && !path.startsWith("./")) {
        throw sat.badValue(
          path,
          "expected a unix socket path (TCP runtime API sockets are not supported)",
        );
      }
      const sock: { path: string; mode?: number } = { path };
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
        } else throw sat.unsupported(`stats socket ${k}`);
      }
      g.global.adminSocket = sock;
      return;
    }
    default:
      throw at.unsupported(kw);
  }
}
