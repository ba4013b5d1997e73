/**
 * HAProxy's configuration syntax (the subset sluice supports) into a
 * SluiceConfig, the same object the CLI flags and the embedding API produce.
 * Sections: `global`, `defaults [NAME]`, `frontend NAME`, `backend NAME`,
 * `listen NAME` (a frontend and a backend of that name, the frontend sending
 * its traffic to the backend).
 *
 * As in HAProxy, each `defaults` section starts afresh and applies to the
 * proxies after it; several files are read as one, in order (a `defaults`
 * section of one file applies to the proxies of the next ones), but each file
 * starts outside any section.
 *
 * Only syntax is checked here, with `file:line` errors naming the keyword;
 * resolveConfig() (config_check.ts) applies defaults and checks ranges and
 * references. Keywords are listed in cfg_global.ts, cfg_proxy.ts and
 * cfg_server.ts; anything else is an error, never silently ignored.
 *
 * Every line is read, whatever the errors before it: a line in error is
 * skipped, a section header in error still opens its section (a throwaway one
 * when it has no name or a taken one), so that one run reports every error.
 *
 * @module
 */
import { dirname } from "node:path";
import { SluiceError } from "../core/errors.ts";
import { CfgAt, cfgError, cfgErrors, type CfgWarning } from "./cfg_at.ts";
import { cfgBuild } from "./cfg_build.ts";
import { type CfgInput, cfgReadFiles } from "./cfg_files.ts";
import { type CfgGlobalDraft, cfgGlobalKeyword } from "./cfg_global.ts";
import { cfgTlsDefaultsNew } from "./cfg_tls.ts";
import { type CfgEnv, cfgLex, type CfgLine } from "./cfg_lexer.ts";
import { CfgSources } from "./cfg_sources.ts";
import { cfgProxyKeyword } from "./cfg_proxy.ts";
import type { CfgProxyDraft, CfgProxyKind, CfgSetting } from "./cfg_types.ts";
import type { CacheConfig, SluiceConfig, UserlistConfig } from "./config_types.ts";
import { cfgUserlistKeyword, cfgUserlistName } from "./cfg_userlist.ts";
import { cfgCacheKeyword, cfgCacheName } from "./cfg_cache.ts";

/** HAProxy sections sluice does not have. */
const OTHER_SECTIONS = new Set([
  "peers",
  "resolvers",
  "mailers",
  "program",
  "http-errors",
  "ring",
  "fcgi-app",
  "crt-store",
  "log-forward",
  "traces",
  "acme",
]);

/** An empty proxy draft. */
function cfgProxyNew(
  head: { kind: CfgProxyKind; name: string; label: string; where: string },
): CfgProxyDraft {
  return {
    ...head,
    timeouts: {},
    errorFiles: {},
    defaultServer: {},
    binds: [],
    servers: [],
    rules: { acls: [], useBackends: [], httpRequest: [], httpResponse: [], tcpRequest: [] },
  };
}

/** A proxy draft starting from the `defaults` draft `d`: every setting copied, marked inherited. */
function cfgProxyInherit(
  d: CfgProxyDraft,
  head: { kind: CfgProxyKind; name: string; label: string; where: string },
): CfgProxyDraft {
  const p = cfgProxyNew(head);
  const inherit = <T>(s: CfgSetting<T>): CfgSetting<T> => ({ ...s, inherited: true });
  for (const [k, v] of Object.entries(d)) {
    if (typeof v === "object" && v !== null && "inherited" in v) {
      (p as unknown as Record<string, unknown>)[k] = inherit(v as CfgSetting<unknown>);
    }
  }
  for (const [k, s] of Object.entries(d.timeouts)) {
    p.timeouts[k as keyof CfgProxyDraft["timeouts"]] = inherit(s);
  }
  for (const [k, s] of Object.entries(d.errorFiles)) p.errorFiles[Number(k)] = inherit(s);
  p.defaultServer = { ...d.defaultServer };
  return p;
}

/** What reading configuration text found. */
export interface CfgParsed {
  /** The configuration, as far as it could be read. */
  readonly config: SluiceConfig;
  /** Every error, in file and line order. */
  readonly errors: SluiceError[];
  /** Every warning, in file and line order. */
  readonly warnings: CfgWarning[];
  /** Where each part was written. */
  readonly sources: CfgSources;
}

/** Reads statements section by section; `finish()` builds the configuration. */
class CfgParser {
  readonly errors: SluiceError[] = [];
  readonly warnings: CfgWarning[] = [];
  readonly sources: CfgSources = new CfgSources();
  #global: CfgGlobalDraft = { global: {}, wheres: {}, tls: cfgTlsDefaultsNew(), logWheres: [] };
  #defaults: CfgProxyDraft = cfgProxyNew({
    kind: "defaults",
    name: "",
    label: "defaults",
    where: "",
  });
  #proxies: CfgProxyDraft[] = [];
  #userlists: UserlistConfig[] = [];
  #caches: CacheConfig[] = [];
  /**
   * The section statements go to; null before the first header of a file,
   * "other" in a section sluice does not have (its lines are skipped), a
   * userlist's index, a cache section's.
   */
  #section: CfgProxyDraft | "global" | "other" | number | { cache: number } | null = null;
  /** `file:line` of the current section's header. */
  #headerAt = "";

  /** Applies the statements of one file. */
  feed(input: CfgInput, env: CfgEnv): void {
    this.sources.files.push(input.file);
    this.#section = null;
    const bad: SluiceError[] = [];
    const lines = cfgLex(input.text, input.file, env, bad);
    // Lines that could not be split count as errors of their section: each
    // is recorded when the statements before it have been read.
    const badLine = (e: SluiceError) => Number(/:([0-9]+)$/.exec(e.where ?? "")?.[1] ?? 0);
    let k = 0;
    const flush = (before: number) => {
      for (; k < bad.length && badLine(bad[k]) < before; k++) {
        this.#fail(bad[k], bad[k].where ?? "");
      }
    };
    for (const l of lines) {
      flush(l.line);
      try {
        this.#statement(l);
      } catch (err) {
        if (!(err instanceof SluiceError)) throw err;
        this.#fail(err, l.where);
      }
    }
    flush(Infinity);
  }

  /** Records the error of the line at `where`, and that its section has one. */
  #fail(err: SluiceError, where: string): void {
    if (!this.sources.isStatement(where)) this.sources.statement(where, this.#headerOf(where));
    this.errors.push(err);
    this.sources.breakAt(where);
  }

  /** The header of the section the line at `where` is in: the current one, or itself. */
  #headerOf(where: string): string {
    return this.#section === null ? where : this.#headerAt;
  }

  finish(): CfgParsed {
    const config = cfgBuild(this.#proxies, this.#global, {
      errors: this.errors,
      sources: this.sources,
      warnings: this.warnings,
    });
    if (this.#userlists.length > 0) config.userlists = this.#userlists;
    if (this.#caches.length > 0) config.caches = this.#caches;
    const order = (a: { where?: string }, b: { where?: string }) =>
      this.sources.compare(a.where ?? "", b.where ?? "");
    this.errors.sort(order);
    this.warnings.sort(order);
    return { config, errors: this.errors, warnings: this.warnings, sources: this.sources };
  }

  #statement(l: CfgLine): void {
    const [kw, ...args] = l.words;
    const dir = dirname(l.file);
    if (
      kw === "global" || kw === "defaults" || kw === "frontend" || kw === "backend" ||
      kw === "listen"
    ) {
      this.#headerAt = l.where;
      this.sources.statement(l.where, l.where);
      this.#open(l, kw);
      return;
    }
    if (kw === "userlist") {
      this.#headerAt = l.where;
      this.sources.statement(l.where, l.where);
      this.#openUserlist(l);
      return;
    }
    if (kw === "cache") {
      this.#headerAt = l.where;
      this.sources.statement(l.where, l.where);
      this.#openCache(l);
      return;
    }
    if (OTHER_SECTIONS.has(kw)) {
      this.#headerAt = l.where;
      this.sources.statement(l.where, l.where);
      this.#section = "other";
      throw cfgError(l.where, `unsupported section "${kw}" (see docs/migrating-from-haproxy.md)`);
    }
    this.sources.statement(l.where, this.#headerOf(l.where));
    const s = this.#section;
    if (s === "other") return;
    if (s === null) {
      throw cfgError(
        l.where,
        `keyword "${kw}" outside of any section (expected global, defaults, frontend, backend or listen first)`,
      );
    }
    const warnings = this.warnings;
    if (typeof s === "number") {
      const ul = this.#userlists[s];
      const at = new CfgAt({ where: l.where, section: `userlist ${ul.name}`, kw, dir, warnings });
      cfgUserlistKeyword(ul, s, { at, words: l.words, sources: this.sources });
      return;
    }
    if (typeof s === "object" && "cache" in s) {
      const c = this.#caches[s.cache];
      const at = new CfgAt({ where: l.where, section: `cache ${c.name}`, kw, dir, warnings });
      cfgCacheKeyword(c, s.cache, { at, words: l.words, sources: this.sources });
      return;
    }
    if (s === "global") {
      cfgGlobalKeyword(this.#global, {
        at: new CfgAt({ where: l.where, section: "global", kw, dir, warnings }),
        args,
      });
    } else {cfgProxyKeyword(s, {
        base: new CfgAt({
          where: l.where,
          section: s.label,
          kw,
          dir,
          warnings,
          tls: this.#global.tls,
        }),
        words: l.words,
      });}
  }

  /**
   * Opens the section of a header line. A header in error opens its section
   * all the same, so that the lines after it are read: the named one when the
   * error follows the name, a throwaway one (never built) when the name is
   * missing or taken. The error is thrown once the section is open.
   */
  #open(l: CfgLine, kind: "global" | CfgProxyKind): void {
    const args = l.words.slice(1);
    const at = new CfgAt({ where: l.where, section: kind, kw: kind, dir: dirname(l.file) });
    if (kind === "global") {
      this.#section = "global";
      at.args(args, 0, 0);
      return;
    }
    const name = args[0] ?? "";
    const label = name === "" ? kind : `${kind} ${name}`;
    const head = { kind, name, label, where: l.where };
    if (kind === "defaults") {
      this.#section = this.#defaults = cfgProxyNew(head);
      if (args[1] === "from") throw at.unsupported("from");
      at.args(args, 0, 1);
      return;
    }
    const p = cfgProxyInherit(this.#defaults, head);
    this.#section = p;
    if (name === "") throw at.fail(`missing name for "${kind}"`);
    this.#checkUnique(l, { kind, name });
    this.#proxies.push(p);
    if (args[1] === "from") {
      throw new CfgAt({ where: l.where, section: label, kw: kind, dir: at.dir }).unsupported(
        "from",
      );
    }
    if (args.length > 1) {
      throw at.fail(
        `unexpected argument "${args[1]}" for "${kind}"${
          kind === "backend" ? "" : ' (addresses go on "bind" lines)'
        }`,
      );
    }
  }

  /**
   * Opens a `userlist NAME` section; the lines of one in error are skipped
   * (its error is the one reported).
   */
  #openUserlist(l: CfgLine): void {
    const at = new CfgAt({ where: l.where, section: "userlist", kw: "userlist", dir: "" });
    const ul: UserlistConfig = { name: l.words[1] ?? "" };
    this.#section = "other";
    at.args(l.words.slice(1), 1, 1);
    cfgUserlistName(at, "userlist", ul.name);
    const twin = this.#userlists.findIndex((u) => u.name === ul.name);
    if (twin >= 0) {
      throw at.fail(
        `userlist "${ul.name}" is already declared at ${
          this.sources.whereOf(`userlists[${twin}]`)?.where
        } (HAProxy ignores the second one)`,
      );
    }
    this.sources.field(`userlists[${this.#userlists.length}]`, l.where);
    this.#section = this.#userlists.length;
    this.#userlists.push(ul);
  }

  /**
   * Opens a `cache NAME` section; the lines of one in error are skipped
   * (its error is the one reported).
   */
  #openCache(l: CfgLine): void {
    const at = new CfgAt({ where: l.where, section: "cache", kw: "cache", dir: "" });
    const c: CacheConfig = { name: l.words[1] ?? "", totalMaxSize: 0 };
    this.#section = "other";
    at.args(l.words.slice(1), 1, 1);
    cfgCacheName(at, c.name);
    const twin = this.#caches.findIndex((x) => x.name === c.name);
    if (twin >= 0) {
      throw at.fail(
        `duplicate cache name "${c.name}" (first at ${
          this.sources.whereOf(`caches[${twin}]`)?.where
        })`,
      );
    }
    this.sources.field(`caches[${this.#caches.length}]`, l.where);
    this.#section = { cache: this.#caches.length };
    this.#caches.push(c);
  }

  /** Refuses two frontends (or two backends) of one name; listen counts as both. */
  #checkUnique(l: CfgLine, p: { kind: CfgProxyKind; name: string }): void {
    const fe = (k: CfgProxyKind) => k === "frontend" || k === "listen";
    const be = (k: CfgProxyKind) => k === "backend" || k === "listen";
    for (const q of this.#proxies) {
      if (q.name === p.name && ((fe(p.kind) && fe(q.kind)) || (be(p.kind) && be(q.kind)))) {
        throw cfgError(
          l.where,
          `section "${p.kind} ${p.name}" has the name of "${q.label}" at ${q.where}`,
        );
      }
    }
  }
}

/**
 * Parses configuration files' text, in order, as one configuration; `env`
 * provides `${NAME}` values. Never throws for the configuration's own
 * errors: every one is in the result, with `file:line`.
 */
export function cfgParse(inputs: readonly CfgInput[], env: CfgEnv): CfgParsed {
  const p = new CfgParser();
  for (const input of inputs) p.feed(input, env);
  return p.finish();
}

/**
 * Parses configuration text. `file` names it in errors and is the directory
 * relative file names (`crt`, `ca-file`, `errorfile`) are resolved against;
 * `env` provides `${NAME}` values. Throws a SluiceError with code ERR_CONFIG
 * and `where` = `file:line` when the text has an error; when it has several,
 * the error lists them all (see cfgErrors()). Warnings are dropped.
 *
 * @example
 * ```ts
 * import { parseConfigText } from "./cfg_parser.ts";
 * const cfg = parseConfigText(
 *   [
 *     "frontend web",
 *     "  mode http",
 *     '  bind "127.0.0.1:${PORT}"',
 *     "  default_backend app",
 *     "backend app",
 *     "  mode http",
 *     "  server s1 127.0.0.1:9000 check",
 *   ].join("\n"),
 *   "haproxy.cfg",
 *   { PORT: "8080" },
 * );
 * cfg.frontends[0].binds; // [{ address: "127.0.0.1:8080" }]
 * ```
 */
export function parseConfigText(text: string, file: string, env: CfgEnv): SluiceConfig {
  // Three positional arguments, one more than the house style allows: this is
  // the signature the `-f` integration was specified with (env is a plain record).
  const parsed = cfgParse([{ file, text }], env);
  if (parsed.errors.length > 0) throw cfgErrors(parsed.errors);
  return parsed.config;
}

/**
 * Reads and parses configuration files in order, as one configuration (like
 * HAProxy's repeated `-f`; a directory stands for its `*.cfg` files in name
 * order). `env` defaults to the process environment (which needs
 * --allow-env). Throws as parseConfigText() does; an unreadable file is an
 * ERR_CONFIG error with `where` set to its name.
 *
 * @example
 * ```ts ignore
 * import { parseConfigFiles } from "./cfg_parser.ts";
 * const cfg = parseConfigFiles(["/etc/sluice/global.cfg", "/etc/sluice/conf.d"]);
 * ```
 */
export function parseConfigFiles(paths: string[], env?: CfgEnv): SluiceConfig {
  const errors: SluiceError[] = [];
  const inputs = cfgReadFiles(paths, errors);
  const parsed = cfgParse(inputs, env ?? Deno.env.toObject());
  const all = [...errors, ...parsed.errors].sort((a, b) =>
    parsed.sources.compare(a.where ?? "", b.where ?? "")
  );
  if (all.length > 0) throw cfgErrors(all);
  return parsed.config;
}
