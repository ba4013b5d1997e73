/**
 * `use_backend` names with samples: compiled at load time (errors with
 * `file:line`), no backend required to exist; `%%` alone keeps a fixed name.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../lib/cfg/config_load.ts";

/** Errors of loading a frontend with `rule` (line 4) and backends be_a and "a%b". */
function errorsOf(rule: string, mode = "http"): string[] {
  const text = [
    "frontend fe",
    `  mode ${mode}`,
    "  bind 127.0.0.1:0",
    rule,
    "  default_backend be_a",
    "backend be_a",
    `  mode ${mode}`,
    "  server s 127.0.0.1:9",
  ].join("\n");
  return loadConfig([{ file: "t.cfg", text }], { env: {} }).errors.map((e) => e.message);
}

Deno.test("use_backend NAME%[fetch]: accepted without such a backend; fetches checked", () => {
  const r = loadConfig([{
    file: "t.cfg",
    text: [
      "frontend fe",
      "  mode http",
      "  bind 127.0.0.1:0",
      "  use_backend be_%[req.hdr(host)] if { path_beg /x }",
      "  default_backend be_a",
      "backend be_a",
      "  mode http",
      "  server s 127.0.0.1:9",
    ].join("\n"),
  }], { env: {} });
  assert.deepEqual(r.errors, []);
  const u = r.resolved!.frontends[0].rules!.useBackends[0];
  assert.equal(u.backend, "be_%[req.hdr(host)]");
  assert.equal(u.dynamic?.length, 2);
  assert.equal(u.dynamic?.[0], "be_");
  assert.deepEqual(errorsOf("  use_backend %[nosuch]"), [
    't.cfg:4: unknown fetch "nosuch" in the use_backend name',
  ]);
  assert.deepEqual(errorsOf("  use_backend be_%[req.hdr(host)"), [
    't.cfg:4: missing "]" after "%[" in the use_backend name',
  ]);
  assert.deepEqual(errorsOf("  use_backend be_%H"), [
    't.cfg:4: unsupported log-format item "%H" in the use_backend name: write samples as %[fetch] (e.g. %[src]), a literal % as %%',
  ]);
  assert.deepEqual(errorsOf("  use_backend be_%[req.payload(0,1)]"), [
    't.cfg:4: "%[req.payload(0,1)]" cannot be used in the use_backend name: it reads the raw request bytes, which only TCP-mode rules see',
  ]);
  assert.deepEqual(errorsOf("  use_backend be_%[req.payload(0,1)]", "tcp"), []);
  assert.match(
    errorsOf("  use_backend be_%[req.hdr(host)]", "tcp")[0],
    /^t\.cfg:4: "%\[req\.hdr\(host\)\]" cannot be used in the use_backend name/,
  );
  // "%%" alone: a fixed name, which must exist.
  assert.deepEqual(errorsOf("  use_backend be_%%a"), [
    't.cfg:4: use_backend: no backend named "be_%a"',
  ]);
});
