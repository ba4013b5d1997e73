/**
 * Address syntax shared by the CLI and the configuration:
 * `host:port`, `[v6]:port`, `:port` (all IPv4 interfaces), `unix:/path`, and
 * for servers a `tls://` prefix asking for TLS.
 *
 * @module
 */
import type { Address } from "../core/addr_types.ts";
import { SluiceError } from "../core/errors.ts";

/** A parsed address and whether `tls://` was given. */
export interface ParsedAddress {
  addr: Address;
  tls: boolean;
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV4 =
  /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

function bad(text: string, why: string): SluiceError {
  return new SluiceError("ERR_ADDRESS", `Cannot parse address "${text}": ${why}`);
}

function isIpv6(host: string): boolean {
  // Let the URL parser judge IPv6 literals (it is strict and has no DNS).
  try {
    return new URL(`http://[${host}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/**
 * Parses an address. `port0` allows port 0 (listeners: pick a free port).
 * `tls` allows the `tls://` prefix (servers).
 *
 * @example
 * ```ts
 * import { parseAddress } from "./address.ts";
 * parseAddress("[::1]:8080").addr; // { kind: "tcp", host: "::1", port: 8080 }
 * ```
 */
export function parseAddress(
  text: string,
  opts: { port0?: boolean; tls?: boolean } = {},
): ParsedAddress {
  let rest = text;
  let tls = false;
  if (rest.startsWith("tls://")) {
    if (!opts.tls) throw bad(text, '"tls://" is only valid for servers');
    tls = true;
    rest = rest.slice(6);
  }
  if (/^[a-z]+:\/\//i.test(rest)) {
    throw bad(
      text,
      `unsupported scheme "${rest.slice(0, rest.indexOf(":"))}" (only tls:// for servers)`,
    );
  }
  if (rest.startsWith("unix:")) {
    const path = rest.slice(5);
    if (path === "" || path.includes("\0")) throw bad(text, "empty or invalid path");
    if (path.length > 107) throw bad(text, "unix socket path longer than 107 bytes");
    return { addr: { kind: "unix", path }, tls };
  }
  let host: string;
  let portText: string;
  if (rest.startsWith("[")) {
    const end = rest.indexOf("]");
    if (end < 0 || rest[end + 1] !== ":") throw bad(text, "expected [IPv6]:port");
    host = rest.slice(1, end);
    portText = rest.slice(end + 2);
    if (!isIpv6(host)) throw bad(text, `invalid IPv6 address "${host}"`);
  } else {
    const colon = rest.lastIndexOf(":");
    if (colon < 0) throw bad(text, "missing port (expected host:port)");
    host = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
    if (host.includes(":")) throw bad(text, "IPv6 addresses must be in brackets");
    if (host === "" || host === "*") host = "0.0.0.0";
    else if (/^[0-9.]+$/.test(host)) {
      if (!IPV4.test(host)) throw bad(text, `invalid IPv4 address "${host}"`);
    } else if (!HOSTNAME.test(host)) throw bad(text, `invalid host name "${host}"`);
  }
  if (!/^[0-9]{1,5}$/.test(portText)) throw bad(text, `invalid port "${portText}"`);
  const port = Number(portText);
  if (port > 65535) throw bad(text, `port ${port} is above 65535`);
  if (port === 0 && !opts.port0) throw bad(text, "port 0 is only valid for listeners");
  return { addr: { kind: "tcp", host, port }, tls };
}
