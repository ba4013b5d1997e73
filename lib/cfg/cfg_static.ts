/**
 * sluice's `static-*` keywords (HAProxy has none): a backend or listen
 * section that serves a directory instead of servers. They fill the
 * section's `static` draft; cfg_build.ts checks the section as a whole (a
 * root is needed, no `server` lines beside it, mode http).
 *
 * @module
 */
import type { CfgProxyDraft, CfgStmt } from "./cfg_types.ts";
import type { StaticConfig } from "./config_types.ts";
import { cfgError } from "./cfg_at.ts";
import { STATIC_CACHE_VALID_MAX_MS } from "../applet/static_types.ts";

/** The draft's static settings, created by the first `static-*` line. */
function draft(p: CfgProxyDraft, where: string): NonNullable<CfgProxyDraft["static"]> {
  p.static ??= { value: {}, where, rootWhere: null };
  return p.static;
}

/** Refuses a second line of the same keyword in one section. */
function once(p: CfgProxyDraft, stmt: CfgStmt, field: keyof StaticConfig): void {
  if (p.static?.value[field] !== undefined) {
    throw stmt.at.fail(`"${stmt.at.kw}" is given twice in section "${p.label}"`);
  }
}

/** The one word of a `static-*` line whose keyword may appear once per section. */
function word(p: CfgProxyDraft, stmt: CfgStmt, field: keyof StaticConfig): string {
  stmt.at.args(stmt.args, 1, 1);
  once(p, stmt, field);
  return stmt.args[0];
}

/** `static-root DIR`. */
export function cfgStaticRoot(p: CfgProxyDraft, stmt: CfgStmt): void {
  const dir = word(p, stmt, "root");
  const d = draft(p, stmt.at.where);
  d.value.root = dir;
  d.rootWhere = stmt.at.where;
}

/** `static-index FILE`. */
export function cfgStaticIndex(p: CfgProxyDraft, stmt: CfgStmt): void {
  const name = word(p, stmt, "index");
  if (/[/\\]/.test(name) || name === "." || name === "..") {
    throw stmt.at.badValue(name, "expected a file name (no directory)");
  }
  draft(p, stmt.at.where).value.index = name;
}

/** `static-autoindex on|off`. */
export function cfgStaticAutoindex(p: CfgProxyDraft, stmt: CfgStmt): void {
  const on = stmt.at.oneOf(word(p, stmt, "autoindex"), ["on", "off"]) === "on";
  draft(p, stmt.at.where).value.autoindex = on;
}

/** `static-precompressed gzip|br ...` (order of preference). */
export function cfgStaticPrecompressed(p: CfgProxyDraft, stmt: CfgStmt): void {
  const { at, args } = stmt;
  at.args(args, 1, 2);
  once(p, stmt, "precompressed");
  const list: ("gzip" | "br")[] = [];
  for (const a of args) {
    const enc = at.oneOf(a, ["gzip", "br"]);
    if (list.includes(enc)) throw at.badValue(a, "given twice");
    list.push(enc);
  }
  draft(p, at.where).value.precompressed = list;
}

/** `static-cache-control VALUE` (one word: quote a value with spaces). */
export function cfgStaticCacheControl(p: CfgProxyDraft, stmt: CfgStmt): void {
  const v = word(p, stmt, "cacheControl");
  if (!/^[\x20-\x7e\t]*[\x21-\x7e]$/.test(v)) throw stmt.at.badValue(v, "expected a header value");
  draft(p, stmt.at.where).value.cacheControl = v;
}

/** `static-dotfiles allow|deny`. */
export function cfgStaticDotfiles(p: CfgProxyDraft, stmt: CfgStmt): void {
  const v = stmt.at.oneOf(word(p, stmt, "dotfiles"), ["allow", "deny"]);
  draft(p, stmt.at.where).value.dotfiles = v;
}

/** `static-cache-valid TIME` (0: no cache). */
export function cfgStaticCacheValid(p: CfgProxyDraft, stmt: CfgStmt): void {
  const text = word(p, stmt, "cacheValid");
  const ms = stmt.at.duration(text);
  if (ms > STATIC_CACHE_VALID_MAX_MS) throw stmt.at.badValue(text, "at most 1h");
  draft(p, stmt.at.where).value.cacheValid = ms;
}

/**
 * The `static` field of the backend of section `p`, or undefined: a root is
 * needed, `server` lines are refused beside it (a backend serves files or
 * servers), and so is mode tcp.
 */
export function cfgStaticBuild(p: CfgProxyDraft, mode: string): StaticConfig | undefined {
  const st = p.static;
  if (st === undefined) return undefined;
  if (st.rootWhere === null || st.value.root === undefined) {
    throw cfgError(st.where, `"static-*" settings need "static-root" in section "${p.label}"`);
  }
  if (p.servers.length > 0) {
    throw cfgError(
      p.servers[0].where,
      `"server" is not allowed beside "static-root" (at ${st.rootWhere}): a backend serves files or servers`,
    );
  }
  if (mode !== "http") {
    throw cfgError(st.rootWhere, `"static-root" needs "mode http" in section "${p.label}"`);
  }
  // What only means something for servers is refused when the section
  // itself sets it (inherited from defaults, it simply does not apply).
  const serverOnly: [{ where: string; inherited: boolean } | undefined, string][] = [
    [p.balance, "balance"],
    [p.cookie, "cookie"],
    [p.stickTable, "stick-table"],
    [p.httpReuse, "http-reuse"],
    [p.httpchk, "option httpchk"],
    [p.tcpCheckOpt, "option tcp-check"],
  ];
  for (const [set, kw] of serverOnly) {
    if (set !== undefined && !set.inherited) {
      throw cfgError(
        set.where,
        `"${kw}" is for servers: not allowed beside "static-root" (at ${st.rootWhere})`,
      );
    }
  }
  return { ...st.value, root: st.value.root };
}
