/**
 * What HTTP action compilers share to read their words: the error they
 * throw, literal values, header names (and which headers rules and hooks
 * may not touch), statuses. Load time only. Like the config checker's
 * helpers they take the place first and the word after (`where`, `what`,
 * value): three positional arguments read better at their many call sites
 * than an options object.
 *
 * @module
 */
import { SluiceError } from "../core/errors.ts";

/** An HTTP token (RFC 9110): header names, methods, cookie names. */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A header value without control characters (HTAB allowed). */
export const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Throws the configuration error `where: why` (ERR_CONFIG). */
export function actFail(where: string, why: string): never {
  throw new SluiceError("ERR_CONFIG", `${where}: ${why}`, where);
}

/**
 * Headers rules and hooks may not touch: the framing sluice forwards the
 * body by and the hop-by-hop ones it manages. Changing them would make the
 * next hop read a different message than the one sent (smuggling).
 */
export const PROTECTED_HEADERS: ReadonlySet<string> = new Set([
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "upgrade",
  "proxy-connection",
]);

/** Throws (via `bad`) when `name` may not be set, added or removed by a rule or hook. */
export function checkEditable(
  name: string,
  op: "set" | "add" | "del",
  bad: (why: string) => never,
): void {
  const n = name.toLowerCase();
  if (PROTECTED_HEADERS.has(n)) {
    bad(`the ${name} header is managed by sluice and cannot be changed`);
  }
  if (n === "host" && op !== "set") bad("Host can only be set (one Host per request)");
}

/**
 * A literal value (`what` names it in errors): present, without control
 * characters, and without `%[...]`, which only header values expand.
 */
export function actLiteral(where: string, what: string, v: string | undefined): string {
  if (v === undefined) actFail(where, `missing value for ${what}`);
  if (v.includes("%[")) {
    actFail(
      where,
      `log-format expressions ("%[...]") are not supported in ${what}`,
    );
  }
  if (!VALUE.test(v)) actFail(where, `control characters are not allowed in ${what}`);
  return v;
}

/** A header name; with `op`, one a rule may change that way (checkEditable()). */
export function actHeaderName(
  where: string,
  v: string | undefined,
  op?: "set" | "add" | "del",
): string {
  if (v === undefined || !TOKEN.test(v)) {
    actFail(where, `expected a header name, got ${JSON.stringify(v ?? "")}`);
  }
  if (op !== undefined) checkEditable(v, op, (why) => actFail(where, why));
  return v;
}

/** A three-digit status that `allowed` accepts. */
export function actStatus(
  where: string,
  v: string | undefined,
  allowed: (n: number) => boolean,
): number {
  const n = Number(v);
  if (v === undefined || !/^[0-9]{3}$/.test(v) || !allowed(n)) {
    actFail(where, `invalid status ${JSON.stringify(v ?? "")}`);
  }
  return n;
}
