/**
 * The request target and host as actions and hooks see them, read from a
 * parsed head: the origin-form target (path and query) and the host the
 * request is for. Strings, made only when an action or hook asks.
 *
 * @module
 */
import { bytesToStr, eqNoCase, lc } from "../http/h1_chars.ts";
import type { HttpMsg } from "../http/h1_types.ts";

const H_HOST = lc("host");

/** The origin-form target of the request in `ctx` (path and query), as it is forwarded. */
export function targetOf(ctx: { msg: HttpMsg; a: Uint8Array; base: number }): string {
  const { msg, a, base } = ctx;
  const t = bytesToStr(a, base + msg.uriPos, msg.uriLen);
  if (t.startsWith("/") || t === "*") return t;
  // Absolute form: what follows the authority.
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?]*(.*)$/.exec(t);
  const rest = m?.[1] ?? "";
  return rest.startsWith("/") ? rest : `/${rest}`;
}

/** The host the request is for: an absolute target's authority, else the Host header. */
export function hostOf(ctx: { msg: HttpMsg; a: Uint8Array; base: number }): string {
  const { msg, a, base } = ctx;
  const t = bytesToStr(a, base + msg.uriPos, msg.uriLen);
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?]*)/.exec(t);
  if (m !== null) return m[1];
  const h = msg.hdrs;
  for (let i = 0; i < msg.nHdrs; i++) {
    const k = i * 4;
    if (eqNoCase(a, base + h[k], h[k + 1], H_HOST)) return bytesToStr(a, base + h[k + 2], h[k + 3]);
  }
  return "";
}
