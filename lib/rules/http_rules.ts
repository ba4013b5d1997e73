/**
 * `http-request` / `http-response` rules and `use_backend`, HAProxy's
 * syntax: compiled once from words (`deny deny_status 429 if { src
 * 10.0.0.0/8 }`), evaluated in order for each message against its parsed
 * head. A rule's condition is compiled by the ACL engine; the actions are:
 *
 * - `deny [deny_status N]`: answer N (default 403; 502 for a response, whose
 *   server connection is closed) and close;
 * - `return [status N] [content-type T] [string S] [hdr NAME VALUE]...`:
 *   answer with this response (default 200, empty);
 * - `redirect location URL|prefix P|scheme S [code N]`: answer 301/302/303/
 *   307/308 (default 302) with a Location;
 * - `use-service prometheus-exporter` (requests): answer with the metrics;
 * - `set-header NAME VALUE`, `add-header NAME VALUE`, `del-header NAME`;
 * - requests: `set-path PATH`, `set-query QUERY`, `replace-header NAME REGEX
 *   REPLACEMENT` (each value of NAME matched whole, `\1`-style groups),
 *   `set-var(txn.NAME) EXPR` (`str(TEXT)`, `req.hdr(NAME)`, `path`,
 *   `method`, `src`), read back by the `var(txn.NAME)` fetch.
 *
 * A rule that answers stops the evaluation. `set-header`/`add-header` values
 * may hold `%[fetch]` samples (HAProxy's log-format, without converters),
 * compiled into a `ValueTemplate`; every other value is literal text, and
 * `%[...]` there is refused at load time.
 *
 * @module
 */
import { SluiceError } from "../core/errors.ts";
import { bytesToStr, eqNoCase, lc } from "../http/h1_chars.ts";
import type { RewriteOptions } from "../http/h1_rewrite.ts";
import type { HttpMsg } from "../http/h1_types.ts";
import { aclFetchParse } from "./acl_fetch.ts";
import {
  type AclCtx,
  type AclFetch,
  type AclMatcher,
  SMP_USE_REQ,
  SMP_USE_RES,
} from "./acl_types.ts";

/** A compiled condition, evaluated against a request or response context. */
export type RuleCond<C> = (ctx: C) => boolean;

/** Compiles the words of a condition (`["if", "{", "path", "/", "}"]`). */
export type CondCompiler<C> = (words: string[], where: string) => RuleCond<C>;

/** What a rule does. */
export type HttpAction =
  | { kind: "reply"; status: number; bytes: Uint8Array; deny: boolean }
  | { kind: "set-header"; name: string; lname: Uint8Array; value: string | ValueTemplate }
  | { kind: "add-header"; name: string; value: string | ValueTemplate }
  | { kind: "del-header"; lname: Uint8Array }
  | { kind: "redirect"; mode: "prefix" | "scheme"; value: string; status: number }
  | { kind: "set-var"; name: string; sample: VarSample }
  | { kind: "set-path"; value: string }
  | { kind: "set-query"; value: string }
  | { kind: "replace-header"; name: string; lname: Uint8Array; re: RegExp; by: string }
  | { kind: "service"; name: Service };

/** The services `http-request use-service` can hand a request to. */
export const SERVICES = ["prometheus-exporter"] as const;
/** A service name. */
export type Service = typeof SERVICES[number];

/** What an answering rule answers: a response, or a service to produce it. */
export type RuleAnswer =
  | { kind: "reply"; status: number; bytes: Uint8Array; deny: boolean }
  | { kind: "service"; name: Service };

/**
 * A header value with `%[fetch]` samples (HAProxy's log-format), expanded
 * for each message: literal text and compiled fetches in order.
 */
export type ValueTemplate = readonly (string | AclFetch)[];

/** The value a `set-var` stores: a literal, or one of a few request samples. */
export type VarSample =
  | { kind: "str"; value: string }
  | { kind: "hdr"; lname: Uint8Array }
  | { kind: "path" | "method" | "src" };

function varSample(where: string, words: string[]): VarSample {
  const w = words.join(" ");
  let m = /^str\((.*)\)$/s.exec(w);
  if (m !== null) return { kind: "str", value: literal(where, "set-var str()", m[1]) };
  m = /^(?:req\.)?hdr\(([^()]+)\)$/.exec(w);
  if (m !== null && TOKEN.test(m[1])) return { kind: "hdr", lname: lc(m[1]) };
  if (w === "path" || w === "method" || w === "src") return { kind: w };
  return fail(
    where,
    `unsupported set-var expression ${
      JSON.stringify(w)
    } (supported: str(TEXT), req.hdr(NAME), path, method, src)`,
  );
}

function sampleValue(s: VarSample, ctx: AclCtx): string | null {
  const { msg, a, base } = ctx;
  switch (s.kind) {
    case "str":
      return s.value;
    case "src":
      return ctx.src;
    case "method":
      return bytesToStr(a, base + msg.methPos, msg.methLen);
    case "path": {
      const t = targetOf(ctx);
      const q = t.indexOf("?");
      return q < 0 ? t : t.slice(0, q);
    }
    case "hdr": {
      const h = msg.hdrs;
      for (let i = 0; i < msg.nHdrs; i++) {
        const k = i * 4;
        if (eqNoCase(a, base + h[k], h[k + 1], s.lname)) {
          return bytesToStr(a, base + h[k + 2], h[k + 3]);
        }
      }
      return null;
    }
  }
}

/** One rule: an action and its condition (null: always). */
export interface HttpRule<C> {
  action: HttpAction;
  cond: RuleCond<C> | null;
}

/** A `use_backend NAME [if|unless cond]` rule. */
export interface UseBackendRule<C> {
  backend: string;
  cond: RuleCond<C> | null;
}

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

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

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
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function fail(where: string, why: string): never {
  throw new SluiceError("ERR_CONFIG", `${where}: ${why}`, where);
}

/** Splits `words` at the first `if`/`unless`: action words, then condition words. */
function splitCond(words: string[]): [string[], string[]] {
  const i = words.findIndex((w) => w === "if" || w === "unless");
  return i < 0 ? [words, []] : [words.slice(0, i), words.slice(i)];
}

function literal(where: string, what: string, v: string | undefined): string {
  if (v === undefined) fail(where, `missing value for ${what}`);
  if (v.includes("%[")) {
    fail(
      where,
      `log-format expressions ("%[...]") are only supported in set-header and add-header values, not in ${what}`,
    );
  }
  if (!VALUE.test(v)) fail(where, `control characters are not allowed in ${what}`);
  return v;
}

function headerName(where: string, v: string | undefined, op?: "set" | "add" | "del"): string {
  if (v === undefined || !TOKEN.test(v)) {
    fail(where, `expected a header name, got ${JSON.stringify(v ?? "")}`);
  }
  if (op !== undefined) checkEditable(v, op, (why) => fail(where, why));
  return v;
}

function status(where: string, v: string | undefined, allowed: (n: number) => boolean): number {
  const n = Number(v);
  if (v === undefined || !/^[0-9]{3}$/.test(v) || !allowed(n)) {
    fail(where, `invalid status ${JSON.stringify(v ?? "")}`);
  }
  return n;
}

/**
 * Compiles a header value that may hold `%[fetch]` samples (any ACL fetch
 * the rule can feed, `use`) and `%%`; other `%` forms (HAProxy's `%ci`
 * aliases) are refused with the `%[...]` to write instead. A value without
 * samples stays a plain string.
 */
function template(
  where: string,
  what: string,
  v: string | undefined,
  use: number,
): string | ValueTemplate {
  if (v === undefined) fail(where, `missing value for ${what}`);
  if (!VALUE.test(v)) fail(where, `control characters are not allowed in ${what}`);
  if (!v.includes("%")) return v;
  const parts: (string | AclFetch)[] = [];
  let text = "";
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (c !== "%") {
      text += c;
      continue;
    }
    if (v[i + 1] === "%") {
      text += "%";
      i++;
      continue;
    }
    if (v[i + 1] !== "[") {
      fail(
        where,
        `unsupported log-format item "%${
          v.slice(i + 1, i + 3)
        }" in ${what}: write samples as %[fetch] (e.g. %[src]), a literal % as %%`,
      );
    }
    const end = v.indexOf("]", i);
    if (end < 0) fail(where, `missing "]" after "%[" in ${what}`);
    const word = v.slice(i + 2, end);
    const spec = aclFetchParse(word);
    if (typeof spec === "string") fail(where, `${spec} in ${what}`);
    if ((spec.use & use) === 0) {
      fail(
        where,
        `"%[${word}]" cannot be used in ${what}: ${
          use === SMP_USE_RES
            ? "request fetches are not known in response rules"
            : "it is only known in response rules"
        }`,
      );
    }
    if (text !== "") parts.push(text);
    text = "";
    parts.push(spec.fetch);
    i = end;
  }
  if (text !== "") parts.push(text);
  return parts;
}

/** Takes the first sample a fetch yields, as text (integers and booleans in decimal). */
class Capture implements AclMatcher {
  readonly kind = "str";
  out = "";
  matchBytes(a: Uint8Array, pos: number, len: number): boolean {
    this.out = bytesToStr(a, pos, len);
    return true;
  }
  matchInt(n: number): boolean {
    this.out = String(n);
    return true;
  }
}

const CAPTURE = new Capture();

/** A template's value for the message in `ctx`: a fetch without a sample gives "". */
function expand(t: ValueTemplate, ctx: AclCtx): string {
  let out = "";
  for (const p of t) {
    if (typeof p === "string") {
      out += p;
      continue;
    }
    CAPTURE.out = "";
    if (p.exec(ctx, CAPTURE)) out += CAPTURE.out;
  }
  // Samples come from parsed heads and addresses; never let a line break through.
  return /[\r\n\0]/.test(out) ? out.replace(/[\r\n\0]/g, "") : out;
}

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

/**
 * Compiles one `http-request` (`response` false) or `http-response` rule
 * from its words (after the keyword). Throws SluiceError naming `where`.
 */
export function compileHttpRule<C>(
  words: string[],
  where: string,
  response: boolean,
  cond: CondCompiler<C>,
): HttpRule<C> {
  const [w, c] = splitCond(words);
  const kw = w[0];
  let action: HttpAction;
  if (response && kw === "redirect" && w[1] !== "location") {
    fail(
      where,
      `"http-response redirect" supports only "location" (prefix and scheme need the request)`,
    );
  }
  const setVar = /^set-var\(((?:txn|req)\.[A-Za-z0-9_.]+)\)$/.exec(kw ?? "");
  if (setVar !== null) {
    if (response) fail(where, `"http-response set-var" is not supported yet`);
    if (w.length < 2) fail(where, `missing value for "${kw}"`);
    const action: HttpAction = {
      kind: "set-var",
      name: setVar[1].replace(/^req\./, "txn."),
      sample: varSample(where, w.slice(1)),
    };
    return { action, cond: c.length > 0 ? cond(c, where) : null };
  }
  switch (kw) {
    case "use-service": {
      if (response) fail(where, `"http-response use-service" does not exist (use http-request)`);
      const name = (SERVICES as readonly string[]).find((x) => x === w[1]) as Service | undefined;
      if (name === undefined) {
        fail(
          where,
          `unknown service ${JSON.stringify(w[1] ?? "")} (supported: ${SERVICES.join(", ")})`,
        );
      }
      if (w.length > 2) fail(where, `unexpected ${JSON.stringify(w[2])} after use-service ${name}`);
      action = { kind: "service", name };
      break;
    }
    case "deny": {
      // A denied response is replaced by a 502, as in HAProxy.
      let code = response ? 502 : 403;
      for (let i = 1; i < w.length; i += 2) {
        if (w[i] !== "deny_status") fail(where, `unexpected ${JSON.stringify(w[i])} after deny`);
        code = status(where, w[i + 1], (n) => n >= 200 && n <= 599);
      }
      action = {
        kind: "reply",
        status: code,
        bytes: buildReply(
          code,
          [["Content-Type", "text/plain"]],
          `${code} ${REASONS[code] ?? ""}\n`,
        ),
        deny: true,
      };
      break;
    }
    case "return": {
      let code = 200, type = "", body = "";
      const hdrs: [string, string][] = [];
      for (let i = 1; i < w.length; i++) {
        switch (w[i]) {
          case "status":
            code = status(where, w[++i], (n) => n >= 200 && n <= 599);
            break;
          case "content-type":
            type = literal(where, "content-type", w[++i]);
            break;
          case "string":
            body = literal(where, "string", w[++i]);
            break;
          case "hdr": {
            const name = headerName(where, w[++i], "add");
            hdrs.push([name, literal(where, `hdr ${name}`, w[++i])]);
            break;
          }
          default:
            fail(
              where,
              `unexpected ${
                JSON.stringify(w[i])
              } in return (expected status, content-type, string, hdr)`,
            );
        }
      }
      if (type !== "") hdrs.unshift(["Content-Type", type]);
      action = { kind: "reply", status: code, bytes: buildReply(code, hdrs, body), deny: false };
      break;
    }
    case "redirect": {
      const mode = w[1];
      if (mode !== "location" && mode !== "prefix" && mode !== "scheme") {
        fail(where, `expected redirect location|prefix|scheme, got ${JSON.stringify(mode ?? "")}`);
      }
      const target = literal(where, `redirect ${mode}`, w[2]);
      if (mode === "scheme" && !/^[a-zA-Z][a-zA-Z0-9+.-]*$/.test(target)) {
        fail(where, `redirect scheme needs a scheme name, got ${JSON.stringify(target)}`);
      }
      let code = 302;
      for (let i = 3; i < w.length; i += 2) {
        if (w[i] !== "code") fail(where, `unexpected ${JSON.stringify(w[i])} in redirect`);
        code = status(where, w[i + 1], (n) => [301, 302, 303, 307, 308].includes(n));
      }
      action = mode === "location"
        ? {
          kind: "reply",
          status: code,
          bytes: buildReply(code, [["Location", target]], ""),
          deny: false,
        }
        : { kind: "redirect", mode, value: target.replace(/\/$/, ""), status: code };
      break;
    }
    case "set-header":
    case "add-header": {
      const name = headerName(where, w[1], kw === "set-header" ? "set" : "add");
      const value = template(where, `${kw} ${name}`, w[2], response ? SMP_USE_RES : SMP_USE_REQ);
      if (w.length > 3) {
        fail(where, `unexpected ${JSON.stringify(w[3])} after ${kw} (quote values with spaces)`);
      }
      action = kw === "set-header"
        ? { kind: "set-header", name, lname: lc(name), value }
        : { kind: "add-header", name, value };
      break;
    }
    case "del-header": {
      const name = headerName(where, w[1], "del");
      if (w.length > 2) fail(where, `unexpected ${JSON.stringify(w[2])} after del-header`);
      action = { kind: "del-header", lname: lc(name) };
      break;
    }
    case "set-path":
    case "set-query": {
      if (response) fail(where, `"http-response ${kw}" does not exist`);
      const value = literal(where, kw, w[1]);
      if (w.length > 2) fail(where, `unexpected ${JSON.stringify(w[2])} after ${kw}`);
      if (kw === "set-path" && !/^\/[\x21-\x7e]*$/.test(value)) {
        fail(
          where,
          `set-path needs a path starting with "/" without spaces, got ${JSON.stringify(value)}`,
        );
      }
      if (kw === "set-query" && !/^[\x21-\x7e]*$/.test(value)) {
        fail(where, `set-query needs a query without spaces, got ${JSON.stringify(value)}`);
      }
      action = { kind: kw, value };
      break;
    }
    case "replace-header": {
      if (response) fail(where, `"http-response replace-header" is not supported yet`);
      const name = headerName(where, w[1], "set");
      const src = literal(where, "replace-header regex", w[2]);
      const by = literal(where, "replace-header replacement", w[3]);
      if (w.length > 4) fail(where, `unexpected ${JSON.stringify(w[4])} after replace-header`);
      let re: RegExp;
      try {
        re = new RegExp(`^(?:${src})$`);
      } catch (err) {
        fail(where, `invalid regex ${JSON.stringify(src)}: ${(err as Error).message}`);
      }
      // HAProxy writes groups as \1; JavaScript as $1.
      action = {
        kind: "replace-header",
        name,
        lname: lc(name),
        re,
        by: by.replace(/\\([0-9])/g, "$$$1"),
      };
      break;
    }
    default:
      fail(
        where,
        `unsupported action "${response ? "http-response" : "http-request"} ${
          kw ?? ""
        }" (supported: ${
          response
            ? "deny, return, redirect location, set-header, add-header, del-header"
            : "deny, return, redirect, use-service, set-header, add-header, del-header, replace-header, set-path, set-query, set-var(txn.NAME)"
        })`,
      );
  }
  return { action, cond: c.length > 0 ? cond(c, where) : null };
}

/** Compiles `use_backend NAME [if|unless cond]` (words after the keyword). */
export function compileUseBackend<C>(
  words: string[],
  where: string,
  cond: CondCompiler<C>,
): UseBackendRule<C> {
  const [w, c] = splitCond(words);
  if (w.length !== 1) fail(where, "expected use_backend NAME [if|unless condition]");
  return { backend: w[0], cond: c.length > 0 ? cond(c, where) : null };
}

/**
 * Runs `rules` in order against `ctx`: header and target actions go into
 * `rw` (the head rewrite applies them), an answering action stops and is
 * returned.
 */
export function runHttpRules<C extends AclCtx>(
  rules: readonly HttpRule<C>[],
  ctx: C,
  rw: RewriteOptions,
): RuleAnswer | null {
  const drop = rw.drop!, add = rw.add!;
  for (const r of rules) {
    if (r.cond !== null && !r.cond(ctx)) continue;
    const a = r.action;
    switch (a.kind) {
      case "reply":
      case "service":
        return a;
      case "set-var": {
        const v = sampleValue(a.sample, ctx);
        if (v !== null) (ctx.vars ??= new Map()).set(a.name, v);
        break;
      }
      case "redirect": {
        // prefix: the same path under another prefix; scheme: the same
        // host and path over another scheme (e.g. https).
        const t = targetOf(ctx);
        const loc = a.mode === "prefix" ? a.value + t : `${a.value}://${hostOf(ctx)}${t}`;
        if (!/^[\x21-\x7e]+$/.test(loc)) break; // odd bytes in the Host: no redirect
        return {
          kind: "reply",
          status: a.status,
          bytes: buildReply(a.status, [["Location", loc]], ""),
          deny: false,
        };
      }
      case "set-header":
        drop.push(a.lname);
        // A header set by an earlier rule is replaced too.
        removeAdded(add, a.name);
        add.push([a.name, typeof a.value === "string" ? a.value : expand(a.value, ctx)]);
        break;
      case "add-header":
        add.push([a.name, typeof a.value === "string" ? a.value : expand(a.value, ctx)]);
        break;
      case "del-header":
        drop.push(a.lname);
        removeAdded(add, new TextDecoder().decode(a.lname));
        break;
      case "set-path":
      case "set-query": {
        const t = rw.target ?? targetOf(ctx);
        const q = t.indexOf("?");
        const path = q < 0 ? t : t.slice(0, q), query = q < 0 ? null : t.slice(q + 1);
        rw.target = a.kind === "set-path"
          ? (query === null ? a.value : `${a.value}?${query}`)
          : (a.value === "" ? path : `${path}?${a.value}`);
        break;
      }
      case "replace-header": {
        // Values as earlier rules left them: the client's (unless a rule
        // removed or set the header), then those rules added.
        const n = a.name.toLowerCase();
        const values: [string, string][] = [];
        if (!drop.some((d) => d.length === a.lname.length && eqNoCase(d, 0, d.length, a.lname))) {
          const { msg, a: buf, base } = ctx;
          const h = msg.hdrs;
          for (let i = 0; i < msg.nHdrs; i++) {
            const k = i * 4;
            if (!eqNoCase(buf, base + h[k], h[k + 1], a.lname)) continue;
            values.push([
              bytesToStr(buf, base + h[k], h[k + 1]),
              bytesToStr(buf, base + h[k + 2], h[k + 3]),
            ]);
          }
        }
        for (const x of add) if (x[0].toLowerCase() === n) values.push([x[0], x[1]]);
        const changed = values.map(([k, v]): [string, string] => [k, v.replace(a.re, a.by)]);
        // A replacement may not smuggle a line break in.
        if (changed.length === 0 || changed.some(([, v]) => /[\r\n\0]/.test(v))) break;
        drop.push(a.lname);
        removeAdded(add, a.name);
        for (const x of changed) add.push(x);
        break;
      }
    }
  }
  return null;
}

function removeAdded(add: [string, string][], name: string): void {
  const n = name.toLowerCase();
  for (let i = add.length - 1; i >= 0; i--) if (add[i][0].toLowerCase() === n) add.splice(i, 1);
}

/** The host the request is for: an absolute target's authority, else the Host header. */
function hostOf(ctx: { msg: HttpMsg; a: Uint8Array; base: number }): string {
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
