/**
 * sluice command line: parse flags, start, print one ready line, stop on
 * SIGINT/SIGTERM/SIGUSR1 (gracefully; a second signal stops at once).
 *
 * Exit codes: 0 after a stop signal, 2 for bad input (flags, addresses,
 * durations, certificates, configuration files, a missing --allow-ffi), 1
 * when the proxy cannot start (address in use). With --check: 0 when the
 * configuration is valid, 1 when not. With -f, SIGHUP and SIGUSR2 reload the
 * files.
 *
 * @module
 */
import { startDemoHttp } from "./lib/applet/demo_http.ts";
import { startEchoServer } from "./lib/applet/echo_server.ts";
import { parseAddress } from "./lib/cfg/address.ts";
import { parseCli, USAGE } from "./lib/cfg/cli.ts";
import { cliReadyLine } from "./lib/cfg/cli_ready.ts";
import { resolveConfig } from "./lib/cfg/config_check.ts";
import { parseConfigText } from "./lib/cfg/cfg_parser.ts";
import type { SluiceConfig } from "./lib/cfg/config_types.ts";
import { errMsg, SluiceError } from "./lib/core/errors.ts";
import { VERSION } from "./lib/version.ts";
import { guardUsr1, type Usr1Guard } from "./lib/worker/usr1_guard.ts";
import { type SluiceHandle, startSluice } from "./mod.ts";

/** examples/demo.cfg with the demo server's address, or null when the file is not there. */
function demoConfig(server: string, listen: string): SluiceConfig | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(new URL("./examples/demo.cfg", import.meta.url));
  } catch {
    return null;
  }
  return parseConfigText(text, "examples/demo.cfg", {
    SLUICE_DEMO_SERVER: server,
    SLUICE_HTTP_ADDR: listen,
  });
}

function fatal(err: unknown): never {
  if (err instanceof SluiceError) {
    console.error(`sluice: ${err.message}`);
    Deno.exit(err.code === "ERR_BIND" || err.code === "ERR_STATE" ? 1 : 2);
  }
  console.error(`sluice: ${errMsg(err)}`);
  Deno.exit(1);
}

async function main(): Promise<void> {
  let action;
  try {
    action = parseCli(Deno.args, { warn: (msg) => console.error(`sluice: warning: ${msg}`) });
  } catch (err) {
    if (Deno.args.includes("--check") || Deno.args.includes("-c")) {
      console.error(`sluice: ${errMsg(err)}`);
      Deno.exit(1);
    }
    fatal(err);
  }
  if (action.kind === "check") {
    try {
      resolveConfig(action.config);
    } catch (err) {
      console.error(`sluice: ${errMsg(err)}`);
      Deno.exit(1);
    }
    const what = action.files.length > 0 ? action.files.join(", ") : "the command line";
    console.log(`sluice: configuration ${what} is valid`);
    return;
  }
  if (action.kind === "help") {
    console.log(USAGE);
    return;
  }
  if (action.kind === "version") {
    console.log(`sluice ${VERSION} (deno ${Deno.version.deno})`);
    return;
  }
  // The demo's upstream: a built-in web page (HTTP) or echo server (TCP).
  let echo: { close(): Promise<void> } | null = null;
  if (action.kind === "demo") {
    const e = action.mode === "http" ? startDemoHttp() : startEchoServer();
    echo = e;
    action.config.backends[0].servers = [{ name: "demo", address: `127.0.0.1:${e.port}` }];
    if (action.mode === "http") {
      // The HTTP demo is examples/demo.cfg when it is at hand (not in a
      // compiled binary built without it): the same thing, as a config file.
      const demo = demoConfig(`127.0.0.1:${e.port}`, action.listen);
      if (demo !== null) action.config = demo;
    }
  }
  let guard: Usr1Guard;
  let proxy: SluiceHandle;
  try {
    // First, before anything listens: SIGUSR1 must never open a debugger.
    guard = guardUsr1();
    proxy = await startSluice(action.config);
  } catch (err) {
    await echo?.close();
    fatal(err);
  }
  // Before the ready line: whoever waits for it may signal at once.
  handleSignals(proxy, guard, action.kind === "run" ? action.files : undefined, async () => {
    await echo?.close();
  });
  console.log(readyLine(action.config, proxy));
  if (action.kind === "demo") {
    console.log(
      action.mode === "http"
        ? `demo: proxying http://${action.listen}/ to a built-in web page; try: curl http://${action.listen}/`
        : `demo: relaying ${action.listen} to a built-in echo server; try: nc ${
          action.listen.replace(":", " ")
        }`,
    );
  }
}

/** The ready line for `config` now running as `proxy` (JSON under `--log-format json`). */
function readyLine(config: SluiceConfig, proxy: SluiceHandle): string {
  const g = config.global ?? {};
  const stats = g.stats === undefined ? null : parseAddress(g.stats.address, { port0: true }).addr;
  return cliReadyLine({
    version: VERSION,
    binds: proxy.addresses,
    stats: stats?.kind === "tcp" ? { host: stats.host, port: proxy.statsPort } : null,
    adminSocket: g.adminSocket?.path ?? null,
  }, { json: g.log?.format === "json" });
}

/**
 * Signals, as HAProxy operators send them: SIGINT and SIGTERM stop
 * gracefully (a second one at once), SIGUSR1 is HAProxy's soft stop (stop
 * accepting, finish what is in flight, exit), SIGHUP and SIGUSR2 reload the
 * configuration files. SIGUSR1 arrives through the guard's counter (see
 * lib/worker/usr1_guard.ts), read every 200 ms.
 */
function handleSignals(
  proxy: SluiceHandle,
  guard: Usr1Guard,
  files: string[] | undefined,
  cleanup: () => Promise<void>,
): void {
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) {
      // Second signal: do not wait for the grace period.
      await proxy.close({ graceful: false });
      Deno.exit(0);
    }
    stopping = true;
    if (why !== "") console.error(`sluice: ${why}: no new connections, finishing those in flight`);
    await proxy.close({ graceful: true });
    await cleanup();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => stop(""));
  Deno.addSignalListener("SIGTERM", () => stop(""));
  let usr1 = guard.received();
  const poll = setInterval(() => {
    if (!guard.check()) {
      console.error("sluice: SIGUSR1's handler had been replaced; it is sluice's again");
    }
    const n = guard.received();
    if (n !== usr1) {
      usr1 = n;
      stop("soft stop (SIGUSR1)");
    }
  }, 200);
  Deno.unrefTimer(poll);
  // SIGHUP, SIGUSR2: read the files again and reload without dropping
  // connections; a configuration that fails keeps the running one.
  const reload = (sig: string) => {
    if (files === undefined) {
      console.error(`sluice: ${sig}: nothing to reload (started without -f)`);
      return;
    }
    proxy.reload({ configFile: files }).then(
      () => console.log(`sluice: reloaded ${files.join(", ")}`),
      (err) =>
        console.error(
          `sluice: reload failed, still running the previous configuration: ${errMsg(err)}`,
        ),
    );
  };
  Deno.addSignalListener("SIGHUP", () => reload("SIGHUP"));
  Deno.addSignalListener("SIGUSR2", () => reload("SIGUSR2"));
}

if (import.meta.main) await main();
