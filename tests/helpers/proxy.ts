/**
 * Starting sluice for tests, in-process through mod.ts, with log lines
 * captured.
 */
import { type SluiceConfig, type SluiceHandle, startSluice } from "../../mod.ts";
import type { ServerConfig, TimeoutsConfig } from "../../lib/cfg/config_types.ts";
import { logInto } from "./net.ts";

/** A proxy under test and the log lines it wrote. */
export interface TestProxy extends AsyncDisposable {
  readonly handle: SluiceHandle;
  /** Port of the first listener. */
  readonly port: number;
  /** Access log lines so far. */
  readonly logs: string[];
  close(): Promise<void>;
}

/** Options of `tcpProxy()`. */
export interface TcpProxyOptions {
  timeouts?: TimeoutsConfig;
  retries?: number;
  maxconn?: number;
  buffers?: number;
  bufsize?: number;
  listen?: string[];
  tls?: { cert: string; key: string };
  logFormat?: "tcplog" | "json";
  graceMs?: number;
  /** Worker threads (`global.nbthread`); default: the launcher's. */
  nbthread?: number;
}

/** Starts a TCP proxy to `servers` (addresses or server configs). */
export async function tcpProxy(
  servers: (string | ServerConfig)[],
  opts: TcpProxyOptions = {},
): Promise<TestProxy> {
  const logs: string[] = [];
  const config: SluiceConfig = {
    global: {
      log: { target: logInto(logs), format: opts.logFormat },
      maxconn: opts.maxconn,
      buffers: opts.buffers,
      bufsize: opts.bufsize,
      graceMs: opts.graceMs,
      nbthread: opts.nbthread,
    },
    frontends: [{
      name: "fe",
      mode: "tcp",
      binds: (opts.listen ?? ["127.0.0.1:0"]).map((address) => ({ address, tls: opts.tls })),
      timeouts: opts.timeouts,
      maxconn: opts.maxconn,
      defaultBackend: "be",
    }],
    backends: [{
      name: "be",
      mode: "tcp",
      retries: opts.retries,
      timeouts: opts.timeouts,
      servers: servers.map((s, i) => typeof s === "string" ? { name: `s${i + 1}`, address: s } : s),
    }],
  };
  const handle = await startSluice(config);
  const close = () => handle.close();
  return {
    handle,
    port: handle.addresses[0].port,
    logs,
    close,
    [Symbol.asyncDispose]: close,
  };
}
