/**
 * ACL expressions and named ACLs (HAProxy's acl.c): compiling
 * `fetch [flags] patterns...` once, declaring `acl NAME ...` lines (the same
 * name declared again ORs the new expression in), HAProxy's predefined ACLs
 * (`TRUE`, `METH_GET`, `LOCALHOST`, ...), and evaluating an ACL on a
 * request.
 *
 * Flags come before the patterns; the first word that does not start with
 * `-` (or the word after `--`) is the first pattern, so `path_beg /a -i`
 * has the two patterns "/a" and "-i", as in HAProxy:
 *
 * - `-i`: ignore ASCII case (string methods and `reg`);
 * - `-m METHOD`: matching method instead of the fetch's default;
 * - `-n`: no DNS resolution (sluice never resolves patterns; accepted);
 * - `--`: end of flags;
 * - `-f FILE`, `-M`, `-u ID`: not supported yet (config error).
 *
 * Configuration errors are SluiceErrors with code ERR_CONFIG whose message
 * starts with `where` (`file:line`), as cfg_at.ts words them.
 *
 * @module
 */
import { SluiceError } from "../core/errors.ts";
import { aclFetchParse } from "./acl_fetch.ts";
import { ACL_MATCHES, aclMatchAccepts, aclMatcherNew, aclMatchNoPattern } from "./acl_match.ts";
import {
  type Acl,
  ACL_EF_EXPLICIT_M,
  ACL_EF_ICASE,
  ACL_EF_NODNS,
  ACL_TEST_FAIL,
  ACL_TEST_MISS,
  ACL_TEST_PASS,
  type AclCtx,
  type AclExpr,
  type AclMap,
  type AclMatchKind,
  SMP_T_NAMES,
} from "./acl_types.ts";

/** Control characters as escapes, so that a message stays one printable line (as cfg_at.ts). */
function printable(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => {
    if (c === "\r") return "\\r";
    if (c === "\n") return "\\n";
    if (c === "\t") return "\\t";
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

/**
 * A configuration error at `where` (`file:line`), worded like cfgError()
 * in lib/cfg/cfg_at.ts (which this layer cannot import: cfg imports rules).
 */
export function aclError(where: string, msg: string): SluiceError {
  return new SluiceError("ERR_CONFIG", `${where}: ${printable(msg)}`, where);
}

/** `"a", "b" or "c"`. */
function quotedList(items: readonly string[]): string {
  const q = items.map((i) => `"${i}"`);
  const last = q.pop();
  return q.length === 0 ? `${last}` : `${q.join(", ")} or ${last}`;
}

/**
 * Compiles one ACL expression: `words` is `fetch [flags] [--] patterns...`
 * (the words after `acl NAME`, or between `{` and `}` in a condition).
 * Throws a SluiceError (ERR_CONFIG) at `where` naming the fetch and why:
 * unknown fetch or flag, bad argument, incompatible matching method,
 * missing or superfluous pattern, bad regex, integer or network.
 *
 * @example
 * ```ts
 * import { compileAcl } from "./acl.ts";
 * const expr = compileAcl(["hdr(host)", "-i", "example.com", "www.example.com"], "a.cfg:7");
 * // expr.matcher.kind === "str"
 * ```
 */
export function compileAcl(words: readonly string[], where: string): AclExpr {
  const fw = words[0];
  if (fw === undefined || fw === "") throw aclError(where, "missing fetch in ACL expression");
  const spec = aclFetchParse(fw, where);
  if (typeof spec === "string") throw aclError(where, `${spec} in ACL expression`);
  const what = `ACL fetch "${fw}"`;
  let flags = 0;
  let kind: AclMatchKind | null = spec.match;
  let i = 1;
  while (i < words.length && words[i].startsWith("-")) {
    const f = words[i];
    if (f === "--") {
      i++;
      break;
    }
    if (f === "-i") flags |= ACL_EF_ICASE;
    else if (f === "-n") flags |= ACL_EF_NODNS;
    else if (f === "-m") {
      const v = words[i + 1];
      if (v === undefined) throw aclError(where, `missing matching method after "-m" for ${what}`);
      if (flags & ACL_EF_EXPLICIT_M) throw aclError(where, `"-m" given twice for ${what}`);
      if (!Object.hasOwn(ACL_MATCHES, v)) {
        throw aclError(
          where,
          `unknown matching method "${v}" for ${what}: expected ${
            quotedList(Object.keys(ACL_MATCHES))
          }`,
        );
      }
      kind = v as AclMatchKind;
      flags |= ACL_EF_EXPLICIT_M;
      i++;
    } else if (f === "-f" || f === "-M") {
      throw aclError(where, `flag "${f}" (patterns from a file) is not supported yet for ${what}`);
    } else if (f === "-u") {
      throw aclError(where, `flag "-u" (unique id) is not supported for ${what}`);
    } else {
      throw aclError(
        where,
        `unknown flag "${f}" for ${what} (put "--" before a pattern that starts with "-")`,
      );
    }
    i++;
  }
  const type = spec.fetch.type;
  if (kind === null) {
    throw aclError(
      where,
      `${what} yields ${
        SMP_T_NAMES[type]
      } samples, which have no default matching method: give one with "-m" (such as "-m bin" for hex patterns)`,
    );
  }
  if (!aclMatchAccepts(kind, type)) {
    const t = SMP_T_NAMES[type];
    throw aclError(
      where,
      `matching method "${kind}" cannot be used with ${what}, which yields ${
        /^[aeiou]/.test(t) ? "an" : "a"
      } ${t}`,
    );
  }
  let pats = words.slice(i);
  if (spec.pats !== undefined && !(flags & ACL_EF_EXPLICIT_M)) {
    const p = spec.pats(pats);
    if (!Array.isArray(p)) {
      throw aclError(where, `invalid pattern "${p.pat}" for ${what}: ${p.why}`);
    }
    pats = p;
  }
  if (aclMatchNoPattern(kind)) {
    if (pats.length > 0) {
      throw aclError(where, `unexpected pattern "${pats[0]}" for ${what}: "-m ${kind}" takes none`);
    }
  } else if (pats.length === 0) {
    throw aclError(where, `missing pattern for ${what} (give one or more, or use "-m found")`);
  }
  const matcher = aclMatcherNew(kind, pats, { icase: (flags & ACL_EF_ICASE) !== 0 });
  if ("why" in matcher) {
    throw aclError(where, `invalid pattern "${matcher.pat}" for ${what}: ${matcher.why}`);
  }
  return { text: words.join(" "), where, flags, fetch: spec.fetch, matcher, use: spec.use };
}

const ACL_NAME_RE = /^[A-Za-z0-9_.:-]+$/;

/**
 * Declares a named ACL from an `acl` line: `words` is
 * `["acl", NAME, fetch, flags..., patterns...]`. The first declaration of
 * NAME creates it in `acls`; later ones add their expression, ORed with the
 * earlier ones (HAProxy), also for conditions compiled in between. Returns
 * the ACL. Throws a SluiceError (ERR_CONFIG) at `where` for a missing or
 * invalid name and for any compileAcl() error.
 *
 * Three arguments (STYLE.md asks for two plus options) to match
 * compileCondition(words, acls, where), the pair the config parser calls.
 *
 * @example
 * ```ts
 * import { aclDeclare } from "./acl.ts";
 * import type { AclMap } from "./acl_types.ts";
 * const acls: AclMap = new Map();
 * aclDeclare(acls, ["acl", "is_api", "path_beg", "/api"], "a.cfg:3");
 * aclDeclare(acls, ["acl", "is_api", "hdr(host)", "api.example.com"], "a.cfg:4");
 * // acls.get("is_api")!.exprs.length === 2
 * ```
 */
export function aclDeclare(acls: AclMap, words: readonly string[], where: string): Acl {
  if (words[0] !== "acl") throw aclError(where, `expected an "acl" line, got "${words[0] ?? ""}"`);
  const name = words[1];
  if (name === undefined || name === "") throw aclError(where, `missing ACL name after "acl"`);
  if (!ACL_NAME_RE.test(name)) {
    const bad = [...name].find((c) => !ACL_NAME_RE.test(c)) ?? "";
    throw aclError(
      where,
      `invalid character "${bad}" in ACL name "${name}" (letters, digits, "_", ".", ":" and "-")`,
    );
  }
  if (name.toLowerCase() === "or") {
    throw aclError(where, `ACL name "${name}" is reserved: it separates terms in conditions`);
  }
  if (words.length < 3) throw aclError(where, `missing fetch for ACL "${name}"`);
  const expr = compileAcl(words.slice(2), where);
  let acl = acls.get(name);
  if (acl === undefined) {
    acl = { name, exprs: [] };
    acls.set(name, acl);
  }
  acl.exprs.push(expr);
  return acl;
}

/** HAProxy's predefined ACLs (acl.c acl_kws / "7.4. Pre-defined ACLs") whose fetches sluice has. */
const PREDEFINED: readonly (readonly [string, readonly string[]])[] = [
  ["TRUE", ["always_true"]],
  ["FALSE", ["always_false"]],
  ["LOCALHOST", ["src", "127.0.0.1/8", "::1"]],
  ["HTTP_1.0", ["req.ver", "1.0"]],
  ["HTTP_1.1", ["req.ver", "1.1"]],
  ["HTTP_CONTENT", ["hdr_val(content-length)", "gt", "0"]],
  ["HTTP_URL_ABS", ["url_reg", "^[^/:]*://"]],
  ["HTTP_URL_SLASH", ["url_beg", "/"]],
  ["HTTP_URL_STAR", ["url", "*"]],
  ["METH_CONNECT", ["method", "CONNECT"]],
  ["METH_DELETE", ["method", "DELETE"]],
  ["METH_GET", ["method", "GET", "HEAD"]],
  ["METH_HEAD", ["method", "HEAD"]],
  ["METH_OPTIONS", ["method", "OPTIONS"]],
  ["METH_POST", ["method", "POST"]],
  ["METH_PUT", ["method", "PUT"]],
  ["METH_TRACE", ["method", "TRACE"]],
  ["REQ_CONTENT", ["req.len", "gt", "0"]],
];

let predefined: Map<string, Acl> | undefined;

/**
 * The predefined ACL called `name` (`TRUE`, `FALSE`, `LOCALHOST`,
 * `HTTP_1.0`, `HTTP_1.1`, `HTTP_CONTENT`, `HTTP_URL_ABS`, `HTTP_URL_SLASH`,
 * `HTTP_URL_STAR`, `METH_*`, `REQ_CONTENT`), or undefined. A named ACL declared with the
 * same name hides it, as in HAProxy. Compiled on first use and shared.
 */
export function aclPredefined(name: string): Acl | undefined {
  predefined ??= new Map(
    PREDEFINED.map(([n, words]) => [n, { name: n, exprs: [compileAcl(words, "predefined")] }]),
  );
  return predefined.get(name);
}

/**
 * Evaluates an ACL on a request: true when any of its expressions has a
 * sample that matches. Never throws; allocates only for `reg` matching.
 */
export function aclEval(acl: Acl, ctx: AclCtx): boolean {
  const exprs = acl.exprs;
  for (let k = 0; k < exprs.length; k++) {
    const e = exprs[k];
    if (e.fetch.exec(ctx, e.matcher)) return true;
  }
  return false;
}

/**
 * Evaluates an ACL on bytes that may still grow (TCP content inspection):
 * ACL_TEST_PASS when an expression matches, ACL_TEST_MISS when none does
 * but one could with more bytes (its fetch set `content.miss`) and the
 * bytes are not final, else ACL_TEST_FAIL (HAProxy's acl_exec_cond() for
 * one term). Without `ctx.content`, as aclEval(). Never throws.
 */
export function aclEval3(acl: Acl, ctx: AclCtx): number {
  const c = ctx.content;
  if (c == null) return aclEval(acl, ctx) ? ACL_TEST_PASS : ACL_TEST_FAIL;
  const exprs = acl.exprs;
  let res = ACL_TEST_FAIL;
  for (let k = 0; k < exprs.length; k++) {
    const e = exprs[k];
    c.miss = false;
    if (e.fetch.exec(ctx, e.matcher)) {
      res = ACL_TEST_PASS;
      break;
    }
    if (c.miss && !c.final) res = ACL_TEST_MISS;
  }
  c.miss = false;
  return res;
}
