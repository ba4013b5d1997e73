/**
 * The deployment files (deploy/sluice.service, Dockerfile and its
 * entrypoint) as far as this machine can check them without systemd as
 * init or a Docker engine: the Dockerfile lint, the unit's hardening and
 * reload settings, and one set of Deno permissions everywhere sluice is
 * started (deno task start, deno task compile, the unit, the image).
 */
import assert from "node:assert/strict";
import { type LintContext, lintDockerfile } from "../../tools/lint_dockerfile.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const read = (p: string) => Deno.readTextFileSync(`${ROOT}${p}`);

/** The permissions sluice runs with: network, read, write, env, FFI (the SIGUSR1 guard). */
const PERMISSIONS = ["--allow-env", "--allow-ffi", "--allow-net", "--allow-read", "--allow-write"];

/** The sorted `--allow-*` flags of a command line. */
function allowFlags(cmd: string): string[] {
  return [...new Set(cmd.match(/--allow-[a-z]+/g) ?? [])].sort();
}

/** The unit file's settings: key to values, in order. */
function unitSettings(): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of read("deploy/sluice.service").split("\n")) {
    const x = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (x !== null) m.set(x[1], [...m.get(x[1]) ?? [], x[2]]);
  }
  return m;
}

/** A build context made of a list of files (the executable ones marked). */
function fakeContext(files: string[], executable: string[] = [], ignored: string[] = []) {
  return {
    exists: (p: string) => files.includes(p.replace(/^\.\//, "")),
    executable: (p: string) => executable.includes(p),
    ignored,
  } satisfies LintContext;
}

Deno.test("the Dockerfile passes the structural lint", () => {
  const problems = lintDockerfile(read("Dockerfile"), {
    exists(p) {
      try {
        Deno.statSync(`${ROOT}${p}`);
        return true;
      } catch {
        return false;
      }
    },
    executable: (p) => ((Deno.statSync(`${ROOT}${p}`).mode ?? 0) & 0o111) !== 0,
    ignored: read(".dockerignore").split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#")),
  });
  assert.deepEqual(problems, []);
});

Deno.test("lintDockerfile() finds what would break a build or run an image as root", () => {
  const ctx = fakeContext(["app.cfg", "deploy/run.sh", "dist/x"], [], ["dist"]);
  const lint = (text: string) => lintDockerfile(text, ctx).join("\n");
  assert.match(lint('FROM debian\nUSER app\nCMD ["x"]'), /:1: image "debian" has no tag/);
  assert.match(lint('FROM debian:latest\nUSER app\nCMD ["x"]'), /uses the latest tag/);
  assert.match(lint('FROM debian:12\nCMD ["x"]'), /:2: the stage runs as root/);
  assert.match(lint('FROM debian:12\nUSER 0\nCMD ["x"]'), /runs as root/);
  assert.match(lint("FROM debian:12\nUSER app\nCMD x --y"), /not in exec form/);
  assert.match(lint("FROM debian:12\nCOPY --from=build /a /a"), /names no earlier stage/);
  assert.match(lint("FROM debian:12\nCOPY missing.cfg /etc/"), /"missing.cfg" is not in the build/);
  assert.match(lint("FROM debian:12\nCOPY dist/x /x"), /excluded by .dockerignore/);
  assert.match(lint("FROM debian:12\nADD app.cfg /etc/"), /use COPY instead of ADD/);
  assert.match(lint("FROM debian:12\nWORKDIR app"), /not absolute/);
  assert.match(lint("FROM debian:12\nRUN apt-get install curl"), /without -y/);
  assert.match(lint("FROM debian:12\nRUN apt-get install -y curl"), /--no-install-recommends/);
  assert.match(lint("FROM debian:12\nRUN cd /tmp && make"), /WORKDIR instead of cd/);
  assert.match(lint("USER app\nFROM debian:12"), /before the first FROM/);
  assert.match(lint("FROM debian:12\nFROB x"), /unknown instruction "FROB"/);
  assert.match(lint("ARG V\nFROM debian:${V}"), /ARG V used in FROM has no default/);
  assert.match(
    lint('FROM debian:12\nUSER app\nENTRYPOINT ["/opt/app/deploy/run.sh"]'),
    /\(deploy\/run.sh\) is not executable/,
  );
  assert.equal(
    lint(
      "ARG V=12\nFROM debian:${V} AS b\nRUN apt-get install -y --no-install-recommends \\\n" +
        '  curl\nFROM debian:12\nCOPY --from=b /x /x\nCOPY app.cfg /etc/\nUSER app\nCMD ["x"]',
    ),
    "",
  );
});

Deno.test("sluice is started with the same Deno permissions everywhere", () => {
  const unit = unitSettings();
  const starts: [string, string][] = [
    ["deno.json start task", /"start": "([^"]+)"/.exec(read("deno.json"))![1]],
    ["tools/compile.ts", read("tools/compile.ts")],
    ["deploy/sluice.service ExecStart", unit.get("ExecStart")![0]],
    ["deploy/docker-entrypoint.sh", read("deploy/docker-entrypoint.sh")],
  ];
  for (const [where, cmd] of starts) assert.deepEqual(allowFlags(cmd), PERMISSIONS, where);
  for (const [where, cmd] of starts.slice(1)) {
    assert.match(cmd, /--unstable-net/, `${where}: unix syslog sockets need --unstable-net`);
    assert.match(
      cmd,
      /--unstable-worker-options/,
      `${where}: worker threads' narrowed permissions need --unstable-worker-options`,
    );
  }
  // A compiled binary holds every module a Worker is started from by URL.
  const compile = read("tools/compile.ts");
  for (const entry of ["thread_main.ts", "tls_main.ts"]) {
    assert.match(compile, new RegExp(`--include",\\s*\`\\$\\{root\\}lib/worker/${entry}`), entry);
  }
  // The V8 young generation that keeps memory bounded (docs/deployment.md).
  for (const [where, cmd] of starts) {
    assert.match(cmd, /--v8-flags=--max-semi-space-size=4\b/, `${where}: the V8 flag`);
  }
});

Deno.test("deploy/sluice.service reloads with SIGHUP, runs unprivileged and is hardened", () => {
  const unit = unitSettings();
  const one = (k: string) => {
    const v = unit.get(k);
    assert.ok(v !== undefined && v.length === 1, `one ${k}= line`);
    return v[0];
  };
  assert.equal(one("ExecReload"), "/bin/kill -HUP $MAINPID");
  assert.equal(one("User"), "sluice");
  assert.equal(one("Group"), "sluice");
  assert.match(one("ExecStartPre"), / --check$/);
  for (
    const [k, v] of [
      ["NoNewPrivileges", "yes"],
      ["ProtectSystem", "strict"],
      ["ProtectHome", "yes"],
      ["PrivateTmp", "yes"],
      ["CapabilityBoundingSet", "CAP_NET_BIND_SERVICE"],
      ["AmbientCapabilities", "CAP_NET_BIND_SERVICE"],
      ["RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"],
      // V8's JIT and the SIGUSR1 guard's handler page need W^X page flips.
      ["MemoryDenyWriteExecute", "no"],
    ]
  ) assert.equal(one(k), v, k);
  assert.ok(Number(one("LimitNOFILE")) >= 2 * 4096 + 64, "LimitNOFILE above 2 x maxconn");
});

Deno.test("the unit's deno command lines run: --check with ExecStartPre's flags, --version with ExecStart's", async () => {
  const unit = unitSettings();
  const run = async (line: string, tail: string[]) => {
    // /opt/sluice is this checkout; the configuration is an example.
    const words = line.split(/\s+/).map((w) =>
      w.replace("/opt/sluice/", ROOT).replace(
        "/etc/sluice/haproxy.cfg",
        `${ROOT}examples/http-lb.cfg`,
      )
    );
    const i = words.findIndex((w) => w.endsWith("main.ts"));
    const out = await new Deno.Command(Deno.execPath(), {
      args: [...words.slice(1, i + 1), ...tail],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    return { code: out.code, text: new TextDecoder().decode(out.stdout) };
  };
  const check = await run(unit.get("ExecStartPre")![0], [
    "-f",
    `${ROOT}examples/http-lb.cfg`,
    "--check",
  ]);
  assert.equal(check.code, 0);
  assert.match(check.text, /is valid/);
  const version = await run(unit.get("ExecStart")![0], ["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.text, /^sluice \d+\.\d+\.\d+ /);
});
