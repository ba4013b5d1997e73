/**
 * `option tcp-check` and its `tcp-check` rules, and the match part shared
 * with `http-check expect` (`[!] status|rstatus|string|rstring|binary|
 * rbinary PATTERN`), as HAProxy 2.6's tcpcheck.c parses them:
 *
 * | rule                                                                 | sets                          |
 * | -------------------------------------------------------------------- | ----------------------------- |
 * | `tcp-check comment TEXT`                                             | names the rules after it      |
 * | `tcp-check connect [default] [port N] [ssl] [send-proxy] [comment C]` | a new connection              |
 * | `tcp-check send TEXT [comment C]`                                    | bytes sent                    |
 * | `tcp-check send-binary HEX [comment C]`                              | bytes sent                    |
 * | `tcp-check expect [min-recv N] [comment C] [!] MATCH PATTERN`        | what the response must hold   |
 *
 * Patterns are checked here (a bad regular expression or odd hex digits is
 * an error at its line). The options that need HAProxy's log-format, sample
 * expressions or variables (`send-lf`, `set-var`, `on-success`,
 * `status-code`, `port <expr>`...) and the connect options sluice has no
 * transport for (`addr`, `sni`, `alpn`, `via-socks4`, `proto`, `linger`)
 * are refused at their line.
 *
 * A section's rules replace the ones it would inherit from `defaults` (one
 * ruleset per section, as HAProxy).
 *
 * @module
 */
import { compileExpect } from "../check/check_expect.ts";
import type { CfgAt } from "./cfg_at.ts";
import type { CfgProxyDraft, CfgStmt } from "./cfg_types.ts";
import type { TcpCheckRuleConfig } from "./config_types.ts";

/** Options of `expect` rules that need log-format or sample expressions. */
const EXPECT_LOGFORMAT = new Set(["on-success", "on-error", "status-code"]);
/** Options of `expect` rules that change the reported status (sluice's statuses are fixed). */
const EXPECT_STATUS = new Set(["ok-status", "error-status", "tout-status"]);

/** Connect options sluice has no transport for. */
const CONNECT_REFUSED = new Set(["addr", "sni", "alpn", "via-socks4", "proto", "linger"]);

/** An expect rule: match, pattern, negation, and for TCP checks `min-recv` and `comment`. */
export interface CfgExpectMatch {
  match: "status" | "rstatus" | "string" | "rstring" | "binary" | "rbinary";
  pattern: string;
  negate: boolean;
  minRecv?: number;
  comment?: string;
}

/**
 * Parses the words of an `expect` rule as HAProxy's parse_tcpcheck_expect():
 * options and `[!] MATCH PATTERN` in any order (`!` may touch the match:
 * `!string`; each `!` toggles), one match. `min-recv` and `comment` are
 * TCP-check options (refused for HTTP checks). The pattern is compiled once
 * to refuse a bad one here.
 */
export function cfgExpectMatch(
  at: CfgAt,
  args: readonly string[],
  kind: "http" | "tcp",
): CfgExpectMatch {
  const matches = kind === "http"
    ? ["status", "rstatus", "string", "rstring"]
    : ["string", "rstring", "binary", "rbinary"];
  let found: { match: CfgExpectMatch["match"]; pattern: string; sub: CfgAt } | null = null;
  const r: Omit<CfgExpectMatch, "match" | "pattern"> = { negate: false };
  at.args(args, 1, Infinity);
  let i = 0;
  while (i < args.length) {
    let word = args[i++];
    const sub = at.sub(`${at.kw} ${word}`);
    if (kind === "tcp" && word === "min-recv") {
      const v = sub.value(args, i++);
      const n = sub.int(v, { signed: true });
      if (n < -1 || n > 16384) throw sub.badValue(v, "expected -1 to 16384 (the check buffer)");
      r.minRecv = n;
      continue;
    }
    if (kind === "tcp" && word === "comment") {
      r.comment = sub.value(args, i++);
      continue;
    }
    if (EXPECT_LOGFORMAT.has(word)) {
      throw at.unsupported(`${at.kw} ${word}`, "it needs log-format or sample expressions");
    }
    if (EXPECT_STATUS.has(word) || word === "min-recv" || word === "comment") {
      throw at.unsupported(`${at.kw} ${word}`);
    }
    while (word.startsWith("!")) {
      r.negate = !r.negate;
      word = word.slice(1);
      if (word === "") word = at.value(args, i++);
    }
    if (!matches.includes(word)) {
      const lf = word.endsWith("-lf") || word === "hdr" || word === "fhdr";
      throw at.badValue(
        word,
        `expected ${matches.slice(0, -1).join(", ")} or ${matches[matches.length - 1]}` +
          (lf ? " (log-format and header matches are not supported)" : ""),
      );
    }
    const msub = at.sub(`${at.kw} ${word}`);
    if (found !== null) {
      throw msub.fail(`"${at.kw}" takes one match, got "${found.match}" and "${word}"`);
    }
    found = { match: word as CfgExpectMatch["match"], pattern: msub.value(args, i++), sub: msub };
  }
  if (found === null) {
    throw at.fail(`"${at.kw}" needs a match (${matches.join(", ")}) and a pattern`);
  }
  const { match, pattern, sub } = found;
  try {
    compileExpect({ match, pattern }, kind);
  } catch (err) {
    throw sub.badValue(pattern, (err as Error).message);
  }
  return { match, pattern, ...r };
}

/** `tcp-check connect ...`. */
function cfgTcpConnect(at: CfgAt, args: readonly string[]): TcpCheckRuleConfig {
  const r: Extract<TcpCheckRuleConfig, { action: "connect" }> = { action: "connect" };
  let i = 0;
  while (i < args.length) {
    const opt = args[i++];
    const sub = at.sub(`${at.kw} ${opt}`);
    if (opt === "default") r.default = true;
    else if (opt === "ssl") r.ssl = true;
    else if (opt === "send-proxy") r.sendProxy = true;
    else if (opt === "comment") r.comment = sub.value(args, i++);
    else if (opt === "port") {
      const v = sub.value(args, i++);
      if (!/^[0-9]+$/.test(v)) {
        throw sub.badValue(v, "expected a port number (sample expressions are not supported)");
      }
      const port = sub.int(v);
      if (port < 1 || port > 65535) throw sub.badValue(v, "expected a port from 1 to 65535");
      r.port = port;
    } else if (CONNECT_REFUSED.has(opt)) {
      throw at.unsupported(
        `${at.kw} ${opt}`,
        "sluice connects to the server's address, TLS as the server",
      );
    } else throw at.unsupported(`${at.kw} ${opt}`);
  }
  return r;
}

/** `tcp-check send TEXT [comment C]` and `tcp-check send-binary HEX [comment C]`. */
function cfgTcpSend(at: CfgAt, args: readonly string[], binary: boolean): TcpCheckRuleConfig {
  const data = at.value(args, 0);
  let comment: string | undefined;
  if (args.length > 1) {
    if (args[1] !== "comment") throw at.fail(`unexpected argument "${args[1]}" for "${at.kw}"`);
    comment = at.sub(`${at.kw} comment`).value(args, 2);
    at.args(args, 3, 3);
  }
  if (binary) {
    if (!/^([0-9A-Fa-f]{2})+$/.test(data)) {
      throw at.badValue(data, "expected an even count of hexadecimal digits");
    }
  } else if (data === "") throw at.badValue(data, "expected non-empty text");
  const r: TcpCheckRuleConfig = binary
    ? { action: "send-binary", hex: data }
    : { action: "send", data };
  if (comment !== undefined) r.comment = comment;
  return r;
}

/** `tcp-check expect [min-recv N] [comment C] [!] MATCH PATTERN`, the options in any order. */
function cfgTcpExpect(at: CfgAt, args: readonly string[]): TcpCheckRuleConfig {
  const m = cfgExpectMatch(at, args, "tcp");
  const r: Extract<TcpCheckRuleConfig, { action: "expect" }> = {
    action: "expect",
    match: m.match as "string" | "rstring" | "binary" | "rbinary",
    pattern: m.pattern,
  };
  if (m.negate) r.negate = true;
  if (m.minRecv !== undefined) r.minRecv = m.minRecv;
  if (m.comment !== undefined) r.comment = m.comment;
  return r;
}

/**
 * `tcp-check ACTION ...`: appends the rule to the section's ruleset (a new
 * one when the section had only inherited the defaults').
 */
export function cfgTcpCheck(
  p: CfgProxyDraft,
  stmt: CfgStmt,
  action: "comment" | "connect" | "send" | "send-binary" | "expect",
): void {
  const { at, args } = stmt;
  let rule: TcpCheckRuleConfig;
  switch (action) {
    case "comment":
      at.args(args, 1, 1);
      rule = { action: "comment", text: args[0] };
      break;
    case "connect":
      rule = cfgTcpConnect(at, args);
      break;
    case "expect":
      rule = cfgTcpExpect(at, args);
      break;
    default:
      rule = cfgTcpSend(at, args, action === "send-binary");
  }
  const prev = p.tcpChecks;
  const rules = prev === undefined || prev.inherited ? [] : prev.value;
  rules.push(rule);
  p.tcpChecks = {
    value: rules,
    where: prev?.inherited === false ? prev.where : at.where,
    inherited: false,
  };
}
