/**
 * `server NAME ADDR [options]` and `default-server [options]`, and how a
 * parsed server becomes a ServerConfig.
 *
 * | option                                  | sets                                  |
 * | --------------------------------------- | ------------------------------------- |
 * | `weight N`, `maxconn N`, `maxqueue N`   | same fields                           |
 * | `minconn N`                             | `minconn` (dynamic limit, `fullconn`) |
 * | `pool-max-conn N`, `pool-low-conn N`    | `poolMaxConn`, `poolLowConn`          |
 * | `pool-purge-delay D`                    | `poolPurgeDelay`                      |
 * | `backup`                                | `backup`                              |
 * | `disabled`                              | `state: "maint"`                      |
 * | `slowstart D`, `cookie V`               | same fields                           |
 * | `check`                                 | `check` (type from `option httpchk`)  |
 * | `inter D`, `fastinter D`, `downinter D` | `check.*`                             |
 * | `rise N`, `fall N`, `port N`            | `check.*`                             |
 * | `check-ssl`, `check-sni NAME`            | `check.tls`, `check.sni`              |
 * | `check-send-proxy`                      | `check.sendProxy`                     |
 * | `agent-check`, `agent-port N`           | `agent`, `agent.port`                 |
 * | `agent-inter D`, `agent-send TEXT`      | `agent.inter`, `agent.send`           |
 * | `observe layer4\|layer7`                | `observe.mode`                        |
 * | `error-limit N`, `on-error X`           | `observe.errorLimit`, `.onError`      |
 * | `ssl`                                   | `tls`                                 |
 * | `verify none\|required`                 | `tls.verify`                          |
 * | `ca-file FILE`                          | `tls.ca` (the file's PEM text)        |
 * | `sni str(NAME)`, `sni EXPR`             | `tls.sni`, `tls.sniExpr`              |
 * | `ssl-min-ver V`, `ssl-max-ver V`,       | `tls.minVersion`, `tls.maxVersion`    |
 * | `no-tlsv1x`, `force-tlsv1x`             | (over `ssl-default-server-options`)   |
 * | `crt FILE`, `alpn LIST`, `no-ssl-reuse` | `tls.cert`/`key`, `tls.alpn` (cfg_server_tls.ts) |
 *
 * As in HAProxy, a server line starts from the `default-server` options in
 * force (those of the `defaults` section, then the section's own
 * `default-server` lines above it) and its own options override them.
 *
 * @module
 */
import type { CfgAt } from "./cfg_at.ts";
import { cfgTlsOption, cfgTlsVersions } from "./cfg_tls.ts";
import { cfgServerTlsOption, cfgServerTlsSettle } from "./cfg_server_tls.ts";
import { aclFetchParse } from "../rules/acl_fetch.ts";
import { CIPHERS_ALL12 } from "./cfg_ciphers.ts";
import { cfgAddress } from "./cfg_address.ts";
import type { CfgProxyDraft, CfgServerDraft, CfgServerOpts, CfgStmt } from "./cfg_types.ts";
import type { CheckConfig, ServerConfig } from "./config_types.ts";

/** Options that only matter with `check`, and how the file spells them. */
const CHECK_OPTS: [keyof CfgServerOpts, string][] = [
  ["inter", "inter"],
  ["fastinter", "fastinter"],
  ["downinter", "downinter"],
  ["rise", "rise"],
  ["fall", "fall"],
  ["port", "port"],
  ["checkSsl", "check-ssl"],
  ["checkSendProxy", "check-send-proxy"],
  ["checkSni", "check-sni"],
];
/** Options that only matter with `agent-check`. */
const AGENT_OPTS: [keyof CfgServerOpts, string][] = [
  ["agentPort", "agent-port"],
  ["agentInter", "agent-inter"],
  ["agentSend", "agent-send"],
];
/** Options that only matter with `ssl`. */
const TLS_OPTS: [keyof CfgServerOpts, string][] = [
  ["verify", "verify"],
  ["ca", "ca-file"],
  ["sni", "sni"],
  ["sniExpr", "sni"],
  ["tlsVersions", "ssl-min-ver"],
  ["clientCert", "crt"],
  ["alpn", "alpn"],
  ["verifyhost", "verifyhost"],
];
/** Options that only matter with `observe`. */
const OBSERVE_OPTS: [keyof CfgServerOpts, string][] = [
  ["errorLimit", "error-limit"],
  ["onError", "on-error"],
];

/**
 * Parses server options (`args` from `first` on) into a new object. `line`
 * is `server` or `default-server`, used in keyword names of messages.
 */
function cfgServerOptions(stmt: CfgStmt, opts: { line: string; first: number }): CfgServerOpts {
  const { at, args } = stmt;
  const o: CfgServerOpts = {};
  let i = opts.first;
  while (i < args.length) {
    const name = args[i++];
    const a = at.sub(`${opts.line} ${name}`);
    /** The option's value: the next word. */
    const val = () => a.value(args, i++);
    switch (name) {
      case "weight":
        o.weight = a.int(val());
        break;
      case "maxconn":
        o.maxconn = a.int(val());
        break;
      case "maxqueue":
        o.maxqueue = a.int(val());
        break;
      case "minconn":
        o.minconn = a.int(val());
        break;
      case "pool-max-conn":
        o.poolMaxConn = a.int(val(), { signed: true });
        break;
      case "pool-purge-delay":
        o.poolPurgeDelay = a.duration(val());
        break;
      case "pool-low-conn":
        o.poolLowConn = a.int(val());
        break;
      case "backup":
        o.backup = true;
        break;
      case "disabled":
        o.disabled = true;
        break;
      case "slowstart":
        o.slowstart = a.duration(val());
        break;
      case "cookie":
        o.cookie = val();
        break;
      case "check":
        o.check = true;
        break;
      case "inter":
        o.inter = a.duration(val());
        break;
      case "fastinter":
        o.fastinter = a.duration(val());
        break;
      case "downinter":
        o.downinter = a.duration(val());
        break;
      case "rise":
        o.rise = a.int(val());
        break;
      case "fall":
        o.fall = a.int(val());
        break;
      case "port":
        o.port = a.int(val());
        break;
      case "check-ssl":
        o.checkSsl = true;
        break;
      case "check-send-proxy":
        o.checkSendProxy = true;
        break;
      case "agent-check":
        o.agentCheck = true;
        break;
      case "agent-port": {
        const v = val();
        const port = a.int(v);
        if (port < 1 || port > 65535) throw a.badValue(v, "expected a port from 1 to 65535");
        o.agentPort = port;
        break;
      }
      case "agent-inter":
        o.agentInter = a.duration(val());
        break;
      case "agent-send":
        o.agentSend = val();
        break;
      case "observe":
        o.observe = a.oneOf(val(), ["layer4", "layer7"] as const);
        break;
      case "error-limit":
        o.errorLimit = a.int(val());
        break;
      case "on-error":
        o.onError = a.oneOf(val(), ["fail-check", "fastinter", "mark-down"] as const);
        break;
      case "ssl":
        o.ssl = true;
        break;
      case "send-proxy":
        o.sendProxy = 1;
        break;
      case "send-proxy-v2":
        o.sendProxy = 2;
        break;
      case "verify":
        o.verify = a.oneOf(val(), ["none", "required"] as const);
        break;
      case "ca-file": {
        const v = val();
        if (v === "@system-ca") o.caSystem = true;
        else o.ca = a.readPem(a.tlsPath(v, "ca"));
        break;
      }
      case "sni": {
        // A fixed name, or a sample expression evaluated on each request
        // (checked when the configuration is resolved: config_server_tls.ts).
        const v = val();
        const m = /^str\(([^()]+)\)$/.exec(v);
        if (m === null) {
          const spec = aclFetchParse(v, a.where);
          if (typeof spec === "string") throw a.badValue(v, spec);
          o.sniExpr = v;
          delete o.sni;
        } else {
          o.sni = m[1];
          delete o.sniExpr;
        }
        break;
      }
      default: {
        const tlsNext = cfgServerTlsOption(at, args, i - 1, o, opts.line);
        if (tlsNext >= 0) {
          i = tlsNext;
          break;
        }
        const next = cfgTlsOption(at.sub(opts.line), args, i - 1, o.tlsVersions ??= {}, {
          lists: true,
          bind: false,
        });
        if (next < 0) throw at.unsupported(`${opts.line} ${name}`);
        i = next;
      }
    }
  }
  return o;
}

/** Throws when `own` sets one of `list` although `merged` lacks `needed`. */
function cfgServerNeeds(
  at: CfgAt,
  own: CfgServerOpts,
  merged: CfgServerOpts,
  opts: { list: [keyof CfgServerOpts, string][]; needed: keyof CfgServerOpts; word: string },
): void {
  if (merged[opts.needed] !== undefined) return;
  for (const [field, word] of opts.list) {
    if (own[field] !== undefined) {
      throw at.fail(`"${word}" on server needs "${opts.word}" (on the server or default-server)`);
    }
  }
}

/** `default-server [options]`: merges the options into the section's defaults. */
export function cfgDefaultServer(p: CfgProxyDraft, stmt: CfgStmt): void {
  stmt.at.args(stmt.args, 1, Infinity);
  p.defaultServer = {
    ...p.defaultServer,
    ...cfgServerOptions(stmt, { line: "default-server", first: 0 }),
  };
}

/**
 * `server NAME ADDR [options]`: adds a server with the default-server options
 * in force. Options that cannot take effect (check settings without `check`,
 * TLS settings without `ssl`...) are errors rather than silently unused.
 */
export function cfgServer(p: CfgProxyDraft, stmt: CfgStmt): void {
  const { at, args } = stmt;
  at.args(args, 2, Infinity);
  const address = cfgAddress(at, args[1], { bind: false });
  const own = cfgServerOptions(stmt, { line: "server", first: 2 });
  const opts = { ...p.defaultServer, ...own };
  if (p.defaultServer.tlsVersions !== undefined && own.tlsVersions !== undefined) {
    opts.tlsVersions = { ...p.defaultServer.tlsVersions, ...own.tlsVersions };
  }
  if (opts.ssl) {
    Object.assign(opts, cfgTlsVersions(at, opts.tlsVersions ?? {}, at.tls.server, CIPHERS_ALL12));
    cfgServerTlsSettle(at, opts, at.tls.serverVerify);
  }
  cfgServerNeeds(at, own, opts, { list: CHECK_OPTS, needed: "check", word: "check" });
  cfgServerNeeds(at, own, opts, { list: TLS_OPTS, needed: "ssl", word: "ssl" });
  cfgServerNeeds(at, own, opts, { list: AGENT_OPTS, needed: "agentCheck", word: "agent-check" });
  if (opts.agentCheck && opts.agentPort === undefined) {
    throw at.fail('"agent-check" on server needs "agent-port" (the port the agent listens on)');
  }
  cfgServerNeeds(at, own, opts, { list: OBSERVE_OPTS, needed: "observe", word: "observe" });
  if (opts.observe !== undefined && !opts.check) {
    throw at.fail('"observe" on server needs "check" (health checks bring the server back)');
  }
  p.servers.push({ name: args[0], address, opts, where: at.where });
}

/**
 * Builds the ServerConfig of a parsed server. `chk` carries the backend-wide
 * check settings: `timeout check` and the HTTP check (absent: TCP checks).
 */
export function cfgServerBuild(
  s: CfgServerDraft,
  chk: { timeout?: number; http?: CheckConfig["http"]; tcpCheck?: CheckConfig["tcpCheck"] },
): ServerConfig {
  const o = s.opts;
  const srv: ServerConfig = { name: s.name, address: s.address };
  if (o.weight !== undefined) srv.weight = o.weight;
  if (o.maxconn !== undefined) srv.maxconn = o.maxconn;
  if (o.maxqueue !== undefined) srv.maxqueue = o.maxqueue;
  if (o.minconn !== undefined) srv.minconn = o.minconn;
  if (o.poolMaxConn !== undefined) srv.poolMaxConn = o.poolMaxConn;
  if (o.poolPurgeDelay !== undefined) srv.poolPurgeDelay = o.poolPurgeDelay;
  if (o.poolLowConn !== undefined) srv.poolLowConn = o.poolLowConn;
  if (o.backup) srv.backup = true;
  if (o.slowstart !== undefined) srv.slowstart = o.slowstart;
  if (o.disabled) srv.state = "maint";
  if (o.cookie !== undefined) srv.cookie = o.cookie;
  if (o.check) {
    const c: CheckConfig = { type: chk.http === undefined ? "tcp" : "http" };
    if (o.inter !== undefined) c.inter = o.inter;
    if (o.fastinter !== undefined) c.fastinter = o.fastinter;
    if (o.downinter !== undefined) c.downinter = o.downinter;
    if (o.rise !== undefined) c.rise = o.rise;
    if (o.fall !== undefined) c.fall = o.fall;
    if (chk.timeout !== undefined) c.timeout = chk.timeout;
    if (o.port !== undefined) c.port = o.port;
    if (o.checkSsl) c.tls = true;
    if (o.checkSni !== undefined) c.sni = o.checkSni;
    if (chk.http !== undefined) c.http = { ...chk.http };
    if (chk.tcpCheck !== undefined) c.tcpCheck = chk.tcpCheck.map((r) => ({ ...r }));
    if (o.checkSendProxy) c.sendProxy = true;
    srv.check = c;
  }
  if (o.agentCheck) {
    srv.agent = { port: o.agentPort! };
    if (o.agentInter !== undefined) srv.agent.inter = o.agentInter;
    if (o.agentSend !== undefined) srv.agent.send = o.agentSend;
    if (chk.timeout !== undefined) srv.agent.timeout = chk.timeout;
  }
  if (o.observe !== undefined) {
    srv.observe = { mode: o.observe };
    if (o.errorLimit !== undefined) srv.observe.errorLimit = o.errorLimit;
    if (o.onError !== undefined) srv.observe.onError = o.onError;
  }
  if (o.sendProxy !== undefined) srv.sendProxy = o.sendProxy === 1 ? "v1" : "v2";
  if (o.ssl) {
    srv.tls = {};
    if (o.verify !== undefined) srv.tls.verify = o.verify;
    if (o.ca !== undefined) srv.tls.ca = [o.ca];
    if (o.sni !== undefined) srv.tls.sni = o.sni;
    else if (o.sniExpr !== undefined) srv.tls.sniExpr = o.sniExpr;
    // As HAProxy: without a fixed name sent (`sni str()`) the certificate's
    // names are not checked by default, only its chain; with a sample
    // expression, against the name each connection sends.
    if (o.verifyhost !== undefined) srv.tls.verifyHostName = o.verifyhost;
    else if (o.sni === undefined && o.sniExpr === undefined && o.verify === "required") {
      srv.tls.verifyHost = false;
    }
    if (o.clientCert !== undefined) {
      srv.tls.cert = o.clientCert.cert;
      srv.tls.key = o.clientCert.key;
      srv.tls.certFile = o.clientCert.file;
    }
    if (o.alpn !== undefined) srv.tls.alpn = o.alpn;
    if (o.minVersion !== undefined) srv.tls.minVersion = o.minVersion;
    if (o.maxVersion !== undefined) srv.tls.maxVersion = o.maxVersion;
  }
  return srv;
}
