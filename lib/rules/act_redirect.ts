/**
 * `redirect location URL|prefix P|scheme S [code CODE]`: answer 301/302/303/
 * 307/308 (default 302) with a Location. A literal `location` is built at
 * load time; `prefix` and `scheme` keep the request's path and query (and
 * host), and in `http-request` rules the URL and prefix are log-formats
 * (`%[fetch]` samples), so those build their answer per request.
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
import { type AclCtx, SMP_USE_REQ } from "./acl_types.ts";
import { buildReply, ReplyAct } from "./act_reply.ts";
import { actTemplate, templateExpand } from "./act_template.ts";
import type { ValueTemplate } from "./http_act_types.ts";
import { hostOf, targetOf } from "./http_target.ts";

const CODES = [301, 302, 303, 307, 308];

/**
 * `redirect prefix|scheme`: the request's target under another prefix or
 * scheme; `redirect location` with samples.
 */
class RedirectAct implements HttpAct {
  constructor(
    readonly mode: "location" | "prefix" | "scheme",
    readonly value: string | ValueTemplate,
    readonly status: number,
  ) {}

  run(ctx: AclCtx): RuleAnswer | null {
    // prefix: the same path under another prefix; scheme: the same
    // host and path over another scheme (e.g. https).
    let v = typeof this.value === "string" ? this.value : templateExpand(this.value, ctx);
    if (this.mode === "prefix" && typeof this.value !== "string") v = v.replace(/\/$/, "");
    const t = this.mode === "location" ? "" : targetOf(ctx);
    const loc = this.mode === "scheme" ? `${v}://${hostOf(ctx)}${t}` : v + t;
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
  // Log-formats in requests (HAProxy's); a response has no request to sample.
  const target = mode === "scheme" || c.phase === ACT_F_HTTP_RES
    ? actLiteral(where, `redirect ${mode}`, w[1])
    : actTemplate(where, `redirect ${mode}`, w[1], SMP_USE_REQ);
  let code = 302;
  for (let i = 2; i < w.length; i += 2) {
    if (w[i] !== "code") actFail(where, `unexpected ${JSON.stringify(w[i])} in redirect`);
    code = actStatus(where, w[i + 1], (n) => CODES.includes(n));
  }
  if (typeof target !== "string") return new RedirectAct(mode, target, code);
  if (mode === "scheme" && !/^[a-zA-Z][a-zA-Z0-9+.-]*$/.test(target)) {
    actFail(where, `redirect scheme needs a scheme name, got ${JSON.stringify(target)}`);
  }
  return mode === "location"
    ? new ReplyAct(code, buildReply(code, [["Location", target]], ""), false)
    : new RedirectAct(mode, target.replace(/\/$/, ""), code);
}
