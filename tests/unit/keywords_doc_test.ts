/**
 * docs/keywords.md is generated from the registries (tools/gen_keywords.ts):
 * these tests fail when it is stale or misses an entry, and say how to
 * regenerate it.
 */
import assert from "node:assert/strict";
import { LB_ALGOS, lbAlgoSyntaxes } from "../../lib/lb/lb_algos.ts";
import { ACL_CONVERTERS } from "../../lib/rules/acl_conv.ts";
import { ACL_FETCHES, ACL_KEYWORDS } from "../../lib/rules/acl_fetch.ts";
import { ACL_MATCHES } from "../../lib/rules/acl_match.ts";
import { HTTP_ACTIONS, httpActSyntax } from "../../lib/rules/http_act.ts";
import { KEYWORDS_PATH, keywordsFormat, keywordsRender } from "../../tools/gen_keywords.ts";

const REGENERATE =
  "docs/keywords.md is stale: run deno run --allow-read --allow-write=docs --allow-run tools/gen_keywords.ts";

Deno.test("docs/keywords.md is exactly what tools/gen_keywords.ts writes from the registries", async () => {
  const committed = Deno.readTextFileSync(KEYWORDS_PATH);
  const fresh = await keywordsFormat(keywordsRender());
  assert.ok(committed === fresh, REGENERATE);
});

Deno.test("docs/keywords.md has one heading for every action, algorithm, fetch, keyword, method and converter", () => {
  const headings = new Set(
    Deno.readTextFileSync(KEYWORDS_PATH).split("\n").filter((l) => l.startsWith("### "))
      .map((l) => l.slice(4)),
  );
  const bare = new Set([...headings].map((h) => h.replace(/\(.*\)$/, "")));
  const missing = [
    ...Object.entries(HTTP_ACTIONS).map(([n, d]) => httpActSyntax(n, d)).filter((h) =>
      !headings.has(h)
    ),
    ...lbAlgoSyntaxes().filter((h) => !headings.has(h)),
    ...[...Object.keys(ACL_FETCHES), ...Object.keys(ACL_KEYWORDS), ...Object.keys(ACL_CONVERTERS)]
      .filter((n) => !bare.has(n)),
    ...Object.keys(ACL_MATCHES).map((m) => `-m ${m}`).filter((h) => !headings.has(h)),
  ];
  assert.deepEqual(missing, [], REGENERATE);
  const entries = Object.keys(HTTP_ACTIONS).length + Object.keys(LB_ALGOS).length +
    Object.keys(ACL_FETCHES).length + Object.keys(ACL_KEYWORDS).length +
    Object.keys(ACL_MATCHES).length + Object.keys(ACL_CONVERTERS).length;
  assert.equal(headings.size, entries, "one heading per entry, none twice");
});
