/**
 * Command-line flags: a shorthand that builds the same configuration object
 * as a configuration file. Errors are SluiceErrors (ERR_USAGE, ERR_ADDRESS,
 * ERR_DURATION, ERR_TLS) with one-line messages for the CLI to print.
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
  HttpFrontendConfig,
  ServerConfig,
  SluiceConfig,
  TimeoutsConfig,
} from "./config_types.ts";
import { parseDuration } from "./duration.ts";
import { parseConfigFiles } from "./cfg_parser.ts";
import { lbAlgoDef, lbAlgoExpected, lbAlgoSyntaxes, parseBalance } from "../lb/lb_algos.ts";

/** What the command line asks for. */
export type CliAction =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "run"; config: SluiceConfig; files?: string[] }
  | { kind: "check"; config: SluiceConfig; files: string[] }
  | { kind: "demo"; config: SluiceConfig; listen: string; mode: "http" | "tcp" };

/** Address the demo listens on. */
export const DEMO_LISTEN = "127.0.0.1:8080";

/** `text` in lines of at most `width` characters, the lines after the first indented by `indent`. */
function wrap(text: string, width: number, indent: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.join(`\n${" ".repeat(indent)}`);
}

/** The usage text of `--help`. */
export const USAGE = `Usage: sluice [flags]

A reverse proxy and load balancer: HTTP/1.1 (default) or TCP. With no
--listen and no --server, runs a demo on ${DEMO_LISTEN} in front of a built-in
server (an HTTP page, or an echo server with --mode tcp).

  -f, --config FILE             load a configuration file (HAProxy syntax, see
                                README); repeatable, read in order. The flags
                                below that build a configuration cannot be
                                combined with it. SIGHUP reloads the files
  -c, --check                   check the configuration (files or flags) and exit:
                                0 when valid, 1 when not
  --mode http|tcp               proxy mode (default http)
  --listen ADDR                 listen on host:port, [v6]:port, :port or unix:/path
                                (repeatable)
  --tls-cert FILE               terminate TLS on the preceding --listen (PEM chain)
  --tls-key FILE                private key for the preceding --tls-cert (PEM)
  --accept-proxy                the preceding --listen expects a PROXY protocol
                                header (v1 or v2) from a load balancer in front
  --server ADDR                 a server: host:port, [v6]:port, unix:/path, or
                                tls://host:port for TLS to the server (repeatable)
  --tls-ca FILE                 CA (PEM) trusted for tls:// servers, instead of the
                                default roots (repeatable)
  --tls-sni NAME                name sent and verified for tls:// servers
                                (default: the server's host)
  --tls-verify required|none    check tls:// server certificates (default
                                required; none = encrypt without authenticating)
  --server ADDR,OPT,...         server options after the address, comma-separated:
                                weight=N (0-256, default 1), maxconn=N, maxqueue=N,
                                backup, slowstart=DURATION, drain, maint,
                                cookie=VALUE, name=NAME, check (health checks),
                                inter=D, fastinter=D, downinter=D, rise=N, fall=N,
                                port=N (check port), observe=layer4|layer7,
                                error-limit=N, on-error=fail-check|fastinter|mark-down,
                                send-proxy, send-proxy-v2 (PROXY header first)
  --balance ALGO                ${
  wrap(`load-balancing algorithm (default roundrobin): ${lbAlgoSyntaxes().join(", ")}`, 48, 32)
}
  --redispatch N                retry on another server: every Nth retry (1 = all),
                                -1 = last retry only (default), 0 = never
  --httpchk "[METHOD] PATH"     HTTP health checks instead of TCP ones
  --http-check-expect EXPR      status CODE, status LOW-HIGH, or string TEXT
                                (default status 200-399)
  --http-check-host HOST        Host header of HTTP checks
  --cookie NAME[,OPT...]        cookie persistence: insert (default) or prefix,
                                indirect, nocache
  --stick-source                send each client address to the server it used
                                last (30 min, 100k addresses)
  --timeout NAME=DURATION       connect (5s), client (30s), server (30s),
                                tunnel (none), queue (= connect), check (= inter),
                                http-request (10s), http-keep-alive (10s)
                                (repeatable)
  --maxconn N                   maximum concurrent connections (default 4096);
                                excess connections wait in the backlog
  --retries N                   connection attempts after a failure (default 3)
  --grace DURATION              on SIGINT/SIGTERM, time given to live connections
                                before they are closed (default 10s)
  --bufsize BYTES               buffer size (default 16384)
  --buffers N                   maximum buffers, two per connection
                                (default 2 x maxconn + 64)
  --maxhdr N                    HTTP: most header fields per message (default 101)
  --max-body BYTES              HTTP: largest request body, 0 = no limit (default 0)
  --errorfile CODE=FILE         HTTP: send FILE (a raw HTTP response) instead of the
                                built-in response for status CODE (repeatable)
  --no-forwardfor               HTTP: do not add X-Forwarded-For / X-Forwarded-Proto
  --forwarded                   HTTP: add an RFC 7239 Forwarded header
  --stats ADDR                  stats listener on host:port: HTML page, /;csv,
                                /;json, /metrics (Prometheus); never on by default
  --admin-socket PATH           runtime API (HAProxy's line protocol) on a unix
                                socket created with mode 0600
  --stats-auth USER:PASS        require basic auth on the stats listener
  --stats-allow CIDR            only these client networks may read stats
                                (repeatable)
  --log TARGET                  where logs go: stdout (default), stderr, none,
                                file:PATH (reopen with the runtime API's
                                "reopen logs"), or syslog (RFC 5424, facility
                                local0): syslog:HOST:PORT over UDP, or
                                syslog:/PATH to a local unix datagram socket,
                                e.g. /run/systemd/journal/dev-log (/dev/log
                                itself needs deno run --allow-all)
  --log-format FORMAT           tcplog or httplog (text, HAProxy-like), or json
                                (default: text)
  -h, --help                    show this help
  -V, --version                 show the version

Durations are integers with a unit: us, ms, s, m, h, d (no unit: ms).
`;

const OPTIONS = {
  config: { type: "string", short: "f", multiple: true },
  check: { type: "boolean", short: "c" },
  mode: { type: "string" },
  listen: { type: "string", multiple: true },
  "tls-cert": { type: "string", multiple: true },
  "accept-proxy": { type: "boolean", multiple: true },
  "tls-key": { type: "string", multiple: true },
  server: { type: "string", multiple: true },
  "tls-ca": { type: "string", multiple: true },
  "tls-sni": { type: "string" },
  "tls-verify": { type: "string" },
  balance: { type: "string" },
  redispatch: { type: "string" },
  httpchk: { type: "string" },
  "http-check-expect": { type: "string" },
  "http-check-host": { type: "string" },
  cookie: { type: "string" },
  "stick-source": { type: "boolean" },
  stats: { type: "string" },
  "admin-socket": { type: "string" },
  "stats-auth": { type: "string" },
  "stats-allow": { type: "string", multiple: true },
  timeout: { type: "string", multiple: true },
  maxconn: { type: "string" },
  retries: { type: "string" },
  grace: { type: "string" },
  bufsize: { type: "string" },
  buffers: { type: "string" },
  log: { type: "string" },
  "log-format": { type: "string" },
  maxhdr: { type: "string" },
  "max-body": { type: "string" },
  errorfile: { type: "string", multiple: true },
  "no-forwardfor": { type: "boolean" },
  forwarded: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

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

/** Parses the command line into an action. Throws SluiceError on bad input. */
export function parseCli(args: string[]): CliAction {
  let parsed;
  try {
    parsed = parseArgs({
      // "--redispatch -1": a negative number is a value, not a flag.
      args: args.map((a, i) => args[i - 1] === "--redispatch" && /^-[0-9]+$/.test(a) ? "=" + a : a)
        .reduce<string[]>((out, a) => {
          if (a.startsWith("=-")) out[out.length - 1] += a;
          else out.push(a);
          return out;
        }, []),
      options: OPTIONS,
      strict: true,
      allowPositionals: false,
      tokens: true,
    });
  } catch (err) {
    const msg = errMsg(err);
    // node:util messages are long and multi-line; keep the first sentence.
    throw usage(msg.split("\n")[0].replace(/\. To specify.*$/, "").replace(/\.$/, ""));
  }
  const v = parsed.values;
  if (v.help) return { kind: "help" };
  if (v.version) return { kind: "version" };
  if (v.config !== undefined) {
    // A configuration file says everything: flags that build one would be
    // a second, conflicting source.
    const mixed = parsed.tokens.find((t) =>
      t.kind === "option" && t.name !== "config" && t.name !== "check"
    );
    if (mixed !== undefined && mixed.kind === "option") {
      throw usage(`--${mixed.name} cannot be combined with -f (put it in the configuration file)`);
    }
    const config = parseConfigFiles(v.config, Deno.env.toObject());
    return v.check
      ? { kind: "check", config, files: v.config }
      : { kind: "run", config, files: v.config };
  }

  const mode = v.mode ?? "http";
  if (mode !== "tcp" && mode !== "http") {
    throw usage(`Invalid value "${mode}" for --mode: expected http or tcp`);
  }
  const balance = (v.balance ?? "roundrobin") as BalanceAlgo;
  const lb = parseBalance(balance);
  if (typeof lb === "string") {
    throw usage(`Invalid value "${balance}" for --balance: expected ${lbAlgoExpected()}`);
  }

  // --tls-cert/--tls-key belong to the --listen they follow.
  const binds: BindConfig[] = [];
  const certs = new Map<number, { cert?: string; key?: string }>();
  for (const tok of parsed.tokens) {
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

  const ca = (v["tls-ca"] ?? []).map((f) => readPem("tls-ca", f));
  const verify = v["tls-verify"] ?? "required";
  if (verify !== "required" && verify !== "none") {
    throw usage(`Invalid value "${verify}" for --tls-verify: expected required or none`);
  }
  const servers: ServerConfig[] = (v.server ?? []).map((spec, i) => {
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

  const timeouts: TimeoutsConfig = {};
  let checkTimeout: number | undefined;
  for (const t of v.timeout ?? []) {
    const eq = t.indexOf("=");
    const name = eq < 0 ? t : t.slice(0, eq);
    const key = TIMEOUT_NAMES[name];
    if (name === "check" && eq > 0) {
      try {
        checkTimeout = parseDuration(t.slice(eq + 1));
      } catch (err) {
        throw new SluiceError(
          "ERR_DURATION",
          `Invalid value "${t}" for --timeout: ${errMsg(err)}`,
        );
      }
      continue;
    }
    if (eq < 0 || key === undefined) {
      throw usage(
        `Invalid value "${t}" for --timeout: expected NAME=DURATION with NAME one of ${
          [...Object.keys(TIMEOUT_NAMES), "check"].join(", ")
        }`,
      );
    }
    try {
      timeouts[key] = parseDuration(t.slice(eq + 1));
    } catch (err) {
      throw new SluiceError(
        "ERR_DURATION",
        `Invalid value "${t}" for --timeout: ${errMsg(err)}`,
      );
    }
  }

  const global: NonNullable<SluiceConfig["global"]> = {};
  let maxconn: number | undefined;
  if (v.maxconn !== undefined) global.maxconn = maxconn = count("maxconn", v.maxconn, 1, 1_000_000);
  if (v.grace !== undefined) {
    try {
      global.graceMs = parseDuration(v.grace);
    } catch (err) {
      throw new SluiceError(
        "ERR_DURATION",
        `Invalid value "${v.grace}" for --grace: ${errMsg(err)}`,
      );
    }
  }
  if (v.bufsize !== undefined) global.bufsize = count("bufsize", v.bufsize, 1024, 1 << 20);
  if (v.buffers !== undefined) global.buffers = count("buffers", v.buffers, 2, 1 << 24);
  const logText = v.log ?? "stdout";
  let log: NonNullable<NonNullable<SluiceConfig["global"]>["log"]>["target"];
  if (logText === "stdout" || logText === "stderr" || logText === "none") log = logText;
  else if (logText.startsWith("file:") && logText.length > 5) log = { file: logText.slice(5) };
  else if (logText.startsWith("syslog:") && !logText.startsWith("syslog:unix@")) {
    // syslog:/PATH is short for syslog:unix:/PATH (a host:port never starts
    // with "/"); HAProxy's unix@/PATH gets the usage message below.
    const addr = logText.startsWith("syslog:/") ? `unix:${logText.slice(7)}` : logText.slice(7);
    parseAddress(addr, {});
    log = { syslog: addr };
  } else {
    throw usage(
      `Invalid value "${logText}" for --log: expected stdout, stderr, none, file:PATH, syslog:HOST:PORT or syslog:/PATH`,
    );
  }
  const format = v["log-format"] ?? (mode === "http" ? "httplog" : "tcplog");
  if (format !== "tcplog" && format !== "httplog" && format !== "json") {
    throw usage(`Invalid value "${format}" for --log-format: expected tcplog, httplog or json`);
  }
  if (v.maxhdr !== undefined) global.maxHdrs = count("maxhdr", v.maxhdr, 1, 10_000);
  if (v["max-body"] !== undefined) {
    global.maxBody = count("max-body", v["max-body"], 0, Number.MAX_SAFE_INTEGER);
  }
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
  global.log = { target: log, format };
  if (v["admin-socket"] !== undefined) global.adminSocket = { path: v["admin-socket"] };
  if (v.stats !== undefined) {
    parseAddress(v.stats, { port0: true });
    global.stats = { address: v.stats };
    if (v["stats-auth"] !== undefined) global.stats.auth = v["stats-auth"];
    if (v["stats-allow"] !== undefined) global.stats.allow = v["stats-allow"];
  } else if (v["stats-auth"] !== undefined || v["stats-allow"] !== undefined) {
    throw usage("--stats-auth and --stats-allow need --stats ADDR");
  }
  const retries = v.retries === undefined ? undefined : count("retries", v.retries, 0, 100);

  checkOptions(v, servers, checkTimeout);
  const redispatch = v.redispatch === undefined ? undefined : redispatchValue(v.redispatch);
  const cookie = v.cookie === undefined ? undefined : cookieOption(v.cookie);
  if (cookie !== undefined && mode !== "http") throw usage("--cookie needs --mode http");
  if (lbAlgoDef(lb.algo)!.http && mode !== "http") {
    throw usage(`--balance ${balance} needs --mode http`);
  }

  const demo = binds.length === 0 && servers.length === 0;
  if (!demo) {
    if (binds.length === 0) throw usage("At least one --listen is needed");
    if (servers.length === 0) throw usage("At least one --server is needed");
  }
  const config: SluiceConfig = {
    global,
    frontends: [{
      name: "main",
      mode,
      binds: demo ? [{ address: DEMO_LISTEN }] : binds,
      maxconn,
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
      cookie,
      stickSource: v["stick-source"] ? {} : undefined,
      timeouts: {
        connect: timeouts.connect,
        server: timeouts.server,
        tunnel: timeouts.tunnel,
        queue: timeouts.queue,
      },
      servers,
    }],
  };
  if (v.check) {
    if (demo) throw usage("--check needs -f FILE, or --listen and --server");
    return { kind: "check", config, files: [] };
  }
  return demo ? { kind: "demo", config, listen: DEMO_LISTEN, mode } : { kind: "run", config };
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
