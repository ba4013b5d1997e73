/**
 * Keywords of proxy sections (`defaults`, `frontend`, `backend`, `listen`):
 * which sections accept each one (HAProxy's capabilities, narrowed to what
 * sluice's model can express) and what it records in the section's draft.
 * Anything not in the table is an "unsupported keyword" error; a known
 * keyword in the wrong section is a "not allowed" error.
 *
 * @module
 */
import type { CfgAt } from "./cfg_at.ts";
import { cfgTlsOption, type CfgTlsVersionOpts, cfgTlsVersions } from "./cfg_tls.ts";
import { type CfgBindTls, cfgBindTlsOption, cfgCrtList } from "./cfg_bind_tls.ts";
import { cipherNeedOfKeys } from "./cfg_ciphers.ts";
import { X509Certificate } from "node:crypto";
import { lbAlgoExpected, parseBalance } from "../lb/lb_algos.ts";
import { cfgAddress } from "./cfg_address.ts";
import { cfgDefaultServer, cfgServer } from "./cfg_server.ts";
import {
  cfgStaticAutoindex,
  cfgStaticCacheControl,
  cfgStaticCacheValid,
  cfgStaticDotfiles,
  cfgStaticIndex,
  cfgStaticPrecompressed,
  cfgStaticRoot,
} from "./cfg_static.ts";
import { cfgExpectMatch, cfgTcpCheck } from "./cfg_tcpcheck.ts";
import {
  cfgCapture,
  cfgLogFormatLine,
  cfgLogFormatSd,
  cfgLogOption,
  cfgProxyLog,
  cfgProxyNoLog,
  cfgUniqueIdFormat,
  cfgUniqueIdHeader,
} from "./cfg_proxy_log.ts";
import {
  CFG_CAP_BE,
  CFG_CAP_DEF,
  CFG_CAP_FE,
  cfgCapNames,
  type CfgProxyDraft,
  type CfgStmt,
  type CfgTimeoutName,
} from "./cfg_types.ts";
import type {
  BalanceAlgo,
  BindConfig,
  ConnectionMode,
  CookieConfig,
  CrtListRef,
  ForwardForConfig,
  StickSourceConfig,
} from "./config_types.ts";
import { ipNetParse } from "../rules/acl_ip.ts";
import { cfgCompAlgo, cfgCompOffload, cfgCompType } from "./cfg_comp.ts";
import { checkEditable } from "../rules/http_act_args.ts";

/** A proxy keyword: where it is allowed and what it does. */
interface CfgProxyKeyword {
  /** CFG_CAP_* bits. */
  caps: number;
  apply(p: CfgProxyDraft, stmt: CfgStmt): void;
}

const DEF_FE = CFG_CAP_DEF | CFG_CAP_FE;
const DEF_BE = CFG_CAP_DEF | CFG_CAP_BE;
const ALL = CFG_CAP_DEF | CFG_CAP_FE | CFG_CAP_BE;
const FE_BE = CFG_CAP_FE | CFG_CAP_BE;

/** Keywords whose second word is part of the keyword (`timeout connect`). */
const GROUPS = new Set([
  "timeout",
  "option",
  "http-check",
  "tcp-check",
  "stick",
  "stats",
  "capture",
  "compression",
]);

/** Records `value` in the draft as set here (not inherited). */
function cfgSet<K extends keyof CfgProxyDraft>(
  p: CfgProxyDraft,
  field: K,
  setting: {
    at: CfgAt;
    value: NonNullable<CfgProxyDraft[K]> extends { value: infer V } ? V : never;
  },
): void {
  (p as unknown as Record<string, unknown>)[field] = {
    value: setting.value,
    where: setting.at.where,
    inherited: false,
  };
}

/** `timeout NAME D`. */
function cfgTimeout(name: CfgTimeoutName): (p: CfgProxyDraft, stmt: CfgStmt) => void {
  return (p, { at, args }) => {
    at.args(args, 1, 1);
    p.timeouts[name] = { value: at.duration(args[0]), where: at.where, inherited: false };
  };
}

/** `balance ALGO [ARG] [OPTION]` (`url_param uid`, `hdr(host) use_domain_only`). */
function cfgBalance(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  at.args(args, 1, 3);
  const v = args.join(" ");
  const spec = parseBalance(v);
  if (typeof spec === "string") {
    throw at.badValue(
      v,
      spec.startsWith("unknown algorithm") ? `expected ${lbAlgoExpected()}` : spec,
    );
  }
  cfgSet(p, "balance", { at, value: v as BalanceAlgo });
}

/** `hash-type consistent`: the only kind sluice has. */
function cfgHashType(_p: CfgProxyDraft, { at, args }: CfgStmt): void {
  at.args(args, 1, 2);
  if (args[0] === "map-based") {
    throw at.badValue(args[0], "not supported: sluice always uses consistent hashing");
  }
  at.oneOf(args[0], ["consistent"]);
  if (args.length > 1) {
    throw at.badValue(args[1], "the hash function cannot be chosen (sluice uses its own)");
  }
}

/** `option redispatch [N]` (HAProxy's default interval is -1: the last retry). */
function cfgRedispatch(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  at.args(args, 0, 1);
  cfgSet(p, "redispatch", {
    at,
    value: args.length === 0 ? -1 : at.int(args[0], { signed: true }),
  });
}

/** `option forwardfor [except NET] [header NAME] [if-none]`, as HAProxy's parser. */
function cfgForwardFor(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  const ff: ForwardForConfig = {};
  let i = 0;
  while (i < args.length) {
    const opt = args[i++];
    const sub = at.sub(`${at.kw} ${opt}`);
    switch (opt) {
      case "except": {
        const net = sub.value(args, i++);
        const n = ipNetParse(net);
        if (typeof n === "string") throw sub.badValue(net, `expected <address>[/mask]: ${n}`);
        ff.except = net;
        break;
      }
      case "header": {
        const name = sub.value(args, i++);
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
          throw sub.badValue(name, "expected a header name");
        }
        checkEditable(name, "add", (why) => {
          throw sub.badValue(name, why);
        });
        ff.header = name;
        break;
      }
      case "if-none":
        ff.ifNone = true;
        break;
      default:
        throw at.badValue(opt, "only except, header and if-none are supported");
    }
  }
  cfgSet(p, "forwardFor", { at, value: ff });
}

/** `option http-keep-alive|http-server-close|httpclose`: replaces the mode in force. */
function cfgConnMode(mode: ConnectionMode): (p: CfgProxyDraft, stmt: CfgStmt) => void {
  return (p, { at, args }) => {
    at.args(args, 0, 0);
    cfgSet(p, "connMode", { at, value: mode });
  };
}

/**
 * `no option http-server-close|httpclose|http-keep-alive`: back to
 * keep-alive when that mode is the one in force, else nothing (HAProxy's).
 */
function cfgNoConnMode(mode: ConnectionMode): (p: CfgProxyDraft, stmt: CfgStmt) => void {
  return (p, { at, args }) => {
    at.args(args, 0, 0);
    if ((p.connMode?.value ?? "keep-alive") === mode) {
      cfgSet(p, "connMode", { at, value: "keep-alive" });
    }
  };
}

/** `[no] option NAME` of a boolean setting. */
function cfgFlag(
  field: "bufferRequest" | "abortOnClose",
  value: boolean,
): (p: CfgProxyDraft, stmt: CfgStmt) => void {
  return (p, { at, args }) => {
    at.args(args, 0, 0);
    cfgSet(p, field, { at, value });
  };
}

/** `monitor-uri URI`. */
function cfgMonitorUri(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  at.args(args, 1, 1);
  if (!/^[\x21-\x7e]+$/.test(args[0])) throw at.badValue(args[0], "expected a URI such as /health");
  cfgSet(p, "monitorUri", { at, value: args[0] });
}

/** `option httplog` / `option tcplog` (no `clf`). */
function cfgLogFormat(value: "httplog" | "tcplog"): (p: CfgProxyDraft, stmt: CfgStmt) => void {
  return (p, { at, args }) => {
    if (args.length > 0) throw at.unsupported(`${at.kw} ${args[0]}`);
    cfgSet(p, "logFormat", { at, value });
  };
}

/** A header block of the old `option httpchk` version hack: `HTTP/1.1\r\nHost: x`. */
function cfgHttpchkVersion(at: CfgAt, text: string): string | undefined {
  const [version, ...headers] = text.split("\r\n");
  if (version !== "HTTP/1.0" && version !== "HTTP/1.1") {
    throw at.badValue(text, 'expected "HTTP/1.0" or "HTTP/1.1" (sluice sends HTTP/1.1)');
  }
  let host: string | undefined;
  for (const h of headers) {
    if (h === "") continue;
    const m = /^host:[ \t]*(\S+)[ \t]*$/i.exec(h);
    if (m === null) {
      throw at.badValue(text, "only a Host header can follow the version");
    }
    host = m[1];
  }
  return host;
}

/** `option httpchk [[METHOD] URI [VERSION]]`; HAProxy's default request is `OPTIONS /`. */
function cfgHttpchk(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  at.args(args, 0, 3);
  const method = args.length >= 2 ? args[0] : "OPTIONS";
  const path = args.length === 1 ? args[0] : args.length >= 2 ? args[1] : "/";
  const host = args.length === 3 ? cfgHttpchkVersion(at, args[2]) : undefined;
  cfgSet(p, "httpchk", {
    at,
    value: host === undefined ? { method, path } : { method, path, host },
  });
  // One check type per section: the last "option" line wins, as in HAProxy.
  delete p.tcpCheckOpt;
}

/** `option tcp-check`: the section's `tcp-check` rules make its checks. */
function cfgTcpCheckOpt(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  at.args(args, 0, 0);
  cfgSet(p, "tcpCheckOpt", { at, value: true });
  delete p.httpchk;
}

/** Refuses a second `http-check` rule of the same kind in one section. */
function cfgCheckRuleOnce(at: CfgAt, prev: { where: string; inherited: boolean } | undefined) {
  if (prev !== undefined && !prev.inherited) {
    throw at.fail(`only one "${at.kw}" rule is supported (the first one is at ${prev.where})`);
  }
}

/** `http-check expect [!] status|rstatus|string|rstring PATTERN`. */
function cfgCheckExpect(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  at.args(args, 1, Infinity);
  cfgCheckRuleOnce(at, p.checkExpect);
  cfgSet(p, "checkExpect", { at, value: cfgExpectMatch(at, args, "http") });
}

/** `http-check send [meth M] [uri U] [ver V] [hdr host H]`. */
function cfgCheckSend(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  at.args(args, 1, Infinity);
  cfgCheckRuleOnce(at, p.checkSend);
  const send: { method?: string; path?: string; host?: string } = {};
  let i = 0;
  while (i < args.length) {
    const opt = args[i++];
    const sub = at.sub(`${at.kw} ${opt}`);
    switch (opt) {
      case "meth":
        send.method = sub.value(args, i++);
        break;
      case "uri":
        send.path = sub.value(args, i++);
        break;
      case "ver":
        sub.oneOf(sub.value(args, i++), ["HTTP/1.0", "HTTP/1.1"]);
        break;
      case "hdr": {
        const name = sub.value(args, i++);
        const value = sub.value(args, i++);
        if (name.toLowerCase() !== "host") {
          throw sub.badValue(name, "only the Host header can be set");
        }
        send.host = value;
        break;
      }
      default:
        throw at.unsupported(`${at.kw} ${opt}`);
    }
  }
  cfgSet(p, "checkSend", { at, value: send });
}

/**
 * `cookie NAME insert|prefix [indirect] [nocache] [httponly] [secure]
 * [domain D] [attr A]`. The attributes build the text after the value.
 */
function cfgCookie(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  at.args(args, 1, Infinity);
  const name = args[0];
  const c: CookieConfig = { name, mode: "insert" };
  const attrs: string[] = [];
  let mode: string | undefined;
  let i = 1;
  while (i < args.length) {
    const opt = args[i++];
    const sub = at.sub(`cookie ${opt}`);
    switch (opt) {
      case "insert":
      case "prefix":
        if (mode !== undefined) {
          throw sub.fail(`"cookie" takes one mode, got "${mode}" and "${opt}"`);
        }
        mode = c.mode = opt;
        break;
      case "indirect":
        c.indirect = true;
        break;
      case "nocache":
        c.nocache = true;
        break;
      case "httponly":
        attrs.push("HttpOnly");
        break;
      case "secure":
        attrs.push("Secure");
        break;
      case "domain":
        attrs.push(`Domain=${sub.value(args, i++)}`);
        break;
      case "attr":
        attrs.push(sub.value(args, i++));
        break;
      default:
        throw at.unsupported(`cookie ${opt}`);
    }
  }
  if (mode === undefined) {
    throw at.fail('"cookie" needs a mode: insert or prefix (the passive mode is not supported)');
  }
  if (attrs.length > 0) c.attributes = ["Path=/", ...attrs].join("; ");
  cfgSet(p, "cookie", { at, value: c });
}

/** `stick-table type ip|ipv6 size N [expire D]`. */
function cfgStickTable(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  at.args(args, 1, Infinity);
  const t: StickSourceConfig = {};
  let type: string | undefined;
  let i = 0;
  while (i < args.length) {
    const opt = args[i++];
    const sub = at.sub(`stick-table ${opt}`);
    switch (opt) {
      case "type":
        type = sub.oneOf(sub.value(args, i++), ["ip", "ipv6"]);
        break;
      case "size":
        t.size = sub.size(sub.value(args, i++));
        break;
      case "expire":
        t.expire = sub.duration(sub.value(args, i++));
        break;
      default:
        throw at.unsupported(`stick-table ${opt}`);
    }
  }
  if (type === undefined) throw at.fail('"stick-table" needs "type ip"');
  if (t.size === undefined) throw at.fail('"stick-table" needs "size N"');
  cfgSet(p, "stickTable", { at, value: t });
}

/** `stick on src`. */
function cfgStickOn(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  at.args(args, 1, 1);
  if (args[0] !== "src") throw at.badValue(args[0], 'only "stick on src" is supported');
  cfgSet(p, "stickOn", { at, value: true });
}

/**
 * `bind ADDR[,ADDR...] [ssl crt FILE|DIR [crt ...] [TLS version options]]
 * [accept-proxy]`. Several `crt` (or a directory of them) are chosen by SNI;
 * the first is the default. `crt` names are relative to `crt-base`; the
 * version options (cfg_tls.ts) start from `ssl-default-bind-options`.
 */
function cfgBind(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  at.args(args, 1, Infinity);
  let ssl = false, acceptProxy = false;
  const crts: { name: string; filters?: string[]; crtList?: CrtListRef }[] = [];
  const versions: CfgTlsVersionOpts = {};
  const bindTls: CfgBindTls = {};
  let tlsOpt = "";
  let i = 1;
  while (i < args.length) {
    const opt = args[i++];
    const sub = at.sub(`bind ${opt}`);
    if (opt === "ssl") ssl = true;
    else if (opt === "accept-proxy") acceptProxy = true;
    else if (opt === "crt") crts.push({ name: at.tlsPath(sub.value(args, i++), "crt") });
    else if (opt === "crt-list") {
      // As HAProxy: `crt-base` applies to the list's lines, not to the list;
      // named as its runtime API does (`show ssl crt-list`): no trailing "/".
      const list = sub.value(args, i++).replace(/(.)\/+$/, "$1");
      for (const e of cfgCrtList(sub, list)) {
        const crtList = { file: list, line: e.line };
        crts.push({ name: at.tlsPath(e.crt, "crt"), filters: e.filters, crtList });
      }
    } else {
      let next = cfgBindTlsOption(at, args, i - 1, bindTls);
      if (next < 0) {
        next = cfgTlsOption(at.sub("bind"), args, i - 1, versions, { lists: true, bind: true });
      }
      if (next < 0) throw at.unsupported(`bind ${opt}`);
      tlsOpt ||= opt;
      i = next;
    }
  }
  if (ssl !== (crts.length > 0)) {
    throw at.fail(ssl ? '"bind ... ssl" needs "crt FILE"' : '"bind ... crt" needs "ssl"');
  }
  if (!ssl && tlsOpt !== "") throw at.fail(`"bind ... ${tlsOpt}" needs "ssl"`);
  if ((bindTls.verify ?? "none") !== "none" && bindTls.ca === undefined) {
    throw at.fail(
      `"verify ${bindTls.verify}" needs "ca-file FILE" (the CAs client certificates are checked against)`,
    );
  }
  const pairs = crts.flatMap((c) =>
    cfgCrts(at.sub("bind crt"), c.name).map((x) => {
      const y = c.crtList === undefined ? x : { ...x, crtList: c.crtList };
      return c.filters?.length ? { ...y, filters: c.filters } : y;
    })
  );
  // The TLS 1.2 suites in play depend on the certificates' key types.
  const need12 = cipherNeedOfKeys(
    pairs.map((x) => new X509Certificate(x.cert).publicKey.asymmetricKeyType ?? ""),
  );
  const tlsVersions = ssl ? cfgTlsVersions(at, versions, at.tls.bind, need12) : {};
  for (const text of args[0].split(",")) {
    const address = cfgAddress(at, text, { bind: true });
    const b: BindConfig = { address };
    if (pairs.length > 0) {
      b.tls = { ...pairs[0], ...tlsVersions, ...bindTls };
      if (pairs.length > 1) b.tls.sniCerts = pairs.slice(1).map((x) => ({ ...x }));
    }
    if (acceptProxy) b.acceptProxy = true;
    p.binds.push({ bind: b, where: at.where });
  }
}

/**
 * The certificates of one `crt`: the file, or every file of the directory
 * in name order but `.key`, `.issuer`, `.ocsp` and `.sctl` ones (HAProxy's).
 */
function cfgCrts(
  at: CfgAt,
  name: string,
): { cert: string; key: string; file: string; crtList?: CrtListRef }[] {
  let dir = false;
  try {
    dir = Deno.statSync(at.path(name)).isDirectory;
  } catch {
    // Not there: cfgCrt() says so.
  }
  // Named by file for the runtime API (`show ssl cert`, `set ssl cert`).
  if (!dir) return [{ ...cfgCrt(at, name), file: name }];
  const files = [...Deno.readDirSync(at.path(name))]
    .filter((e) => e.isFile && !/\.(key|issuer|ocsp|sctl)$/.test(e.name))
    .map((e) => e.name)
    .sort();
  if (files.length === 0) throw at.badValue(name, "no certificate file in the directory");
  // A directory is listed by `show ssl crt-list` as HAProxy loads it: a list, line 0.
  const crtList = { file: name.replace(/(.)\/+$/, "$1"), line: 0 };
  return files.map((f) => {
    const file = `${crtList.file}/${f}`;
    return { ...cfgCrt(at, file), file, crtList };
  });
}

/**
 * Reads a `crt` file as HAProxy does: one PEM file with the certificate
 * chain and the private key; when the key is not in it, `FILE.key`. Other
 * blocks (DH or EC parameters) are skipped.
 */
export function cfgCrt(at: CfgAt, file: string): { cert: string; key: string } {
  const blocks = (text: string) =>
    [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)].map((m) => ({
      label: m[1],
      text: m[0] + "\n",
    }));
  const all = blocks(at.readPem(file));
  const certs = all.filter((b) => b.label === "CERTIFICATE");
  let keys = all.filter((b) => b.label.endsWith("PRIVATE KEY"));
  if (certs.length === 0) throw at.badValue(file, "no certificate in the file");
  if (keys.length === 0) {
    let keyText: string | undefined;
    try {
      keyText = Deno.readTextFileSync(at.path(`${file}.key`));
    } catch {
      throw at.badValue(file, `no private key in the file nor in "${file}.key"`);
    }
    keys = blocks(keyText).filter((b) => b.label.endsWith("PRIVATE KEY"));
    if (keys.length === 0) throw at.badValue(`${file}.key`, "no private key in the file");
  }
  if (keys.length > 1) throw at.badValue(file, "more than one private key");
  if (keys[0].label === "ENCRYPTED PRIVATE KEY") {
    throw at.badValue(file, "encrypted private keys are not supported");
  }
  return { cert: certs.map((b) => b.text).join(""), key: keys[0].text };
}

/** `errorfile CODE FILE`: the file is a raw HTTP response. */
function cfgErrorFile(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  at.args(args, 2, 2);
  const code = at.int(args[0]);
  p.errorFiles[code] = { value: at.readFile(args[1]), where: at.where, inherited: false };
}

/** `default_backend NAME`; a listen section serves its own servers. */
function cfgDefaultBackend(p: CfgProxyDraft, { at, args }: CfgStmt): void {
  at.args(args, 1, 1);
  if (p.kind === "listen") {
    throw at.fail('"default_backend" is not allowed in a listen section (it uses its own servers)');
  }
  cfgSet(p, "defaultBackend", { at, value: args[0] });
}

const KEYWORDS: Record<string, CfgProxyKeyword> = {
  "mode": {
    caps: ALL,
    apply(p, { at, args }) {
      at.args(args, 1, 1);
      cfgSet(p, "mode", { at, value: at.oneOf(args[0], ["http", "tcp"] as const) });
    },
  },
  "maxconn": {
    caps: DEF_FE,
    apply(p, { at, args }) {
      at.args(args, 1, 1);
      cfgSet(p, "maxconn", { at, value: at.int(args[0]) });
    },
  },
  "timeout client": { caps: DEF_FE, apply: cfgTimeout("client") },
  "timeout http-request": { caps: DEF_FE, apply: cfgTimeout("httpRequest") },
  "timeout http-keep-alive": { caps: DEF_FE, apply: cfgTimeout("httpKeepAlive") },
  "timeout server": { caps: DEF_BE, apply: cfgTimeout("server") },
  "timeout connect": { caps: DEF_BE, apply: cfgTimeout("connect") },
  "timeout queue": { caps: DEF_BE, apply: cfgTimeout("queue") },
  "timeout tunnel": { caps: DEF_BE, apply: cfgTimeout("tunnel") },
  "timeout check": { caps: DEF_BE, apply: cfgTimeout("check") },
  "retries": {
    caps: DEF_BE,
    apply(p, { at, args }) {
      at.args(args, 1, 1);
      cfgSet(p, "retries", { at, value: at.int(args[0]) });
    },
  },
  "http-reuse": {
    caps: DEF_BE,
    apply(p, { at, args }) {
      at.args(args, 1, 1);
      const value = at.oneOf(args[0], ["never", "safe", "aggressive", "always"] as const);
      cfgSet(p, "httpReuse", { at, value });
    },
  },
  "option redispatch": { caps: DEF_BE, apply: cfgRedispatch },
  "no option redispatch": {
    caps: DEF_BE,
    apply(p, { at, args }) {
      at.args(args, 0, 0);
      cfgSet(p, "redispatch", { at, value: 0 });
    },
  },
  "option forwardfor": { caps: ALL, apply: cfgForwardFor },
  "no option forwardfor": {
    caps: ALL,
    apply(p, { at, args }) {
      at.args(args, 0, 0);
      cfgSet(p, "forwardFor", { at, value: false });
    },
  },
  "option http-keep-alive": { caps: ALL, apply: cfgConnMode("keep-alive") },
  "option http-server-close": { caps: ALL, apply: cfgConnMode("server-close") },
  "option httpclose": { caps: ALL, apply: cfgConnMode("close") },
  "no option http-keep-alive": { caps: ALL, apply: cfgNoConnMode("keep-alive") },
  "no option http-server-close": { caps: ALL, apply: cfgNoConnMode("server-close") },
  "no option httpclose": { caps: ALL, apply: cfgNoConnMode("close") },
  "option http-buffer-request": { caps: ALL, apply: cfgFlag("bufferRequest", true) },
  "no option http-buffer-request": { caps: ALL, apply: cfgFlag("bufferRequest", false) },
  "option abortonclose": { caps: DEF_BE, apply: cfgFlag("abortOnClose", true) },
  "no option abortonclose": { caps: DEF_BE, apply: cfgFlag("abortOnClose", false) },
  "monitor-uri": { caps: DEF_FE, apply: cfgMonitorUri },
  "compression algo": { caps: ALL, apply: cfgCompAlgo },
  "compression type": { caps: ALL, apply: cfgCompType },
  "compression offload": { caps: ALL, apply: cfgCompOffload },
  "timeout tarpit": { caps: ALL, apply: cfgTimeout("tarpit") },
  "fullconn": {
    caps: DEF_BE,
    apply(p, { at, args }) {
      at.args(args, 1, 1);
      const n = at.int(args[0]);
      if (n < 1) throw at.badValue(args[0], "expected at least 1");
      cfgSet(p, "fullconn", { at, value: n });
    },
  },

  "option httplog": { caps: DEF_FE, apply: cfgLogFormat("httplog") },
  "option tcplog": { caps: DEF_FE, apply: cfgLogFormat("tcplog") },
  "log": { caps: ALL, apply: cfgProxyLog },
  "no log": { caps: ALL, apply: cfgProxyNoLog },
  "log-format": { caps: DEF_FE, apply: cfgLogFormatLine },
  "log-format-sd": { caps: DEF_FE, apply: cfgLogFormatSd },
  "option dontlognull": { caps: DEF_FE, apply: cfgLogOption("dontLogNull", true) },
  "no option dontlognull": { caps: DEF_FE, apply: cfgLogOption("dontLogNull", false) },
  "option log-separate-errors": { caps: DEF_FE, apply: cfgLogOption("logSeparateErrors", true) },
  "no option log-separate-errors": {
    caps: DEF_FE,
    apply: cfgLogOption("logSeparateErrors", false),
  },
  "option log-health-checks": { caps: DEF_BE, apply: cfgLogOption("logHealthChecks", true) },
  "no option log-health-checks": { caps: DEF_BE, apply: cfgLogOption("logHealthChecks", false) },
  "capture request": { caps: CFG_CAP_FE, apply: cfgCapture("request") },
  "capture response": { caps: CFG_CAP_FE, apply: cfgCapture("response") },
  "unique-id-format": { caps: DEF_FE, apply: cfgUniqueIdFormat },
  "unique-id-header": { caps: DEF_FE, apply: cfgUniqueIdHeader },
  "balance": { caps: DEF_BE, apply: cfgBalance },
  "hash-type": { caps: DEF_BE, apply: cfgHashType },
  "option httpchk": { caps: DEF_BE, apply: cfgHttpchk },
  "http-check expect": { caps: DEF_BE, apply: cfgCheckExpect },
  "http-check send": { caps: DEF_BE, apply: cfgCheckSend },
  "option tcp-check": { caps: DEF_BE, apply: cfgTcpCheckOpt },
  "tcp-check comment": { caps: DEF_BE, apply: (p, stmt) => cfgTcpCheck(p, stmt, "comment") },
  "tcp-check connect": { caps: DEF_BE, apply: (p, stmt) => cfgTcpCheck(p, stmt, "connect") },
  "tcp-check send": { caps: DEF_BE, apply: (p, stmt) => cfgTcpCheck(p, stmt, "send") },
  "tcp-check send-binary": {
    caps: DEF_BE,
    apply: (p, stmt) => cfgTcpCheck(p, stmt, "send-binary"),
  },
  "tcp-check expect": { caps: DEF_BE, apply: (p, stmt) => cfgTcpCheck(p, stmt, "expect") },
  "default-server": { caps: DEF_BE, apply: cfgDefaultServer },
  "server": { caps: CFG_CAP_BE, apply: cfgServer },
  // sluice's own: a backend that serves a directory (cfg_static.ts).
  "static-root": { caps: CFG_CAP_BE, apply: cfgStaticRoot },
  "static-index": { caps: CFG_CAP_BE, apply: cfgStaticIndex },
  "static-autoindex": { caps: CFG_CAP_BE, apply: cfgStaticAutoindex },
  "static-precompressed": { caps: CFG_CAP_BE, apply: cfgStaticPrecompressed },
  "static-cache-control": { caps: CFG_CAP_BE, apply: cfgStaticCacheControl },
  "static-dotfiles": { caps: CFG_CAP_BE, apply: cfgStaticDotfiles },
  "static-cache-valid": { caps: CFG_CAP_BE, apply: cfgStaticCacheValid },
  "cookie": { caps: DEF_BE, apply: cfgCookie },
  "stick-table": { caps: CFG_CAP_BE, apply: cfgStickTable },
  "stick on": { caps: CFG_CAP_BE, apply: cfgStickOn },
  "bind": { caps: CFG_CAP_FE, apply: cfgBind },
  "default_backend": { caps: DEF_FE, apply: cfgDefaultBackend },
  "errorfile": { caps: ALL, apply: cfgErrorFile },
  // A section with "stats enable" is sluice's stats listener (page, CSV,
  // JSON, /metrics on its bind address).
  "stats enable": {
    caps: CFG_CAP_FE,
    apply(p, { at, args }) {
      at.args(args, 0, 0);
      p.stats = { ...p.stats, where: at.where };
    },
  },
  "stats uri": {
    caps: CFG_CAP_FE,
    apply(p, { at, args }) {
      at.args(args, 1, 1);
      if (!/^\/[\x21-\x7e]*$/.test(args[0])) {
        throw at.badValue(args[0], 'expected a path starting with "/"');
      }
      p.stats = { where: p.stats?.where ?? "", ...p.stats, uri: args[0] };
    },
  },
  "stats refresh": {
    caps: CFG_CAP_FE,
    apply(p, { at, args }) {
      at.args(args, 1, 1);
      p.stats = {
        where: p.stats?.where ?? "",
        ...p.stats,
        refresh: Math.ceil(at.duration(args[0]) / 1000),
      };
    },
  },
  "stats auth": {
    caps: CFG_CAP_FE,
    apply(p, { at, args }) {
      at.args(args, 1, 1);
      if (p.stats?.auth !== undefined) throw at.fail('only one "stats auth" user is supported');
      if (!/^[^:\s]+:\S+$/.test(args[0])) throw at.badValue(args[0], 'expected "user:password"');
      p.stats = { where: p.stats?.where ?? "", ...p.stats, auth: args[0] };
    },
  },
  // Rules are kept as words with their place; config_check compiles them.
  "acl": { caps: FE_BE, apply: cfgRule("acls") },
  "use_backend": { caps: CFG_CAP_FE, apply: cfgRule("useBackends") },
  "http-request": { caps: FE_BE, apply: cfgRule("httpRequest") },
  "http-response": { caps: FE_BE, apply: cfgRule("httpResponse") },
  "tcp-request": { caps: CFG_CAP_FE | CFG_CAP_BE, apply: cfgTcpRequest },
};

/**
 * `tcp-request inspect-delay D`, or a rule (`connection ...`, `content
 * ...`) kept for compilation. Backend sections would run content rules a
 * second time after routing (HAProxy): not supported yet.
 */
function cfgTcpRequest(p: CfgProxyDraft, stmt: CfgStmt): void {
  const { at, args } = stmt;
  const kind = args[0];
  if (p.kind === "backend" && kind !== undefined) {
    if (kind === "content" || kind === "inspect-delay") {
      throw at.fail(
        `"tcp-request ${kind}" in a backend section is not supported yet (put it in the frontend)`,
      );
    }
    throw at.fail(`"tcp-request ${kind}" is not allowed in a backend (it is not a frontend)`);
  }
  if (kind !== "inspect-delay") return cfgRule("tcpRequest")(p, stmt);
  const sub = at.sub("tcp-request inspect-delay");
  const rest = args.slice(1);
  sub.args(rest, 1, 1);
  if (p.inspectDelay !== undefined && !p.inspectDelay.inherited) {
    throw sub.fail(`"tcp-request inspect-delay" is given twice (first at ${p.inspectDelay.where})`);
  }
  cfgSet(p, "inspectDelay", { at: sub, value: sub.duration(rest[0]) });
}

/** Keeps a rule line (`acl`, `use_backend`, `http-request`, `http-response`) for compilation. */
function cfgRule(kind: keyof CfgProxyDraft["rules"]): CfgProxyKeyword["apply"] {
  return (p, { at, args }) => {
    if (args.length === 0) throw at.fail(`missing value for "${at.kw}"`);
    p.rules[kind].push({ words: args, where: at.where });
  };
}

/** How many leading words name the keyword: `timeout connect` 2, `no option forwardfor` 3. */
function cfgKeywordLength(words: readonly string[]): number {
  if (words[0] === "no") return words[1] === "option" ? 3 : 2;
  return GROUPS.has(words[0]) ? 2 : 1;
}

/** Capability bits of a section kind. */
function cfgSectionCaps(p: CfgProxyDraft): number {
  switch (p.kind) {
    case "defaults":
      return CFG_CAP_DEF;
    case "frontend":
      return CFG_CAP_FE;
    case "backend":
      return CFG_CAP_BE;
    case "listen":
      return CFG_CAP_FE | CFG_CAP_BE;
  }
}

/**
 * Applies one statement of a proxy section. `base` gives the place; its
 * keyword is replaced with the one found in `words`. Throws for unsupported
 * keywords, keywords in the wrong section, and bad values.
 */
export function cfgProxyKeyword(p: CfgProxyDraft, stmt: { base: CfgAt; words: string[] }): void {
  const { base, words } = stmt;
  const n = cfgKeywordLength(words);
  const kw = words.slice(0, n).join(" ");
  const at = base.sub(kw);
  if (words.length < n) throw at.fail(`missing value for "${kw}"`);
  const k = KEYWORDS[kw];
  if (k === undefined) throw at.unsupported(kw);
  if ((k.caps & cfgSectionCaps(p)) === 0) {
    const names = cfgCapNames(k.caps);
    const last = names.pop();
    const list = names.length === 0 ? last : `${names.join(", ")} or ${last}`;
    throw at.fail(
      `keyword "${kw}" is not allowed in section "${p.label}" (only in ${list} sections)`,
    );
  }
  k.apply(p, { at, args: words.slice(n) });
}
