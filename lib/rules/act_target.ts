/**
 * Target actions (requests): `set-path PATH` and `set-query QUERY` replace
 * one part of the forwarded request target and keep the other. Conditions
 * still see the target as received (`rw.target` is what gets forwarded).
 * Values are HAProxy log-formats: `%[fetch]` samples are expanded per
 * request, and a result that is no valid path or query leaves the target
 * as it is.
 *
 * @module
 */
import type { RewriteOptions } from "../http/h1_rewrite.ts";
import { type AclCtx, SMP_USE_REQ } from "./acl_types.ts";
import { actTemplate, templateExpand } from "./act_template.ts";
import { actFail } from "./http_act_args.ts";
import type { HttpAct, HttpActCompile, ValueTemplate } from "./http_act_types.ts";
import { targetOf } from "./http_target.ts";

const PATH = /^\/[\x21-\x7e]*$/;
const QUERY = /^[\x21-\x7e]*$/;

/** `set-path` (`query` false) or `set-query` (`query` true). */
class SetTargetAct implements HttpAct {
  constructor(readonly query: boolean, readonly value: string | ValueTemplate) {}

  run(ctx: AclCtx, rw: RewriteOptions): null {
    let v = this.value;
    if (typeof v !== "string") {
      v = templateExpand(v, ctx);
      if (!(this.query ? QUERY : PATH).test(v)) return null;
    }
    const t = rw.target ?? targetOf(ctx);
    const q = t.indexOf("?");
    const path = q < 0 ? t : t.slice(0, q), query = q < 0 ? null : t.slice(q + 1);
    rw.target = this.query
      ? (v === "" ? path : `${path}?${v}`)
      : (query === null ? v : `${v}?${query}`);
    return null;
  }
}

/** The one word of `set-path`/`set-query`: a log-format. */
function targetValue(w: readonly string[], c: HttpActCompile): string | ValueTemplate {
  const value = actTemplate(c.where, c.kw, w[0], SMP_USE_REQ);
  if (w.length > 1) actFail(c.where, `unexpected ${JSON.stringify(w[1])} after ${c.kw}`);
  return value;
}

/** Compiles `set-path PATH` (origin form: starts with "/", no spaces). */
export function actSetPathCompile(w: readonly string[], c: HttpActCompile): HttpAct {
  const value = targetValue(w, c);
  if (typeof value === "string" && !PATH.test(value)) {
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
  if (typeof value === "string" && !QUERY.test(value)) {
    actFail(c.where, `set-query needs a query without spaces, got ${JSON.stringify(value)}`);
  }
  return new SetTargetAct(true, value);
}
