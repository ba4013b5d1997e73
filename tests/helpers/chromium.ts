/**
 * Headless Chromium for browser checks of the pages sluice serves: find the
 * binary, render one URL to a DOM dump and/or a PNG screenshot, bounded in
 * time, with a throw-away profile, and report everything Chromium said.
 *
 * Chromium reports a page that did not load (a 401 when the URL has no
 * credentials, connection refused) with exit code 0, no DOM, no screenshot
 * file and one line on stderr among some thirty D-Bus errors; it exits 0
 * with nothing on a SIGTERM too, and with an empty DOM when `--timeout`
 * stops a load. Callers must check what came out, not the exit code, and
 * show stderr when it is missing: `chromiumSays()` gives the lines worth
 * reading.
 */

/** Names tried on PATH, in order (Debian: chromium; Ubuntu: chromium-browser). */
const CHROMIUM_NAMES = ["chromium", "chromium-browser"];

/**
 * The path of a Chromium on PATH, or a string saying why there is none
 * (callers skip their test and print it). Never throws.
 */
export function chromiumFind(): { path: string } | { missing: string } {
  let dirs: string[];
  try {
    dirs = (Deno.env.get("PATH") ?? "").split(":").filter((d) => d !== "");
  } catch (e) {
    return { missing: `cannot read PATH (${(e as Error).message})` };
  }
  for (const name of CHROMIUM_NAMES) {
    for (const dir of dirs) {
      const path = `${dir}/${name}`;
      try {
        const st = Deno.statSync(path);
        if (st.isFile && ((st.mode ?? 0o111) & 0o111) !== 0) return { path };
      } catch {
        // Not there (or not readable): try the next.
      }
    }
  }
  return { missing: `none of ${CHROMIUM_NAMES.join(", ")} on PATH` };
}

/** Options of `chromiumRun()`. */
export interface ChromiumRunOptions {
  /** Print the DOM after the page loaded (`--dump-dom`) to `stdout`. */
  dumpDom?: boolean;
  /** Take a screenshot of the window (`--screenshot`), returned as `png`. */
  screenshot?: boolean;
  /** Window (and so screenshot) size in CSS pixels. Default [1500, 620]. */
  windowSize?: [number, number];
  /** Chromium gets SIGTERM after this many ms. Default 30000. */
  timeoutMs?: number;
  /** Then its whole process group gets SIGKILL after this many more. Default 3000. */
  graceMs?: number;
}

/** What one Chromium run produced. */
export interface ChromiumResult {
  /** Exit code: 0 also when the page failed to load, see the module doc. */
  code: number;
  /** The DOM with `dumpDom`, else whatever Chromium printed. */
  stdout: string;
  stderr: string;
  /** The screenshot file, or null when Chromium wrote none. */
  png: Uint8Array | null;
  /** True when the run was killed at `timeoutMs`. */
  timedOut: boolean;
}

/**
 * Flags for a quiet, hermetic, deterministic run on a machine with no
 * display, no GPU, no D-Bus, no network but loopback, possibly as root and
 * in a container:
 * - `--no-sandbox`: the setuid/user-namespace sandbox refuses to start as
 *   root ("Running as root without --no-sandbox is not supported", exit 1)
 *   and needs user namespaces that containers often lack. We load our own
 *   page, so nothing untrusted runs unsandboxed.
 * - `--disable-dev-shm-usage`: shared memory under /tmp, not /dev/shm,
 *   which is 64 MiB in many containers (renderer crashes). Debian's
 *   launcher means to add it on a small /dev/shm, but its test breaks
 *   when /dev/shm is mounted twice ("[: ...: unexpected operator").
 * - `--disable-gpu`, `--force-color-profile=srgb`, `--hide-scrollbars`:
 *   software rendering and exact sRGB colours, so a CSS colour is the same
 *   bytes in the PNG.
 * - no first-run, background networking, component updates, sync,
 *   extensions or crash reporter: these reach for Google's hosts, which a
 *   closed network refuses many times a run.
 * - `--timeout`: Chromium stops loading and exits by itself a while before
 *   we kill it.
 * `--virtual-time-budget` is not used: the page has no JavaScript, the
 * load event is the end of rendering, and advancing virtual time would
 * fire the page's meta refresh.
 */
function chromiumFlags(profile: string, opts: ChromiumRunOptions): string[] {
  const [w, h] = opts.windowSize ?? [1500, 620];
  const timeoutMs = opts.timeoutMs ?? 30000;
  return [
    "--headless",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--force-color-profile=srgb",
    "--hide-scrollbars",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-crash-reporter",
    "--no-proxy-server",
    `--user-data-dir=${profile}/profile`,
    `--window-size=${w},${h}`,
    `--timeout=${Math.max(1000, Math.floor(timeoutMs / 2))}`,
  ];
}

/**
 * Renders `url` once in headless Chromium at `path`. Every run gets its own
 * temporary profile and HOME (removed before returning), so runs share
 * nothing and leave nothing (without them, every headless run leaves a
 * directory in ~/.cache/chromium-headless). Chromium runs in its own
 * process group: on timeout it gets SIGTERM, then after `graceMs` the group
 * gets SIGKILL, so a renderer that holds the output pipes open cannot stall
 * us either. The server `url` names must keep answering while this is
 * awaited: never block the event loop (`outputSync()`, `execFileSync()`)
 * when that server runs in this process, or Chromium waits for it until
 * its `--timeout` and then prints an empty DOM, exit code 0.
 */
export async function chromiumRun(
  path: string,
  url: string,
  opts: ChromiumRunOptions = {},
): Promise<ChromiumResult> {
  const timeoutMs = opts.timeoutMs ?? 30000;
  const dir = await Deno.makeTempDir({ prefix: "sluice_chromium_" });
  try {
    const shot = `${dir}/screenshot.png`;
    const args = chromiumFlags(dir, opts);
    if (opts.dumpDom) args.push("--dump-dom");
    if (opts.screenshot) args.push(`--screenshot=${shot}`);
    args.push(url);
    const child = new Deno.Command(path, {
      args,
      cwd: dir,
      // HOME and XDG dirs: Chromium also writes ~/.pki, caches and crash
      // reports outside --user-data-dir.
      env: { HOME: dir, XDG_CONFIG_HOME: `${dir}/config`, XDG_CACHE_HOME: `${dir}/cache` },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
    let timedOut = false;
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const termTimer = setTimeout(() => {
      timedOut = true;
      chromiumSignal(child.pid, "SIGTERM");
      killTimer = setTimeout(() => chromiumSignal(-child.pid, "SIGKILL"), opts.graceMs ?? 3000);
    }, timeoutMs);
    let out: Deno.CommandOutput;
    try {
      out = await child.output();
    } finally {
      clearTimeout(termTimer);
      clearTimeout(killTimer);
    }
    // The browser is gone; renderers it leaves behind are ours to end.
    chromiumSignal(-child.pid, "SIGKILL");
    let png: Uint8Array | null = null;
    try {
      png = await Deno.readFile(shot);
    } catch {
      // None written: the caller reports stderr.
    }
    const dec = new TextDecoder();
    return {
      code: out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
      png,
      timedOut,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Signals a process (pid > 0) or process group (pid < 0) that may be gone. */
function chromiumSignal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch {
    // Already exited.
  }
}

/**
 * The stderr lines of `r` worth reading in a failure message, with the
 * D-Bus noise of a machine without a session bus left out.
 */
export function chromiumSays(r: ChromiumResult): string {
  const lines = r.stderr.split("\n").filter((l) =>
    l.trim() !== "" && !l.includes("dbus/") && !l.includes("unexpected operator")
  );
  const head = r.timedOut ? "killed after the timeout; " : "";
  return `${head}exit code ${r.code}; stderr:\n${lines.slice(0, 20).join("\n")}`;
}
