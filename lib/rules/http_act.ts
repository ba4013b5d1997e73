/**
 * The HTTP action registry (HAProxy's `http_req_actions` and
 * `http_res_actions` keyword lists, src/http_act.c): one row per
 * `http-request` / `http-response` action, in the order messages and docs
 * list them. The rule compiler finds actions here; the "supported: …" lists,
 * the wrong-rule-set errors and docs/keywords.md derive from the rows.
 *
 * Adding an action is one file (`act_<family>.ts`: its compile function
 * and the class whose `run` the rules call) and one row here.
 *
 * @module
 */
import {
  actAddHeaderCompile,
  actDelHeaderCompile,
  actReplaceHeaderCompile,
  actSetHeaderCompile,
} from "./act_header.ts";
import { actAuthCompile } from "./act_auth.ts";
import { actCacheStoreCompile, actCacheUseCompile } from "./act_cache.ts";
import { actRedirectCompile } from "./act_redirect.ts";
import { actDenyCompile, actReturnCompile, actTarpitCompile } from "./act_reply.ts";
import { actServiceCompile } from "./act_service.ts";
import { actSetPathCompile, actSetQueryCompile } from "./act_target.ts";
import { actSetVarCompile, VAR_NAME } from "./act_var.ts";
import { ACT_F_HTTP_REQ, ACT_F_HTTP_RES, type HttpActionDef } from "./http_act_types.ts";

const REQ = ACT_F_HTTP_REQ, RES = ACT_F_HTTP_RES, BOTH = REQ | RES;

/** Every HTTP action, by keyword. */
export const HTTP_ACTIONS: Readonly<Record<string, HttpActionDef>> = {
  "deny": {
    phases: BOTH,
    syntax: "[deny_status CODE]",
    doc: "Answers CODE (403; 502 for a response, whose server connection is closed) and " +
      "closes; logged PR-- (PH-- for a response) and counted as denied",
    example: "deny deny_status 429",
    compile: actDenyCompile,
  },
  "tarpit": {
    phases: REQ,
    syntax: "[deny_status CODE]",
    doc: "Holds the request for `timeout tarpit` (default: `timeout connect`), reading and " +
      "dropping what the client sends, then answers CODE (500) and closes; logged PT-- and " +
      "counted as denied",
    example: "tarpit if { path_beg /wp-login }",
    compile: actTarpitCompile,
  },
  "auth": {
    phases: REQ,
    syntax: "[realm REALM]",
    doc: 'Answers 401 with `WWW-Authenticate: Basic realm="REALM"` (default: the proxy\'s ' +
      "name) and closes; guard it with `unless { http_auth(USERLIST) }`",
    example: "auth realm admin",
    compile: actAuthCompile,
  },
  "return": {
    phases: BOTH,
    syntax: "[status CODE] [content-type TYPE] [string TEXT|lf-string FMT] [hdr NAME FMT]...",
    doc: "Answers with this response (200, empty by default) and closes; logged LR-- (LH--); " +
      "lf-string and hdr values may hold %[fetch] samples",
    example: "return status 200 content-type text/plain string ok",
    compile: actReturnCompile,
  },
  "redirect": {
    phases: BOTH,
    syntax: "location URL|prefix PREFIX|scheme SCHEME [code 301|302|303|307|308]",
    doc: "Answers a redirect (302 by default); prefix and scheme keep the path and query " +
      "(requests only); in requests URL and PREFIX may hold %[fetch] samples",
    example: "redirect location https://example.com/ code 301",
    compile: actRedirectCompile,
  },
  "use-service": {
    phases: REQ,
    syntax: "prometheus-exporter",
    doc: "Answers with a service of this process: the Prometheus metrics",
    example: "use-service prometheus-exporter if { path /metrics }",
    compile: actServiceCompile,
  },
  "cache-use": {
    phases: REQ,
    syntax: "NAME",
    doc: "Answers from cache NAME when it holds a fresh response (the server is not contacted; " +
      "logged with server <CACHE>); needed by cache-store, which uses the key it computes",
    example: "cache-use static",
    compile: actCacheUseCompile,
  },
  "cache-store": {
    phases: RES,
    syntax: "NAME",
    doc: "Stores the response in cache NAME, with its headers as the rules before this one " +
      "left them, when HTTP caching rules allow it",
    example: "cache-store static",
    compile: actCacheStoreCompile,
  },
  "set-header": {
    phases: BOTH,
    syntax: "NAME VALUE",
    doc: "Replaces every NAME header with one of VALUE, which may hold %[fetch] samples and %%",
    example: "set-header X-Client %[src]",
    compile: actSetHeaderCompile,
  },
  "add-header": {
    phases: BOTH,
    syntax: "NAME VALUE",
    doc: "Adds a NAME header; VALUE may hold %[fetch] samples and %%",
    example: "add-header X-Via sluice",
    compile: actAddHeaderCompile,
  },
  "del-header": {
    phases: BOTH,
    syntax: "NAME",
    doc: "Removes every NAME header",
    example: "del-header Server",
    compile: actDelHeaderCompile,
  },
  "replace-header": {
    phases: REQ,
    later: RES,
    syntax: "NAME REGEX REPLACEMENT",
    doc: "Replaces each NAME value that REGEX matches whole with REPLACEMENT (\\1 groups)",
    example: "replace-header X-Forwarded-Host (.*):[0-9]+ \\1",
    compile: actReplaceHeaderCompile,
  },
  "set-path": {
    phases: REQ,
    syntax: "PATH",
    doc: "Forwards PATH instead of the request's path, keeping the query; PATH may hold " +
      "%[fetch] samples",
    example: "set-path /v2/items if { path /v1/items }",
    compile: actSetPathCompile,
  },
  "set-query": {
    phases: REQ,
    syntax: "QUERY",
    doc: "Forwards QUERY (without ?; empty removes it) instead of the request's query; " +
      "QUERY may hold %[fetch] samples",
    example: "set-query lang=en",
    compile: actSetQueryCompile,
  },
  "set-var": {
    phases: REQ,
    later: RES,
    arg: { name: "txn.NAME", re: VAR_NAME },
    syntax: "str(TEXT)|FETCH",
    doc: "Stores a value that var(txn.NAME) tests in later rules, use_backend and the " +
      "response rules of the same request",
    example: "set-var(txn.user) req.hdr(x-user)",
    compile: actSetVarCompile,
  },
};

/** The row of action `name`, or undefined (own rows only). */
export function httpActDef(name: string): HttpActionDef | undefined {
  return Object.hasOwn(HTTP_ACTIONS, name) ? HTTP_ACTIONS[name] : undefined;
}

/** An action's keyword as written: `deny`, `set-var(txn.NAME)`. */
export function httpActSyntax(name: string, def: HttpActionDef): string {
  return def.arg === undefined ? name : `${name}(${def.arg.name})`;
}

/** The actions a rule set (ACT_F_* bit) supports, as written: `"deny, return, …"`. */
export function httpActSupported(phase: number): string {
  return Object.entries(HTTP_ACTIONS)
    .filter(([, d]) => (d.phases & phase) !== 0)
    .map(([name, d]) => httpActSyntax(name, d))
    .join(", ");
}
