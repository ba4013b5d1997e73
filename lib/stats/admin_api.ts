/**
 * The runtime API: HAProxy's stats-socket command language, independent of
 * any socket. `createAdminApi(target)` returns `{ exec(line) }`, which runs
 * a line of commands separated by `;` and returns the answer text; the unix
 * socket (`admin_socket.ts`) and any other transport only move lines.
 *
 * Commands, answers and error messages use HAProxy's wording and formats
 * (`show stat` CSV, `show servers state` version 1, `show info` "Key:
 * value" lines, "No such server.") so existing scripts and tools work
 * unchanged. That is why the messages here end with a period and do not
 * follow the house style of `SluiceError` messages.
 *
 * Every command's output is followed by an empty line, like HAProxy in
 * non-interactive mode: a client reads until the empty line (or until the
 * connection closes).
 *
 * @module
 */
import { errMsg } from "../core/errors.ts";
import { tickNow } from "../core/time.ts";
import { clearCache, formatShowCache } from "./admin_cache.ts";
import { VERSION } from "../version.ts";
import type {
  AdminApi,
  AdminBeState,
  AdminCliSession,
  AdminInfo,
  AdminSrvInfo,
  AdminSrvState,
  AdminState,
  AdminTarget,
} from "./admin_types.ts";
import type { InstanceStats, ServerStats } from "./stats_types.ts";
import { type CsvFilter, formatCsv } from "./stats_csv.ts";
import { SSL_COMMANDS } from "./admin_ssl.ts";

/** Options of `createAdminApi()`. */
export interface AdminApiOptions {
  /** Clock for uptimes, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** What a command handler gets. */
interface CliCtx {
  readonly target: AdminTarget;
  readonly now: () => number;
  readonly cli: AdminCliSession;
  /** The payload after `<<` (HAProxy's CLI payload), for the line's last command; or null. */
  payload: string | null;
}

/** One command: its keywords, usage line, and handler (args after the keywords). */
interface CliCmd {
  readonly kw: readonly string[];
  readonly usage: string;
  readonly help: string;
  run(ctx: CliCtx, args: string[]): string;
}

/**
 * Creates the runtime API over `target`. `exec(line, cli?)` runs each
 * `;`-separated command of `line` in order and returns their outputs, each
 * followed by an empty line; it never throws. `cli` carries the connection's
 * interactive mode (`prompt`) and `quit`; without it those commands only
 * affect this call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAdminApi } from "./admin_api.ts";
 * import type { AdminTarget } from "./admin_types.ts";
 *
 * const target = {
 *   state: () => ({ frontends: [], backends: [] }),
 * } as unknown as AdminTarget; // a real target comes from the instance
 * const api = createAdminApi(target);
 * assert(api.exec("disable server app/web1") === "No such backend.\n\n");
 * assert(api.exec("bogus").startsWith("Unknown command: 'bogus'"));
 * ```
 */
export function createAdminApi(target: AdminTarget, opts: AdminApiOptions = {}): AdminApi {
  const now = opts.now ?? Date.now;
  return {
    exec(line: string, cli?: AdminCliSession, payload?: string): string {
      // The whole text of a payload command at once (handle.admin()): the
      // lines after "<<" up to an empty one (the socket splits them itself).
      const m = payload === undefined ? /^([^\n]*?)[ \t]*<<[ \t]*\r?\n([\s\S]*)$/.exec(line) : null;
      if (m !== null) {
        line = m[1];
        const end = m[2].search(/(^|\n)\r?\n/);
        payload = end < 0 ? m[2] : m[2].slice(0, end + 1);
      }
      const ctx: CliCtx = {
        target,
        now,
        cli: cli ?? { interactive: false, quit: false },
        payload: null,
      };
      let out = "";
      const cmds = cliSplit(line);
      for (const [i, words] of cmds.entries()) {
        if (ctx.cli.quit) break;
        ctx.payload = i === cmds.length - 1 ? payload ?? null : null;
        const res = cliRun(ctx, words);
        // `quit` answers nothing, not even the empty line: the socket closes.
        if (!ctx.cli.quit) out += res + "\n";
      }
      return out;
    },
  };
}

/**
 * Splits a command line into commands (at `;`) and words (at spaces and
 * tabs), like HAProxy's CLI: a backslash makes the next character literal
 * (`\;`, `\ `). Empty commands are dropped. A line feed also ends a command.
 */
export function cliSplit(line: string): string[][] {
  const cmds: string[][] = [];
  let words: string[] = [];
  let word = "";
  let inWord = false;
  const endWord = () => {
    if (inWord) words.push(word);
    word = "";
    inWord = false;
  };
  const endCmd = () => {
    endWord();
    if (words.length > 0) cmds.push(words);
    words = [];
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "\\" && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (c === ";" || c === "\n") endCmd();
    else if (c === " " || c === "\t" || c === "\r") endWord();
    else {
      word += c;
      inWord = true;
    }
  }
  endCmd();
  return cmds;
}

/** Runs one command; returns its output (each line ending with "\n", or ""). */
function cliRun(ctx: CliCtx, words: string[]): string {
  let best: CliCmd | null = null;
  for (const cmd of COMMANDS) {
    if (cmd.kw.length > words.length) continue;
    if (!cmd.kw.every((k, i) => words[i] === k)) continue;
    if (best === null || cmd.kw.length > best.kw.length) best = cmd;
  }
  if (best === null) {
    return `Unknown command: '${
      words.slice(0, 3).join(" ")
    }'. Please enter 'help' for the list of commands.\n`;
  }
  try {
    return best.run(ctx, words.slice(best.kw.length));
  } catch (err) {
    // A target that throws (it should not) still gets one line, never a crash.
    const msg = errMsg(err);
    return `${msg.split("\n")[0]}\n`;
  }
}

// -- server lookup and values ------------------------------------------------

/** A server found by `backend/server` (names, or `#id` like HAProxy). */
interface SrvRef {
  be: AdminBeState;
  srv: AdminSrvInfo;
}

/** Finds `spec` (`backend/server`); returns the server or HAProxy's error text. */
function srvFind(state: AdminState, spec: string | undefined): SrvRef | string {
  const slash = spec === undefined ? -1 : spec.indexOf("/");
  if (spec === undefined || slash <= 0 || slash === spec.length - 1) {
    return "Require 'backend/server'.\n";
  }
  const bname = spec.slice(0, slash), sname = spec.slice(slash + 1);
  const nFe = state.frontends.length;
  const be = state.backends.find((b, i) => b.name === bname || bname === `#${nFe + i + 1}`);
  if (be === undefined) return "No such backend.\n";
  const srv = be.servers.find((s, i) => s.name === sname || sname === `#${i + 1}`);
  if (srv === undefined) return "No such server.\n";
  return { be, srv };
}

/**
 * A weight as HAProxy's `set weight` takes it: absolute 0..256, or `N%` of
 * the configured weight (capped at 256). Returns the weight or the error.
 */
export function parseWeight(text: string | undefined, iweight: number): number | string {
  if (text === undefined || text === "") return "Require <weight> or <weight%>.\n";
  const m = /^[+-]?\d+/.exec(text);
  if (m === null) return "Empty weight string empty or preceded by garbage.\n";
  let w = Number(m[0]);
  const rest = text.slice(m[0].length);
  if (rest === "%") {
    if (w < 0) return "Relative weight must be positive.\n";
    w = Math.min(256, Math.floor((iweight * Math.min(w, 25600)) / 100));
  } else if (w < 0 || w > 256) {
    return "Absolute weight can only be between 0 and 256 inclusive.\n";
  } else if (rest !== "") return "Trailing garbage in weight string.\n";
  return w;
}

/** A maxconn for `set maxconn server` (0: no limit). Returns it or the error. */
export function parseMaxconn(text: string | undefined): number | string {
  if (text === undefined || text === "") return "Require <maxconn>.\n";
  const m = /^[+-]?\d+/.exec(text);
  if (m === null) return "maxconn string empty or preceded by garbage.\n";
  if (text.length !== m[0].length) return "Trailing garbage in maxconn string.\n";
  const n = Number(m[0]);
  if (n < 0 || n > 0x7fffffff) return "maxconn must be between 0 (no limit) and 2147483647.\n";
  return n;
}

// -- commands ------------------------------------------------------------------

function cmdSetState(ctx: CliCtx, spec: string | undefined, state: AdminSrvState): string {
  const r = srvFind(ctx.target.state(), spec);
  if (typeof r === "string") return r;
  ctx.target.setServer(r.be.name, r.srv.name, { state });
  return "";
}

function cmdSetWeight(ctx: CliCtx, spec: string | undefined, text: string | undefined): string {
  const r = srvFind(ctx.target.state(), spec);
  if (typeof r === "string") return r;
  const w = parseWeight(text, r.srv.iweight);
  if (typeof w === "string") return w;
  ctx.target.setServer(r.be.name, r.srv.name, { weight: w });
  return "";
}

const COMMANDS: readonly CliCmd[] = [
  {
    kw: ["help"],
    usage: "help [<command>]",
    help: "list matching or all commands",
    run: (_ctx, args) => cliHelp(args),
  },
  {
    kw: ["prompt"],
    usage: "prompt",
    help: "toggle interactive mode with prompt",
    run(ctx) {
      ctx.cli.interactive = !ctx.cli.interactive;
      return "";
    },
  },
  {
    kw: ["quit"],
    usage: "quit",
    help: "disconnect",
    run(ctx) {
      ctx.cli.quit = true;
      return "";
    },
  },
  {
    kw: ["show", "info"],
    usage: "show info",
    help: "report information about the running process",
    run(ctx, args) {
      if (args.length > 0) return `Unsupported 'show info' option: '${args[0]}'.\n`;
      return formatInfo(ctx.target.info(), ctx.target.stats(), { now: ctx.now() });
    },
  },
  {
    kw: ["show", "stat"],
    usage: "show stat [<px> <type> <sid>] [up|no-maint]",
    help: "report counters for each proxy and server (CSV)",
    run(ctx, args) {
      const state = ctx.target.state();
      const f = parseStatArgs(args, state);
      if (typeof f === "string") return f;
      return formatCsv(ctx.target.stats(), state, f);
    },
  },
  {
    kw: ["show", "servers", "state"],
    usage: "show servers state [<backend>]",
    help: "dump volatile server information (all or for a single backend)",
    run(ctx, args) {
      return formatServersState(ctx.target.stats(), ctx.target.state(), { backend: args[0] });
    },
  },
  {
    kw: ["show", "sess"],
    usage: "show sess [<id>|all]",
    help: "report the list of current sessions",
    run: (ctx, args) => formatSess(ctx.target, args[0]),
  },
  {
    kw: ["show", "cache"],
    usage: "show cache",
    help: "show cache status",
    run: (ctx) =>
      ctx.target.cacheCommand?.("show", undefined) ??
        formatShowCache(ctx.target.caches?.() ?? new Map(), tickNow()),
  },
  {
    kw: ["clear", "cache"],
    usage: "clear cache [<name>]",
    help: "remove every object of one cache or all (sluice extension)",
    run: (ctx, args) =>
      ctx.target.cacheCommand?.("clear", args[0]) ??
        clearCache(ctx.target.caches?.() ?? new Map(), args[0]),
  },
  {
    kw: ["get", "weight"],
    usage: "get weight <bk>/<srv>",
    help: "report a server's current weight",
    run(ctx, args) {
      const r = srvFind(ctx.target.state(), args[0]);
      if (typeof r === "string") return r;
      return `${r.srv.weight} (initial ${r.srv.iweight})\n`;
    },
  },
  {
    kw: ["disable", "server"],
    usage: "disable server <bk>/<srv>",
    help: "put a server in maintenance (same as 'set server <bk>/<srv> state maint')",
    run: (ctx, args) => cmdSetState(ctx, args[0], "maint"),
  },
  {
    kw: ["enable", "server"],
    usage: "enable server <bk>/<srv>",
    help: "make a server ready (same as 'set server <bk>/<srv> state ready')",
    run: (ctx, args) => cmdSetState(ctx, args[0], "ready"),
  },
  {
    kw: ["set", "server"],
    usage: "set server <bk>/<srv> state|weight <value>",
    help: "change a server's admin state (ready|drain|maint) or weight (N or N%)",
    run(ctx, args) {
      const r = srvFind(ctx.target.state(), args[0]);
      if (typeof r === "string") return r;
      if (args[1] === "state") {
        const st = args[2];
        if (st !== "ready" && st !== "drain" && st !== "maint") {
          return "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n";
        }
        ctx.target.setServer(r.be.name, r.srv.name, { state: st });
        return "";
      }
      if (args[1] === "weight") return cmdSetWeight(ctx, args[0], args[2]);
      return "'set server <srv>' only supports 'state' and 'weight'.\n";
    },
  },
  {
    kw: ["set", "weight"],
    usage: "set weight <bk>/<srv> <weight>[%]",
    help: "change a server's weight (same as 'set server <bk>/<srv> weight')",
    run(ctx, args) {
      if (args.length < 2) return "Require <backend>/<server> and <weight> or <weight%>.\n";
      return cmdSetWeight(ctx, args[0], args[1]);
    },
  },
  {
    kw: ["set", "maxconn", "server"],
    usage: "set maxconn server <bk>/<srv> <maxconn>",
    help: "change a server's maxconn setting (0: no limit)",
    run(ctx, args) {
      const r = srvFind(ctx.target.state(), args[0]);
      if (typeof r === "string") return r;
      const n = parseMaxconn(args[1]);
      if (typeof n === "string") return n;
      ctx.target.setMaxconn(r.be.name, r.srv.name, n);
      return "";
    },
  },
  {
    kw: ["shutdown", "sessions", "server"],
    usage: "shutdown sessions server <bk>/<srv>",
    help: "kill sessions on a server",
    run(ctx, args) {
      const r = srvFind(ctx.target.state(), args[0]);
      if (typeof r === "string") return r;
      ctx.target.shutdownSessions(r.be.name, r.srv.name);
      return "";
    },
  },
  {
    kw: ["reopen", "logs"],
    usage: "reopen logs",
    help: "reopen the log file (after a rotation moved it)",
    run(ctx) {
      if (ctx.target.reopenLogs === undefined) return "Logs do not go to a file.\n";
      const err = ctx.target.reopenLogs();
      return err === null ? "" : `Cannot reopen the log file: ${err}\n`;
    },
  },
  ...SSL_COMMANDS,
];

function cliHelp(prefix: string[]): string {
  const cmds = COMMANDS.filter((c) => prefix.every((w, i) => i >= c.kw.length || c.kw[i] === w));
  const width = Math.max(...COMMANDS.map((c) => c.usage.length)) + 1;
  let out = "The following commands are valid at this level:\n";
  for (const c of [...cmds].sort((a, b) => a.usage < b.usage ? -1 : 1)) {
    out += `  ${c.usage.padEnd(width)}: ${c.help}\n`;
  }
  return out;
}

/** `show stat` arguments: `[<px> <type> <sid>]` and the `up`/`no-maint` flags. */
function parseStatArgs(args: string[], state: AdminState): CsvFilter | string {
  const f: CsvFilter = {};
  const pos: string[] = [];
  for (const a of args) {
    if (a === "up") f.up = true;
    else if (a === "no-maint") f.noMaint = true;
    else if (a === "typed" || a === "json" || a === "desc" || a === "domain") {
      return `Unsupported 'show stat' option: '${a}'.\n`;
    } else pos.push(a);
  }
  if (pos.length === 0) return f;
  if (pos.length !== 3) return "Require '<proxy> <type> <sid>' or no argument.\n";
  const [px, type, sid] = pos;
  if (!/^-?\d+$/.test(type) || !/^-?\d+$/.test(sid)) {
    return "Require '<proxy> <type> <sid>' or no argument.\n";
  }
  if (px !== "-1") {
    const names = [...state.frontends.map((p) => p.name), ...state.backends.map((p) => p.name)];
    if (names.includes(px)) f.proxy = px;
    else if (/^\d+$/.test(px) && Number(px) >= 1 && Number(px) <= names.length) {
      f.proxy = Number(px);
    } else return "No such proxy.\n";
  }
  f.types = Number(type);
  f.sid = Number(sid);
  return f;
}

// -- show info ---------------------------------------------------------------

/** HAProxy's uptime format: `0d 2h05m09s`. */
function fmtUptime(sec: number): string {
  const d = Math.floor(sec / 86400), h = Math.floor(sec / 3600) % 24;
  const m = Math.floor(sec / 60) % 60, s = sec % 60;
  return `${d}d ${h}h${String(m).padStart(2, "0")}m${String(s).padStart(2, "0")}s`;
}

/** `show info`: HAProxy's "Key: value" lines, those sluice can fill; `now` in ms (default: the clock). */
export function formatInfo(
  info: AdminInfo,
  stats: InstanceStats,
  opts: { now?: number } = {},
): string {
  const now = opts.now ?? Date.now();
  const up = Math.max(0, Math.floor((now - info.startTime) / 1000));
  let cumConns = 0, cumReq = 0, bytesOut = 0;
  for (const fe of stats.frontends) {
    cumConns += fe.stot + fe.dcon;
    cumReq += fe.req_tot;
    bytesOut += fe.bout;
  }
  const p = stats.pool;
  const mb = (bytes: number) => Math.floor(bytes / 1048576);
  const lines: [string, string | number][] = [
    ["Name", "sluice"],
    ["Version", VERSION],
    ["Nbthread", info.nbthread ?? 1],
    ["Nbproc", 1],
    ["Process_num", 1],
    ["Pid", info.pid],
    ["Uptime", fmtUptime(up)],
    ["Uptime_sec", up],
    ["Memmax_MB", 0],
    ["PoolAlloc_MB", mb(p.allocated * p.size)],
    ["PoolUsed_MB", mb(p.inUse * p.size)],
    ["PoolFailed", 0],
    ["Maxconn", info.maxconn],
    ["Hard_maxconn", info.maxconn],
    ["CurrConns", stats.actconn],
    ["CumConns", cumConns],
    ["CumReq", cumReq],
    ["Tasks", stats.sched.queued + stats.sched.timers],
    ["Run_queue", stats.sched.queued],
  ];
  if (info.node !== "") lines.push(["node", info.node]);
  lines.push(
    ["Stopping", info.stopping ? 1 : 0],
    ["Listeners", info.listeners],
    ["DroppedLogs", stats.log.dropped],
    ["TotalBytesOut", bytesOut],
    ["PoolAlloc_bytes", p.allocated * p.size],
    ["PoolUsed_bytes", p.inUse * p.size],
    ["Start_time_sec", Math.floor(info.startTime / 1000)],
  );
  // sluice's own: each worker's resource-limit flags, and replaced workers.
  if (info.threads !== undefined) {
    info.threads.flags.forEach((f, i) => lines.push([`Thread_${i + 1}_limits`, f.join(" ")]));
    lines.push(["Thread_restarts", info.threads.restarts]);
  }
  return lines.map(([k, v]) => `${k}: ${v}\n`).join("");
}

// -- show servers state --------------------------------------------------------

/** HAProxy's `show servers state` version 1 columns. */
export const SERVERS_STATE_FIELDS: readonly string[] = [
  "be_id",
  "be_name",
  "srv_id",
  "srv_name",
  "srv_addr",
  "srv_op_state",
  "srv_admin_state",
  "srv_uweight",
  "srv_iweight",
  "srv_time_since_last_change",
  "srv_check_status",
  "srv_check_result",
  "srv_check_health",
  "srv_check_state",
  "srv_agent_state",
  "bk_f_forced_id",
  "srv_f_forced_id",
  "srv_fqdn",
  "srv_port",
  "srvrecord",
  "srv_use_ssl",
  "srv_check_port",
  "srv_check_addr",
  "srv_agent_addr",
  "srv_agent_port",
];

/** HAProxy's HCHK_STATUS_* numbers for sluice's check codes. */
const HCHK_STATUS: Record<string, number> = {
  INI: 1,
  HANA: 4,
  SOCKERR: 5,
  L4OK: 6,
  L4TOUT: 7,
  L4CON: 8,
  L6OK: 9,
  L6TOUT: 10,
  L6RSP: 11,
  L7TOUT: 12,
  L7RSP: 13,
  L7OK: 15,
  L7OKC: 16,
  L7STS: 17,
};

/** HAProxy's SRV_ADMF_* bits: forced maintenance and forced drain. */
const SRV_ADMF_FMAINT = 0x01, SRV_ADMF_FDRAIN = 0x08;
/** HAProxy's SRV_ST_*: stopped, starting (slowstart), running. */
const SRV_ST_STOPPED = 0, SRV_ST_STARTING = 1, SRV_ST_RUNNING = 2;
/** HAProxy's CHK_ST_CONFIGURED | CHK_ST_ENABLED. */
const CHK_ST_ON = 0x06;
/** HAProxy's CHK_RES_*: unknown, failed, passed. */
const CHK_RES_UNKNOWN = 0, CHK_RES_FAILED = 2, CHK_RES_PASSED = 3;

/** A word for a space-separated line: never empty, no spaces. */
function word(s: string): string {
  return s === "" ? "-" : s.replace(/\s/g, "_");
}

/**
 * `show servers state [<backend>]`: the format version ("1"), the header
 * and one line per server (of `opts.backend` only, when given). Counters
 * come from `stats`, state from `state`.
 */
export function formatServersState(
  stats: InstanceStats,
  state: AdminState,
  opts: { backend?: string } = {},
): string {
  const backend = opts.backend;
  const nFe = state.frontends.length;
  const bes = backend === undefined
    ? state.backends
    : state.backends.filter((b) => b.name === backend);
  if (bes.length === 0 && backend !== undefined) return "Can't find backend.\n";
  let out = "1\n# " + SERVERS_STATE_FIELDS.join(" ") + "\n";
  for (const be of bes) {
    const beId = nFe + state.backends.indexOf(be) + 1;
    const bs = stats.backends.find((b) => b.name === be.name);
    be.servers.forEach((srv, i) => {
      const ss: ServerStats | undefined = bs?.servers.find((s) => s.name === srv.name);
      const checked = srv.check !== null && ss !== undefined && ss.check_health >= 0;
      const ramping = ss !== undefined && ss.eweight < ss.weight;
      const op = srv.admin === "maint" || !srv.up
        ? SRV_ST_STOPPED
        : ramping
        ? SRV_ST_STARTING
        : SRV_ST_RUNNING;
      const admin = srv.admin === "maint"
        ? SRV_ADMF_FMAINT
        : srv.admin === "drain"
        ? SRV_ADMF_FDRAIN
        : 0;
      const code = checked ? ss!.check_status : "";
      const result = !checked || code === "INI" || code === ""
        ? CHK_RES_UNKNOWN
        : code.endsWith("OK") || code === "L7OKC"
        ? CHK_RES_PASSED
        : CHK_RES_FAILED;
      const row: (string | number)[] = [
        beId,
        word(be.name),
        i + 1,
        word(srv.name),
        word(srv.addr),
        op,
        admin,
        srv.weight,
        srv.iweight,
        srv.lastChangeSec,
        checked ? HCHK_STATUS[code] ?? 0 : 0,
        result,
        checked ? ss!.check_health : 0,
        checked ? CHK_ST_ON : 0,
        0,
        0,
        0,
        "-",
        srv.port,
        "-",
        srv.tls ? 1 : 0,
        srv.check?.port ?? 0,
        "-",
        "-",
        0,
      ];
      out += row.join(" ") + "\n";
    });
  }
  return out;
}

// -- show sess -------------------------------------------------------------------

/** HAProxy's short human duration: `5s`, `2m05s`, `3h07m`, `2d04h`. */
function fmtAge(ms: number): string {
  const t = Math.max(0, Math.floor(ms / 1000));
  const p2 = (n: number) => String(n).padStart(2, "0");
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${p2(t % 60)}s`;
  if (t < 86400) return `${Math.floor(t / 3600)}h${p2(Math.floor(t / 60) % 60)}m`;
  return `${Math.floor(t / 86400)}d${p2(Math.floor(t / 3600) % 24)}h`;
}

/**
 * `show sess [<id>|all]`: one line per live stream when the target lists
 * them; otherwise (no `sessions()`) the current count per frontend, said so.
 */
function formatSess(target: AdminTarget, which: string | undefined): string {
  if (target.sessions === undefined) {
    let out = "# per-session details are not available; current sessions per frontend:\n";
    for (const fe of target.stats().frontends) out += `${fe.name}: ${fe.scur}\n`;
    return out;
  }
  let list = target.sessions();
  if (which !== undefined && which !== "all") {
    const id = /^(0x)?[0-9a-fA-F]+$/.test(which) ? parseInt(which.replace(/^0x/, ""), 16) : NaN;
    list = list.filter((s) => s.id === id);
    if (list.length === 0) return "Session not found.\n";
  }
  let out = "";
  for (const s of list) {
    out += `0x${s.id.toString(16)}: proto=${word(s.proto)} src=${word(s.src)} fe=${
      word(s.frontend)
    } be=${s.backend === "" ? "<NONE>" : word(s.backend)} srv=${
      s.server === "" ? "<none>" : word(s.server)
    } age=${fmtAge(s.ageMs)}\n`;
  }
  return out;
}
