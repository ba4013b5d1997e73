/**
 * Command-line flags: a shorthand that builds the same configuration object
 * as a configuration file. The flags are the rows of CLI_FLAGS
 * (cli_flags.ts), which also make `--help`. Errors are SluiceErrors
 * (ERR_USAGE, ERR_ADDRESS, ERR_DURATION, ERR_TLS) with one-line messages for
 * the CLI to print; warnings (accepted values that likely mean something
 * else) go to `opts.warn`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { errMsg, SluiceError } from "../core/errors.ts";
import { parseAddress } from "./address.ts";
import type {
  BalanceAlgo,
  BindConfig,
  CheckConfig,
  CookieConfig,
  GlobalConfig,
  HttpFrontendConfig,
  ProxyMode,
  ServerConfig,
  SluiceConfig,
  TimeoutsConfig,
} from "./config_types.ts";
import { parseDuration } from "./duration.ts";
import { lbAlgoDef, lbAlgoExpected, parseBalance } from "../lb/lb_algos.ts";
import { CLI_FLAGS, type CliFlagDef, cliSuggest, cliUsage, DEMO_LISTEN } from "./cli_flags.ts";
import { MAX_THREADS } from "./config_check.ts";

/** How the process runs, whatever it runs: `-p` and `-V`, set only when given. */
export interface CliProcess {
  /** `-p FILE`: the pidfile, instead of the configuration's. */
  pidfile?: string;
  /** `-V`: print the files read and the sections loaded. */
  verbose?: true;
  /** `--threads N`: worker threads, instead of the configuration's `nbthread` and the default (cores). */
  threads?: number;
}

/** What the command line asks for. */
export type CliAction =
  | { kind: "help" }
  /** `build` for `-vv`. */
  | { kind: "version"; build?: true }
  | ({ kind: "run"; config: SluiceConfig } & CliProcess)
  | ({ kind: "check"; config: SluiceConfig } & CliProcess)
  /** `-f`: the files (or directories) to load, run or only check (`-c`). */
  | ({ kind: "load"; files: string[]; check: boolean } & CliProcess)
  | ({ kind: "demo"; config: SluiceConfig; listen: string; mode: "http" | "tcp" } & CliProcess);

/** Options of parseCli(). */
export interface CliOptions {
  /**
   * Receives each warning: a value that is accepted but likely not what was
   * meant (`--timeout client=30` is 30 ms). Default: warnings are dropped.
   */
  warn?: (message: string) => void;
}

/** The usage text of `--help`. */
export const USAGE: string = cliUsage();

function usage(msg: string): SluiceError {
  return new SluiceError("ERR_USAGE", msg);
}

function count(flag: string, text: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(text)) {
    throw usage(`Invalid value "${text}" for --${flag}: expected an integer`);
  }
  const n = Number(text);
  if (n < min || n > max) {
    throw usage(`Invalid value "${text}" for --${flag}: expected ${min} to ${max}`);
  }
  return n;
}

/** A duration flag's value in ms; a bad one is an ERR_DURATION naming the flag. */
function duration(flag: string, value: string, text: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new SluiceError("ERR_DURATION", `Invalid value "${text}" for --${flag}: ${errMsg(err)}`);
  }
}

const TIMEOUT_NAMES: Record<string, keyof TimeoutsConfig> = {
  connect: "connect",
  client: "client",
  server: "server",
  tunnel: "tunnel",
  queue: "queue",
  "http-request": "httpRequest",
  "http-keep-alive": "httpKeepAlive",
};

/** Reads a PEM file for a flag; unreadable files are ERR_TLS errors. */
export function readPem(flag: string, path: string): string {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    const why = errMsg(err);
    throw new SluiceError("ERR_TLS", `Cannot read --${flag} file "${path}": ${why}`);
  }
  if (!text.includes("-----BEGIN ")) {
    throw new SluiceError("ERR_TLS", `Cannot use --${flag} file "${path}": not a PEM file`);
  }
  return text;
}

/** HAProxy's flags of several letters (`-Ws`, `-sf PID...`) as the `--name` of their rows. */
function cliSpellings(args: readonly string[]): string[] {
  const rows = (Object.entries(CLI_FLAGS) as [string, CliFlagDef][])
    .filter(([, d]) => d.spelling !== undefined);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const row = rows.find(([, d]) => d.spelling === args[i]);
    if (row === undefined) {
      out.push(args[i]);
      continue;
    }
    const [name, def] = row;
    if (def.type === "boolean") {
      out.push(`--${name}`);
      continue;
    }
    // The values are the words up to the next flag (HAProxy's PID lists); none is a value too.
    const start = out.length;
    while (i + 1 < args.length && !args[i + 1].startsWith("-")) out.push(`--${name}=${args[++i]}`);
    if (out.length === start) out.push(`--${name}=`);
  }
  return out;
}

/** The flags as parseArgs gives them: values by name, and the tokens in order. */
function cliArgsParse(args: string[]) {
  try {
    return parseArgs({
      // "--redispatch -1": a negative number is a value, not a flag.
      args: args.map((a, i) => args[i - 1] === "--redispatch" && /^-[0-9]+$/.test(a) ? "=" + a : a)
        .reduce<string[]>((out, a) => {
          if (a.startsWith("=-")) out[out.length - 1] += a;
          else out.push(a);
          return out;
        }, []),
      options: CLI_FLAGS,
      strict: true,
      allowPositionals: false,
      tokens: true,
    });
  } catch (err) {
    // node:util messages are long and multi-line; keep the first sentence.
    const msg = errMsg(err).split("\n")[0].replace(/\. To specify.*$/, "").replace(/\.$/, "");
    const unknown = /^Unknown option '(--[^']+)'$/.exec(msg);
    const guess = unknown === null ? null : cliSuggest(unknown[1]);
    throw usage(guess === null ? msg : `${msg} (did you mean ${guess}?)`);
  }
}

type CliParsed = ReturnType<typeof cliArgsParse>;
type CliValues = CliParsed["values"];

/**
 * `-f FILE...` (with `-c`): the files say everything, only the flags that
 * build no configuration may come with them. They are read by the caller
 * (loadConfigFiles()), which reports every error of every file.
 */
function configFileAction(parsed: CliParsed, files: string[], proc: CliProcess): CliAction {
  // A configuration file says everything: flags that build one would be
  // a second, conflicting source.
  const mixed = parsed.tokens.find((t) =>
    t.kind === "option" && !(CLI_FLAGS[t.name as keyof typeof CLI_FLAGS] as CliFlagDef).withFile
  );
  if (mixed !== undefined && mixed.kind === "option") {
    throw usage(`--${mixed.name} cannot be combined with -f (put it in the configuration file)`);
  }
  return { kind: "load", files, check: parsed.values.check === true, ...proc };
}

/**
 * `-p`, `-V`, and HAProxy's process flags: each of these says what sluice
 * does instead (on `warn`), `-sf`/`-st` with process ids are refused, as
 * going on would start a second sluice next to the one to replace.
 */
function processOf(parsed: CliParsed, warn: (message: string) => void): CliProcess {
  const v = parsed.values;
  for (const [name, def] of Object.entries(CLI_FLAGS) as [string, CliFlagDef][]) {
    if (def.instead === undefined || v[name as keyof CliValues] === undefined) continue;
    const flag = def.spelling ?? `-${def.short}`;
    if (def.type === "boolean") {
      warn(`${flag}: ${def.instead}`);
      continue;
    }
    const pids = (v[name as keyof CliValues] as string[]).filter((p) => p !== "");
    const bad = pids.find((p) => !/^[0-9]+$/.test(p));
    if (bad !== undefined) throw usage(`Invalid value "${bad}" for ${flag}: expected process ids`);
    if (pids.length > 0) {
      const list = pids.join(" ");
      throw usage(
        `${flag} ${list}: ${def.instead}: send SIGHUP (or SIGUSR2) to ${list} ` +
          `(kill -HUP ${list}); it re-reads its files and keeps its listeners, dropping no ` +
          "connection. Nothing was started",
      );
    }
    warn(
      `${flag} without a process id: nothing to replace, starting (${def.instead}: to ` +
        "reload it, send it SIGHUP or SIGUSR2)",
    );
  }
  const proc: CliProcess = {};
  if (v.pidfile !== undefined) {
    if (v.pidfile === "") throw usage('Invalid value "" for -p: expected a file name');
    proc.pidfile = v.pidfile;
  }
  if (v.verbose) proc.verbose = true;
  if (v.threads !== undefined) proc.threads = count("threads", v.threads, 1, MAX_THREADS);
  return proc;
}

/** `--mode`: http (default) or tcp. */
function modeOf(text: string | undefined): ProxyMode {
  const mode = text ?? "http";
  if (mode !== "tcp" && mode !== "http") {
    throw usage(`Invalid value "${mode}" for --mode: expected http or tcp`);
  }
  return mode;
}

/** `--http-reuse`: one of HAProxy's four modes, or undefined (the default, safe). */
function httpReuseOf(
  text: string | undefined,
): "never" | "safe" | "aggressive" | "always" | undefined {
  if (text === undefined) return undefined;
  if (text === "never" || text === "safe" || text === "aggressive" || text === "always") {
    return text;
  }
  throw usage(
    `Invalid value "${text}" for --http-reuse: expected never, safe, aggressive or always`,
  );
}

/** `--balance`: a row of LB_ALGOS (roundrobin by default), and whether it needs http mode. */
function balanceOf(text: string | undefined): { balance: BalanceAlgo; httpOnly: boolean } {
  const balance = (text ?? "roundrobin") as BalanceAlgo;
  const spec = parseBalance(balance);
  if (typeof spec === "string") {
    throw usage(`Invalid value "${balance}" for --balance: expected ${lbAlgoExpected()}`);
  }
  return { balance, httpOnly: lbAlgoDef(spec.algo)!.http };
}

/** `--listen`, with the `--tls-cert`/`--tls-key`/`--accept-proxy` that follow each. */
function bindsOf(tokens: CliParsed["tokens"]): BindConfig[] {
  const binds: BindConfig[] = [];
  const certs = new Map<number, { cert?: string; key?: string }>();
  for (const tok of tokens) {
    if (tok.kind !== "option") continue;
    if (tok.name === "listen") {
      const text = tok.value!;
      parseAddress(text, { port0: true });
      binds.push({ address: text });
    } else if (tok.name === "accept-proxy") {
      if (binds.length === 0) throw usage("--accept-proxy must follow the --listen it applies to");
      binds[binds.length - 1].acceptProxy = true;
    } else if (tok.name === "tls-cert" || tok.name === "tls-key") {
      if (binds.length === 0) throw usage(`--${tok.name} must follow the --listen it applies to`);
      const entry = certs.get(binds.length - 1) ?? {};
      const which = tok.name === "tls-cert" ? "cert" : "key";
      if (entry[which] !== undefined) throw usage(`--${tok.name} given twice for one --listen`);
      entry[which] = readPem(tok.name, tok.value!);
      certs.set(binds.length - 1, entry);
    }
  }
  for (const [i, { cert, key }] of certs) {
    if (cert === undefined) {
      throw usage(`--tls-key without --tls-cert for --listen ${binds[i].address}`);
    }
    if (key === undefined) {
      throw usage(`--tls-cert without --tls-key for --listen ${binds[i].address}`);
    }
    if (binds[i].address.startsWith("unix:")) {
      throw usage(`TLS on a unix socket is not supported: --listen ${binds[i].address}`);
    }
    binds[i].tls = { cert, key };
  }
  return binds;
}

/** `--server` (named srv1, srv2… unless name=), with `--tls-ca/-sni/-verify` for tls:// ones. */
function serversOf(v: CliValues): ServerConfig[] {
  const ca = (v["tls-ca"] ?? []).map((f) => readPem("tls-ca", f));
  const verify = v["tls-verify"] ?? "required";
  if (verify !== "required" && verify !== "none") {
    throw usage(`Invalid value "${verify}" for --tls-verify: expected required or none`);
  }
  return (v.server ?? []).map((spec, i) => {
    const [text, ...opts] = spec.split(",");
    const { tls } = parseAddress(text, { tls: true });
    const srv: ServerConfig = { name: `srv${i + 1}`, address: text };
    serverOptions(spec, srv, opts);
    if (tls) {
      srv.tls = {};
      if (ca.length > 0) srv.tls.ca = ca;
      if (v["tls-sni"] !== undefined) srv.tls.sni = v["tls-sni"];
      if (verify === "none") srv.tls.verify = "none";
    }
    return srv;
  });
}

/**
 * `--timeout NAME=DURATION`, repeatable (the last of a name wins); `check`
 * is the health checks' own. A value without a unit under 100 is accepted as
 * milliseconds with a warning, as HAProxy warns (`client=30` is 30 ms).
 */
function timeoutsOf(
  list: readonly string[],
  warn: (message: string) => void,
): { timeouts: TimeoutsConfig; check: number | undefined } {
  const timeouts: TimeoutsConfig = {};
  let check: number | undefined;
  for (const t of list) {
    const eq = t.indexOf("=");
    const name = eq < 0 ? t : t.slice(0, eq);
    const key = TIMEOUT_NAMES[name];
    if (eq < 0 || (key === undefined && name !== "check")) {
      throw usage(
        `Invalid value "${t}" for --timeout: expected NAME=DURATION with NAME one of ${
          [...Object.keys(TIMEOUT_NAMES), "check"].join(", ")
        }`,
      );
    }
    const value = t.slice(eq + 1);
    const ms = duration("timeout", value, t);
    if (/^[0-9]+$/.test(value) && ms > 0 && ms < 100) {
      warn(
        `--timeout ${t} is ${ms} ms (a duration without a unit is in milliseconds): write ` +
          `"${name}=${value}ms" if that is meant, or a unit such as "${name}=${value}s"`,
      );
    }
    if (key === undefined) check = ms;
    else timeouts[key] = ms;
  }
  return { timeouts, check };
}

/** `--log TARGET`: stdout (default), stderr, none, file:PATH, syslog:HOST:PORT, syslog:/PATH. */
function logTargetOf(text: string | undefined): NonNullable<GlobalConfig["log"]>["target"] {
  const logText = text ?? "stdout";
  if (logText === "stdout" || logText === "stderr" || logText === "none") return logText;
  if (logText.startsWith("file:") && logText.length > 5) return { file: logText.slice(5) };
  if (logText.startsWith("syslog:") && !logText.startsWith("syslog:unix@")) {
    // syslog:/PATH is short for syslog:unix:/PATH (a host:port never starts
    // with "/"); HAProxy's unix@/PATH gets the usage message below.
    const addr = logText.startsWith("syslog:/") ? `unix:${logText.slice(7)}` : logText.slice(7);
    parseAddress(addr, {});
    return { syslog: addr };
  }
  throw usage(
    `Invalid value "${logText}" for --log: expected stdout, stderr, none, file:PATH, syslog:HOST:PORT or syslog:/PATH`,
  );
}

/** The process-wide flags: limits, buffers, grace, logs, HTTP limits. */
function globalOf(v: CliValues, mode: ProxyMode): GlobalConfig {
  const global: GlobalConfig = {};
  if (v.maxconn !== undefined) global.maxconn = count("maxconn", v.maxconn, 1, 1_000_000);
  if (v.grace !== undefined) global.graceMs = duration("grace", v.grace, v.grace);
  if (v.bufsize !== undefined) global.bufsize = count("bufsize", v.bufsize, 1024, 1 << 20);
  if (v.buffers !== undefined) global.buffers = count("buffers", v.buffers, 2, 1 << 24);
  if (v.io !== undefined) {
    if (v.io !== "node" && v.io !== "ffi") {
      throw usage(`Invalid value "${v.io}" for --io: expected node or ffi`);
    }
    global.io = v.io;
  }
  const target = logTargetOf(v.log);
  const format = v["log-format"] ?? (mode === "http" ? "httplog" : "tcplog");
  if (format !== "tcplog" && format !== "httplog" && format !== "json") {
    throw usage(`Invalid value "${format}" for --log-format: expected tcplog, httplog or json`);
  }
  if (v.maxhdr !== undefined) global.maxHdrs = count("maxhdr", v.maxhdr, 1, 10_000);
  if (v["max-body"] !== undefined) {
    global.maxBody = count("max-body", v["max-body"], 0, Number.MAX_SAFE_INTEGER);
  }
  global.log = { target, format };
  return global;
}

/** The HTTP frontend flags (http mode): X-Forwarded-*, Forwarded, `--errorfile`. */
function httpOf(v: CliValues, mode: ProxyMode): HttpFrontendConfig | undefined {
  const http: HttpFrontendConfig | undefined = mode === "http"
    ? {
      forwardFor: !v["no-forwardfor"],
      forwardedProto: !v["no-forwardfor"],
      forwarded: v.forwarded === true,
      errorFiles: {},
    }
    : undefined;
  for (const e of v.errorfile ?? []) {
    const eq = e.indexOf("=");
    const code = Number(e.slice(0, eq));
    if (eq < 0 || !Number.isInteger(code)) {
      throw usage(`Invalid value "${e}" for --errorfile: expected CODE=FILE`);
    }
    if (http === undefined) throw usage("--errorfile needs --mode http");
    try {
      http.errorFiles![code] = Deno.readFileSync(e.slice(eq + 1));
    } catch (err) {
      throw usage(`Cannot read --errorfile "${e.slice(eq + 1)}": ${errMsg(err)}`);
    }
  }
  return http;
}

/** `--admin-socket` and `--stats` with its `--stats-auth` and `--stats-allow`. */
function managementOf(v: CliValues, global: GlobalConfig): void {
  if (v["admin-socket"] !== undefined) global.adminSocket = { path: v["admin-socket"] };
  if (v.stats !== undefined) {
    parseAddress(v.stats, { port0: true });
    global.stats = { address: v.stats };
    if (v["stats-auth"] !== undefined) global.stats.auth = v["stats-auth"];
    if (v["stats-allow"] !== undefined) global.stats.allow = v["stats-allow"];
  } else if (v["stats-auth"] !== undefined || v["stats-allow"] !== undefined) {
    throw usage("--stats-auth and --stats-allow need --stats ADDR");
  }
}

/**
 * Parses the command line into an action. Throws SluiceError on bad input,
 * checking the flags in the order `--help` groups them; `opts.warn` gets
 * the warnings.
 */
export function parseCli(args: string[], opts: CliOptions = {}): CliAction {
  const parsed = cliArgsParse(cliSpellings(args));
  const v = parsed.values;
  if (v.help) return { kind: "help" };
  if (v.version) {
    const times = parsed.tokens.filter((t) => t.kind === "option" && t.name === "version").length;
    return times > 1 ? { kind: "version", build: true } : { kind: "version" };
  }
  const proc = processOf(parsed, opts.warn ?? (() => {}));
  if (v.config !== undefined) return configFileAction(parsed, v.config, proc);

  const mode = modeOf(v.mode);
  const { balance, httpOnly } = balanceOf(v.balance);
  const binds = bindsOf(parsed.tokens);
  const servers = serversOf(v);
  const { timeouts, check } = timeoutsOf(v.timeout ?? [], opts.warn ?? (() => {}));
  const global = globalOf(v, mode);
  const http = httpOf(v, mode);
  managementOf(v, global);
  const retries = v.retries === undefined ? undefined : count("retries", v.retries, 0, 100);

  checkOptions(v, servers, check);
  const redispatch = v.redispatch === undefined ? undefined : redispatchValue(v.redispatch);
  const cookie = v.cookie === undefined ? undefined : cookieOption(v.cookie);
  if (cookie !== undefined && mode !== "http") throw usage("--cookie needs --mode http");
  const httpReuse = httpReuseOf(v["http-reuse"]);
  if (httpReuse !== undefined && mode !== "http") throw usage("--http-reuse needs --mode http");
  if (httpOnly && mode !== "http") {
    throw usage(`--balance ${balance} needs --mode http`);
  }

  const staticDir = v.static;
  if (staticDir !== undefined) {
    if (servers.length > 0) throw usage("--static serves files in place of --server: not both");
    if (mode !== "http") throw usage("--static needs --mode http");
  }
  const demo = binds.length === 0 && servers.length === 0 && staticDir === undefined;
  if (!demo) {
    if (binds.length === 0) throw usage("At least one --listen is needed");
    if (servers.length === 0 && staticDir === undefined) {
      throw usage("At least one --server is needed");
    }
  }
  const config: SluiceConfig = {
    global,
    frontends: [{
      name: "main",
      mode,
      binds: demo ? [{ address: DEMO_LISTEN }] : binds,
      maxconn: global.maxconn,
      timeouts: {
        client: timeouts.client,
        httpRequest: timeouts.httpRequest,
        httpKeepAlive: timeouts.httpKeepAlive,
      },
      http,
      defaultBackend: "app",
    }],
    backends: [{
      name: "app",
      mode,
      balance,
      retries,
      redispatch,
      httpReuse,
      cookie,
      stickSource: v["stick-source"] ? {} : undefined,
      timeouts: {
        connect: timeouts.connect,
        server: timeouts.server,
        tunnel: timeouts.tunnel,
        queue: timeouts.queue,
      },
      servers,
      ...(staticDir === undefined ? {} : { static: { root: staticDir } }),
    }],
  };
  if (v.check) {
    if (demo) throw usage("--check needs -f FILE, or --listen and --server");
    return { kind: "check", config, ...proc };
  }
  return demo
    ? { kind: "demo", config, listen: DEMO_LISTEN, mode, ...proc }
    : { kind: "run", config, ...proc };
}

/** Check settings given inline on a --server, applied once --httpchk etc. are known. */
const pendingChecks = new WeakMap<ServerConfig, CheckConfig>();

/** `--server ADDR,weight=3,maxconn=10,backup,check,inter=1s`: the options after the address. */
function serverOptions(spec: string, srv: ServerConfig, opts: string[]): void {
  const bad = (o: string, why: string) =>
    usage(`Invalid option "${o}" in --server ${spec}: ${why}`);
  const chk: CheckConfig = {};
  let checked = false;
  for (const o of opts) {
    const eq = o.indexOf("=");
    const k = eq < 0 ? o : o.slice(0, eq);
    const val = eq < 0 ? "" : o.slice(eq + 1);
    const int = (min: number, max: number) => {
      if (!/^[0-9]+$/.test(val) || Number(val) < min || Number(val) > max) {
        throw bad(o, `expected an integer from ${min} to ${max}`);
      }
      return Number(val);
    };
    const dur = () => {
      try {
        return parseDuration(val);
      } catch (err) {
        throw bad(o, errMsg(err));
      }
    };
    switch (k) {
      case "name":
        if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(val)) throw bad(o, "expected a name");
        srv.name = val;
        break;
      case "weight":
        srv.weight = int(0, 256);
        break;
      case "maxconn":
        srv.maxconn = int(0, 1_000_000);
        break;
      case "maxqueue":
        srv.maxqueue = int(0, 1_000_000);
        break;
      case "backup":
        srv.backup = true;
        break;
      case "send-proxy":
        srv.sendProxy = "v1";
        break;
      case "send-proxy-v2":
        srv.sendProxy = "v2";
        break;
      case "slowstart":
        srv.slowstart = dur();
        break;
      case "drain":
        srv.state = "drain";
        break;
      case "maint":
      case "disabled":
        srv.state = "maint";
        break;
      case "cookie":
        srv.cookie = val;
        break;
      case "check":
        checked = true;
        break;
      case "inter":
        chk.inter = dur();
        break;
      case "fastinter":
        chk.fastinter = dur();
        break;
      case "downinter":
        chk.downinter = dur();
        break;
      case "rise":
        chk.rise = int(1, 1000);
        break;
      case "fall":
        chk.fall = int(1, 1000);
        break;
      case "port":
        chk.port = int(1, 65535);
        break;
      case "observe":
        if (val !== "layer4" && val !== "layer7") throw bad(o, "expected layer4 or layer7");
        srv.observe = { ...srv.observe, mode: val };
        break;
      case "error-limit":
        srv.observe = { mode: "layer4", ...srv.observe, errorLimit: int(1, 100_000) };
        break;
      case "on-error":
        if (val !== "fail-check" && val !== "fastinter" && val !== "mark-down") {
          throw bad(o, "expected fail-check, fastinter or mark-down");
        }
        srv.observe = { mode: "layer4", ...srv.observe, onError: val };
        break;
      default:
        throw bad(o, "unknown option");
    }
  }
  if (checked) pendingChecks.set(srv, chk);
  else if (Object.keys(chk).length > 0) {
    throw usage(`Check options in --server ${spec} need "check"`);
  }
}

/** Applies --httpchk, --http-check-* and --timeout check to the servers with "check". */
function checkOptions(
  v: {
    httpchk?: string;
    "http-check-expect"?: string;
    "http-check-host"?: string;
  },
  servers: ServerConfig[],
  timeout: number | undefined,
): void {
  let http: CheckConfig["http"] | undefined;
  if (v.httpchk !== undefined) {
    const parts = v.httpchk.trim().split(/\s+/);
    if (parts.length > 2 || parts[0] === "") {
      throw usage(`Invalid value "${v.httpchk}" for --httpchk: expected [METHOD] PATH`);
    }
    http = parts.length === 2 ? { method: parts[0], path: parts[1] } : { path: parts[0] };
  }
  const expect = v["http-check-expect"];
  if (expect !== undefined) {
    http ??= {};
    const m = /^(status|string)\s+(.+)$/.exec(expect.trim());
    const range = m?.[1] === "status" ? /^([0-9]{3})(?:-([0-9]{3}))?$/.exec(m[2]) : null;
    if (m === null || (m[1] === "status" && range === null)) {
      throw usage(
        `Invalid value "${expect}" for --http-check-expect: expected "status CODE", "status LOW-HIGH" or "string TEXT"`,
      );
    }
    if (range !== null) {
      http.expectStatus = [Number(range[1]), Number(range[2] ?? range[1])];
    } else http.expectString = m[2];
  }
  if (v["http-check-host"] !== undefined) (http ??= {}).host = v["http-check-host"];
  let any = false;
  for (const s of servers) {
    const chk = pendingChecks.get(s);
    if (chk === undefined) continue;
    any = true;
    if (http !== undefined) {
      chk.type = "http";
      chk.http = http;
    }
    if (timeout !== undefined) chk.timeout = timeout;
    s.check = chk;
  }
  if (!any && (http !== undefined || timeout !== undefined)) {
    throw usage('Health check flags need at least one --server with the "check" option');
  }
  for (const s of servers) {
    if (s.observe !== undefined && s.check === undefined) {
      throw usage(`observe needs check on --server ${s.address}`);
    }
  }
}

function redispatchValue(text: string): number {
  if (!/^-?[0-9]+$/.test(text) || Number(text) < -1 || Number(text) > 100) {
    throw usage(`Invalid value "${text}" for --redispatch: expected -1, 0 or 1 to 100`);
  }
  return Number(text);
}

/** `--cookie NAME[,insert|prefix][,indirect][,nocache]`. */
function cookieOption(text: string): CookieConfig {
  const [name, ...opts] = text.split(",");
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    throw usage(
      `Invalid value "${text}" for --cookie: expected NAME[,insert|prefix][,indirect][,nocache]`,
    );
  }
  const c: CookieConfig = { name, mode: "insert" };
  for (const o of opts) {
    if (o === "insert" || o === "prefix") c.mode = o;
    else if (o === "indirect") c.indirect = true;
    else if (o === "nocache") c.nocache = true;
    else {throw usage(
        `Invalid option "${o}" in --cookie ${text}: expected insert, prefix, indirect or nocache`,
      );}
  }
  return c;
}
