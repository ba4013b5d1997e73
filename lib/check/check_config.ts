/**
 * Applies the defaults of a check configuration and checks its values. The
 * config layer calls this once per server (and adds `file:line` to the
 * message); `probe()` calls it too, so a bad value never reaches the wire
 * (a CR or LF in the path would otherwise let a config inject headers).
 *
 * @module
 */
import { type CheckExpectSpec, type CompiledExpect, compileExpect } from "./check_expect.ts";
import {
  CHECK_DEFAULT_FALL,
  CHECK_DEFAULT_INTER,
  CHECK_DEFAULT_METHOD,
  CHECK_DEFAULT_PATH,
  CHECK_DEFAULT_RISE,
  CHECK_DEFAULT_STATUS,
  CHECK_MAX_RESPONSE,
  type CheckConfig,
  type CheckHttpExpect,
  type CheckTlsConfig,
  type ResolvedCheckConfig,
  type TcpCheckRule,
  type TcpCheckStep,
} from "./check_types.ts";

/** Most `tcp-check` rules in one script (a check is rare; this bounds its work). */
export const TCPCHECK_MAX_RULES = 256;

/** RFC 9110 token characters (method names). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A request target: visible ASCII, no space (RFC 9112 origin-form or asterisk-form). */
const TARGET = /^(\/[\x21-\x7e]*|\*)$/;
/** A Host value: visible ASCII, no space. */
const HOST = /^[\x21-\x7e]+$/;

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v <= 0) {
    throw new Error(`Invalid check ${name} "${v}": must be a positive number of milliseconds`);
  }
  return v;
}

function count(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) {
    throw new Error(`Invalid check ${name} "${v}": must be an integer of at least 1`);
  }
  return v;
}

/**
 * Returns `cfg` with every default applied (see `CheckConfig`). Throws an
 * Error naming the bad value (sentence case, value quoted) when one is out
 * of range or would not make a valid HTTP request.
 *
 * @example
 * ```ts
 * import { checkConfigResolve } from "./check_config.ts";
 * const c = checkConfigResolve({ type: "http", inter: 1000 });
 * c.fastinter; // 1000
 * c.http.expects[0].spec; // { match: "status", pattern: "200-399" }
 * ```
 */
export function checkConfigResolve(cfg: CheckConfig): ResolvedCheckConfig {
  if (cfg.type !== "tcp" && cfg.type !== "http") {
    throw new Error(`Invalid check type "${cfg.type}": expected "tcp" or "http"`);
  }
  const inter = positive("inter", cfg.inter, CHECK_DEFAULT_INTER);
  const fastinter = positive("fastinter", cfg.fastinter, inter);
  const downinter = positive("downinter", cfg.downinter, inter);
  const timeout = positive("timeout", cfg.timeout, inter);
  const rise = count("rise", cfg.rise, CHECK_DEFAULT_RISE);
  const fall = count("fall", cfg.fall, CHECK_DEFAULT_FALL);
  const port = cfg.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    throw new Error(`Invalid check port "${port}": must be 1 to 65535`);
  }
  const tls = cfg.tls;
  if (tls?.verify !== undefined && tls.verify !== "required" && tls.verify !== "none") {
    throw new Error(`Invalid check TLS verify "${tls.verify}": expected "required" or "none"`);
  }
  const h = cfg.http ?? {};
  const method = h.method ?? CHECK_DEFAULT_METHOD;
  if (!TOKEN.test(method)) throw new Error(`Invalid check method "${method}"`);
  const path = h.path ?? CHECK_DEFAULT_PATH;
  if (!TARGET.test(path)) {
    throw new Error(`Invalid check path "${path}": must start with "/" and contain no space`);
  }
  if (h.host !== undefined && !HOST.test(h.host)) {
    throw new Error(`Invalid check Host "${h.host}": must be visible ASCII without space`);
  }
  const sendProxy = cfg.sendProxy;
  if (sendProxy !== undefined && sendProxy !== 1 && sendProxy !== 2) {
    throw new Error(`Invalid check PROXY version "${sendProxy}": expected 1 or 2`);
  }
  return {
    type: cfg.type,
    inter,
    fastinter,
    downinter,
    rise,
    fall,
    timeout,
    port,
    tls,
    http: { method, path, host: h.host, expects: httpExpects(h.expect ?? {}) },
    sendProxy,
    tcpCheck: cfg.tcpCheck === undefined
      ? null
      : tcpCheckSteps(cfg.tcpCheck, { tls, sendProxy: sendProxy ?? 0 }),
  };
}

/** The compiled expectations of an HTTP check: its rule, or its status range and string. */
function httpExpects(e: CheckHttpExpect): CompiledExpect[] {
  if (e.rule !== undefined) {
    if (e.status !== undefined || e.string !== undefined) {
      throw new Error("Invalid check expectation: a rule replaces status and string");
    }
    return [expect(e.rule, "http")];
  }
  const [lo, hi] = e.status ?? CHECK_DEFAULT_STATUS;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 100 || hi > 599 || lo > hi) {
    throw new Error(`Invalid check status range "${lo}-${hi}": must be within 100-599`);
  }
  const out = [expect({ match: "status", pattern: lo === hi ? `${lo}` : `${lo}-${hi}` }, "http")];
  if (e.string !== undefined) {
    if (e.string.length === 0) {
      throw new Error(`Invalid check expected string "": must not be empty`);
    }
    out.push(expect({ match: "string", pattern: e.string }, "http"));
  }
  return out;
}

function expect(spec: CheckExpectSpec, kind: "http" | "tcp"): CompiledExpect {
  try {
    return compileExpect(spec, kind);
  } catch (err) {
    throw new Error(`Invalid check expectation: ${(err as Error).message}`);
  }
}

/**
 * Steps of a `tcp-check` script, as HAProxy's check_proxy_tcpcheck() makes
 * them: a connect is added in front when the script does not start with
 * one (step 0, with the server's check settings), and each comment goes to
 * the rules after it (the run of rules of the first one's kind; a connect
 * takes it alone). `dflt` are the server's check settings.
 */
function tcpCheckSteps(
  rules: readonly TcpCheckRule[],
  dflt: { tls: CheckTlsConfig | undefined; sendProxy: 0 | 1 | 2 },
): TcpCheckStep[] {
  if (rules.length > TCPCHECK_MAX_RULES) {
    throw new Error(`Invalid tcp-check: more than ${TCPCHECK_MAX_RULES} rules`);
  }
  const steps: TcpCheckStep[] = [];
  const first = rules.find((r) => r.action !== "comment");
  if (first === undefined || first.action !== "connect") {
    steps.push({
      step: 0,
      comment: undefined,
      kind: "connect",
      port: undefined,
      tls: dflt.tls,
      sendProxy: dflt.sendProxy,
      implicit: true,
    });
  }
  let comment: string | undefined;
  let prev = "comment";
  rules.forEach((r, i) => {
    const step = i + 1;
    if (r.action !== prev && prev !== "comment") comment = undefined;
    prev = r.action;
    switch (r.action) {
      case "comment":
        comment = r.text;
        return;
      case "connect": {
        const port = r.port;
        if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
          throw new Error(`Invalid tcp-check connect port "${port}": must be 1 to 65535`);
        }
        steps.push({
          step,
          comment: r.comment ?? comment,
          kind: "connect",
          port,
          tls: r.tls ?? (r.default ? dflt.tls : undefined),
          sendProxy: r.sendProxy ?? (r.default ? dflt.sendProxy : 0),
          implicit: false,
        });
        comment = undefined;
        return;
      }
      case "send":
        if (r.data.length === 0 || r.data.length >= CHECK_MAX_RESPONSE) {
          throw new Error(
            `Invalid tcp-check send: ${r.data.length} bytes (expected 1 to ${
              CHECK_MAX_RESPONSE - 1
            }, the check buffer)`,
          );
        }
        steps.push({ step, comment: r.comment ?? comment, kind: "send", data: r.data });
        return;
      case "expect":
        steps.push({
          step,
          comment: r.expect.comment ?? comment,
          kind: "expect",
          expect: expect(r.expect, "tcp"),
        });
        return;
      default:
        throw new Error(
          `Invalid tcp-check action "${
            (r as { action: string }).action
          }": expected comment, connect, send or expect`,
        );
    }
  });
  return steps;
}
