/**
 * Command-line flags: a shorthand that builds the same configuration object
 * as a configuration file. Errors are SluiceErrors (ERR_USAGE, ERR_ADDRESS,
 * ERR_DURATION, ERR_TLS) with one-line messages for the CLI to print.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { SluiceError } from "../core/errors.ts";
import { parseAddress } from "./address.ts";
import type {
  BindConfig,
  HttpFrontendConfig,
  ServerConfig,
  SluiceConfig,
  TimeoutsConfig,
} from "./config_types.ts";
import { parseDuration } from "./duration.ts";

/** What the command line asks for. */
export type CliAction =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "run"; config: SluiceConfig }
  | { kind: "demo"; config: SluiceConfig; listen: string; mode: "http" | "tcp" };

/** Address the demo listens on. */
export const DEMO_LISTEN = "127.0.0.1:8080";

/** The usage text of `--help`. */
export const USAGE = `Usage: sluice [flags]

A reverse proxy and load balancer: HTTP/1.1 (default) or TCP. With no
--listen and no --server, runs a demo on ${DEMO_LISTEN} in front of a built-in
server (an HTTP page, or an echo server with --mode tcp).

  --mode http|tcp               proxy mode (default http)
  --listen ADDR                 listen on host:port, [v6]:port, :port or unix:/path
                                (repeatable)
  --tls-cert FILE               terminate TLS on the preceding --listen (PEM chain)
  --tls-key FILE                private key for the preceding --tls-cert (PEM)
  --server ADDR                 a server: host:port, [v6]:port, unix:/path, or
                                tls://host:port for TLS to the server (repeatable)
  --tls-ca FILE                 CA (PEM) trusted for tls:// servers, instead of the
                                default roots (repeatable)
  --tls-sni NAME                name sent and verified for tls:// servers
                                (default: the server's host)
  --tls-verify required|none    check tls:// server certificates (default
                                required; none = encrypt without authenticating)
  --balance roundrobin          load-balancing algorithm (default roundrobin)
  --timeout NAME=DURATION       connect (5s), client (30s), server (30s),
                                tunnel (none), queue (= connect),
                                http-request (10s), http-keep-alive (10s)
                                (repeatable)
  --maxconn N                   maximum concurrent connections (default 4096);
                                excess connections wait in the backlog
  --retries N                   connection attempts after a failure, each to the
                                next server (default 3)
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
  --log stdout|stderr|none      where access logs go (default stdout)
  --log-format FORMAT           tcplog or httplog (text, HAProxy-like), or json
                                (default: text)
  -h, --help                    show this help
  -V, --version                 show the version

Durations are integers with a unit: us, ms, s, m, h, d (no unit: ms).
`;

const OPTIONS = {
  mode: { type: "string" },
  listen: { type: "string", multiple: true },
  "tls-cert": { type: "string", multiple: true },
  "tls-key": { type: "string", multiple: true },
  server: { type: "string", multiple: true },
  "tls-ca": { type: "string", multiple: true },
  "tls-sni": { type: "string" },
  "tls-verify": { type: "string" },
  balance: { type: "string" },
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
    const why = err instanceof Error ? err.message : String(err);
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
      args,
      options: OPTIONS,
      strict: true,
      allowPositionals: false,
      tokens: true,
    });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    // node:util messages are long and multi-line; keep the first sentence.
    throw usage(msg.split("\n")[0].replace(/\. To specify.*$/, "").replace(/\.$/, ""));
  }
  const v = parsed.values;
  if (v.help) return { kind: "help" };
  if (v.version) return { kind: "version" };

  const mode = v.mode ?? "http";
  if (mode !== "tcp" && mode !== "http") {
    throw usage(`Invalid value "${mode}" for --mode: expected http or tcp`);
  }
  const balance = v.balance ?? "roundrobin";
  if (balance !== "roundrobin") {
    throw usage(`Invalid value "${balance}" for --balance: expected roundrobin`);
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
  const servers: ServerConfig[] = (v.server ?? []).map((text, i) => {
    const { tls } = parseAddress(text, { tls: true });
    const srv: ServerConfig = { name: `srv${i + 1}`, address: text };
    if (tls) {
      srv.tls = {};
      if (ca.length > 0) srv.tls.ca = ca;
      if (v["tls-sni"] !== undefined) srv.tls.sni = v["tls-sni"];
      if (verify === "none") srv.tls.verify = "none";
    }
    return srv;
  });

  const timeouts: TimeoutsConfig = {};
  for (const t of v.timeout ?? []) {
    const eq = t.indexOf("=");
    const name = eq < 0 ? t : t.slice(0, eq);
    const key = TIMEOUT_NAMES[name];
    if (eq < 0 || key === undefined) {
      throw usage(
        `Invalid value "${t}" for --timeout: expected NAME=DURATION with NAME one of ${
          Object.keys(TIMEOUT_NAMES).join(", ")
        }`,
      );
    }
    try {
      timeouts[key] = parseDuration(t.slice(eq + 1));
    } catch (err) {
      throw new SluiceError(
        "ERR_DURATION",
        `Invalid value "${t}" for --timeout: ${(err as Error).message}`,
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
        `Invalid value "${v.grace}" for --grace: ${(err as Error).message}`,
      );
    }
  }
  if (v.bufsize !== undefined) global.bufsize = count("bufsize", v.bufsize, 1024, 1 << 20);
  if (v.buffers !== undefined) global.buffers = count("buffers", v.buffers, 2, 1 << 24);
  const log = v.log ?? "stdout";
  if (log !== "stdout" && log !== "stderr" && log !== "none") {
    throw usage(`Invalid value "${log}" for --log: expected stdout, stderr or none`);
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
      throw usage(`Cannot read --errorfile "${e.slice(eq + 1)}": ${(err as Error).message}`);
    }
  }
  global.log = { target: log, format };
  const retries = v.retries === undefined ? undefined : count("retries", v.retries, 0, 100);

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
      timeouts: {
        connect: timeouts.connect,
        server: timeouts.server,
        tunnel: timeouts.tunnel,
        queue: timeouts.queue,
      },
      servers,
    }],
  };
  return demo ? { kind: "demo", config, listen: DEMO_LISTEN, mode } : { kind: "run", config };
}
