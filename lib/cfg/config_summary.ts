/**
 * A loaded configuration described for people: the one-line count of the
 * event lines (`2 frontends, 3 backends, 7 servers`) and, for `-V`, a line
 * per frontend and backend with where it was written.
 *
 * @module
 */
import { addrFormat } from "../core/addr_types.ts";
import type { CfgSources } from "./cfg_sources.ts";
import type { ResolvedConfig } from "./config_resolved_types.ts";

/** `1 frontend`, `3 servers`. */
function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

/** `2 frontends, 3 backends, 7 servers`. */
export function configCount(cfg: ResolvedConfig): string {
  const servers = cfg.backends.reduce((sum, b) => sum + b.servers.length, 0);
  return `${count(cfg.frontends.length, "frontend")}, ${count(cfg.backends.length, "backend")}, ${
    count(servers, "server")
  }`;
}

/**
 * A line per frontend and backend: mode, listeners, routing, servers, and
 * where its section starts when `sources` knows (configuration files).
 *
 * @example
 * ```ts
 * import { resolveConfig } from "./config_check.ts";
 * import { configSections } from "./config_summary.ts";
 * configSections(resolveConfig({
 *   frontends: [{ name: "fe", binds: [{ address: "127.0.0.1:8080" }], defaultBackend: "be" }],
 *   backends: [{ name: "be", servers: [{ name: "s1", address: "127.0.0.1:9000" }] }],
 * }));
 * // ["frontend fe: http, listens on 127.0.0.1:8080, default_backend be",
 * //  "backend be: http, balance roundrobin, 1 server"]
 * ```
 */
export function configSections(cfg: ResolvedConfig, sources?: CfgSources): string[] {
  const at = (path: string) => {
    const w = sources?.whereOf(path);
    return w === null || w === undefined ? "" : ` (${w.where})`;
  };
  const lines: string[] = [];
  for (const [i, f] of cfg.frontends.entries()) {
    const parts = [
      f.mode,
      `listens on ${f.binds.map((b) => addrFormat(b.addr) + (b.tls ? " (tls)" : "")).join(", ")}`,
    ];
    if (f.backend !== null) parts.push(`default_backend ${f.backend}`);
    const r = f.rules;
    const rules = r === null ? 0 : Object.values(r).reduce((n, list) => n + list.length, 0);
    if (rules > 0) parts.push(count(rules, "rule"));
    lines.push(`frontend ${f.name}${at(`frontends[${i}]`)}: ${parts.join(", ")}`);
  }
  for (const [i, b] of cfg.backends.entries()) {
    const algo = b.balance.hdr === undefined ? b.balance.algo : `hdr(${b.balance.hdr})`;
    lines.push(
      `backend ${b.name}${at(`backends[${i}]`)}: ${b.mode}, balance ${algo}, ${
        count(b.servers.length, "server")
      }`,
    );
  }
  return lines;
}
