/**
 * Network addresses as sluice uses them: a TCP host and port, or a unix
 * socket path, optionally marked for TLS.
 *
 * @module
 */

/** A TCP address. `host` is an IP literal or name, without brackets. */
export interface TcpAddress {
  readonly kind: "tcp";
  readonly host: string;
  readonly port: number;
}

/** A unix stream socket address. */
export interface UnixAddress {
  readonly kind: "unix";
  readonly path: string;
}

/** Any address sluice can listen on or connect to. */
export type Address = TcpAddress | UnixAddress;

/** Renders an address as `host:port`, `[v6]:port` or `unix:/path`. */
export function addrFormat(addr: Address): string {
  if (addr.kind === "unix") return `unix:${addr.path}`;
  return addr.host.includes(":") ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
}

/** Renders a Deno address (from `localAddr`/`remoteAddr`) like `addrFormat`. */
export function addrFormatDeno(addr: Deno.Addr): string {
  if (addr.transport === "tcp" || addr.transport === "udp") {
    return addr.hostname.includes(":")
      ? `[${addr.hostname}]:${addr.port}`
      : `${addr.hostname}:${addr.port}`;
  }
  if (addr.transport === "unix" || addr.transport === "unixpacket") {
    return `unix:${addr.path ?? ""}`;
  }
  return "-";
}
