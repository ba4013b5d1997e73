/**
 * The line the CLI prints once every listener is bound: text
 * (`sluice 0.1.0 ready, listening on 127.0.0.1:8080, [::1]:8443 (tls)`), or
 * under `--log-format json` one JSON event shaped like the other JSON event
 * lines, listing every listener: the frontends', the stats listener and the
 * runtime API socket, with their real ports. Whoever starts sluice (a
 * supervisor, a test) can read where it listens from it.
 *
 * @module
 */

/** A bound proxy listener (as `SluiceHandle.addresses` gives it). */
export interface ReadyBind {
  readonly frontend: string;
  readonly address: string;
  readonly port: number;
  readonly tls: boolean;
}

/** What the ready line reports. */
export interface ReadyInfo {
  readonly version: string;
  /** The frontends' listeners, bound. */
  readonly binds: readonly ReadyBind[];
  /** The stats listener (`host:port` with its real port), or null. */
  readonly stats: { readonly host: string; readonly port: number } | null;
  /** The runtime API's unix socket path, or null. */
  readonly adminSocket: string | null;
}

/** One listener of the JSON ready event. */
export interface ReadyListener {
  /** `frontend`, `stats` or `admin-socket`. */
  readonly kind: "frontend" | "stats" | "admin-socket";
  /** The frontend's name; `stats` and `admin-socket` for the others. */
  readonly name: string;
  /** `127.0.0.1:8080`, `[::1]:8443`, `unix:/path`. */
  readonly address: string;
  /** TCP port, 0 for unix sockets. */
  readonly port: number;
  readonly tls: boolean;
}

/** Every listener of `info`, frontends first. */
function readyListeners(info: ReadyInfo): ReadyListener[] {
  const all: ReadyListener[] = info.binds.map((b) => ({
    kind: "frontend",
    name: b.frontend,
    address: b.address,
    port: b.port,
    tls: b.tls,
  }));
  if (info.stats !== null) {
    const host = info.stats.host.includes(":") ? `[${info.stats.host}]` : info.stats.host;
    all.push({
      kind: "stats",
      name: "stats",
      address: `${host}:${info.stats.port}`,
      port: info.stats.port,
      tls: false,
    });
  }
  if (info.adminSocket !== null) {
    all.push({
      kind: "admin-socket",
      name: "admin-socket",
      address: `unix:${info.adminSocket}`,
      port: 0,
      tls: false,
    });
  }
  return all;
}

/**
 * The ready line: text, or with `json` a JSON event (`type` "event",
 * `event` "ready", `date`, `level`, `message` as the text line says it,
 * `version`, `listeners`).
 *
 * @example
 * ```ts
 * import { cliReadyLine } from "./cli_ready.ts";
 * const info = {
 *   version: "0.1.0",
 *   binds: [{ frontend: "main", address: "127.0.0.1:8080", port: 8080, tls: false }],
 *   stats: null,
 *   adminSocket: null,
 * };
 * console.assert(cliReadyLine(info, { json: false }) === "sluice 0.1.0 ready, listening on 127.0.0.1:8080");
 * ```
 */
export function cliReadyLine(info: ReadyInfo, opts: { json: boolean; date?: Date }): string {
  const where = info.binds.map((b) => `${b.address}${b.tls ? " (tls)" : ""}`).join(", ");
  const message = `sluice ${info.version} ready, listening on ${where}`;
  if (!opts.json) return message;
  return JSON.stringify({
    type: "event",
    event: "ready",
    date: (opts.date ?? new Date()).toISOString(),
    level: "notice",
    message,
    version: info.version,
    listeners: readyListeners(info),
  });
}
