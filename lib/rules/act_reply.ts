/**
 * Actions that answer with a response built at load time: `deny` and
 * `return`. Their run only hands back the prebuilt answer (no allocation).
 * Also the response builder that redirects, hooks and services use.
 *
 * @module
 */
import { actFail, actHeaderName, actLiteral, actStatus } from "./http_act_args.ts";
import type { Reply } from "../http/http_reply.ts";
import { type AclCtx, SMP_USE_REQ, SMP_USE_RES } from "./acl_types.ts";
import { actTemplate, templateExpand } from "./act_template.ts";
import {
  ACT_F_HTTP_RES,
  type HttpAct,
  type HttpActCompile,
  type RuleAnswer,
  type ValueTemplate,
} from "./http_act_types.ts";

const REASONS: Record<number, string> = {
  200: "OK",
  201: "Created",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

/** A complete response: status line, headers, Content-Length, Connection: close, body. */
export function buildReply(
  code: number,
  headers: [string, string][],
  body: string | Uint8Array,
): Uint8Array {
  const bodyBytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  let head = `HTTP/1.1 ${code} ${REASONS[code] ?? "Status"}\r\n`;
  for (const [k, v] of headers) head += `${k}: ${v}\r\n`;
  head += `Content-Length: ${bodyBytes.length}\r\nConnection: close\r\n\r\n`;
  const h = new Uint8Array(head.length);
  for (let i = 0; i < head.length; i++) h[i] = head.charCodeAt(i) & 0xff;
  const out = new Uint8Array(h.length + bodyBytes.length);
  out.set(h);
  out.set(bodyBytes, h.length);
  return out;
}

/** An action that always answers with the same response. */
export class ReplyAct implements HttpAct {
  readonly fixedReply: RuleAnswer & { kind: "reply" };

  constructor(status: number, bytes: Uint8Array, deny: boolean) {
    this.fixedReply = { kind: "reply", status, bytes, deny };
  }

  run(): RuleAnswer {
    return this.fixedReply;
  }
}

/** `deny [deny_status CODE]`: 403 for a request; a denied response becomes a 502, as in HAProxy. */
export function actDenyCompile(w: readonly string[], c: HttpActCompile): HttpAct {
  let code = c.phase === ACT_F_HTTP_RES ? 502 : 403;
  for (let i = 0; i < w.length; i += 2) {
    if (w[i] !== "deny_status") actFail(c.where, `unexpected ${JSON.stringify(w[i])} after deny`);
    code = actStatus(c.where, w[i + 1], (n) => n >= 200 && n <= 599);
  }
  return new ReplyAct(
    code,
    buildReply(code, [["Content-Type", "text/plain"]], `${code} ${REASONS[code] ?? ""}\n`),
    true,
  );
}

/** `http-request tarpit`: the denial is held, then answered (see http_ana.ts). */
class TarpitAct implements HttpAct {
  readonly fixedReply: Reply;
  readonly #answer: RuleAnswer;

  constructor(status: number, bytes: Uint8Array) {
    this.fixedReply = { status, bytes, deny: true };
    this.#answer = { kind: "tarpit", status, bytes, deny: true };
  }

  run(): RuleAnswer {
    return this.#answer;
  }
}

/**
 * `tarpit [deny_status CODE]`: holds the request for `timeout tarpit`, then
 * answers CODE (500); logged PT and counted as denied, as in HAProxy.
 */
export function actTarpitCompile(w: readonly string[], c: HttpActCompile): HttpAct {
  let code = 500;
  for (let i = 0; i < w.length; i += 2) {
    if (w[i] !== "deny_status") actFail(c.where, `unexpected ${JSON.stringify(w[i])} after tarpit`);
    code = actStatus(c.where, w[i + 1], (n) => n >= 200 && n <= 599);
  }
  return new TarpitAct(
    code,
    buildReply(code, [["Content-Type", "text/plain"]], `${code} ${REASONS[code] ?? ""}\n`),
  );
}

/** `return` with log-format parts (`lf-string`, `hdr` values with samples): built per message. */
class ReturnFmtAct implements HttpAct {
  constructor(
    readonly status: number,
    readonly hdrs: readonly [string, string | ValueTemplate][],
    readonly body: string | ValueTemplate,
  ) {}

  run(ctx: AclCtx): RuleAnswer {
    const x = (v: string | ValueTemplate) => typeof v === "string" ? v : templateExpand(v, ctx);
    const hdrs = this.hdrs.map(([k, v]): [string, string] => [k, x(v)]);
    return {
      kind: "reply",
      status: this.status,
      bytes: buildReply(this.status, hdrs, x(this.body)),
      deny: false,
    };
  }
}

/**
 * `return [status CODE] [content-type TYPE] [string TEXT | lf-string FMT]
 * [hdr NAME FMT]...`: `string` is sent as written, `lf-string` and `hdr`
 * values are log-formats (`%[fetch]` samples), as HAProxy's.
 */
export function actReturnCompile(w: readonly string[], c: HttpActCompile): HttpAct {
  const where = c.where;
  const use = c.phase === ACT_F_HTTP_RES ? SMP_USE_RES : SMP_USE_REQ;
  let code = 200, type = "";
  let body: string | ValueTemplate = "";
  const hdrs: [string, string | ValueTemplate][] = [];
  for (let i = 0; i < w.length; i++) {
    switch (w[i]) {
      case "status":
        code = actStatus(where, w[++i], (n) => n >= 200 && n <= 599);
        break;
      case "content-type":
        type = actLiteral(where, "content-type", w[++i]);
        break;
      case "string":
        if (w[i + 1]?.includes("%[")) {
          actFail(where, `"string" is sent as written: use "lf-string" to expand %[...] samples`);
        }
        body = actLiteral(where, "string", w[++i]);
        break;
      case "lf-string":
        body = actTemplate(where, "lf-string", w[++i], use);
        break;
      case "hdr": {
        const name = actHeaderName(where, w[++i], "add");
        hdrs.push([name, actTemplate(where, `hdr ${name}`, w[++i], use)]);
        break;
      }
      default:
        actFail(
          where,
          `unexpected ${
            JSON.stringify(w[i])
          } in return (expected status, content-type, string, lf-string, hdr)`,
        );
    }
  }
  if (type !== "") hdrs.unshift(["Content-Type", type]);
  if (typeof body === "string" && hdrs.every(([, v]) => typeof v === "string")) {
    return new ReplyAct(code, buildReply(code, hdrs as [string, string][], body), false);
  }
  return new ReturnFmtAct(code, hdrs, body);
}
