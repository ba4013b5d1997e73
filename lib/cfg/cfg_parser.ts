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
 * @module
 */
import { dirname } from "node:path";
import { errMsg, SluiceError } from "../core/errors.ts";
import { CfgAt, cfgError } from "./cfg_at.ts";
import { cfgBuild } from "./cfg_build.ts";
import { type CfgGlobalDraft, cfgGlobalKeyword } from "./cfg_global.ts";
import { type CfgEnv, cfgLex, type CfgLine } from "./cfg_lexer.ts";
import { cfgProxyKeyword } from "./cfg_proxy.ts";
import type { CfgProxyDraft, CfgProxyKind, CfgSetting } from "./cfg_types.ts";
import type { SluiceConfig } from "./config_types.ts";

/** HAProxy sections sluice does not have. */
const OTHER_SECTIONS = new Set([
  "peers",
  "resolvers",
  "userlist",
  "mailers",
  "program",
  "http-errors",
  "ring",
  "cache",
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

/** Reads statements section by section; `finish()` builds the configuration. */
class CfgParser {
  #global: CfgGlobalDraft = { global: {} };
  #defaults: CfgProxyDraft = cfgProxyNew({
    kind: "defaults",
    name: "",
    label: "defaults",
    where: "",
  });
  #proxies: CfgProxyDraft[] = [];
  /** The section statements go to; null before the first header of a file. */
  #section: CfgProxyDraft | "global" | null = null;

  /** Applies the statements of one file. */
  feed(lines: CfgLine[]): void {
    this.#section = null;
    for (const l of lines) this.#statement(l);
  }

  finish(): SluiceConfig {
    return cfgBuild(this.#proxies, this.#global);
  }

  #statement(l: CfgLine): void {
    const [kw, ...args] = l.words;
    const dir = dirname(l.file);
    if (
      kw === "global" || kw === "defaults" || kw === "frontend" || kw === "backend" ||
      kw === "listen"
    ) {
      this.#header(l, kw);
      return;
    }
    if (OTHER_SECTIONS.has(kw)) {
      throw cfgError(l.where, `unsupported section "${kw}" (see README's keyword table)`);
    }
    const s = this.#section;
    if (s === null) {
      throw cfgError(
        l.where,
        `keyword "${kw}" outside of any section (expected global, defaults, frontend, backend or listen first)`,
      );
    }
    if (s === "global") {
      cfgGlobalKeyword(this.#global, {
        at: new CfgAt({ where: l.where, section: "global", kw, dir }),
        args,
      });
    } else {cfgProxyKeyword(s, {
        base: new CfgAt({ where: l.where, section: s.label, kw, dir }),
        words: l.words,
      });}
  }

  #header(l: CfgLine, kind: "global" | CfgProxyKind): void {
    const args = l.words.slice(1);
    const at = new CfgAt({ where: l.where, section: kind, kw: kind, dir: dirname(l.file) });
    if (kind === "global") {
      at.args(args, 0, 0);
      this.#section = "global";
      return;
    }
    if (kind === "defaults") {
      if (args[1] === "from") throw at.unsupported("from");
      at.args(args, 0, 1);
      const name = args[0] ?? "";
      const label = name === "" ? "defaults" : `defaults ${name}`;
      this.#section = this.#defaults = cfgProxyNew({ kind, name, label, where: l.where });
      return;
    }
    if (args.length === 0) throw at.fail(`missing name for "${kind}"`);
    const label = `${kind} ${args[0]}`;
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
    this.#checkUnique(l, { kind, name: args[0] });
    const p = cfgProxyInherit(this.#defaults, { kind, name: args[0], label, where: l.where });
    this.#proxies.push(p);
    this.#section = p;
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
 * Parses configuration text. `file` names it in errors and is the directory
 * relative file names (`crt`, `ca-file`, `errorfile`) are resolved against;
 * `env` provides `${NAME}` values. Throws a SluiceError with code ERR_CONFIG
 * and `where` = `file:line` on the first problem.
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
  const p = new CfgParser();
  p.feed(cfgLex(text, file, env));
  return p.finish();
}

/**
 * Reads and parses configuration files in order, as one configuration (like
 * HAProxy's repeated `-f`). `env` defaults to the process environment (which
 * needs --allow-env). An unreadable file is an ERR_CONFIG error with `where`
 * set to its name.
 *
 * @example
 * ```ts ignore
 * import { parseConfigFiles } from "./cfg_parser.ts";
 * const cfg = parseConfigFiles(["/etc/sluice/global.cfg", "/etc/sluice/sites.cfg"]);
 * ```
 */
export function parseConfigFiles(paths: string[], env?: CfgEnv): SluiceConfig {
  if (paths.length === 0) throw new SluiceError("ERR_CONFIG", "No configuration file given");
  const vars = env ?? Deno.env.toObject();
  const p = new CfgParser();
  for (const path of paths) {
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch (err) {
      const why = errMsg(err);
      throw new SluiceError(
        "ERR_CONFIG",
        `${path}: cannot read the configuration file: ${why}`,
        path,
      );
    }
    p.feed(cfgLex(text, path, vars));
  }
  return p.finish();
}
