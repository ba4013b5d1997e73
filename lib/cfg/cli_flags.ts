/**
 * The command line's flag table: one row per flag (its parseArgs type, the
 * `--help` group, value placeholder and help text). parseCli() hands the
 * table to `node:util`'s parseArgs (which ignores the extra fields), and the
 * `--help` text, the "did you mean" hint for a mistyped flag and the
 * examples (each checked by a test to parse) derive from it.
 *
 * @module
 */
import { lbAlgoSyntaxes } from "../lb/lb_algos.ts";

/** Address the demo listens on. */
export const DEMO_LISTEN = "127.0.0.1:8080";

/** `--help` groups, in the order the help shows them. */
export const CLI_GROUPS = [
  "Configuration file",
  "Listeners",
  "Servers",
  "Load balancing and health checks",
  "Limits and timeouts",
  "HTTP",
  "Stats, runtime API and logs",
  "Process",
  "HAProxy's process flags",
  "Other",
] as const;

/** One row of CLI_FLAGS. */
export interface CliFlagDef {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly multiple?: boolean;
  /** The value as `--help` shows it (`ADDR`); booleans have none. */
  readonly arg?: string;
  readonly group: typeof CLI_GROUPS[number];
  /** Help text (wrapped by cliUsage()). */
  readonly help: string;
  /** True when the flag may come with `-f` (it does not build a configuration). */
  readonly withFile?: boolean;
  /**
   * HAProxy's spelling when it is not `-X` or `--name` (`-Ws`, `-sf`): parseCli()
   * reads it as `--name`, and `--help` shows it.
   */
  readonly spelling?: string;
  /** What sluice does instead of this HAProxy flag, printed when it is given. */
  readonly instead?: string;
}

/** Every flag, by long name, in the order `--help` lists them within a group. */
export const CLI_FLAGS = {
  config: {
    type: "string",
    short: "f",
    multiple: true,
    arg: "FILE",
    group: "Configuration file",
    withFile: true,
    help: "load a configuration file (HAProxy syntax), or every *.cfg file of a directory in " +
      "name order; repeatable, read in order. The flags that build a configuration cannot be " +
      "combined with it. SIGHUP reloads the files",
  },
  check: {
    type: "boolean",
    short: "c",
    group: "Configuration file",
    withFile: true,
    help: "check the configuration (files or flags) and exit: 0 when valid, 1 when not, with " +
      "every error of every file (file:line: message)",
  },
  mode: {
    type: "string",
    arg: "http|tcp",
    group: "Listeners",
    help: "proxy mode (default http)",
  },
  listen: {
    type: "string",
    multiple: true,
    arg: "ADDR",
    group: "Listeners",
    help: "listen on host:port, [v6]:port, :port or unix:/path (repeatable)",
  },
  "tls-cert": {
    type: "string",
    multiple: true,
    arg: "FILE",
    group: "Listeners",
    help: "terminate TLS on the preceding --listen (PEM chain)",
  },
  "tls-key": {
    type: "string",
    multiple: true,
    arg: "FILE",
    group: "Listeners",
    help: "private key for the preceding --tls-cert (PEM)",
  },
  "accept-proxy": {
    type: "boolean",
    multiple: true,
    group: "Listeners",
    help: "the preceding --listen expects a PROXY protocol header (v1 or v2) from a load " +
      "balancer in front",
  },
  server: {
    type: "string",
    multiple: true,
    arg: "ADDR[,OPT...]",
    group: "Servers",
    help: "a server: host:port, [v6]:port, unix:/path, or tls://host:port for TLS to the " +
      "server (repeatable). Options after the address, comma-separated: weight=N (0-256, " +
      "default 1), maxconn=N, maxqueue=N, backup, slowstart=DURATION, drain, maint, " +
      "cookie=VALUE, name=NAME, check (health checks), inter=D, fastinter=D, downinter=D, " +
      "rise=N, fall=N, port=N (check port), observe=layer4|layer7, error-limit=N, " +
      "on-error=fail-check|fastinter|mark-down, send-proxy, send-proxy-v2 (PROXY header first)",
  },
  static: {
    type: "string",
    arg: "DIR",
    group: "Servers",
    help: "serve the files of DIR instead of servers (HTTP: GET and HEAD, ranges, conditional " +
      "requests, index.html for directories; sluice's own, as static-root in a file). Needs " +
      "only --allow-read=DIR on it",
  },
  "tls-ca": {
    type: "string",
    multiple: true,
    arg: "FILE",
    group: "Servers",
    help: "CA (PEM) trusted for tls:// servers, instead of the default roots (repeatable)",
  },
  "tls-sni": {
    type: "string",
    arg: "NAME",
    group: "Servers",
    help: "name sent and verified for tls:// servers (default: the server's host)",
  },
  "tls-verify": {
    type: "string",
    arg: "required|none",
    group: "Servers",
    help: "check tls:// server certificates (default required; none = encrypt without " +
      "authenticating)",
  },
  balance: {
    type: "string",
    arg: "ALGO",
    group: "Load balancing and health checks",
    help: `load-balancing algorithm (default roundrobin): ${lbAlgoSyntaxes().join(", ")}`,
  },
  redispatch: {
    type: "string",
    arg: "N",
    group: "Load balancing and health checks",
    help: "retry on another server: every Nth retry (1 = all), -1 = last retry only " +
      "(default), 0 = never",
  },
  retries: {
    type: "string",
    arg: "N",
    group: "Load balancing and health checks",
    help: "connection attempts after a failure (default 3)",
  },
  "http-reuse": {
    type: "string",
    arg: "MODE",
    group: "Load balancing and health checks",
    help: "which requests may reuse an idle server connection (HTTP): never, safe (default: " +
      "not a client connection's first request), aggressive, always",
  },
  httpchk: {
    type: "string",
    arg: '"[METHOD] PATH"',
    group: "Load balancing and health checks",
    help: "HTTP health checks instead of TCP ones",
  },
  "http-check-expect": {
    type: "string",
    arg: "EXPR",
    group: "Load balancing and health checks",
    help: "status CODE, status LOW-HIGH, or string TEXT (default status 200-399)",
  },
  "http-check-host": {
    type: "string",
    arg: "HOST",
    group: "Load balancing and health checks",
    help: "Host header of HTTP checks",
  },
  cookie: {
    type: "string",
    arg: "NAME[,OPT...]",
    group: "Load balancing and health checks",
    help: "cookie persistence: insert (default) or prefix, indirect, nocache",
  },
  "stick-source": {
    type: "boolean",
    group: "Load balancing and health checks",
    help: "send each client address to the server it used last (30 min, 100k addresses)",
  },
  timeout: {
    type: "string",
    multiple: true,
    arg: "NAME=DURATION",
    group: "Limits and timeouts",
    help: "connect (5s), client (30s), server (30s), tunnel (none), queue (= connect), check " +
      "(= inter), http-request (10s), http-keep-alive (10s) (repeatable)",
  },
  maxconn: {
    type: "string",
    arg: "N",
    group: "Limits and timeouts",
    help: "maximum concurrent connections (default 4096); excess connections wait in the backlog",
  },
  grace: {
    type: "string",
    arg: "DURATION",
    group: "Limits and timeouts",
    help: "on SIGINT/SIGTERM, time given to live connections before they are closed " +
      "(default 10s)",
  },
  bufsize: {
    type: "string",
    arg: "BYTES",
    group: "Limits and timeouts",
    help: "buffer size (default 16384)",
  },
  io: {
    type: "string",
    arg: "node|ffi",
    group: "Limits and timeouts",
    help: "how plain TCP connections move bytes: libc sockets and epoll through FFI " +
      "(default on Linux: faster, fairer) or node:net",
  },
  buffers: {
    type: "string",
    arg: "N",
    group: "Limits and timeouts",
    help: "maximum buffers, two per connection (default 2 x maxconn + 64)",
  },
  maxhdr: {
    type: "string",
    arg: "N",
    group: "HTTP",
    help: "most header fields per message (default 101)",
  },
  "max-body": {
    type: "string",
    arg: "BYTES",
    group: "HTTP",
    help: "largest request body, 0 = no limit (default 0)",
  },
  errorfile: {
    type: "string",
    multiple: true,
    arg: "CODE=FILE",
    group: "HTTP",
    help: "send FILE (a raw HTTP response) instead of the built-in response for status CODE " +
      "(repeatable)",
  },
  "no-forwardfor": {
    type: "boolean",
    group: "HTTP",
    help: "do not add X-Forwarded-For / X-Forwarded-Proto",
  },
  forwarded: {
    type: "boolean",
    group: "HTTP",
    help: "add an RFC 7239 Forwarded header",
  },
  stats: {
    type: "string",
    arg: "ADDR",
    group: "Stats, runtime API and logs",
    help: "stats listener on host:port: HTML page, /;csv, /;json, /metrics (Prometheus); " +
      "never on by default",
  },
  "stats-auth": {
    type: "string",
    arg: "USER:PASS",
    group: "Stats, runtime API and logs",
    help: "require basic auth on the stats listener",
  },
  "stats-allow": {
    type: "string",
    multiple: true,
    arg: "CIDR",
    group: "Stats, runtime API and logs",
    help: "only these client networks may read stats (repeatable)",
  },
  "admin-socket": {
    type: "string",
    arg: "PATH",
    group: "Stats, runtime API and logs",
    help: "runtime API (HAProxy's line protocol) on a unix socket created with mode 0600",
  },
  log: {
    type: "string",
    arg: "TARGET",
    group: "Stats, runtime API and logs",
    help: "where logs go: stdout (default), stderr, none, file:PATH (reopen with the runtime " +
      'API\'s "reopen logs"), or syslog (RFC 5424, facility local0): syslog:HOST:PORT over UDP, ' +
      "or syslog:/PATH to a local unix datagram socket, e.g. /run/systemd/journal/dev-log " +
      "(/dev/log itself needs deno run --allow-all)",
  },
  "log-format": {
    type: "string",
    arg: "FORMAT",
    group: "Stats, runtime API and logs",
    help: "tcplog or httplog (text, HAProxy-like), or json (default: text); json also makes " +
      "the ready line a JSON event",
  },
  threads: {
    type: "string",
    arg: "N",
    group: "Process",
    withFile: true,
    help: "worker threads, 1 to 64 (default: the configuration's nbthread, else the cores this " +
      "process may use); 1 runs everything on one thread",
  },
  pidfile: {
    type: "string",
    short: "p",
    arg: "FILE",
    group: "Process",
    withFile: true,
    help: "write the process id to FILE once listening, remove it on exit (instead of the " +
      "configuration's pidfile)",
  },
  verbose: {
    type: "boolean",
    short: "V",
    group: "Process",
    withFile: true,
    help: "also print (on stderr) the files read and a line per frontend and backend loaded",
  },
  daemon: {
    type: "boolean",
    short: "D",
    group: "HAProxy's process flags",
    withFile: true,
    help: "HAProxy's daemon mode: sluice stays in the foreground (run it under a service " +
      "manager); says so and goes on",
    instead: "sluice stays in the foreground: run it under a service manager " +
      "(deploy/sluice.service for systemd), which keeps it running",
  },
  "master-worker": {
    type: "boolean",
    short: "W",
    group: "HAProxy's process flags",
    withFile: true,
    help: "HAProxy's master-worker mode: sluice is one process that reloads in place; says " +
      "so and goes on",
    instead: "sluice is one process that reloads in place (SIGHUP or SIGUSR2 re-reads the " +
      "files and keeps the listeners): no master process is needed",
  },
  "master-worker-systemd": {
    type: "boolean",
    spelling: "-Ws",
    group: "HAProxy's process flags",
    withFile: true,
    help: "master-worker with systemd notify: sluice does not notify (use Type=exec); says " +
      "so and goes on",
    instead: "sluice is one process that reloads in place on SIGHUP or SIGUSR2, and does not " +
      "notify systemd: use Type=exec in the unit (as deploy/sluice.service does), not Type=notify",
  },
  finish: {
    type: "string",
    multiple: true,
    spelling: "-sf",
    arg: "PID...",
    group: "HAProxy's process flags",
    withFile: true,
    help: "HAProxy's reload by a new process: sluice reloads in place (send it SIGHUP or " +
      "SIGUSR2). With PIDs, refused (exit 2); without, goes on",
    instead: "sluice reloads in place instead of replacing a process",
  },
  terminate: {
    type: "string",
    multiple: true,
    spelling: "-st",
    arg: "PID...",
    group: "HAProxy's process flags",
    withFile: true,
    help: "as -sf",
    instead: "sluice reloads in place instead of replacing a process",
  },
  help: { type: "boolean", short: "h", group: "Other", withFile: true, help: "show this help" },
  version: {
    type: "boolean",
    short: "v",
    group: "Other",
    withFile: true,
    help: "show the version; twice (-vv), also the runtime's and the platform",
  },
} as const satisfies Readonly<Record<string, CliFlagDef>>;

/** A command line `--help` shows as an example, and what it does. */
export interface CliExample {
  /** The arguments after `sluice`. */
  readonly args: readonly string[];
  readonly what: string;
}

/** The examples of `--help` (tests/unit/cli_test.ts parses each). */
export const CLI_EXAMPLES: readonly CliExample[] = [
  {
    args: [],
    what: `a demo on ${DEMO_LISTEN} in front of a built-in page`,
  },
  {
    args: ["--listen", ":8080", "--server", "10.0.0.1:80", "--server", "10.0.0.2:80,weight=2"],
    what: "HTTP on port 8080, two servers, the second taking twice the traffic",
  },
  {
    args: ["--static", "./public", "--listen", ":8080"],
    what: "a file server for ./public on port 8080",
  },
  {
    args: [
      "--mode",
      "tcp",
      "--listen",
      ":5432",
      "--server",
      "db1:5432,check",
      "--server",
      "db2:5432,check,backup",
    ],
    what: "TCP with health checks; db2 only takes traffic when db1 is down",
  },
  {
    args: [
      "--listen",
      ":8080",
      "--server",
      "10.0.0.1:80,check",
      "--httpchk",
      "GET /health",
      "--balance",
      "leastconn",
      "--stats",
      "127.0.0.1:8404",
    ],
    what: "HTTP checks, least connections, a stats page on 127.0.0.1:8404",
  },
  { args: ["-f", "haproxy.cfg"], what: "run your own HAProxy configuration (SIGHUP reloads it)" },
  { args: ["-c", "-f", "haproxy.cfg"], what: "check it and exit" },
  {
    args: ["-f", "haproxy.cfg", "-f", "conf.d", "-p", "/run/sluice.pid"],
    what: "a file, then every *.cfg of conf.d by name; the pid in /run/sluice.pid",
  },
];

/** Where help texts start, and the width they wrap at. */
const HELP_COL = 32, WIDTH = 80;

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

/** An argument as a shell user would type it (quoted when it holds a space). */
function shellWord(arg: string): string {
  return /^[A-Za-z0-9_.,:=/@%+-]+$/.test(arg) ? arg : `"${arg}"`;
}

/** The `--help` text: the flags of CLI_FLAGS by group, then CLI_EXAMPLES. */
export function cliUsage(): string {
  const out = [
    "Usage: sluice [flags]",
    "",
    wrap(
      "A reverse proxy and load balancer: HTTP/1.1 (default) or TCP. With no --listen and no " +
        `--server, runs a demo on ${DEMO_LISTEN} in front of a built-in server (an HTTP page, ` +
        "or an echo server with --mode tcp).",
      WIDTH,
      0,
    ),
  ];
  for (const group of CLI_GROUPS) {
    out.push("", `${group}:`);
    for (const [name, def] of Object.entries(CLI_FLAGS) as [string, CliFlagDef][]) {
      if (def.group !== group) continue;
      const short = def.spelling ?? (def.short === undefined ? undefined : `-${def.short}`);
      const flag = `  ${short === undefined ? "" : `${short}, `}--${name}${
        def.arg === undefined ? "" : ` ${def.arg}`
      }`;
      const help = wrap(def.help, WIDTH - HELP_COL, HELP_COL);
      out.push(
        flag.length < HELP_COL
          ? flag.padEnd(HELP_COL) + help
          : `${flag}\n${" ".repeat(HELP_COL)}${help}`,
      );
    }
  }
  out.push("", "Examples:");
  for (const ex of CLI_EXAMPLES) {
    out.push(
      `  ${wrap(["sluice", ...ex.args.map(shellWord)].join(" "), WIDTH - 2, 4)}`,
      `      ${wrap(ex.what, WIDTH - 6, 6)}`,
    );
  }
  out.push(
    "",
    "Durations are integers with a unit: us, ms, s, m, h, d (no unit: ms).",
    "",
  );
  return out.join("\n");
}

/** Optimal string alignment distance: edits (insert, delete, substitute, swap two) from a to b. */
function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * The flag a mistyped `--name` most likely meant (`--lisen` → `--listen`),
 * or null when none is close: one edit for names up to 6 characters, two
 * beyond; a name of 3 characters or fewer gets no guess.
 */
export function cliSuggest(name: string): string | null {
  const bare = name.replace(/^--?/, "").split("=")[0];
  const max = bare.length <= 3 ? 0 : bare.length <= 6 ? 1 : 2;
  let best: string | null = null, bestD = max + 1;
  for (const flag of Object.keys(CLI_FLAGS)) {
    const dist = editDistance(bare, flag);
    if (dist < bestD) {
      best = flag;
      bestD = dist;
    }
  }
  return best === null ? null : `--${best}`;
}
