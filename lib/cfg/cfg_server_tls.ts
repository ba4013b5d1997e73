/**
 * The TLS options of `server` and `default-server` lines beyond `ssl`,
 * `verify`, `ca-file`, `sni` and versions (cfg_server.ts): `crt` (the
 * client certificate shown to the server), `alpn`, `verifyhost`,
 * `check-sni`, `no-ssl-reuse` / `ssl-reuse`, and the refused `crl-file`; and how a server's trust settles
 * against the global `ssl-server-verify` (HAProxy refuses a verifying
 * server without a CA file, and so does sluice).
 *
 * @module
 */
import type { CfgAt } from "./cfg_at.ts";
import { cfgCrt } from "./cfg_proxy.ts";
import type { CfgServerOpts } from "./cfg_types.ts";

/** ALPN protocol names: 1 to 255 printable bytes (RFC 7301), comma-separated in HAProxy. */
const ALPN_NAME = /^[\x21-\x2b\x2d-\x7e]{1,255}$/;

/**
 * Reads the server TLS option `args[i]` into `o`; returns the index after
 * it, or -1 when it is not one of these. `line` is `server` or
 * `default-server`.
 */
export function cfgServerTlsOption(
  at: CfgAt,
  args: string[],
  i: number,
  o: CfgServerOpts,
  line: string,
): number {
  const name = args[i];
  const a = at.sub(`${line} ${name}`);
  switch (name) {
    case "crt": {
      const file = a.tlsPath(a.value(args, i + 1), "crt");
      o.clientCert = { ...cfgCrt(a, file), file };
      return i + 2;
    }
    case "alpn": {
      const v = a.value(args, i + 1);
      const list = v.split(",");
      for (const p of list) {
        if (!ALPN_NAME.test(p)) throw a.badValue(v, "expected protocol names separated by commas");
      }
      o.alpn = list;
      return i + 2;
    }
    // sluice's TLS client never resumes a session (Deno's node:tls ignores
    // the `session` option, measured): every connection does the full
    // handshake that `no-ssl-reuse` asks for, so both are what sluice does.
    case "verifyhost": {
      const v = a.value(args, i + 1);
      if (!/^[\x21-\x7e]{1,253}$/.test(v)) throw a.badValue(v, "expected a host name");
      o.verifyhost = v;
      return i + 2;
    }
    case "check-sni": {
      const v = a.value(args, i + 1);
      if (!/^[\x21-\x7e]{1,253}$/.test(v)) throw a.badValue(v, "expected a host name");
      o.checkSni = v;
      return i + 2;
    }
    case "no-ssl-reuse":
    case "ssl-reuse":
      return i + 1;
    case "crl-file":
      throw a.fail(
        "\"crl-file\" cannot be honoured on servers: sluice's TLS client (Deno's node:tls) " +
          "accepts a CRL but never consults it, so a revoked server certificate would pass; remove it",
      );
    default:
      return -1;
  }
}

/**
 * Settles the trust of a `server ... ssl` line (`opts` merged over the
 * default-server): `verify` defaults to the global `ssl-server-verify`
 * (`required` unless set), and verifying needs a `ca-file` (or
 * `ca-file @system-ca`), as HAProxy checks when it loads.
 */
export function cfgServerTlsSettle(
  at: CfgAt,
  opts: CfgServerOpts,
  globalVerify: "none" | "required" | undefined,
): void {
  const explicit = opts.verify !== undefined;
  const verify = opts.verify ?? globalVerify ?? "required";
  opts.verify = verify;
  if (verify === "none" || opts.ca !== undefined || opts.caSystem) return;
  const ca = '("ca-file FILE", or "ca-file @system-ca" for the runtime\'s trusted roots)';
  throw at.fail(
    explicit
      ? `verify is enabled but no CA file specified ${ca}`
      : "verify is enabled by default " +
        `but no CA file specified ${ca}. If you're running on a LAN where you're certain to trust ` +
        "the server's certificate, please set an explicit 'verify none' statement on the 'server' " +
        "line, or use 'ssl-server-verify none' in the global section to disable server-side " +
        "verifications by default",
  );
}
