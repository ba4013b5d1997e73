/**
 * Target actions (requests): `set-path PATH` and `set-query QUERY` replace
 * one part of the forwarded request target and keep the other. Conditions
 * still see the target as received (`rw.target` is what gets forwarded).
 *
 * @module
 */
import type { RewriteOptions } from "../http/h1_rewrite.ts";
import type { AclCtx } from "./acl_types.ts";
import { actFail, actLiteral } from "./http_act_args.ts";
import type { HttpAct, HttpActCompile } from "./http_act_types.ts";
import { targetOf } from "./http_target.ts";

/** `set-path` (`query` false) or `set-query` (`query` true). */
class SetTargetAct implements HttpAct {
  constructor(readonly query: boolean, readonly value: string) {}

  run(ctx: AclCtx, rw: RewriteOptions): null {
    const t = rw.target ?? targetOf(ctx);
    const q = t.indexOf("?");
    const path = q < 0 ? t : t.slice(0, q), query = q < 0 ? null : t.slice(q + 1);
    const v = this.value;
    rw.target = this.query
      ? (v === "" ? path : `${path}?${v}`)
      : (query === null ? v : `${v}?${query}`);
    return null;
  }
}

/** The one word of `set-path`/`set-query`, a literal. */
function targetValue(w: readonly string[], c: HttpActCompile): string {
  const value = actLiteral(c.where, c.kw, w[0]);
  if (w.length > 1) actFail(c.where, `unexpected ${JSON.stringify(w[1])} after ${c.kw}`);
  return value;
}

/** Compiles `set-path PATH` (origin form: starts with "/", no spaces). */
export function actSetPathCompile(w: readonly string[], c: HttpActCompile): HttpAct {
  const value = targetValue(w, c);
  if (!/^\/[\x21-\x7e]*$/.test(value)) {
    actFail(
      c.where,
      `set-path needs a path starting with "/" without spaces, got ${JSON.stringify(value)}`,
    );
  }
  return new SetTargetAct(false, value);
}

/** Compiles `set-query QUERY` (without "?"; empty removes the query). */
export function actSetQueryCompile(w: readonly string[], c: HttpActCompile): HttpAct {
  const value = targetValue(w, c);
  if (!/^[\x21-\x7e]*$/.test(value)) {
    actFail(c.where, `set-query needs a query without spaces, got ${JSON.stringify(value)}`);
  }
  return new SetTargetAct(true, value);
}
