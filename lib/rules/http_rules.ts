/**
 * The rule engine of `http-request` / `http-response` rules and
 * `use_backend`, HAProxy's syntax: a rule is compiled once from its words
 * (`deny deny_status 429 if { src 10.0.0.0/8 }`) into an action found in
 * the registry (`http_act.ts`, whose rows say what each action does) and a
 * condition compiled by the ACL engine; rules then run in order for each
 * message against its parsed head. Header and target changes accumulate in
 * the head rewrite's lists; an action that answers stops the rules.
 *
 * @module
 */
import { showFlags } from "../core/flags.ts";
import type { RewriteOptions } from "../http/h1_rewrite.ts";
import type { AclCtx } from "./acl_types.ts";
import { httpActDef, httpActSupported } from "./http_act.ts";
import { actFail } from "./http_act_args.ts";
import {
  ACT_F_HTTP_REQ,
  ACT_F_HTTP_RES,
  ACT_F_NAMES,
  type HttpAct,
  type RuleAnswer,
  type ValueTemplate,
} from "./http_act_types.ts";

/** A compiled condition, evaluated against a request or response context. */
export type RuleCond<C> = (ctx: C) => boolean;

/** Compiles the words of a condition (`["if", "{", "path", "/", "}"]`). */
export type CondCompiler<C> = (words: string[], where: string) => RuleCond<C>;

/** One rule: a compiled action and its condition (null: always). */
export interface HttpRule<C> {
  readonly action: HttpAct;
  readonly cond: RuleCond<C> | null;
}

/** A `use_backend NAME [if|unless cond]` rule. */
export interface UseBackendRule<C> {
  /** The name as written. */
  readonly backend: string;
  readonly cond: RuleCond<C> | null;
  /** A name with `%[...]` samples, compiled: built for each request (absent: `backend`). */
  readonly dynamic?: ValueTemplate;
}

/** Splits `words` at the first `if`/`unless`: action words, then condition words. */
function splitCond(words: string[]): [string[], string[]] {
  const i = words.findIndex((w) => w === "if" || w === "unless");
  return i < 0 ? [words, []] : [words.slice(0, i), words.slice(i)];
}

/** `set-var(txn.x)` → name `set-var`, argument `txn.x`; a plain keyword has no argument. */
const KW_ARG = /^([^()]*)\((.*)\)$/s;

/**
 * Compiles one `http-request` (`response` false) or `http-response` rule
 * from its words (after the keyword). Throws SluiceError naming `where`:
 * an unknown action lists those of its rule set; an action of the other
 * rule set says so ("does not exist", or "not supported yet" for one HAProxy
 * has there).
 */
export function compileHttpRule<C>(
  words: string[],
  where: string,
  response: boolean,
  cond: CondCompiler<C>,
): HttpRule<C> {
  const [w, c] = splitCond(words);
  const kw = w[0] ?? "";
  const phase = response ? ACT_F_HTTP_RES : ACT_F_HTTP_REQ;
  const rules = showFlags(phase, ACT_F_NAMES);
  const m = KW_ARG.exec(kw);
  const name = m === null ? kw : m[1];
  const arg = m === null ? null : m[2];
  const def = httpActDef(name);
  if (
    def === undefined ||
    (def.arg === undefined ? arg !== null : arg === null || !def.arg.re.test(arg))
  ) {
    return actFail(
      where,
      `unsupported action "${rules} ${kw}" (supported: ${httpActSupported(phase)})`,
    );
  }
  if ((def.phases & phase) === 0) {
    actFail(
      where,
      ((def.later ?? 0) & phase) !== 0
        ? `"${rules} ${name}" is not supported yet`
        : `"${rules} ${name}" does not exist (use ${
          showFlags(def.phases, ACT_F_NAMES).replace("|", " or ")
        })`,
    );
  }
  const action = def.compile(w.slice(1), { where, phase, kw, arg });
  return { action, cond: c.length > 0 ? cond(c, where) : null };
}

/** Compiles `use_backend NAME [if|unless cond]` (words after the keyword). */
export function compileUseBackend<C>(
  words: string[],
  where: string,
  cond: CondCompiler<C>,
): UseBackendRule<C> {
  const [w, c] = splitCond(words);
  if (w.length !== 1) actFail(where, "expected use_backend NAME [if|unless condition]");
  return { backend: w[0], cond: c.length > 0 ? cond(c, where) : null };
}

/**
 * Runs `rules` in order against `ctx`: header and target actions go into
 * `rw` (whose `drop` and `add` lists the caller provides; the head rewrite
 * applies them), an answering action stops and is returned.
 */
export function runHttpRules<C extends AclCtx>(
  rules: readonly HttpRule<C>[],
  ctx: C,
  rw: RewriteOptions,
): RuleAnswer | null {
  for (const r of rules) {
    if (r.cond !== null && !r.cond(ctx)) continue;
    const answer = r.action.run(ctx, rw);
    if (answer !== null) return answer;
  }
  return null;
}
