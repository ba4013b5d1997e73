/**
 * Running the CLI as a subprocess, as a user would (`deno run main.ts`), with
 * helpers to wait for its ready line and collect its output.
 */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A running sluice process. */
export interface CliProcess extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
  /** Lines printed on stdout so far. */
  readonly out: string[];
  /** Lines printed on stderr so far. */
  readonly err: string[];
  /** Resolves with the exit code. */
  readonly exited: Promise<number>;
  /** Waits for a stdout line matching `re`. */
  waitLine(re: RegExp, ms?: number): Promise<string>;
  /** Sends a signal (if still running). */
  kill(sig?: Deno.Signal): void;
}

async function pump(stream: ReadableStream<Uint8Array>, lines: string[], onLine: () => void) {
  let rest = "";
  const dec = new TextDecoder();
  for await (const chunk of stream) {
    rest += dec.decode(chunk, { stream: true });
    let nl;
    while ((nl = rest.indexOf("\n")) >= 0) {
      lines.push(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
      onLine();
    }
  }
  if (rest) lines.push(rest);
  onLine();
}

/** Starts `deno run main.ts ...args` with the permissions of `deno task start`. */
export function runCli(args: string[]): CliProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
      MAIN,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const out: string[] = [];
  const err: string[] = [];
  let wake = () => {};
  const onLine = () => wake();
  const pumps = Promise.all([pump(child.stdout, out, onLine), pump(child.stderr, err, onLine)]);
  const exited = Promise.all([child.status, pumps]).then(([s]) => s.code);
  let done = false;
  exited.then(() => {
    done = true;
    wake();
  });
  const proc: CliProcess = {
    child,
    out,
    err,
    exited,
    async waitLine(re, ms = 10000) {
      const end = Date.now() + ms;
      for (;;) {
        const hit = out.find((l) => re.test(l));
        if (hit !== undefined) return hit;
        if (done) throw new Error(`exited before ${re}: ${[...out, ...err].join("\n")}`);
        const left = end - Date.now();
        if (left <= 0) throw new Error(`timeout waiting for ${re}: ${[...out, ...err].join("\n")}`);
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((r) => {
          wake = r;
          timer = setTimeout(r, Math.min(left, 100));
        });
        clearTimeout(timer);
      }
    },
    kill(sig: Deno.Signal = "SIGTERM") {
      if (!done) {
        try {
          child.kill(sig);
        } catch {
          // Already gone.
        }
      }
    },
    async [Symbol.asyncDispose]() {
      proc.kill("SIGKILL");
      await exited;
    },
  };
  return proc;
}

/** Runs the CLI to completion; returns exit code and output. */
export async function runCliToEnd(
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  const p = runCli(args);
  const code = await p.exited;
  return { code, out: p.out.join("\n"), err: p.err.join("\n") };
}
