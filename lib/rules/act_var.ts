/**
 * `set-var(txn.NAME) EXPR` (requests): stores a value for the `var()` fetch
 * of later rules, `use_backend` and the response rules of the same request.
 * EXPR is a literal (`str(TEXT)`) or a request sample: any fetch (its first
 * sample, as text), as HAProxy's sample expressions.
 *
 * @module
 */
import { aclFetchParse } from "./acl_fetch.ts";
import { type AclCtx, type AclFetch, SMP_USE_REQ } from "./acl_types.ts";
import { sampleText } from "./act_template.ts";
import { actFail, actLiteral } from "./http_act_args.ts";
import type { HttpAct, HttpActCompile } from "./http_act_types.ts";

/** The value a `set-var` stores: a literal, or a request sample (any fetch, with converters). */
export type VarSample = { kind: "str"; value: string } | { kind: "fetch"; fetch: AclFetch };

function varSample(where: string, words: readonly string[]): VarSample {
  const w = words.join(" ");
  const m = /^str\((.*)\)$/s.exec(w);
  if (m !== null) return { kind: "str", value: actLiteral(where, "set-var str()", m[1]) };
  const spec = words.length === 1
    ? aclFetchParse(w, where)
    : `unexpected ${JSON.stringify(words[1])}`;
  if (typeof spec === "string") {
    return actFail(
      where,
      `unsupported set-var expression ${
        JSON.stringify(w)
      }: ${spec} (expected str(TEXT) or a request fetch)`,
    );
  }
  if ((spec.use & SMP_USE_REQ) === 0) {
    return actFail(where, `set-var: "${w}" is only known in response rules`);
  }
  return { kind: "fetch", fetch: spec.fetch.sample ?? spec.fetch };
}

function sampleValue(s: VarSample, ctx: AclCtx): string | null {
  return s.kind === "str" ? s.value : sampleText(s.fetch, ctx);
}

/** Stores a sample's value (none: nothing stored) under `name` in the request's variables. */
class SetVarAct implements HttpAct {
  constructor(readonly name: string, readonly sample: VarSample) {}

  run(ctx: AclCtx): null {
    const v = sampleValue(this.sample, ctx);
    if (v !== null) (ctx.vars ??= new Map()).set(this.name, v);
    return null;
  }
}

/** The variable names `set-var(...)` takes: `txn.NAME` (or `req.NAME`, the same here). */
export const VAR_NAME = /^(?:txn|req)\.[A-Za-z0-9_.]+$/;

/** Compiles `set-var(txn.NAME) EXPR` (`c.arg` matched VAR_NAME). */
export function actSetVarCompile(w: readonly string[], c: HttpActCompile): HttpAct {
  if (w.length < 1) actFail(c.where, `missing value for "${c.kw}"`);
  // txn and req scopes are the same here: one request.
  return new SetVarAct(c.arg!.replace(/^req\./, "txn."), varSample(c.where, w));
}
