/**
 * The server TLS settings beyond trust and versions: the client
 * certificate shown to a server (`cert`/`key`, HAProxy's `crt`) and the
 * protocols offered with ALPN (`alpn`), checked when a configuration is
 * resolved.
 *
 * @module
 */
import { errMsg } from "../core/errors.ts";
import { tlsServerContext } from "../conn/tls_sock.ts";
import { aclFetchParse } from "../rules/acl_fetch.ts";
import { type AclFetch, SMP_USE_REQ } from "../rules/acl_types.ts";
import type { ServerConfig, ServerTlsConfig } from "./config_types.ts";
import { resolveFail, resolvePem } from "./config_values.ts";

/** The protocols sluice speaks to servers in HTTP mode (it has no HTTP/2 towards servers). */
const HTTP_ALPN = new Set(["http/1.1", "http/1.0"]);

/** `cert`/`key` and `alpn` of a server's `tls` at `at`, checked. */
export function resolveServerTlsExtra(
  at: string,
  st: ServerTlsConfig,
): {
  clientCert?: { cert: string; key: string; file?: string };
  alpn?: string[];
  sniExpr?: { text: string; fetch: AclFetch };
  verifyName?: string;
} {
  const out: {
    clientCert?: { cert: string; key: string; file?: string };
    alpn?: string[];
    sniExpr?: { text: string; fetch: AclFetch };
    verifyName?: string;
  } = {};
  if (st.verifyHostName !== undefined) {
    if (typeof st.verifyHostName !== "string" || !/^[\x21-\x7e]{1,253}$/.test(st.verifyHostName)) {
      resolveFail(
        `${at}.verifyHostName`,
        `expected a host name, got ${JSON.stringify(st.verifyHostName)}`,
      );
    }
    out.verifyName = st.verifyHostName;
  }
  if (st.sniExpr !== undefined) {
    out.sniExpr = { text: st.sniExpr, fetch: sniExprOf(`${at}.sniExpr`, st) };
  }
  if (st.cert !== undefined || st.key !== undefined) {
    if (st.cert === undefined) resolveFail(`${at}.cert`, "a client key needs its certificate");
    if (st.key === undefined) resolveFail(`${at}.key`, "a client certificate needs its key");
    const cert = resolvePem(`${at}.cert`, st.cert);
    const key = resolvePem(`${at}.key`, st.key);
    try {
      // Checks now what the first handshake would otherwise find out.
      tlsServerContext(cert, key);
    } catch (err) {
      resolveFail(`${at}.cert`, errMsg(err));
    }
    out.clientCert = { cert, key };
    if (st.certFile !== undefined) {
      if (typeof st.certFile !== "string" || !/^[\x21-\x7e\x80-\uffff]+$/.test(st.certFile)) {
        resolveFail(`${at}.certFile`, `expected a file name, got ${JSON.stringify(st.certFile)}`);
      }
      out.clientCert.file = st.certFile;
    }
  }
  if (st.alpn !== undefined) {
    const ok = Array.isArray(st.alpn) && st.alpn.length > 0 &&
      st.alpn.every((p) => typeof p === "string" && /^[\x21-\x7e]{1,255}$/.test(p));
    if (!ok) resolveFail(`${at}.alpn`, "expected a non-empty list of protocol names");
    out.alpn = [...st.alpn];
  }
  return out;
}

/** `sniExpr` compiled: one fetch (with converters) that can read the request. */
function sniExprOf(at: string, st: ServerTlsConfig): AclFetch {
  const v = st.sniExpr;
  if (typeof v !== "string" || v === "") resolveFail(at, "expected a sample expression");
  if (st.sni !== undefined) resolveFail(at, "give either sni (a fixed name) or sniExpr");
  const spec = aclFetchParse(v, at);
  if (typeof spec === "string") resolveFail(at, spec);
  if ((spec.use & SMP_USE_REQ) === 0) {
    resolveFail(at, `"${v}" is not known when connecting for a request`);
  }
  return spec.fetch.sample ?? spec.fetch;
}

/**
 * Throws when a server of an HTTP backend offers with ALPN a protocol
 * sluice would not speak on the connection (`h2`: HAProxy would switch to
 * HTTP/2, sluice sends HTTP/1.1), or one of a TCP backend has an SNI
 * expression (there is no request to evaluate it on).
 */
export function resolveServerTlsMode(at: string, servers: ServerConfig[], mode: string): void {
  if (!Array.isArray(servers)) return;
  servers.forEach((s, j) => {
    if (mode !== "http" && s?.tls?.sniExpr !== undefined) {
      resolveFail(
        `${at}.servers[${j}].tls.sniExpr`,
        "a sample expression as sni needs mode http (it is evaluated on each request); " +
          "use str(NAME) in mode tcp",
      );
    }
    if (mode !== "http") return;
    const bad = s?.tls?.alpn?.find?.((p) => !HTTP_ALPN.has(p));
    if (bad !== undefined) {
      resolveFail(
        `${at}.servers[${j}].tls.alpn`,
        `"${bad}" cannot be offered in mode http: sluice speaks HTTP/1.x to servers ` +
          '(offer "http/1.1", or use mode tcp)',
      );
    }
  });
}
