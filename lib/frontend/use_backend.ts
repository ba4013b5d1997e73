/**
 * Picking the backend with `use_backend` rules (HAProxy's
 * process_switching_rules()), for HTTP and TCP frontends alike: the first
 * rule whose condition holds names the backend, either fixed at load time
 * or, for a name with `%[...]` samples, built from the request; a built name
 * that is no backend of the frontend's mode leaves the default backend, as
 * HAProxy.
 *
 * @module
 */
import type { Backend } from "../backend/backend.ts";
import type { AclCtx } from "../rules/acl_types.ts";
import { templateExpand } from "../rules/act_template.ts";
import type { ValueTemplate } from "../rules/http_act_types.ts";
import type { RuleCond } from "../rules/http_rules.ts";

/** A `use_backend` rule with its backend linked. */
export interface UseBackendRt {
  /** The backend, or null when the name is built per request (`dynamic`). */
  readonly backend: Backend | null;
  /** The name with samples (`be_%[req.hdr(host)]`), or null. */
  readonly dynamic: ValueTemplate | null;
  readonly cond: RuleCond<AclCtx> | null;
}

/**
 * The backend `rules` pick for the message in `ctx`: the first matching
 * rule's, `dflt` when none matches or a built name is not in `byName`.
 */
export function useBackendPick(
  rules: readonly UseBackendRt[],
  ctx: AclCtx,
  x: { byName: ReadonlyMap<string, Backend>; dflt: Backend },
): Backend {
  for (const u of rules) {
    if (u.cond !== null && !u.cond(ctx)) continue;
    if (u.dynamic === null) return u.backend!;
    return x.byName.get(templateExpand(u.dynamic, ctx)) ?? x.dflt;
  }
  return x.dflt;
}
