/**
 * HAProxy address syntax translated to sluice's (lib/cfg/address.ts):
 *
 * | HAProxy                          | sluice          |
 * | -------------------------------- | --------------- |
 * | `host:port`, `ipv4@host:port`    | `host:port`     |
 * | `:port`, `*:port`                | `:port`         |
 * | `[v6]:port`, `v6:port`, `ipv6@…` | `[v6]:port`     |
 * | `/path`, `unix@/path`            | `unix:/path`    |
 *
 * Other families (`abns@`, `fd@`, `udp@`…), port ranges and port offsets
 * are refused with a message saying so.
 *
 * @module
 */
import { SluiceError } from "../core/errors.ts";
import { parseAddress } from "./address.ts";
import type { CfgAt } from "./cfg_at.ts";

/**
 * Translates one HAProxy address for a `bind` (`opts.bind`: port 0 allowed)
 * or a `server`, and checks it with parseAddress(). Errors are "invalid
 * value" errors of the keyword at `at`.
 *
 * @example
 * ```ts
 * import { CfgAt } from "./cfg_at.ts";
 * import { cfgAddress } from "./cfg_address.ts";
 * const at = new CfgAt({ where: "a.cfg:4", section: "backend be", kw: "server", dir: "." });
 * cfgAddress(at, "::1:8080", { bind: false }); // "[::1]:8080"
 * ```
 */
export function cfgAddress(at: CfgAt, text: string, opts: { bind: boolean }): string {
  let rest = text;
  const family = /^([a-z0-9]+)@/.exec(rest);
  if (family !== null) {
    rest = rest.slice(family[0].length);
    if (family[1] === "unix") {
      if (!rest.startsWith("/")) throw at.badValue(text, "expected unix@/path");
    } else if (family[1] !== "ipv4" && family[1] !== "ipv6") {
      throw at.badValue(text, `the "${family[1]}@" address family is not supported`);
    }
  }
  if (rest.startsWith("tls://") || rest.startsWith("unix:")) {
    throw at.badValue(
      text,
      rest.startsWith("tls://")
        ? 'not an HAProxy address (use the "ssl" option for TLS)'
        : "not an HAProxy address (write unix@/path or /path)",
    );
  }
  let out: string;
  if (rest.startsWith("/")) out = `unix:${rest}`;
  else {
    const colon = rest.lastIndexOf(":");
    if (colon < 0) {
      throw at.badValue(
        text,
        opts.bind ? "missing port" : "missing port (sluice does not reuse the client's port)",
      );
    }
    let host = rest.slice(0, colon);
    const port = rest.slice(colon + 1);
    if (/^[0-9]+-[0-9]+$/.test(port)) throw at.badValue(text, "port ranges are not supported");
    if (/^[+-]/.test(port)) throw at.badValue(text, "port offsets are not supported");
    if (host === "*") host = "";
    // HAProxy writes IPv6 without brackets: the last colon starts the port.
    if (host.includes(":") && !host.startsWith("[")) host = `[${host}]`;
    out = `${host}:${port}`;
  }
  try {
    parseAddress(out, { port0: opts.bind });
  } catch (err) {
    if (!(err instanceof SluiceError)) throw err;
    throw at.badValue(text, err.message.replace(/^Cannot parse address "[^"]*": /, ""));
  }
  return out;
}
