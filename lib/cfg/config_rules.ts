/**
 * A frontend's rules, checked and compiled (resolveConfig()'s
 * `frontends[].rules` part): ACLs, `http-request` / `http-response` rules,
 * `use_backend` and `tcp-request connection`, each condition refused at
 * load time when it uses a fetch its rule cannot feed.
 *
 * @module
 */
import { aclDeclare } from "../rules/acl.ts";
import { compileCondition, condMisuse, evalCondition } from "../rules/acl_cond.ts";
import {
  type AclCtx,
  type AclMap,
  SMP_USE_CONN,
  SMP_USE_REQ,
  SMP_USE_RES,
} from "../rules/acl_types.ts";
import { compileHttpRule, compileUseBackend, type CondCompiler } from "../rules/http_rules.ts";
import { cfgLexLine } from "./cfg_lexer.ts";
import type { ResolvedBackend, ResolvedRules } from "./config_resolved_types.ts";
import type { FrontendRules, ProxyMode, RuleText } from "./config_types.ts";
import { resolveFail } from "./config_values.ts";

/** The words and error place of a rule given as text or as words. */
function ruleWords(where: string, r: RuleText): { words: string[]; where: string } {
  if (typeof r === "string") return { words: cfgLexLine(r, where, {}), where };
  if (typeof r !== "object" || r === null || !Array.isArray(r.words)) {
    resolveFail(where, "expected a rule as text or { words, where }");
  }
  return { words: r.words, where: r.where ?? where };
}

/** Compiles a frontend's ACLs, http-request/response rules and use_backend rules. */
export function resolveRules(
  at: string,
  r: FrontendRules,
  ctx: { mode: ProxyMode; backends: readonly ResolvedBackend[]; bufsize: number },
): ResolvedRules {
  if (typeof r !== "object" || r === null) {
    resolveFail(at, "expected { acls?, useBackends?, httpRequest?, httpResponse? }");
  }
  const list = (k: keyof FrontendRules) => {
    const v = r[k];
    if (v === undefined) return [];
    if (!Array.isArray(v)) resolveFail(`${at}.${k}`, "expected a list of rules");
    return v.map((x, i) => ruleWords(`${at}.${k}[${i}]`, x));
  };
  if (ctx.mode !== "http") {
    for (const k of ["useBackends", "httpRequest", "httpResponse"] as const) {
      if ((r[k]?.length ?? 0) > 0) resolveFail(`${at}.${k}`, 'HTTP rules need mode "http"');
    }
  }
  const acls: AclMap = new Map();
  for (const a of list("acls")) aclDeclare(acls, ["acl", ...a.words], a.where);
  // A condition may only use fetches the rule can feed: a connection rule
  // knows the client address, a response rule the response (and variables).
  const condFor = (use: number, refuse: (kw: string, acl: string) => string) => {
    const compile: CondCompiler<AclCtx> = (words, where) => {
      const c = compileCondition(words, acls, where);
      const bad = condMisuse(c, use);
      if (bad !== null) resolveFail(where, refuse(bad.expr.fetch.kw, bad.acl.name));
      return (x) => evalCondition(c, x);
    };
    return compile;
  };
  const named = (acl: string) => acl.startsWith("{") ? "" : ` (ACL "${acl}")`;
  const cond = condFor(
    SMP_USE_REQ,
    (kw, acl) => `"${kw}"${named(acl)} is only known in http-response rules, not in request rules`,
  );
  const resCond = condFor(
    SMP_USE_RES,
    (kw, acl) =>
      `"${kw}"${
        named(acl)
      } reads the request, which http-response rules cannot see: keep the value with "http-request set-var(txn.NAME)" and test "var(txn.NAME)"`,
  );
  const connCond = condFor(
    SMP_USE_CONN,
    (kw, acl) =>
      `tcp-request connection rules can only use src, src_port, dst, dst_port and ssl_fc (not "${kw}"${
        named(acl)
      }): nothing else is known yet`,
  );
  const httpRequest = list("httpRequest").map((x) => {
    const rule = compileHttpRule(x.words, x.where, false, cond);
    if ((rule.action.fixedReply?.bytes.length ?? 0) > ctx.bufsize) {
      resolveFail(x.where, `the response is larger than a buffer (${ctx.bufsize} bytes)`);
    }
    return rule;
  });
  const httpResponse = list("httpResponse").map((x) => {
    const rule = compileHttpRule(x.words, x.where, true, resCond);
    if ((rule.action.fixedReply?.bytes.length ?? 0) > ctx.bufsize) {
      resolveFail(x.where, `the response is larger than a buffer (${ctx.bufsize} bytes)`);
    }
    return rule;
  });
  const useBackends = list("useBackends").map((x) => {
    const u = compileUseBackend(x.words, x.where, cond);
    const be = ctx.backends.find((b) => b.name === u.backend);
    if (be === undefined) {
      resolveFail(x.where, `use_backend: no backend named ${JSON.stringify(u.backend)}`);
    }
    if (be.mode !== "http") {
      resolveFail(x.where, `use_backend: backend "${be.name}" is not in http mode`);
    }
    return u;
  });
  const tcpRequest = list("tcpRequest").map((x) => {
    const [kind, verdict, ...rest] = x.words;
    if (kind !== "connection" || (verdict !== "accept" && verdict !== "reject")) {
      resolveFail(
        x.where,
        `unsupported rule "tcp-request ${
          x.words.slice(0, 2).join(" ")
        }" (supported: tcp-request connection accept|reject [if|unless condition])`,
      );
    }
    if (rest.length > 0 && rest[0] !== "if" && rest[0] !== "unless") {
      resolveFail(
        x.where,
        `unexpected ${JSON.stringify(rest[0])} after tcp-request connection ${verdict}`,
      );
    }
    return { accept: verdict === "accept", cond: rest.length > 0 ? connCond(rest, x.where) : null };
  });
  return { tcpRequest, httpRequest, httpResponse, useBackends };
}
