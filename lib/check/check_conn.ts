/**
 * What every kind of check shares: where it connects, the words of its
 * socket errors, its results, and the PROXY header it may send first.
 *
 * @module
 */
import type { Socket } from "node:net";
import tls from "node:tls";
import { ppHeaderV1, ppHeaderV2 } from "../conn/proxy_proto.ts";
import { connErrCode } from "../conn/connection.ts";
import { CO_ER_TLS } from "../conn/conn_types.ts";
import { tlsClientOptions, tlsFailText } from "../conn/tls_client.ts";
import {
  CHECK_STATUS,
  type CheckResult,
  type CheckStatusCode,
  type CheckTlsConfig,
} from "./check_types.ts";

/** Where a check connects: a TCP host and port, or a unix socket path. */
export type ProbeAddr = { readonly host: string; readonly port: number } | {
  readonly path: string;
};

/** Text of the errno codes a check meets (what HAProxy prints with strerror). */
const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: "Connection refused",
  ECONNRESET: "Connection reset by peer",
  ECONNABORTED: "Connection aborted",
  EHOSTUNREACH: "No route to host",
  ENETUNREACH: "Network is unreachable",
  ETIMEDOUT: "Connection timed out",
  EPIPE: "Broken pipe",
  ENOENT: "No such file or directory",
  EACCES: "Permission denied",
  EADDRNOTAVAIL: "Cannot assign requested address",
  ENOTFOUND: "Name does not resolve",
  EAI_AGAIN: "Name resolution failed temporarily",
};

/**
 * The text of a socket error, as HAProxy's strerror() words it when known;
 * a refused TLS handshake as "SSL handshake failure: REASON".
 */
export function errText(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === "string" && ERRNO_TEXT[code]) return ERRNO_TEXT[code];
  const msg = (err as { message?: unknown })?.message;
  const text = typeof msg === "string" && msg ? msg : String(err);
  return connErrCode(err) === CO_ER_TLS ? tlsFailText(text) : text;
}

/** Builds a result from a code; `start` is the check's `performance.now()` at its start. */
export function result(
  code: CheckStatusCode,
  info: string,
  start: number,
  status?: number,
): CheckResult {
  const s = CHECK_STATUS[code];
  const r: CheckResult = {
    ok: s.ok,
    code,
    reason: s.reason,
    info,
    durationMs: Math.round(performance.now() - start),
  };
  if (status !== undefined) r.status = status;
  return r;
}

/**
 * The PROXY header of a check connection. A check has no client, so it is
 * HAProxy's: `PROXY UNKNOWN` in version 1, the LOCAL command in version 2.
 */
export function checkProxyHeader(version: 1 | 2): Uint8Array {
  return version === 1 ? ppHeaderV1(null, null) : ppHeaderV2(null, null);
}

/**
 * Starts TLS over the connected socket `raw` with the check's settings `t`
 * (the name defaults to the address host). Throws when node:tls refuses the
 * options; handshake failures come as 'error' events.
 */
export function checkTlsConnect(raw: Socket, t: CheckTlsConfig, addr: ProbeAddr): tls.TLSSocket {
  const name = t.sni ?? ("path" in addr ? "localhost" : addr.host);
  return tls.connect({
    ...tlsClientOptions({
      serverName: name,
      caCerts: t.ca,
      noVerify: t.verify === "none",
      noVerifyHost: t.verifyHost === false,
      verifyName: t.verifyName,
      clientCert: t.clientCert,
      minVersion: t.minVersion,
      maxVersion: t.maxVersion,
    }),
    socket: raw,
  });
}
