/**
 * Loading configuration files, as `-f`, `--check` and reloads do: read them
 * (a directory as its `*.cfg` files), parse, build and resolve, and report
 * every error and warning of every file together, each at the `file:line`
 * that caused it, in file and line order.
 *
 * Errors found when the configuration object is resolved name a field
 * (`frontends[0].defaultBackend`); CfgSources gives them the line that set
 * it, or else the header of its section. An error about a whole section
 * (at its header) that already has an error is left out, as is a second
 * error on one line: they would mostly repeat the first one (a backend whose
 * only `server` line is wrong "needs a server"), and show once it is fixed.
 *
 * @module
 */
import { SluiceError } from "../core/errors.ts";
import type { CfgWarning } from "./cfg_at.ts";
import { type CfgInput, cfgReadFiles } from "./cfg_files.ts";
import type { CfgEnv } from "./cfg_lexer.ts";
import { cfgParse } from "./cfg_parser.ts";
import type { CfgSources } from "./cfg_sources.ts";
import { checkConfig } from "./config_check.ts";
import type { ResolvedConfig } from "./config_resolved_types.ts";
import type { SluiceConfig } from "./config_types.ts";

/** What loading configuration files found. */
export interface ConfigLoad {
  /** The files read, in order (directories replaced by their files). */
  readonly files: readonly string[];
  /** The configuration, as far as it could be read. */
  readonly config: SluiceConfig;
  /** The configuration ready to run; null when there are errors. */
  readonly resolved: ResolvedConfig | null;
  /** Every error, in file and line order, each message starting with its `file:line`. */
  readonly errors: readonly SluiceError[];
  /** Every warning, in file and line order. */
  readonly warnings: readonly CfgWarning[];
  /** Where each part of the configuration was written. */
  readonly sources: CfgSources;
}

/** A resolution error (at a field path or a rule's `file:line`) at the line that caused it. */
function configErrorPlaced(err: SluiceError, sources: CfgSources): SluiceError {
  const at = err.where ?? "";
  const prefix = `Invalid configuration at ${at}: `;
  const why = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
  if (sources.isStatement(at)) {
    return err.message.startsWith(`${at}: `) ? err : new SluiceError(err.code, `${at}: ${why}`, at);
  }
  // The field stays named: the line may set several (a `server` line).
  const place = sources.whereOf(at);
  if (place === null) {
    // No line is the cause (no frontend at all): the files are, and it comes last.
    return new SluiceError(err.code, `${sources.files.join(", ")}: ${why} (${at})`);
  }
  return new SluiceError(err.code, `${place.where}: ${why} (${at})`, place.where);
}

/**
 * Loads configuration text (`inputs`, in order, as one configuration);
 * `errors` are those found before (files that could not be read).
 */
export function loadConfig(
  inputs: readonly CfgInput[],
  opts: { env: CfgEnv; errors?: readonly SluiceError[] },
): ConfigLoad {
  const parsed = cfgParse(inputs, opts.env);
  const { sources } = parsed;
  const checked = checkConfig(parsed.config);
  const first = [...(opts.errors ?? []), ...parsed.errors];
  // One error per line: so a `defaults` line in error is reported once, not once per proxy.
  const lines = new Set(first.map((e) => e.where));
  const later: SluiceError[] = [];
  for (const e of checked.errors.map((e) => configErrorPlaced(e, sources))) {
    const where = e.where ?? "";
    if (sources.isBrokenHeader(where) || lines.has(where)) continue;
    lines.add(where);
    later.push(e);
  }
  const errors = [...first, ...later]
    .sort((a, b) => sources.compare(a.where ?? "", b.where ?? ""));
  return {
    files: sources.files,
    config: parsed.config,
    resolved: errors.length === 0 ? checked.resolved : null,
    errors,
    warnings: parsed.warnings,
    sources,
  };
}

/**
 * Reads and loads configuration files (`-f FILE|DIR ...`). `env` provides
 * `${NAME}` values; default: the process environment (--allow-env).
 *
 * @example
 * ```ts ignore
 * import { loadConfigFiles } from "./config_load.ts";
 * const load = loadConfigFiles(["/etc/sluice/haproxy.cfg", "/etc/sluice/conf.d"]);
 * for (const e of load.errors) console.error(e.message); // a.cfg:12: ...
 * ```
 */
export function loadConfigFiles(paths: readonly string[], env?: CfgEnv): ConfigLoad {
  const errors: SluiceError[] = [];
  const inputs = cfgReadFiles(paths, errors);
  return loadConfig(inputs, { env: env ?? Deno.env.toObject(), errors });
}
