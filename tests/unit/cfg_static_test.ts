/**
 * The `static-*` keywords (sluice's own): what they build, what they
 * refuse with file:line, the resolved settings, and `--static DIR`.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../lib/cfg/config_load.ts";
import { parseCli } from "../../lib/cfg/cli.ts";
import { checkConfig } from "../../lib/cfg/config_check.ts";
import { withTempDirSync } from "../helpers/temp_dir.ts";

/** Loads `lines` as "t.cfg": the errors (messages) and the resolved config. */
function load(lines: string[]) {
  const l = loadConfig([{ file: "t.cfg", text: lines.join("\n") }], { env: {} });
  return { errors: l.errors.map((e) => e.message), config: l.config, resolved: l.resolved };
}

/** A frontend (lines 1-4) and backend "files" from line 5, `body` from line 7. */
function cfg(body: string[], mode = "http"): string[] {
  return [
    "frontend fe",
    `  mode ${mode}`,
    "  bind :80",
    "  default_backend files",
    "backend files",
    `  mode ${mode}`,
    ...body.map((l) => `  ${l}`),
  ];
}

Deno.test("static-*: the model's static field and its resolved settings", () => {
  withTempDirSync((dir) => {
    const l = load(cfg([
      `static-root ${dir}`,
      "static-index home.htm",
      "static-autoindex on",
      "static-precompressed br gzip",
      'static-cache-control "public, max-age=60"',
      "static-dotfiles allow",
      "static-cache-valid 250ms",
    ]));
    assert.deepEqual(l.errors, []);
    assert.deepEqual(l.config.backends[0].static, {
      root: dir,
      index: "home.htm",
      autoindex: true,
      precompressed: ["br", "gzip"],
      cacheControl: "public, max-age=60",
      dotfiles: "allow",
      cacheValid: 250,
    });
    assert.deepEqual(l.config.backends[0].servers, []);
    assert.deepEqual(l.resolved!.backends[0].static, {
      root: Deno.realPathSync(dir),
      index: "home.htm",
      autoindex: true,
      precompressed: ["br", "gzip"],
      cacheControl: "public, max-age=60",
      dotfiles: true,
      cacheValid: 250,
    });
    // Defaults.
    const d = load(cfg([`static-root ${dir}`]));
    assert.deepEqual(d.resolved!.backends[0].static, {
      root: Deno.realPathSync(dir),
      index: "index.html",
      autoindex: false,
      precompressed: [],
      cacheControl: null,
      dotfiles: false,
      cacheValid: 1000,
    });
    // A listen section serves files too.
    const li = load(["listen web", "  mode http", "  bind :80", `  static-root ${dir}`]);
    assert.deepEqual(li.errors, []);
    assert.equal(li.resolved!.backends[0].static!.root, Deno.realPathSync(dir));
  });
});

Deno.test("static-*: refused with file:line", () => {
  withTempDirSync((dir) => {
    const cases: [string[], RegExp, string?][] = [
      [
        cfg([`static-root ${dir}`, "server s1 127.0.0.1:80"]),
        /^t\.cfg:8: "server" is not allowed beside "static-root" \(at t\.cfg:7\)/,
      ],
      [cfg(["static-autoindex on"]), /^t\.cfg:7: "static-\*" settings need "static-root"/],
      [cfg([`static-root ${dir}`], "tcp"), /^t\.cfg:7: "static-root" needs "mode http"/],
      [
        cfg([`static-root ${dir}`, `static-root ${dir}`]),
        /^t\.cfg:8: "static-root" is given twice/,
      ],
      [cfg([`static-root ${dir}/nope`]), /^t\.cfg:7: cannot read directory/],
      [
        cfg([`static-root ${dir}`, "static-index a/b.html"]),
        /^t\.cfg:8: invalid value "a\/b\.html"/,
      ],
      [cfg([`static-root ${dir}`, "static-autoindex yes"]), /^t\.cfg:8: invalid value "yes"/],
      [cfg([`static-root ${dir}`, "static-precompressed zstd"]), /^t\.cfg:8: invalid value "zstd"/],
      [cfg([`static-root ${dir}`, "static-precompressed gzip gzip"]), /^t\.cfg:8: .*given twice/],
      [cfg([`static-root ${dir}`, "static-dotfiles maybe"]), /^t\.cfg:8: invalid value "maybe"/],
      [cfg([`static-root ${dir}`, "static-root"]), /^t\.cfg:8: missing value/],
      [cfg([`static-root ${dir}`, "static-cache-valid 1x"]), /^t\.cfg:8: invalid value "1x"/],
      [cfg([`static-root ${dir}`, "static-cache-valid 2h"]), /^t\.cfg:8: .*"2h".*at most 1h/],
      [
        cfg([`static-root ${dir}`, "static-cache-valid 1s", "static-cache-valid 0"]),
        /^t\.cfg:9: "static-cache-valid" is given twice/,
      ],
      [
        cfg([`static-root ${dir}`, "cookie SRV insert"]),
        /^t\.cfg:8: "cookie" is for servers: not allowed beside "static-root" \(at t\.cfg:7\)/,
      ],
      [cfg(["balance leastconn", `static-root ${dir}`]), /^t\.cfg:7: "balance" is for servers/],
      [cfg([`static-root ${dir}`, "option httpchk"]), /^t\.cfg:8: "option httpchk" is for servers/],
      [
        ["frontend fe", "  bind :80", `  static-root ${dir}`],
        /^t\.cfg:3: keyword "static-root" is not allowed in section "frontend fe"/,
      ],
      [["defaults", `  static-root ${dir}`], /^t\.cfg:2: keyword "static-root" is not allowed/],
    ];
    for (const [lines, re] of cases) {
      const l = load(lines);
      assert.ok(l.errors.some((e) => re.test(e)), `${re} in ${JSON.stringify(l.errors)}`);
    }
  });
});

Deno.test("static: refused in the API model when mixed with servers or tcp", () => {
  withTempDirSync((dir) => {
    const base = (extra: object) => ({
      frontends: [{ name: "fe", binds: [{ address: ":80" }], defaultBackend: "b" }],
      backends: [{ name: "b", servers: [], static: { root: dir }, ...extra }],
    });
    const ok = checkConfig(base({}) as never);
    assert.deepEqual(ok.errors, []);
    const mixed = checkConfig(base({ servers: [{ name: "s", address: "127.0.0.1:1" }] }) as never);
    assert.match(
      mixed.errors[0].message,
      /backends\[0\]\.static: a backend serving files has no servers/,
    );
    const tcp = checkConfig(
      {
        frontends: [{ name: "fe", mode: "tcp", binds: [{ address: ":80" }], defaultBackend: "b" }],
        backends: [{ name: "b", mode: "tcp", servers: [], static: { root: dir } }],
      } as never,
    );
    assert.ok(tcp.errors.some((e) => /needs mode "http"/.test(e.message)));
    const ck = checkConfig(base({ cookie: { name: "S" } }) as never);
    assert.match(ck.errors[0].message, /static: a backend serving files has no cookie/);
    const bad = checkConfig(base({ static: { root: dir, dotfiles: "yes" } }) as never);
    assert.match(bad.errors[0].message, /static\.dotfiles: expected "allow" or "deny"/);
    const cv = checkConfig(base({ static: { root: dir, cacheValid: -1 } }) as never);
    assert.match(cv.errors[0].message, /static\.cacheValid: -1 is outside 0\.\.3600000/);
  });
});

Deno.test("--static DIR: a one-line file server", () => {
  const a = parseCli(["--static", "./public", "--listen", ":8080"]);
  assert.equal(a.kind, "run");
  const be = (a as { config: { backends: { static?: unknown; servers: unknown[] }[] } }).config
    .backends[0];
  assert.deepEqual(be.static, { root: "./public" });
  assert.deepEqual(be.servers, []);
  assert.throws(
    () => parseCli(["--static", "p", "--server", "1.2.3.4:80", "--listen", ":80"]),
    /not both/,
  );
  assert.throws(() => parseCli(["--static", "p", "--mode", "tcp", "--listen", ":80"]), /mode http/);
  assert.throws(() => parseCli(["--static", "p"]), /--listen/);
});
