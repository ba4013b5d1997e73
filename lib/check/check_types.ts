/**
 * Health checks: their configuration, their results, and HAProxy's table of
 * check status codes (`L4OK`, `L7STS`...) with the reason text its logs and
 * stats page show.
 *
 * @module
 */
import type { CheckExpectSpec, CompiledExpect } from "./check_expect.ts";

/** Default interval between two checks (HAProxy's `inter`), in ms. */
export const CHECK_DEFAULT_INTER = 2000;
/** Default consecutive successes to turn a server up. */
export const CHECK_DEFAULT_RISE = 2;
/** Default consecutive failures to turn a server down. */
export const CHECK_DEFAULT_FALL = 3;
/** Default HTTP check method. */
export const CHECK_DEFAULT_METHOD = "GET";
/** Default HTTP check path. */
export const CHECK_DEFAULT_PATH = "/";
/** Default accepted statuses: 2xx and 3xx, like HAProxy's `option httpchk`. */
export const CHECK_DEFAULT_STATUS: readonly [number, number] = [200, 399];
/** Most response bytes an HTTP check reads (HAProxy reads at most one buffer). */
export const CHECK_MAX_RESPONSE = 16384;

/** What a check does: connect only, or send an HTTP request and judge the response. */
export type CheckType = "tcp" | "http";

/** A check over TLS (HAProxy's `check-ssl`). */
export interface CheckTlsConfig {
  /** Trusted CA certificates (PEM); when given, only these are trusted. */
  ca?: string[];
  /** Name sent as SNI and verified against the certificate (default: the address host). */
  sni?: string;
  /** "required" (default) verifies the chain and name; "none" verifies nothing. */
  verify?: "required" | "none";
  /** False: check the chain but not the name (like the server's traffic setting). Default true. */
  verifyHost?: boolean;
  /** The name checked when no SNI is sent (the server's `verifyhost`). */
  verifyName?: string;
  /** Client certificate shown when the server asks (the server's `crt`). */
  clientCert?: { readonly cert: string; readonly key: string };
  /** Protocol versions offered (the server's `ssl-min-ver`/`ssl-max-ver`). */
  minVersion?: "TLSv1.2" | "TLSv1.3";
  maxVersion?: "TLSv1.2" | "TLSv1.3";
}

/** What an HTTP check response must look like to pass. */
export interface CheckHttpExpect {
  /** Accepted status range, inclusive (default [200, 399]). */
  status?: readonly [number, number];
  /** A substring the body must contain (looked for in its first 16 KiB). */
  string?: string;
  /**
   * One HAProxy `http-check expect` rule (`[!] status|rstatus|string|rstring
   * PATTERN`); it alone decides, `status` and `string` must then be absent.
   */
  rule?: CheckExpectSpec;
}

/** The request an HTTP check sends and what it expects back. */
export interface CheckHttpConfig {
  /** Request method (default "GET"). */
  method?: string;
  /** Request target (default "/"). */
  path?: string;
  /** Host header (default: the address checked, `host:port`). */
  host?: string;
  /** What passes (default: status 200-399, any body). */
  expect?: CheckHttpExpect;
}

/**
 * The health check of one server, as configured. Every field but `type` has a
 * default; `checkConfigResolve()` (check_config.ts) fills them in.
 */
export interface CheckConfig {
  /** "tcp" connects (and handshakes over TLS); "http" also sends a request. */
  type: CheckType;
  /** Interval between checks while the server is fully up, in ms (default 2000). */
  inter?: number;
  /** Interval while the server is changing state (default `inter`). */
  fastinter?: number;
  /** Interval while the server is fully down (default `inter`). */
  downinter?: number;
  /** Consecutive successes that turn a down server up (default 2). */
  rise?: number;
  /** Consecutive failures that turn an up server down (default 3). */
  fall?: number;
  /** Time allowed for one whole check, in ms (default `inter`, like `timeout check`). */
  timeout?: number;
  /** Check this port instead of the traffic port (TCP addresses only). */
  port?: number;
  /** Check over TLS. */
  tls?: CheckTlsConfig;
  /** The HTTP request and expectations (type "http"). */
  http?: CheckHttpConfig;
  /**
   * A PROXY protocol header sent first on check connections (HAProxy's
   * `check-send-proxy`, or a `send-proxy` server checked on its own port).
   */
  sendProxy?: 1 | 2;
  /** A `tcp-check` script (type "tcp"): run instead of a bare connection. */
  tcpCheck?: readonly TcpCheckRule[];
}

/**
 * One `tcp-check` rule, as HAProxy's `option tcp-check` runs them in order.
 * A `comment` names the rules after it in failure reports, up to the next
 * comment or connect.
 */
export type TcpCheckRule =
  | { action: "comment"; text: string }
  | {
    action: "connect";
    /** Port to connect to (default: the check port, else the server's). */
    port?: number;
    /** TLS, with the server's TLS settings (HAProxy's `ssl`). */
    tls?: CheckTlsConfig;
    /** Send a PROXY header of this version first (HAProxy's `send-proxy`). */
    sendProxy?: 1 | 2;
    /** The server's check settings (TLS, PROXY header) unless set here (HAProxy's `default`). */
    default?: boolean;
    comment?: string;
  }
  | { action: "send"; data: Uint8Array; comment?: string }
  | { action: "expect"; expect: CheckExpectSpec };

/** A resolved `tcp-check` step: its number in failure reports, its comment, and what it does. */
export type TcpCheckStep =
  & {
    /** HAProxy's step id: the rule's line among the `tcp-check` lines, from 1; 0 for the implicit connect. */
    readonly step: number;
    readonly comment: string | undefined;
  }
  & (
    | {
      readonly kind: "connect";
      readonly port: number | undefined;
      readonly tls: Readonly<CheckTlsConfig> | undefined;
      /** PROXY header version sent first, 0 for none. */
      readonly sendProxy: 0 | 1 | 2;
      /** Added in front of a script that does not start with a connect. */
      readonly implicit: boolean;
    }
    | { readonly kind: "send"; readonly data: Uint8Array }
    | { readonly kind: "expect"; readonly expect: CompiledExpect }
  );

/** A `CheckConfig` with every default applied and every value checked. */
export interface ResolvedCheckConfig {
  readonly type: CheckType;
  readonly inter: number;
  readonly fastinter: number;
  readonly downinter: number;
  readonly rise: number;
  readonly fall: number;
  readonly timeout: number;
  readonly port: number | undefined;
  readonly tls: Readonly<CheckTlsConfig> | undefined;
  readonly http: {
    readonly method: string;
    readonly path: string;
    readonly host: string | undefined;
    /** Every one must pass (default: status 200-399). */
    readonly expects: readonly CompiledExpect[];
  };
  readonly sendProxy: 1 | 2 | undefined;
  /** The `tcp-check` steps, or null for a bare connection (or an HTTP check). */
  readonly tcpCheck: readonly TcpCheckStep[] | null;
}

/**
 * HAProxy-style check status codes (`show stat` column `check_status`).
 * `SOCKERR` is a local failure before anything reached the network (bad
 * configuration, no socket); `HANA` is a failure reported by traffic
 * ("observe" with `on-error fail-check`) rather than by a probe.
 */
export type CheckStatusCode =
  | "L4OK"
  | "L4TOUT"
  | "L4CON"
  | "L6OK"
  | "L6TOUT"
  | "L6RSP"
  | "L7OK"
  | "L7TOUT"
  | "L7RSP"
  | "L7STS"
  | "SOCKERR"
  | "HANA";

/** Whether each code passes, and its reason text as HAProxy words it. */
export const CHECK_STATUS: Readonly<Record<CheckStatusCode, { ok: boolean; reason: string }>> = {
  L4OK: { ok: true, reason: "Layer4 check passed" },
  L4TOUT: { ok: false, reason: "Layer4 timeout" },
  L4CON: { ok: false, reason: "Layer4 connection problem" },
  L6OK: { ok: true, reason: "Layer6 check passed" },
  L6TOUT: { ok: false, reason: "Layer6 timeout" },
  L6RSP: { ok: false, reason: "Layer6 invalid response" },
  L7OK: { ok: true, reason: "Layer7 check passed" },
  L7TOUT: { ok: false, reason: "Layer7 timeout" },
  L7RSP: { ok: false, reason: "Layer7 invalid response" },
  L7STS: { ok: false, reason: "Layer7 wrong status" },
  SOCKERR: { ok: false, reason: "Socket error" },
  HANA: { ok: false, reason: "Health analyze" },
};

/** The outcome of one check. */
export interface CheckResult {
  /** True when the check passed. */
  ok: boolean;
  /** HAProxy-style status code. */
  code: CheckStatusCode;
  /** HAProxy's text for the code ("Layer7 wrong status"). */
  reason: string;
  /** Detail: "Connection refused", "HTTP status 500", "expected string 'ok' not found". */
  info: string;
  /** The HTTP status, when a status line was read. */
  status?: number;
  /** How long the check took, in ms (rounded). */
  durationMs: number;
}

/** A server going up or down because of a check, or null when its state held. */
export type CheckTransition = "up" | "down" | null;
