/**
 * `redirect location URL|prefix P|scheme S [code CODE]`: answer 301/302/303/
 * 307/308 (default 302) with a Location. `location` is built at load time;
 * `prefix` and `scheme` keep the request's path and query (and host), so
 * they build their answer per request.
 *
 * @module
 */
import { actFail, actLiteral, actStatus } from "./http_act_args.ts";
import {
  ACT_F_HTTP_RES,
  type HttpAct,
  type HttpActCompile,
  type RuleAnswer,
} from "./http_act_types.ts";
import type { AclCtx } from "./acl_types.ts";
import { buildReply, ReplyAct } from "./act_reply.ts";
import { hostOf, targetOf } from "./http_target.ts";

const CODES = [301, 302, 303, 307, 308];

/** `redirect prefix|scheme`: the request's target under another prefix or scheme. */
class RedirectAct implements HttpAct {
  constructor(
    readonly mode: "prefix" | "scheme",
    readonly value: string,
    readonly status: number,
  ) {}

  run(ctx: AclCtx): RuleAnswer | null {
    // prefix: the same path under another prefix; scheme: the same
    // host and path over another scheme (e.g. https).
    const t = targetOf(ctx);
    const loc = this.mode === "prefix" ? this.value + t : `${this.value}://${hostOf(ctx)}${t}`;
    if (!/^[\x21-\x7e]+$/.test(loc)) return null; // odd bytes in the Host: no redirect
    return {
      kind: "reply",
      status: this.status,
      bytes: buildReply(this.status, [["Location", loc]], ""),
      deny: false,
    };
  }
}

/** Compiles `redirect ...` (responses: `location` only). */
export function actRedirectCompile(w: readonly string[], c: HttpActCompile): HttpAct {
  const where = c.where;
  const mode = w[0];
  if (c.phase === ACT_F_HTTP_RES && mode !== "location") {
    actFail(
      where,
      `"http-response redirect" supports only "location" (prefix and scheme need the request)`,
    );
  }
  if (mode !== "location" && mode !== "prefix" && mode !== "scheme") {
    actFail(where, `expected redirect location|prefix|scheme, got ${JSON.stringify(mode ?? "")}`);
  }
  const target = actLiteral(where, `redirect ${mode}`, w[1]);
  if (mode === "scheme" && !/^[a-zA-Z][a-zA-Z0-9+.-]*$/.test(target)) {
    actFail(where, `redirect scheme needs a scheme name, got ${JSON.stringify(target)}`);
  }
  let code = 302;
  for (let i = 2; i < w.length; i += 2) {
    if (w[i] !== "code") actFail(where, `unexpected ${JSON.stringify(w[i])} in redirect`);
    code = actStatus(where, w[i + 1], (n) => CODES.includes(n));
  }
  return mode === "location"
    ? new ReplyAct(code, buildReply(code, [["Location", target]], ""), false)
    : new RedirectAct(mode, target.replace(/\/$/, ""), code);
}
