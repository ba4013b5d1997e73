/**
 * loadConfig() / loadConfigFiles(): every error and warning of every file in
 * one run, each at the `file:line` that caused it, in file and line order;
 * the process-management keywords that load with a warning; `-f DIR`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cliLoadReport } from "../../lib/cfg/cli_load.ts";
import { type ConfigLoad, loadConfig, loadConfigFiles } from "../../lib/cfg/config_load.ts";
import { withTempDirSync } from "../helpers/temp_dir.ts";

/** Loads `lines` as file "t.cfg". */
function load(lines: string[], env: Record<string, string> = {}): ConfigLoad {
  return loadConfig([{ file: "t.cfg", text: lines.join("\n") }], { env });
}

/** `[where, message]` of each error. */
function errorsOf(l: ConfigLoad): [string, string][] {
  return l.errors.map((e) => [e.where ?? "", e.message]);
}

const BACKEND = ["backend be", "  mode http", "  server s1 127.0.0.1:9000"];

Deno.test("loadConfig() lists every error of a file, in line order, each at its file:line", () => {
  const l = load([
    "global", //                                  1
    "  maxconn 0", //                             2  resolution: out of range
    "  bogus 1", //                               3  unknown keyword
    "defaults", //                                4
    "  mode http", //                             5
    '  timeout client "${NOPE}"', //              6  undefined variable (lexer)
    "frontend fe", //                             7
    "  bind 127.0.0.1:0", //                      8
    "  default_backend nope", //                  9  resolution: unknown backend
    "  http-request frobnicate", //               10 rule compilation
    "  use_backend missing if { path /x }", //    11 rule resolution
    ...BACKEND, //                                12-14
    "  server s2 127.0.0.1:9001 weight 300", //   15 resolution: out of range
    "  server s3 127.0.0.1:9002 wieght 3", //     16 unknown server option
  ]);
  assert.equal(l.resolved, null);
  const errors = errorsOf(l);
  assert.deepEqual(errors.map(([w]) => w), [
    "t.cfg:2",
    "t.cfg:3",
    "t.cfg:6",
    "t.cfg:9",
    "t.cfg:10",
    "t.cfg:11",
    "t.cfg:15",
    "t.cfg:16",
  ]);
  for (const [where, msg] of errors) {
    assert.ok(msg.startsWith(`${where}: `), msg);
    assert.ok(!msg.includes("Invalid configuration at"), msg);
  }
  assert.match(errors[0][1], /0 is outside 1\.\.1000000 \(global\.maxconn\)$/);
  assert.match(errors[1][1], /unsupported keyword "bogus" in section "global"/);
  assert.match(errors[2][1], /undefined environment variable "NOPE"/);
  assert.match(errors[3][1], /no backend named "nope" \(frontends\[0\]\.defaultBackend\)$/);
  assert.match(errors[4][1], /unsupported action "http-request frobnicate"/);
  assert.match(errors[5][1], /^t\.cfg:11: use_backend: no backend named "missing"$/);
  assert.match(errors[6][1], /300 is outside 0\.\.256 \(backends\[0\]\.servers\[1\]\.weight\)$/);
  assert.match(errors[7][1], /unsupported keyword "server wieght" in section "backend be"/);
});

Deno.test("loadConfig() does not repeat an error through its consequences", () => {
  // The only server line is wrong: not also "at least one server is needed".
  // The header is wrong: its lines are still read, and nothing else is said.
  // An unknown section's lines are skipped with it.
  const l = load([
    "frontend fe",
    "  bind 127.0.0.1:0",
    "  default_backend be",
    "backend be",
    "  server s1 127.0.0.1:9000 wieght 3",
    "backend be2 extra",
    "  server s1 127.0.0.1:9000",
    "  balance nope",
    "resolvers dns",
    "  nameserver a 1.1.1.1:53",
    "defaults",
    "  timeout client 0x",
  ]);
  assert.deepEqual(errorsOf(l).map(([w]) => w), [
    "t.cfg:5",
    "t.cfg:6",
    "t.cfg:8",
    "t.cfg:9",
    "t.cfg:12",
  ]);
  // A defaults line in error is reported once, however many proxies inherit it.
  const d = load([
    "defaults",
    "  mode http",
    "  maxconn 2000000",
    "frontend a",
    "  bind 127.0.0.1:0",
    "  default_backend be",
    "frontend b",
    "  bind 127.0.0.1:0",
    "  default_backend be",
    ...BACKEND,
  ]);
  assert.deepEqual(errorsOf(d).map(([w]) => w), ["t.cfg:3"]);
});

Deno.test("loadConfigFiles() orders errors by file, then line, an unreadable file in its place", () => {
  withTempDirSync((dir) => {
    const a = join(dir, "a.cfg"), b = join(dir, "b.cfg"), missing = join(dir, "missing.cfg");
    Deno.writeTextFileSync(a, "global\n  bogus\n  maxconn x\n");
    Deno.writeTextFileSync(
      b,
      ["frontend fe", "  bind 127.0.0.1:0", "  default_backend nope", "  what"].join("\n"),
    );
    const l = loadConfigFiles([b, missing, a], {});
    assert.deepEqual(errorsOf(l).map(([w]) => w), [
      `${b}:3`,
      `${b}:4`,
      missing,
      `${a}:2`,
      `${a}:3`,
    ]);
    assert.match(l.errors[2].message, /cannot read the configuration file/);
  });
});

Deno.test("process-management keywords load with one warning each, at their line", () => {
  const l = load([
    "global",
    "  daemon",
    "  master-worker",
    "  user haproxy",
    "  group haproxy",
    "  chroot /var/lib/haproxy",
    "  tune.ssl.default-dh-param 2048",
    "  stats socket /run/sluice.sock mode 600 level admin expose-fd listeners",
    "  stats timeout 30s",
    "frontend fe",
    "  mode http",
    "  bind 127.0.0.1:0",
    "  default_backend be",
    ...BACKEND,
  ]);
  assert.deepEqual(l.errors, []);
  assert.ok(l.resolved !== null);
  const w = l.warnings.map((x) => x.message);
  assert.deepEqual(l.warnings.map((x) => x.where), [2, 3, 4, 5, 6, 7, 8].map((n) => `t.cfg:${n}`));
  for (const [i, x] of l.warnings.entries()) {
    assert.ok(x.message.startsWith(`${x.where}: warning: "`), x.message);
    assert.ok(!w[i].includes("\n"));
  }
  assert.match(w[0], /"daemon": sluice stays in the foreground; .*service manager/);
  assert.match(w[1], /"master-worker": .*reloads in place: SIGHUP or SIGUSR2/);
  for (const [i, kw, unit] of [[2, "user", "User"], [3, "group", "Group"]] as const) {
    assert.match(w[i], new RegExp(`"${kw} haproxy": .*${unit}=haproxy in deploy/sluice.service`));
    assert.match(w[i], /--allow-net, --allow-read, --allow-write, --allow-env, --allow-ffi/);
  }
  assert.match(w[4], /"chroot \/var\/lib\/haproxy": sluice does not chroot: .*--allow-read/);
  assert.match(w[5], /"tune.ssl.default-dh-param 2048": .*ECDHE/);
  assert.match(w[6], /"stats socket \.\.\. expose-fd listeners": sluice reloads in place/);
  // stats timeout is not a warning: it sets the runtime API's idle timeout.
  assert.deepEqual(l.resolved.global.adminSocket, {
    path: "/run/sluice.sock",
    mode: 0o600,
    timeout: 30_000,
  });
  // Their arguments are still checked.
  const bad = load([
    "global",
    "  daemon now",
    "  user",
    "  master-worker exit",
    "  tune.ssl.default-dh-param big",
    "  stats socket /s expose-fd all",
  ]);
  assert.deepEqual(
    errorsOf(bad).map(([w]) => w).slice(0, 5),
    [2, 3, 4, 5, 6].map((n) => `t.cfg:${n}`),
  );
});

Deno.test("pidfile: a file relative to the configuration's directory, given once", () => {
  withTempDirSync((dir) => {
    const f = join(dir, "p.cfg");
    Deno.writeTextFileSync(
      f,
      [
        "global",
        "  pidfile run/sluice.pid",
        "frontend fe",
        "  mode http",
        "  bind 127.0.0.1:0",
        "  default_backend be",
        ...BACKEND,
      ].join("\n"),
    );
    const l = loadConfigFiles([f], {});
    assert.deepEqual(l.errors, []);
    assert.equal(l.resolved?.global.pidfile, join(dir, "run/sluice.pid"));
  });
  const twice = load(["global", "  pidfile /a.pid", "  pidfile /b.pid"]);
  assert.match(
    twice.errors[0].message,
    /^t\.cfg:3: "pidfile" is given twice \(the first one is at t\.cfg:2\)$/,
  );
});

Deno.test("loadConfigFiles(): a directory stands for its *.cfg files, in name order", () => {
  withTempDirSync((dir) => {
    const d = join(dir, "conf.d");
    Deno.mkdirSync(d);
    Deno.writeTextFileSync(join(d, "20-be.cfg"), BACKEND.join("\n"));
    Deno.writeTextFileSync(
      join(d, "10-fe.cfg"),
      "frontend fe\n  mode http\n  bind 127.0.0.1:0\n  default_backend be\n",
    );
    Deno.writeTextFileSync(join(d, ".hidden.cfg"), "bogus\n");
    Deno.writeTextFileSync(join(d, "notes.txt"), "bogus\n");
    Deno.writeTextFileSync(join(dir, "global.cfg"), "global\n  maxconn 100\n");
    const l = loadConfigFiles([join(dir, "global.cfg"), d], {});
    assert.deepEqual(l.errors, []);
    assert.deepEqual(l.files, [
      join(dir, "global.cfg"),
      join(d, "10-fe.cfg"),
      join(d, "20-be.cfg"),
    ]);
    assert.equal(l.resolved?.global.maxconn, 100);
    const empty = join(dir, "empty");
    Deno.mkdirSync(empty);
    assert.throws(() => loadConfigFiles([empty], {}), /no \*\.cfg file in/);
  });
});

Deno.test("cliLoadReport(): warnings and errors in line order, then a count; -V adds files and sections", () => {
  const bad = load(["global", "  bogus", "  daemon", "  maxconn x", "  user u"]);
  const lines = cliLoadReport(bad, {});
  assert.deepEqual(lines.map((l) => l.replace(/^(t\.cfg:\d+: (warning: )?).*/, "$1")), [
    "t.cfg:2: ",
    "t.cfg:3: warning: ",
    "t.cfg:4: ",
    "t.cfg:5: warning: ",
    "t.cfg: at least one frontend is needed (frontends)",
    "sluice: t.cfg: 3 errors, 2 warnings",
  ]);
  const ok = load([
    "global",
    "  daemon",
    "frontend fe",
    "  mode http",
    "  bind 127.0.0.1:8080",
    "  default_backend be",
    ...BACKEND,
  ]);
  assert.deepEqual(cliLoadReport(ok, { verbose: true }), [
    "sluice: reading t.cfg",
    ok.warnings[0].message,
    "sluice: frontend fe (t.cfg:3): http, listens on 127.0.0.1:8080, default_backend be",
    "sluice: backend be (t.cfg:7): http, balance roundrobin, 1 server",
    "sluice: loaded 1 frontend, 1 backend, 1 server, 1 warning",
  ]);
  assert.deepEqual(cliLoadReport(ok, {}), [ok.warnings[0].message]);
});
