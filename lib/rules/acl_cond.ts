/**
 * Conditions (HAProxy's parse_acl_cond() / acl_exec_cond()): the
 * `if|unless ...` that ends a rule such as `http-request deny if ...` or
 * `use_backend be if ...`.
 *
 * Grammar, as HAProxy:
 *
 * ```
 * cond  = ("if" | "unless") suite *( ("||" | "or") suite )
 * suite = term *term                  ; implicit AND, binds tighter than OR
 * term  = *"!" ( NAME | "{" fetch [flags] patterns... "}" )
 * ```
 *
 * - `!` may be glued to the term (`!is_api`, `!{`) or stand alone
 *   (`! is_api`); several negate in turn. `or` is case-insensitive.
 * - NAME is a named ACL of the section (declared before the condition) or a
 *   predefined one (`TRUE`, `METH_GET`, ...); an unknown name is an error.
 * - Braces are separate words and hold one anonymous expression; they do
 *   not nest (a `{` word inside braces is an error), and there are no
 *   parentheses.
 *
 * @module
 */
import { aclError, aclEval, aclEval3, aclPredefined, compileAcl } from "./acl.ts";
import {
  type Acl,
  ACL_COND_IF,
  ACL_COND_UNLESS,
  ACL_TEST_FAIL,
  ACL_TEST_MISS,
  ACL_TEST_PASS,
  type AclCond,
  type AclCtx,
  type AclExpr,
  type AclMap,
  type AclTerm,
} from "./acl_types.ts";

/**
 * Compiles a condition: `words` is `["if" | "unless", terms...]` (the
 * words of a rule from its `if`/`unless` on). Named ACLs are looked up in
 * `acls`, then among the predefined ones. Throws a SluiceError
 * (ERR_CONFIG) at `where` for a missing `if`/`unless`, an unknown ACL, a
 * dangling `!` or `||`, unbalanced or nested braces, or any compileAcl()
 * error inside braces.
 *
 * Three arguments (STYLE.md asks for two plus options): `where` is the
 * same `file:line` string every config helper takes, kept positional to
 * match aclDeclare().
 *
 * @example
 * ```ts
 * import { aclDeclare } from "./acl.ts";
 * import { compileCondition } from "./acl_cond.ts";
 * import type { AclMap } from "./acl_types.ts";
 * const acls: AclMap = new Map();
 * aclDeclare(acls, ["acl", "is_api", "path_beg", "/api"], "a.cfg:3");
 * const cond = compileCondition(
 *   ["if", "is_api", "!{", "src", "10.0.0.0/8", "}", "||", "METH_POST"],
 *   acls,
 *   "a.cfg:9",
 * );
 * // cond.suites.length === 2
 * ```
 */
export function compileCondition(words: readonly string[], acls: AclMap, where: string): AclCond {
  const kw = words[0];
  if (kw !== "if" && kw !== "unless") {
    throw aclError(
      where,
      kw === undefined
        ? `missing condition (expected "if" or "unless")`
        : `expected "if" or "unless" before the condition, got "${kw}"`,
    );
  }
  const suites: AclTerm[][] = [];
  let cur: AclTerm[] = [];
  let neg = false;
  for (let i = 1; i < words.length; i++) {
    let w = words[i];
    while (w.startsWith("!")) {
      neg = !neg;
      w = w.slice(1);
    }
    if (w === "") continue; // a lone "!" negates the next term
    if (w === "||" || w.toLowerCase() === "or") {
      if (neg) throw aclError(where, `"!" before "${w}" in condition: it must precede an ACL`);
      if (cur.length === 0) throw aclError(where, `missing ACL before "${w}" in condition`);
      suites.push(cur);
      cur = [];
      continue;
    }
    let acl: Acl;
    if (w === "{") {
      let j = i + 1;
      while (j < words.length && words[j] !== "}") {
        if (words[j] === "{") {
          throw aclError(where, `nested braces are not allowed in a condition`);
        }
        j++;
      }
      if (j === words.length) throw aclError(where, `missing "}" in condition`);
      const inner = words.slice(i + 1, j);
      if (inner.length === 0) throw aclError(where, `empty braces "{ }" in condition`);
      acl = { name: `{ ${inner.join(" ")} }`, exprs: [compileAcl(inner, where)] };
      i = j;
    } else if (w === "}") {
      throw aclError(where, `unexpected "}" in condition (no "{" before it)`);
    } else if (w.startsWith("{") || w.endsWith("}")) {
      throw aclError(
        where,
        `unknown ACL "${w}" in condition (braces must be separate words: "{ path_beg /a }")`,
      );
    } else {
      const found = acls.get(w) ?? aclPredefined(w);
      if (found === undefined) throw aclError(where, `unknown ACL "${w}" in condition`);
      acl = found;
    }
    cur.push({ acl, neg });
    neg = false;
  }
  if (neg) throw aclError(where, `"!" at the end of the condition: it must precede an ACL`);
  if (cur.length === 0) {
    throw aclError(
      where,
      suites.length === 0 ? `missing condition after "${kw}"` : `missing ACL after "||" or "or"`,
    );
  }
  suites.push(cur);
  return { pol: kw === "if" ? ACL_COND_IF : ACL_COND_UNLESS, suites, where };
}

/**
 * Evaluates a compiled condition on a request: for `if`, true when every
 * term of some suite holds; `unless` inverts the result. Terms are
 * evaluated left to right and stop early (AND at the first false term, OR
 * at the first true suite), so cheap ACLs first is cheaper. Never throws;
 * allocates only for `reg` matching.
 *
 * @example
 * ```ts
 * import { compileCondition, evalCondition } from "./acl_cond.ts";
 * import { h1ParseHead } from "../http/h1_parser.ts";
 * import { HttpMsg } from "../http/h1_types.ts";
 * const a = new TextEncoder().encode("GET /api/x HTTP/1.1\r\nHost: a\r\n\r\n");
 * const msg = new HttpMsg(16);
 * h1ParseHead(msg, a, 0, a.length, { maxHead: 8192, maxHdrs: 16, maxBody: 0 });
 * const cond = compileCondition(["if", "{", "path_beg", "/api", "}"], new Map(), "a.cfg:1");
 * evalCondition(cond, { msg, a, base: 0, src: "10.0.0.1", sni: null }); // true
 * ```
 */
export function evalCondition(cond: AclCond, ctx: AclCtx): boolean {
  const suites = cond.suites;
  let r = false;
  for (let s = 0; s < suites.length && !r; s++) {
    const terms = suites[s];
    let ok = true;
    for (let t = 0; t < terms.length; t++) {
      const term = terms[t];
      if (aclEval(term.acl, ctx) === term.neg) {
        ok = false;
        break;
      }
    }
    r = ok;
  }
  return cond.pol === ACL_COND_UNLESS ? !r : r;
}

/**
 * Evaluates a condition on bytes that may still grow (TCP content
 * inspection), HAProxy's acl_exec_cond() and the `unless` of its callers:
 * ACL_TEST_MISS when the answer depends on bytes not there yet (the rule
 * waits; never once `ctx.content.final`), else ACL_TEST_PASS or
 * ACL_TEST_FAIL with `unless` applied. Terms combine as HAProxy's: a
 * missing term stops its suite, a later suite may still pass. Never throws.
 */
export function evalCondition3(cond: AclCond, ctx: AclCtx): number {
  const suites = cond.suites;
  let r = ACL_TEST_FAIL;
  for (let s = 0; s < suites.length && r !== ACL_TEST_PASS; s++) {
    const terms = suites[s];
    let suite = ACL_TEST_PASS;
    for (let t = 0; t < terms.length && suite === ACL_TEST_PASS; t++) {
      const res = aclEval3(terms[t].acl, ctx);
      suite &= terms[t].neg ? 3 >> res : res;
    }
    r |= suite;
  }
  if (r === ACL_TEST_MISS) return r;
  return (r === ACL_TEST_PASS) !== (cond.pol === ACL_COND_UNLESS) ? ACL_TEST_PASS : ACL_TEST_FAIL;
}

/**
 * The first ACL term of `cond` with a fetch that cannot be fed where the
 * rule runs (`allowed`: SMP_USE_* bits), or null when all can: a
 * connection rule knows only the address, a response rule not the request.
 */
export function condMisuse(cond: AclCond, allowed: number): { acl: Acl; expr: AclExpr } | null {
  for (const terms of cond.suites) {
    for (const t of terms) {
      const expr = t.acl.exprs.find((e) => (e.use & allowed) === 0);
      if (expr !== undefined) return { acl: t.acl, expr };
    }
  }
  return null;
}

/**
 * The condition as text (`if is_api !{ src 10.0.0.0/8 } || METH_POST`),
 * for logs, dumps and tests.
 */
export function condShow(cond: AclCond): string {
  const s = cond.suites.map((terms) =>
    terms.map((t) => `${t.neg ? "!" : ""}${t.acl.name}`).join(" ")
  );
  return `${cond.pol === ACL_COND_UNLESS ? "unless" : "if"} ${s.join(" || ")}`;
}
