/**
 * The health check of a server, checked and resolved into the check
 * layer's `CheckConfig` (resolveConfig()'s part for `servers[i].check`):
 * intervals, counts, port, TLS and PROXY settings taken from the server,
 * the HTTP request and expectation, and the `tcp-check` script. Errors name
 * the field (`backends[0].servers[1].check.tcpCheck[2].pattern`).
 *
 * @module
 */
import type { Address } from "../core/addr_types.ts";
import { errMsg } from "../core/errors.ts";
import type { AgentConfig } from "../check/agent.ts";
import { checkConfigResolve } from "../check/check_config.ts";
import { type CheckExpectSpec, hexBytes } from "../check/check_expect.ts";
import type {
  CheckConfig as ProbeCheckConfig,
  CheckTlsConfig,
  TcpCheckRule,
} from "../check/check_types.ts";
import { DEFAULT_CHECK_FALL, DEFAULT_CHECK_INTER, DEFAULT_CHECK_RISE } from "./config_defaults.ts";
import type { ResolvedServerTls } from "./config_resolved_types.ts";
import type { CheckConfig, ServerConfig, TcpCheckRuleConfig } from "./config_types.ts";
import { resolveBool, resolveFail, resolveInt, TOKEN } from "./config_values.ts";
import { MAX_DURATION_MS } from "./duration.ts";

/**
 * The check's TLS settings: the server's (trust, name, client certificate,
 * versions; not ALPN, which HAProxy's checks take from `check-alpn`), or
 * the defaults when the traffic is not TLS.
 */
function checkTls(tls: ResolvedServerTls | null): CheckTlsConfig {
  if (tls === null) return {};
  const c: CheckTlsConfig = {
    ca: tls.caCerts,
    sni: tls.serverName,
    verify: tls.noVerify ? "none" : "required",
    // A check has no request to take an `sni EXPR` name from: as HAProxy's
    // checks without SNI, it verifies the chain (and the `verifyhost` name).
    verifyHost: !tls.noVerifyHost && (tls.sniExpr === undefined || tls.verifyName !== undefined),
  };
  if (tls.clientCert !== undefined) c.clientCert = tls.clientCert;
  if (tls.verifyName !== undefined) c.verifyName = tls.verifyName;
  if (tls.minVersion !== undefined) c.minVersion = tls.minVersion;
  if (tls.maxVersion !== undefined) c.maxVersion = tls.maxVersion;
  return c;
}

/** An optional comment: text. */
function commentOf(where: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string") resolveFail(where, `expected text, got ${JSON.stringify(v)}`);
  return v;
}

/** An `expect` rule of an HTTP or TCP check. */
function expectRule(
  where: string,
  e: { match: unknown; pattern: unknown; negate?: unknown; minRecv?: unknown; comment?: unknown },
  kind: "http" | "tcp",
): CheckExpectSpec {
  if (typeof e !== "object" || e === null) resolveFail(where, "expected { match, pattern }");
  const matches = kind === "http"
    ? ["status", "rstatus", "string", "rstring"]
    : ["string", "rstring", "binary", "rbinary"];
  if (typeof e.match !== "string" || !matches.includes(e.match)) {
    resolveFail(
      `${where}.match`,
      `expected ${matches.slice(0, -1).map((m) => `"${m}"`).join(", ")} or "${
        matches[matches.length - 1]
      }", got ${JSON.stringify(e.match)}`,
    );
  }
  if (typeof e.pattern !== "string" || e.pattern === "") {
    resolveFail(
      `${where}.pattern`,
      `expected a non-empty pattern, got ${JSON.stringify(e.pattern)}`,
    );
  }
  const spec: CheckExpectSpec = {
    match: e.match as CheckExpectSpec["match"],
    pattern: e.pattern,
  };
  if (resolveBool(`${where}.negate`, e.negate, false)) spec.negate = true;
  if (kind === "tcp") {
    if (e.minRecv !== undefined) {
      spec.minRecv = resolveInt(`${where}.minRecv`, e.minRecv, -1, -1, 16384);
    }
    const comment = commentOf(`${where}.comment`, e.comment);
    if (comment !== undefined) spec.comment = comment;
  }
  return spec;
}

/**
 * A `tcp-check` script: each rule checked; `connect ssl` takes the
 * server's TLS settings, `send-proxy` the server's PROXY version (`pp`).
 */
function tcpCheckRules(
  where: string,
  list: unknown,
  srv: { addr: Address; tls: ResolvedServerTls | null; pp: 1 | 2 },
): TcpCheckRule[] {
  if (!Array.isArray(list)) resolveFail(where, "expected a list of rules");
  return (list as TcpCheckRuleConfig[]).map((r, i): TcpCheckRule => {
    const at = `${where}[${i}]`;
    if (typeof r !== "object" || r === null) resolveFail(at, "expected a rule object");
    switch (r.action) {
      case "comment":
        return { action: "comment", text: commentOf(`${at}.text`, r.text) ?? "" };
      case "connect": {
        const c: Extract<TcpCheckRule, { action: "connect" }> = { action: "connect" };
        if (r.port !== undefined) {
          if (srv.addr.kind === "unix") resolveFail(`${at}.port`, "a unix socket has no port");
          c.port = resolveInt(`${at}.port`, r.port, 0, 1, 65535);
        }
        if (resolveBool(`${at}.ssl`, r.ssl, false)) {
          if (srv.addr.kind === "unix") {
            resolveFail(`${at}.ssl`, "TLS to a unix socket is not supported");
          }
          c.tls = checkTls(srv.tls);
        }
        if (resolveBool(`${at}.sendProxy`, r.sendProxy, false)) c.sendProxy = srv.pp;
        if (resolveBool(`${at}.default`, r.default, false)) c.default = true;
        const comment = commentOf(`${at}.comment`, r.comment);
        if (comment !== undefined) c.comment = comment;
        return c;
      }
      case "send":
      case "send-binary": {
        let data: Uint8Array | null;
        if (r.action === "send") {
          if (typeof r.data !== "string" || r.data === "") {
            resolveFail(`${at}.data`, `expected non-empty text, got ${JSON.stringify(r.data)}`);
          }
          data = new TextEncoder().encode(r.data);
        } else {
          data = typeof r.hex === "string" ? hexBytes(r.hex) : null;
          if (data === null) {
            resolveFail(
              `${at}.hex`,
              `expected an even count of hexadecimal digits, got ${JSON.stringify(r.hex)}`,
            );
          }
        }
        const comment = commentOf(`${at}.comment`, r.comment);
        return comment === undefined ? { action: "send", data } : { action: "send", data, comment };
      }
      case "expect":
        return { action: "expect", expect: expectRule(at, r, "tcp") };
      default:
        return resolveFail(
          `${at}.action`,
          `expected "comment", "connect", "send", "send-binary" or "expect", got ${
            JSON.stringify((r as { action: unknown }).action)
          }`,
        );
    }
  });
}

/** The health check of a server at `where`, with the server's address, TLS and PROXY settings. */
export function resolveCheck(
  where: string,
  c: CheckConfig,
  srv: { addr: Address; tls: ResolvedServerTls | null; sendProxy: 0 | 1 | 2 },
): ProbeCheckConfig {
  const { addr, tls } = srv;
  if (typeof c !== "object" || c === null) resolveFail(where, "expected a check object");
  const type = c.type ?? (c.http !== undefined ? "http" : "tcp");
  if (type !== "tcp" && type !== "http") {
    resolveFail(`${where}.type`, `expected "tcp" or "http", got ${JSON.stringify(type)}`);
  }
  const inter = resolveInt(`${where}.inter`, c.inter, DEFAULT_CHECK_INTER, 10, MAX_DURATION_MS);
  const r: ProbeCheckConfig = {
    type,
    inter,
    fastinter: resolveInt(`${where}.fastinter`, c.fastinter, inter, 10, MAX_DURATION_MS),
    downinter: resolveInt(`${where}.downinter`, c.downinter, inter, 10, MAX_DURATION_MS),
    rise: resolveInt(`${where}.rise`, c.rise, DEFAULT_CHECK_RISE, 1, 1000),
    fall: resolveInt(`${where}.fall`, c.fall, DEFAULT_CHECK_FALL, 1, 1000),
    timeout: resolveInt(`${where}.timeout`, c.timeout, inter, 1, MAX_DURATION_MS),
  };
  if (c.port !== undefined) r.port = resolveInt(`${where}.port`, c.port, 0, 1, 65535);
  if (addr.kind === "unix" && c.port !== undefined) {
    resolveFail(`${where}.port`, "a unix socket has no port");
  }
  if (resolveBool(`${where}.tls`, c.tls, tls !== null)) {
    r.tls = checkTls(tls);
    if (c.sni !== undefined) {
      if (typeof c.sni !== "string" || !/^[\x21-\x7e]{1,253}$/.test(c.sni)) {
        resolveFail(`${where}.sni`, `expected a host name, got ${JSON.stringify(c.sni)}`);
      }
      // HAProxy's check-sni: sent, and the name checked (unless checks are off).
      r.tls.sni = c.sni;
      if (r.tls.verify !== "none") r.tls.verifyHost = true;
    }
  } else if (c.sni !== undefined) resolveFail(`${where}.sni`, "needs a check over TLS");
  // HAProxy: a server's PROXY header goes on its checks too, unless they use their own port.
  const pp = srv.sendProxy === 0 ? 1 : srv.sendProxy;
  if (resolveBool(`${where}.sendProxy`, c.sendProxy, srv.sendProxy !== 0 && c.port === undefined)) {
    r.sendProxy = pp;
  }
  if (type === "http") {
    const h = c.http ?? {};
    const method = h.method ?? "GET";
    if (typeof method !== "string" || !TOKEN.test(method)) {
      resolveFail(`${where}.http.method`, `expected a method token, got ${JSON.stringify(method)}`);
    }
    const path = h.path ?? "/";
    if (typeof path !== "string" || !/^(\/[\x21-\x7e]*|\*)$/.test(path)) {
      resolveFail(
        `${where}.http.path`,
        `expected a request target without spaces, got ${JSON.stringify(path)}`,
      );
    }
    if (h.host !== undefined && (typeof h.host !== "string" || !/^[\x21-\x7e]+$/.test(h.host))) {
      resolveFail(`${where}.http.host`, `expected a host name, got ${JSON.stringify(h.host)}`);
    }
    let status: [number, number] = [200, 399];
    const es = h.expectStatus;
    if (typeof es === "number") {
      status = [resolveInt(`${where}.http.expectStatus`, es, 200, 100, 599), es];
    } else if (Array.isArray(es) && es.length === 2) {
      const lo = resolveInt(`${where}.http.expectStatus[0]`, es[0], 200, 100, 599);
      const hi = resolveInt(`${where}.http.expectStatus[1]`, es[1], 399, lo, 599);
      status = [lo, hi];
    } else if (es !== undefined) {
      resolveFail(`${where}.http.expectStatus`, "expected a status or [low, high]");
    }
    if (
      h.expectString !== undefined && (typeof h.expectString !== "string" || h.expectString === "")
    ) {
      resolveFail(`${where}.http.expectString`, "expected non-empty text");
    }
    r.http = { method, path, host: h.host, expect: { status, string: h.expectString } };
    if (h.expect !== undefined) {
      if (es !== undefined || h.expectString !== undefined) {
        resolveFail(
          `${where}.http.expect`,
          "replaces expectStatus and expectString: give one or the other",
        );
      }
      r.http.expect = { rule: expectRule(`${where}.http.expect`, h.expect, "http") };
    }
  } else if (c.http !== undefined) {
    resolveFail(`${where}.http`, 'HTTP check settings need type "http"');
  }
  if (c.tcpCheck !== undefined) {
    if (type !== "tcp") resolveFail(`${where}.tcpCheck`, 'a tcp-check script needs type "tcp"');
    r.tcpCheck = tcpCheckRules(`${where}.tcpCheck`, c.tcpCheck, { addr, tls, pp });
  }
  try {
    checkConfigResolve(r);
    return r;
  } catch (err) {
    return resolveFail(where, errMsg(err));
  }
}

/** The agent check of a server at `where` (TCP addresses only). */
export function resolveAgent(
  where: string,
  a: NonNullable<ServerConfig["agent"]>,
  addr: Address,
): AgentConfig {
  if (typeof a !== "object" || a === null) resolveFail(where, "expected { port, inter?, send? }");
  if (addr.kind === "unix") resolveFail(where, "an agent check needs a TCP server address");
  const inter = resolveInt(`${where}.inter`, a.inter, DEFAULT_CHECK_INTER, 10, MAX_DURATION_MS);
  if (a.send !== undefined && (typeof a.send !== "string" || a.send === "")) {
    resolveFail(`${where}.send`, `expected non-empty text, got ${JSON.stringify(a.send)}`);
  }
  return {
    host: addr.host,
    port: resolveInt(`${where}.port`, a.port, 0, 1, 65535),
    inter,
    timeout: resolveInt(`${where}.timeout`, a.timeout, inter, 1, MAX_DURATION_MS),
    send: a.send === undefined ? null : new TextEncoder().encode(a.send),
  };
}
