/**
 * The `log` line, in `global` and in proxies, as HAProxy 2.6 reads it:
 *
 *     log TARGET [len N] [format FORMAT] FACILITY [LEVEL [MINLEVEL]]
 *
 * Targets: `stdout`/`stderr` (`fd@1`/`fd@2`), `file@PATH` (a sluice
 * addition: appended, reopened on `reopen logs`), a syslog server
 * `HOST[:PORT]` over UDP (port 514 by default; `udp@`, `udp4@`, `udp6@`,
 * `ipv4@`, `ipv6@` prefixes), or a local syslog socket `/PATH` or
 * `unix@/PATH`. The format is HAProxy's default, `local`, unless given;
 * lines are cut at `len` bytes (default 1024, as HAProxy). `sample`,
 * `ring@` and stream (`tcp@`) targets are refused.
 *
 * @module
 */
import { cfgAddress } from "./cfg_address.ts";
import type { CfgAt } from "./cfg_at.ts";
import type { LogLevel, LogTargetConfig } from "./config_types.ts";
import { LOG_HEADER_FORMATS, LOG_LEVELS } from "../log/log_header.ts";
import { SYSLOG_FACILITIES } from "../log/syslog.ts";

/** HAProxy's default longest line (RFC 3164's 1024 bytes). */
const DEFAULT_LEN = 1024;

/** The target of a `log` line. */
function cfgLogTarget(at: CfgAt, a0: string): LogTargetConfig["target"] {
  if (a0 === "stdout" || a0 === "fd@1") return "stdout";
  if (a0 === "stderr" || a0 === "fd@2") return "stderr";
  if (a0.startsWith("file@")) return { file: at.path(a0.slice(5)) };
  if (a0.startsWith("/") || a0.startsWith("unix@")) {
    return { syslog: cfgAddress(at, a0, { bind: false }) };
  }
  const fam = /^([a-z0-9]+)@/.exec(a0);
  if (fam !== null && !["udp", "udp4", "udp6", "ipv4", "ipv6"].includes(fam[1])) {
    throw at.badValue(
      a0,
      `the "${fam[1]}@" target is not supported (use stdout, stderr, file@PATH, ` +
        "a syslog server HOST[:PORT] over UDP, or a syslog unix socket /PATH)",
    );
  }
  const rest = fam === null ? a0 : a0.slice(fam[0].length);
  // A host without a port: HAProxy's syslog port, 514.
  if (/^[^/@:\[\]]+$/.test(rest)) return { syslog: `${rest}:514` };
  const v6 = /^\[([0-9a-fA-F:.]+)\]$/.exec(rest);
  if (v6 !== null) return { syslog: `[${v6[1]}]:514` };
  if (/^(\[[0-9a-fA-F:.]+\]|[^/@\[\]]+):[0-9]+$/.test(rest)) {
    return { syslog: cfgAddress(at, rest, { bind: false }) };
  }
  throw at.badValue(
    a0,
    "expected stdout, stderr, file@PATH, a syslog server HOST[:PORT] (UDP), or a syslog unix socket /PATH or unix@/PATH",
  );
}

/**
 * Reads the words after `log` (not `global`) into a target, HAProxy's
 * defaults made explicit (format `local`, len 1024).
 */
export function cfgLogLine(at: CfgAt, args: string[]): LogTargetConfig {
  at.args(args, 1, 9);
  const target = cfgLogTarget(at, args[0]);
  const t: LogTargetConfig = { target, format: "local", maxLen: DEFAULT_LEN };
  let i = 1;
  // HAProxy reads them in this order only.
  if (args[i] === "len") {
    const lat = at.sub("log len");
    const v = lat.value(args, i + 1);
    const n = lat.int(v);
    if (n < 80 || n > 65535) throw lat.badValue(v, "expected 80 to 65535");
    t.maxLen = n;
    i += 2;
  }
  if (args[i] === "format") {
    const fat = at.sub("log format");
    t.format = fat.oneOf(fat.value(args, i + 1), LOG_HEADER_FORMATS);
    i += 2;
  }
  if (args[i] === "sample") throw at.unsupported("log sample");
  if (i >= args.length) throw at.fail(`missing facility for "log" (e.g. local0)`);
  t.facility = at.sub("log facility").oneOf(args[i++], SYSLOG_FACILITIES);
  if (i < args.length) t.level = at.sub("log level").oneOf(args[i++], LOG_LEVELS) as LogLevel;
  if (i < args.length) {
    t.minLevel = at.sub("log minlevel").oneOf(args[i++], LOG_LEVELS) as LogLevel;
  }
  if (i < args.length) throw at.fail(`unexpected argument "${args[i]}" for "log"`);
  return t;
}
