/**
 * sluice command line: parse flags, start, print one ready line, stop on
 * SIGINT/SIGTERM/SIGUSR1 (gracefully; a second signal stops at once).
 *
 * Exit codes: 0 after a stop signal, 2 for bad input (flags, addresses,
 * durations, certificates, configuration files, a pidfile that cannot be
 * written, a missing --allow-ffi), 1 when the proxy cannot start (address in
 * use). With --check: 0 when the configuration is valid, 1 when not. With -f,
 * every error of every file is printed (`file:line: message`) before exiting,
 * and SIGHUP and SIGUSR2 reload the files. With -p (or `pidfile`), the
 * process id is in that file from the ready line to the exit.
 *
 * @module
 */
import { startDemoHttp } from "./lib/applet/demo_http.ts";
import { startEchoServer } from "./lib/applet/echo_server.ts";
import { parseAddress } from "./lib/cfg/address.ts";
import { type CliProcess, parseCli, USAGE } from "./lib/cfg/cli.ts";
import { cliLoadReport } from "./lib/cfg/cli_load.ts";
import { cliReadyLine } from "./lib/cfg/cli_ready.ts";
import { resolveConfig } from "./lib/cfg/config_check.ts";
import { loadConfigFiles } from "./lib/cfg/config_load.ts";
import { configSections } from "./lib/cfg/config_summary.ts";
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

/** Prints an error, one line per error when it stands for several. */
function printError(err: unknown): void {
  const errors = err instanceof SluiceError ? err.errors ?? [err] : [err];
  for (const e of errors) console.error(`sluice: ${errMsg(e)}`);
}

function fatal(err: unknown): never {
  printError(err);
  if (err instanceof SluiceError) {
    Deno.exit(err.code === "ERR_BIND" || err.code === "ERR_STATE" ? 1 : 2);
  }
  Deno.exit(1);
}

/**
 * Loads the files of `-f` and prints what was found (every warning and
 * error, see cliLoadReport()); `-p` wins over their pidfile, as in HAProxy.
 * Returns the configuration, or null when the files have errors.
 */
function loadFiles(files: string[], proc: CliProcess): SluiceConfig | null {
  let load;
  try {
    load = loadConfigFiles(files);
  } catch (err) {
    // No file at all (an empty directory): nothing was loaded.
    printError(err);
    return null;
  }
  for (const line of cliLoadReport(load, proc)) console.error(line);
  if (load.resolved === null) return null;
  if (proc.pidfile !== undefined) {
    load.config.global = { ...load.config.global, pidfile: proc.pidfile };
  }
  if (proc.threads !== undefined) {
    load.config.global = { ...load.config.global, nbthread: proc.threads };
  }
  return load.config;
}

/** `-V` without files: the sections the flags (or the demo) make. */
function printSections(config: SluiceConfig): void {
  for (const s of configSections(resolveConfig(config))) console.error(`sluice: ${s}`);
}

async function main(): Promise<void> {
  let action;
  try {
    action = parseCli(Deno.args, { warn: (msg) => console.error(`sluice: warning: ${msg}`) });
  } catch (err) {
    if (Deno.args.includes("--check") || Deno.args.includes("-c")) {
      printError(err);
      Deno.exit(1);
    }
    fatal(err);
  }
  if (action.kind === "check") {
    try {
      const resolved = resolveConfig(action.config);
      if (action.verbose) {
        for (const s of configSections(resolved)) console.error(`sluice: ${s}`);
      }
    } catch (err) {
      printError(err);
      Deno.exit(1);
    }
    console.log("sluice: configuration the command line is valid");
    return;
  }
  if (action.kind === "help") {
    console.log(USAGE);
    return;
  }
  if (action.kind === "version") {
    console.log(`sluice ${VERSION} (deno ${Deno.version.deno})`);
    if (action.build) {
      const v = Deno.version;
      console.log(`runtime: deno ${v.deno}, v8 ${v.v8}, typescript ${v.typescript}`);
      console.log(`platform: ${Deno.build.target}`);
    }
    return;
  }
  const proc: CliProcess = action;
  const files = action.kind === "load" ? action.files : undefined;
  let config: SluiceConfig;
  if (action.kind === "load") {
    const loaded = loadFiles(action.files, proc);
    if (loaded === null) Deno.exit(action.check ? 1 : 2);
    if (action.check) {
      console.log(`sluice: configuration ${action.files.join(", ")} is valid`);
      return;
    }
    config = loaded;
  } else config = action.config;
  // The demo's upstream: a built-in web page (HTTP) or echo server (TCP).
  let echo: { close(): Promise<void> } | null = null;
  if (action.kind === "demo") {
    const e = action.mode === "http" ? startDemoHttp() : startEchoServer();
    echo = e;
    config.backends[0].servers = [{ name: "demo", address: `127.0.0.1:${e.port}` }];
    if (action.mode === "http") {
      // The HTTP demo is examples/demo.cfg when it is at hand (not in a
      // compiled binary built without it): the same thing, as a config file.
      const demo = demoConfig(`127.0.0.1:${e.port}`, action.listen);
      if (demo !== null) config = demo;
    }
  }
  if (proc.pidfile !== undefined) config.global = { ...config.global, pidfile: proc.pidfile };
  if (proc.threads !== undefined) config.global = { ...config.global, nbthread: proc.threads };
  let guard: Usr1Guard;
  let proxy: SluiceHandle;
  try {
    if (proc.verbose && files === undefined) printSections(config);
    // First, before anything listens: SIGUSR1 must never open a debugger.
    guard = guardUsr1();
    proxy = await startSluice(config, { threads: defaultThreads() });
  } catch (err) {
    await echo?.close();
    fatal(err);
  }
  // Before the ready line: whoever waits for it may signal at once.
  const reloadFrom = files === undefined
    ? undefined
    : { files, load: () => loadFiles(files, { ...proc, verbose: undefined }) };
  handleSignals(proxy, guard, reloadFrom, async () => {
    await echo?.close();
  });
  console.log(readyLine(config, proxy));
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

/**
 * Threads when neither `--threads` nor `nbthread` says: `SLUICE_THREADS`,
 * else the cores this process may use (as HAProxy >= 2.5).
 */
function defaultThreads(): number {
  const granted =
    Deno.permissions.querySync({ name: "env", variable: "SLUICE_THREADS" }).state === "granted";
  const env = granted ? Deno.env.get("SLUICE_THREADS") : undefined;
  return env !== undefined && env !== "" ? Number(env) : navigator.hardwareConcurrency;
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
 * configuration files (`reloadFrom`: reading them prints their warnings and
 * errors, as at start). SIGUSR1 arrives through the guard's counter (see
 * lib/worker/usr1_guard.ts), read every 200 ms.
 */
function handleSignals(
  proxy: SluiceHandle,
  guard: Usr1Guard,
  reloadFrom: { files: string[]; load: () => SluiceConfig | null } | undefined,
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
    if (reloadFrom === undefined) {
      console.error(`sluice: ${sig}: nothing to reload (started without -f)`);
      return;
    }
    const failed = "sluice: reload failed, still running the previous configuration";
    const config = reloadFrom.load();
    if (config === null) {
      console.error(failed);
      return;
    }
    proxy.reload(config).then(
      () => console.log(`sluice: reloaded ${reloadFrom.files.join(", ")}`),
      (err) => {
        console.error(`${failed}:`);
        printError(err);
      },
    );
  };
  Deno.addSignalListener("SIGHUP", () => reload("SIGHUP"));
  Deno.addSignalListener("SIGUSR2", () => reload("SIGUSR2"));
}

if (import.meta.main) await main();
