/**
 * The HTTP settings frontends and backends share, checked and resolved into
 * the analyser's options: `option forwardfor` with its `header`, `except`
 * and `if-none`, and the connection mode (keep-alive, server-close, close).
 *
 * @module
 */
import { lc } from "../http/h1_chars.ts";
import { type ForwardFor, HTTP_CLO, HTTP_KAL, HTTP_SCL } from "../http/http_ana.ts";
import { ipNetParse, ipParse } from "../rules/acl_ip.ts";
import { checkEditable } from "../rules/http_act_args.ts";
import type { ConnectionMode, ForwardForConfig } from "./config_types.ts";
import { resolveBool, resolveFail, TOKEN } from "./config_values.ts";

const MODES: Readonly<Record<ConnectionMode, number>> = {
  "keep-alive": HTTP_KAL,
  "server-close": HTTP_SCL,
  "close": HTTP_CLO,
};

/** `connectionMode` at `where`: HTTP_KAL (the default), HTTP_SCL or HTTP_CLO. */
export function resolveConnMode(where: string, v: unknown): number {
  if (v === undefined) return HTTP_KAL;
  if (typeof v === "string" && Object.hasOwn(MODES, v)) return MODES[v as ConnectionMode];
  return resolveFail(
    where,
    `expected "keep-alive", "server-close" or "close", got ${JSON.stringify(v)}`,
  );
}

/** A predicate true for the addresses of network `text` (checked here). */
function exceptOf(where: string, text: unknown): (ip: string) => boolean {
  const net = typeof text === "string" ? ipNetParse(text) : "expected a network such as 10.0.0.0/8";
  if (typeof net === "string") {
    resolveFail(where, `invalid network ${JSON.stringify(text)}: ${net}`);
  }
  const w = new Uint32Array(4);
  const enc = new TextEncoder();
  return (ip) => {
    const b = enc.encode(ip);
    const kind = ipParse(b, 0, b.length, w);
    return kind !== 0 && net.has(kind, w);
  };
}

/** `forwardFor` at `where` (true, false or its options): the analyser's setting, or null for none. */
export function resolveForwardFor(
  where: string,
  v: boolean | ForwardForConfig | undefined,
  dflt: boolean,
): ForwardFor | null {
  if (v === undefined || typeof v === "boolean") {
    return resolveBool(where, v, dflt) ? forwardFor("X-Forwarded-For", null, false) : null;
  }
  if (typeof v !== "object" || v === null) {
    resolveFail(where, "expected true, false or { header?, except?, ifNone? }");
  }
  for (const k of Object.keys(v)) {
    if (k !== "header" && k !== "except" && k !== "ifNone") {
      resolveFail(`${where}.${k}`, "unknown field (expected header, except or ifNone)");
    }
  }
  const header = v.header ?? "X-Forwarded-For";
  if (typeof header !== "string" || !TOKEN.test(header)) {
    resolveFail(`${where}.header`, `expected a header name, got ${JSON.stringify(header)}`);
  }
  checkEditable(header, "add", (why) => resolveFail(`${where}.header`, why));
  const except = v.except === undefined ? null : exceptOf(`${where}.except`, v.except);
  return forwardFor(header, except, resolveBool(`${where}.ifNone`, v.ifNone, false));
}

function forwardFor(
  header: string,
  except: ((ip: string) => boolean) | null,
  ifNone: boolean,
): ForwardFor {
  return { header, lname: lc(header), except, ifNone };
}
