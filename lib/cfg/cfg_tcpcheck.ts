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

/** Options of `tcp-check expect` that need log-format or sample expressions. */
const EXPECT_REFUSED = new Set([
  "ok-status",
  "error-status",
  "tout-status",
  "on-success",
  "on-error",
  "status-code",
]);

/** Connect options sluice has no transport for. */
const CONNECT_REFUSED = new Set(["addr", "sni", "alpn", "via-socks4", "proto", "linger"]);

/** A match, its pattern and negation: `[!] MATCH PATTERN` from `args[i]` on. */
export interface CfgExpectMatch {
  match: "status" | "rstatus" | "string" | "rstring" | "binary" | "rbinary";
  pattern: string;
  negate: boolean;
}

/**
 * Parses `[!] MATCH PATTERN` (the `!` may touch the match: `!string`) for an
 * HTTP or TCP check; the pattern is compiled once to refuse a bad one here.
 */
export function cfgExpectMatch(
  at: CfgAt,
  args: readonly string[],
  i: number,
  kind: "http" | "tcp",
): CfgExpectMatch {
  let word = at.value(args, i++);
  let negate = false;
  if (word === "!") {
    negate = true;
    word = at.value(args, i++);
  } else if (word.startsWith("!")) {
    negate = true;
    word = word.slice(1);
  }
  const matches = kind === "http"
    ? ["status", "rstatus", "string", "rstring"]
    : ["string", "rstring", "binary", "rbinary"];
  if (!matches.includes(word)) {
    const lf = word.endsWith("-lf") || word === "hdr" || word === "fhdr";
    throw at.badValue(
      word,
      `expected ${matches.slice(0, -1).join(", ")} or ${matches[matches.length - 1]}` +
        (lf ? " (log-format and header matches are not supported)" : ""),
    );
  }
  const sub = at.sub(`${at.kw} ${word}`);
  sub.args(args.slice(i), 1, 1);
  const pattern = args[i];
  const match = word as CfgExpectMatch["match"];
  try {
    compileExpect({ match, pattern }, kind);
  } catch (err) {
    throw sub.badValue(pattern, (err as Error).message);
  }
  return { match, pattern, negate };
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

/** `tcp-check expect [min-recv N] [comment C] [!] MATCH PATTERN`. */
function cfgTcpExpect(at: CfgAt, args: readonly string[]): TcpCheckRuleConfig {
  const r: Extract<TcpCheckRuleConfig, { action: "expect" }> = {
    action: "expect",
    match: "string",
    pattern: "",
  };
  let i = 0;
  for (;;) {
    const opt = at.value(args, i);
    const sub = at.sub(`${at.kw} ${opt}`);
    if (opt === "min-recv") {
      const v = sub.value(args, i + 1);
      const n = sub.int(v, { signed: true });
      if (n < -1 || n > 16384) throw sub.badValue(v, "expected -1 to 16384 (the check buffer)");
      r.minRecv = n;
      i += 2;
    } else if (opt === "comment") {
      r.comment = sub.value(args, i + 1);
      i += 2;
    } else if (EXPECT_REFUSED.has(opt)) {
      throw at.unsupported(`${at.kw} ${opt}`, "it needs log-format or sample expressions");
    } else break;
  }
  const m = cfgExpectMatch(at, args, i, "tcp");
  r.match = m.match as typeof r.match;
  r.pattern = m.pattern;
  if (m.negate) r.negate = true;
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
