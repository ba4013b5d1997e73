/**
 * What `-f` and `-c -f` print on stderr about the files they loaded: every
 * warning and error, in file and line order, each as `file:line: ...` (the
 * form editors jump to), then a count when there are errors; with `-V`, the
 * files read first and a line per frontend and backend last.
 *
 * @module
 */
import { configCount, configSections } from "./config_summary.ts";
import type { ConfigLoad } from "./config_load.ts";

/** `3 errors`, `1 warning`. */
function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

/**
 * The stderr lines about `load`: its warnings and errors, then (when there
 * are errors) their count. With `verbose`, the files read come first, and
 * when it loaded, its sections and counts come last.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config_load.ts";
 * import { cliLoadReport } from "./cli_load.ts";
 * const load = loadConfig([{ file: "a.cfg", text: "global\n  daemon\n  bogus\n" }], { env: {} });
 * cliLoadReport(load, {});
 * // ['a.cfg:2: warning: "daemon": sluice stays in the foreground; ...',
 * //  'a.cfg:3: unsupported keyword "bogus" in section "global" (see docs/migrating-from-haproxy.md)',
 * //  "a.cfg: at least one frontend is needed (frontends)",
 * //  "sluice: a.cfg: 2 errors, 1 warning"]
 * ```
 */
export function cliLoadReport(load: ConfigLoad, opts: { verbose?: boolean }): string[] {
  const { sources } = load;
  const out: string[] = [];
  const files = load.files.join(", ");
  if (opts.verbose) out.push(`sluice: reading ${files}`);
  const lines = [...load.warnings, ...load.errors]
    .map((d) => ({ where: d.where ?? "", message: d.message }))
    .sort((a, b) => sources.compare(a.where, b.where));
  for (const l of lines) out.push(l.message);
  const warned = load.warnings.length === 0 ? "" : `, ${count(load.warnings.length, "warning")}`;
  if (load.errors.length > 0) {
    out.push(`sluice: ${files}: ${count(load.errors.length, "error")}${warned}`);
  } else if (opts.verbose && load.resolved !== null) {
    for (const s of configSections(load.resolved, sources)) out.push(`sluice: ${s}`);
    out.push(`sluice: loaded ${configCount(load.resolved)}${warned}`);
  }
  return out;
}
