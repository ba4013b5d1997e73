/**
 * Actions that answer with a response built at load time: `deny` and
 * `return`. Their run only hands back the prebuilt answer (no allocation).
 * Also the response builder that redirects, hooks and services use.
 *
 * @module
 */
import { actFail, actHeaderName, actLiteral, actStatus } from "./http_act_args.ts";
import {
  ACT_F_HTTP_RES,
  type HttpAct,
  type HttpActCompile,
  type RuleAnswer,
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

/** `return [status CODE] [content-type TYPE] [string TEXT] [hdr NAME VALUE]...`. */
export function actReturnCompile(w: readonly string[], c: HttpActCompile): HttpAct {
  const where = c.where;
  let code = 200, type = "", body = "";
  const hdrs: [string, string][] = [];
  for (let i = 0; i < w.length; i++) {
    switch (w[i]) {
      case "status":
        code = actStatus(where, w[++i], (n) => n >= 200 && n <= 599);
        break;
      case "content-type":
        type = actLiteral(where, "content-type", w[++i]);
        break;
      case "string":
        body = actLiteral(where, "string", w[++i]);
        break;
      case "hdr": {
        const name = actHeaderName(where, w[++i], "add");
        hdrs.push([name, actLiteral(where, `hdr ${name}`, w[++i])]);
        break;
      }
      default:
        actFail(
          where,
          `unexpected ${
            JSON.stringify(w[i])
          } in return (expected status, content-type, string, hdr)`,
        );
    }
  }
  if (type !== "") hdrs.unshift(["Content-Type", type]);
  return new ReplyAct(code, buildReply(code, hdrs, body), false);
}
