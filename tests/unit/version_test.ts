/**
 * The package version in deno.json (what `deno publish` uses) and
 * lib/version.ts's VERSION (what `--version`, the ready line and
 * `show info` print) are one number written twice: they must agree.
 */
import assert from "node:assert/strict";
import { VERSION } from "../../mod.ts";

/** deno.json is JSONC: drop whole-line comments before parsing. */
function denoJson(): { name?: string; version?: string; exports?: Record<string, string> } {
  const text = Deno.readTextFileSync(new URL("../../deno.json", import.meta.url));
  return JSON.parse(text.split("\n").filter((l) => !/^\s*\/\//.test(l)).join("\n"));
}

Deno.test("deno.json's version is lib/version.ts's VERSION", () => {
  assert.equal(denoJson().version, VERSION);
});

Deno.test("deno.json exports the library as '.' and the command line as './cli'", () => {
  const cfg = denoJson();
  assert.equal(cfg.name, "@sluice/sluice");
  assert.deepEqual(cfg.exports, { ".": "./mod.ts", "./cli": "./main.ts" });
});
