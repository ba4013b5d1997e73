/**
 * `http-request auth [realm REALM]` (HAProxy's http_action_auth): answers
 * 401 with `WWW-Authenticate: Basic realm="REALM"`, the realm being by
 * default the name of the proxy whose rule it is, as HAProxy. Usually
 * guarded by `unless { http_auth(L) }`.
 *
 * @module
 */
import { buildReply, ReplyAct } from "./act_reply.ts";
import { authScopeProxy } from "./auth.ts";
import { actFail, actLiteral } from "./http_act_args.ts";
import type { HttpAct, HttpActCompile } from "./http_act_types.ts";

/** HAProxy's 401 body. */
const BODY = "<html><body><h1>401 Unauthorized</h1>\n" +
  "You need a valid user and password to access this content.\n</body></html>\n";

/** `auth [realm REALM]`. */
export function actAuthCompile(w: readonly string[], c: HttpActCompile): HttpAct {
  let realm = authScopeProxy();
  if (w.length > 0) {
    if (w[0] !== "realm") actFail(c.where, `unexpected ${JSON.stringify(w[0])} after auth`);
    realm = actLiteral(c.where, "realm", w[1]);
    if (realm === "") actFail(c.where, "missing value for realm");
    if (w.length > 2) actFail(c.where, `unexpected ${JSON.stringify(w[2])} after auth realm`);
  }
  // The realm is a quoted-string (RFC 7235): a quote or backslash would end or escape it.
  if (/["\\]/.test(realm)) actFail(c.where, `the realm may not contain '"' or '\\'`);
  return new ReplyAct(
    401,
    buildReply(401, [
      ["Content-Type", "text/html"],
      ["Cache-Control", "no-cache"],
      ["WWW-Authenticate", `Basic realm="${realm}"`],
    ], BODY),
    false,
  );
}
