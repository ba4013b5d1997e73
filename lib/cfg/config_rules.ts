/**
 * A frontend's rules, checked and compiled (resolveConfig()'s
 * `frontends[].rules` part): ACLs, `http-request` / `http-response` rules,
 * `use_backend` and `tcp-request connection|content`, each condition refused at
 * load time when it uses a fetch its rule cannot feed.
 *
 * @module
 */
import { aclDeclare } from "../rules/acl.ts";
import { authScopeProxyNamed } from "../rules/auth.ts";
import { compileCondition, condMisuse, evalCondition } from "../rules/acl_cond.ts";
import {
  type AclCond,
  type AclCtx,
  type AclMap,
  SMP_USE_CONN,
  SMP_USE_L6REQ,
  SMP_USE_REQ,
  SMP_USE_RES,
} from "../rules/acl_types.ts";
import { compileHttpRule, compileUseBackend, type CondCompiler } from "../rules/http_rules.ts";
import { compileTcpContentRule } from "../rules/tcp_rules.ts";
import { actTemplate } from "../rules/act_template.ts";
import { cfgLexLine } from "./cfg_lexer.ts";
import type { ResolvedBackend, ResolvedRules } from "./config_resolved_types.ts";
import type { FrontendRules, ProxyMode, RuleText } from "./config_types.ts";
import { type ResolveErrors, resolveFail } from "./config_values.ts";

/** The words and error place of a rule given as text or as words. */
function ruleWords(where: string, r: RuleText): { words: string[]; where: string } {
  if (typeof r === "string") return { words: cfgLexLine(r, where, {}), where };
  if (typeof r !== "object" || r === null || !Array.isArray(r.words)) {
    resolveFail(where, "expected a rule as text or { words, where }");
  }
  return { words: r.words, where: r.where ?? where };
}

/**
 * Compiles a frontend's ACLs, http-request/response rules and use_backend
 * rules. A rule in error is recorded in `ctx.errs` and left out; so is a
 * rule naming an ACL whose declaration is in error (it would only repeat it).
 */
export function resolveRules(
  at: string,
  r: FrontendRules,
  ctx: {
    /** The proxy's name: `http-request auth`'s default realm. */
    name: string;
    mode: ProxyMode;
    backends: readonly ResolvedBackend[];
    bufsize: number;
    errs: ResolveErrors;
  },
): ResolvedRules {
  return authScopeProxyNamed(ctx.name, () => rulesOf(at, r, ctx));
}

function rulesOf(at: string, r: FrontendRules, ctx: Parameters<typeof resolveRules>[2]) {
  if (typeof r !== "object" || r === null) {
    resolveFail(at, "expected { acls?, useBackends?, httpRequest?, httpResponse? }");
  }
  const errs = ctx.errs;
  /** ACLs whose declaration is in error. */
  const broken = new Set<string>();
  const list = (k: keyof FrontendRules) => {
    const v = r[k];
    if (v === undefined) return [];
    if (!Array.isArray(v)) resolveFail(`${at}.${k}`, "expected a list of rules");
    return v.map((x, i) => errs.run(() => ruleWords(`${at}.${k}[${i}]`, x), null))
      .filter((x) => x !== null)
      .filter((x) => k === "acls" || !x.words.some((w) => broken.has(w.replace(/^!/, ""))));
  };
  /** Compiles each rule of `k` with `fn`, leaving out those in error. */
  const each = <T>(k: keyof FrontendRules, fn: (x: { words: string[]; where: string }) => T) =>
    list(k).map((x) => errs.run(() => fn(x), null)).filter((x) => x !== null);
  if (ctx.mode !== "http") {
    for (const k of ["httpRequest", "httpResponse"] as const) {
      if ((r[k]?.length ?? 0) > 0) resolveFail(`${at}.${k}`, 'HTTP rules need mode "http"');
    }
  }
  const acls: AclMap = new Map();
  for (const a of list("acls")) {
    const acl = errs.run(() => aclDeclare(acls, ["acl", ...a.words], a.where), null);
    if (acl === null) broken.add(a.words[0]);
  }
  // A condition may only use fetches the rule can feed: a connection rule
  // knows the client address, a response rule the response (and variables).
  const named = (acl: string) => acl.startsWith("{") ? "" : ` (ACL "${acl}")`;
  /** Refuses a condition using a fetch its rule cannot feed (`use`: SMP_USE_* bits it can). */
  const check = (c: AclCond, use: number, refuse: (kw: string, acl: string) => string) => {
    const bad = condMisuse(c, use);
    if (bad === null) return;
    const kw = bad.expr.fetch.kw;
    if ((use & SMP_USE_L6REQ) === 0 && (bad.expr.use & SMP_USE_L6REQ) !== 0) {
      // A raw-bytes fetch where the bytes are HTTP (HAProxy ignores it there, with a warning).
      resolveFail(
        c.where,
        `"${kw}"${named(bad.acl.name)} reads the raw request bytes, which only TCP-mode ` +
          `"tcp-request content" rules and use_backend see${
            /ssl/.test(kw) ? ' (for TLS terminated here, use "ssl_fc_sni" or "ssl_fc")' : ""
          }`,
      );
    }
    resolveFail(c.where, refuse(kw, bad.acl.name));
  };
  const condFor = (use: number, refuse: (kw: string, acl: string) => string) => {
    const compile: CondCompiler<AclCtx> = (words, where) => {
      const c = compileCondition(words, acls, where);
      check(c, use, refuse);
      return (x) => evalCondition(c, x);
    };
    return compile;
  };
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
  // TCP mode: the connection and the raw request bytes.
  const contentRefuse = (kw: string, acl: string) =>
    `"${kw}"${
      named(acl)
    } cannot be used in TCP mode, which sees raw bytes: use req.len, req.payload(), req.ssl_sni, req.ssl_hello_type, req.ssl_ver or connection fetches (src, dst...)`;
  const tcpCond = condFor(SMP_USE_CONN | SMP_USE_L6REQ, contentRefuse);
  const connCond = condFor(
    SMP_USE_CONN,
    (kw, acl) =>
      `tcp-request connection rules can only use src, src_port, dst, dst_port and ssl_fc (not "${kw}"${
        named(acl)
      }): nothing else is known yet`,
  );
  const httpRequest = each("httpRequest", (x) => {
    const rule = compileHttpRule(x.words, x.where, false, cond);
    if ((rule.action.fixedReply?.bytes.length ?? 0) > ctx.bufsize) {
      resolveFail(x.where, `the response is larger than a buffer (${ctx.bufsize} bytes)`);
    }
    return rule;
  });
  const httpResponse = each("httpResponse", (x) => {
    const rule = compileHttpRule(x.words, x.where, true, resCond);
    if ((rule.action.fixedReply?.bytes.length ?? 0) > ctx.bufsize) {
      resolveFail(x.where, `the response is larger than a buffer (${ctx.bufsize} bytes)`);
    }
    return rule;
  });
  const useBackends = each("useBackends", (x) => {
    let u = compileUseBackend(x.words, x.where, ctx.mode === "http" ? cond : tcpCond);
    if (u.backend.includes("%")) {
      // A log-format name (HAProxy: any "%"), built for each request.
      const use = ctx.mode === "http" ? SMP_USE_REQ : SMP_USE_CONN | SMP_USE_L6REQ;
      const t = actTemplate(x.where, "the use_backend name", u.backend, use);
      if (typeof t !== "string" && t.some((p) => typeof p !== "string")) {
        return { ...u, dynamic: t };
      }
      u = { ...u, backend: typeof t === "string" ? t : t.join("") }; // only "%%"s
    }
    const be = ctx.backends.find((b) => b.name === u.backend);
    if (be === undefined) {
      resolveFail(x.where, `use_backend: no backend named ${JSON.stringify(u.backend)}`);
    }
    if (be.mode !== ctx.mode) {
      resolveFail(x.where, `use_backend: backend "${be.name}" is not in ${ctx.mode} mode`);
    }
    return u;
  });
  const tcpRules = list("tcpRequest");
  const tcpContent = tcpRules.filter((x) => x.words[0] === "content").map((x) =>
    errs.run(() => {
      if (ctx.mode !== "tcp") {
        resolveFail(
          x.where,
          'tcp-request content rules need mode "tcp" (in mode http, use http-request rules)',
        );
      }
      return compileTcpContentRule(x.words.slice(1), x.where, {
        acls,
        check: (c) => check(c, SMP_USE_CONN | SMP_USE_L6REQ, contentRefuse),
      });
    }, null)
  ).filter((x) => x !== null);
  const tcpRequest = tcpRules.filter((x) => x.words[0] !== "content").map((x) =>
    errs.run(() => tcpConnRule(x), null)
  ).filter((x) => x !== null);
  function tcpConnRule(x: { words: string[]; where: string }) {
    const [kind, verdict, ...rest] = x.words;
    if (kind !== "connection" || (verdict !== "accept" && verdict !== "reject")) {
      resolveFail(
        x.where,
        `unsupported rule "tcp-request ${
          x.words.slice(0, 2).join(" ")
        }" (supported: tcp-request connection|content accept|reject [if|unless condition])`,
      );
    }
    if (rest.length > 0 && rest[0] !== "if" && rest[0] !== "unless") {
      resolveFail(
        x.where,
        `unexpected ${JSON.stringify(rest[0])} after tcp-request connection ${verdict}`,
      );
    }
    return { accept: verdict === "accept", cond: rest.length > 0 ? connCond(rest, x.where) : null };
  }
  return { tcpRequest, httpRequest, httpResponse, useBackends, tcpContent };
}
