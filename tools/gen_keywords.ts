/**
 * Writes docs/keywords.md, the keyword reference, from the registries the
 * configuration parser itself uses: HTTP actions (lib/rules/http_act.ts),
 * load-balancing algorithms (lib/lb/lb_algos.ts), fetches, ACL keywords,
 * matching methods and converters (lib/rules/acl_*.ts). One heading per
 * entry, with its doc line and where it may appear, so each can be linked.
 *
 *     deno run --allow-read --allow-write=docs --allow-run tools/gen_keywords.ts
 *
 * The text goes through `deno fmt` (the project's markdown style), so the
 * file stays as `deno fmt` leaves it. tests/unit/keywords_doc_test.ts fails
 * when the committed file differs from what this writes.
 *
 * @module
 */
import { showFlags } from "../lib/core/flags.ts";
import { LB_ALGOS, type LbAlgoDef, lbAlgoSyntaxes } from "../lib/lb/lb_algos.ts";
import { ACL_CONVERTERS } from "../lib/rules/acl_conv.ts";
import { ACL_FETCHES, ACL_KEYWORDS, aclDefaultMatch } from "../lib/rules/acl_fetch.ts";
import { ACL_MATCHES } from "../lib/rules/acl_match.ts";
import {
  SMP_T_NAMES,
  SMP_USE_CONN,
  SMP_USE_L6REQ,
  SMP_USE_REQ,
  SMP_USE_RES,
} from "../lib/rules/acl_types.ts";
import { HTTP_ACTIONS, httpActSyntax } from "../lib/rules/http_act.ts";
import { ACT_F_NAMES } from "../lib/rules/http_act_types.ts";

/** Where docs/keywords.md is, from the repository root. */
export const KEYWORDS_PATH = new URL("../docs/keywords.md", import.meta.url);

/** `a`, `a and b`, `a, b and c`. */
function andList(items: readonly string[]): string {
  return items.length <= 1
    ? items.join("")
    : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** The rules a fetch's SMP_USE_* bits let it appear in. */
function fetchPlaces(use: number): string {
  const places: string[] = [];
  if (use & SMP_USE_CONN) places.push("`tcp-request connection`");
  if (use & (SMP_USE_CONN | SMP_USE_L6REQ)) places.push("`tcp-request content`");
  if (use & SMP_USE_REQ) places.push("`http-request`", "`use_backend`");
  else if (use & SMP_USE_L6REQ) places.push("`use_backend` (TCP mode)");
  if (use & SMP_USE_RES) places.push("`http-response`");
  const values = (use & (SMP_USE_REQ | SMP_USE_RES)) !== 0
    ? "; `%[...]` in the set-header and add-header values of the same HTTP rules"
    : "";
  return `${andList(places)} conditions${values}`;
}

/** The sample types in a bit set (`1 << SMP_T_*`), by name. */
function typeNames(bits: number): string {
  return andList(SMP_T_NAMES.filter((_, t) => (bits & (1 << t)) !== 0));
}

/** One entry: its heading, its paragraphs, then its facts as a list. */
function entry(out: string[], heading: string, text: readonly string[], facts: readonly string[]) {
  out.push(`### ${heading}`, "");
  for (const t of text) out.push(t, "");
  for (const f of facts) out.push(`- ${f}`);
  out.push("");
}

function actionsSection(out: string[]): void {
  out.push(
    "## HTTP actions",
    "",
    "Written `http-request ACTION [if|unless CONDITION]` or `http-response ACTION [if|unless " +
      "CONDITION]` in a frontend or listen section (`rules.httpRequest` and " +
      "`rules.httpResponse` in the API). Rules run in order; an action that answers stops them.",
    "",
  );
  for (const [name, def] of Object.entries(HTTP_ACTIONS)) {
    const kw = httpActSyntax(name, def);
    const where = showFlags(def.phases, ACT_F_NAMES).split("|").map((r) => `\`${r}\``);
    const later = def.later === undefined
      ? ""
      : ` (${showFlags(def.later, ACT_F_NAMES).split("|").map((r) => `\`${r}\``).join(", ")}: ` +
        "not supported yet)";
    const first = showFlags(def.phases, ACT_F_NAMES).split("|")[0];
    entry(out, kw, [`\`${kw} ${def.syntax}\``, `${def.doc}.`], [
      `May appear in: ${andList(where)} rules${later}`,
      `Example: \`${first} ${def.example}\``,
    ]);
  }
}

function algosSection(out: string[]): void {
  out.push(
    "## Load-balancing algorithms",
    "",
    "Written `balance ALGO` in a defaults, backend or listen section, `--balance ALGO` on the " +
      "command line, `balance` in a backend of the API.",
    "",
  );
  const syntaxes = lbAlgoSyntaxes();
  for (const [i, def] of (Object.values(LB_ALGOS) as LbAlgoDef[]).entries()) {
    const options = Object.keys(def.options ?? {}).filter((o) =>
      typeof def.options![o] !== "string"
    );
    const kw = syntaxes[i];
    const opts = options.length === 0
      ? []
      : [`Options: ${options.map((o) => `\`${o}\``).join(", ")}`];
    entry(out, kw, [`${def.doc}.`], [
      ...opts,
      `May appear in: \`balance\` and \`--balance\`${def.http ? ", HTTP backends only" : ""}`,
    ]);
  }
}

function fetchesSection(out: string[]): void {
  out.push(
    "## Fetches",
    "",
    "A fetch reads samples from the request, the response or the connection: in ACL " +
      "expressions (`acl NAME FETCH [flags] PATTERNS`, `{ FETCH PATTERNS }` in a condition) and " +
      "in `%[FETCH]` header values. Without `-m`, its samples are matched with the method of " +
      "their type.",
    "",
  );
  for (const [name, def] of Object.entries(ACL_FETCHES)) {
    const kw = def.args === undefined ? name : `${name}(${def.args})`;
    entry(out, kw, [`${def.doc}.`], [
      `Samples: ${SMP_T_NAMES[def.type]} (${
        aclDefaultMatch(def.type) === null
          ? "no default method: `-m` is required"
          : `default method \`-m ${aclDefaultMatch(def.type)}\``
      })`,
      `May appear in: ${fetchPlaces(def.use)}`,
    ]);
  }
}

function keywordsSection(out: string[]): void {
  out.push(
    "## ACL keywords",
    "",
    "HAProxy's shorthands for a fetch with another matching method: `path_beg /api` is " +
      "`path -m beg /api`.",
    "",
  );
  for (const [kw, [fetch, match]] of Object.entries(ACL_KEYWORDS)) {
    const def = ACL_FETCHES[fetch];
    const args = def.args === undefined ? "" : `(${def.args})`;
    entry(
      out,
      `${kw}${args}`,
      [`\`${fetch}${args} -m ${match}\`: ${def.doc.charAt(0).toLowerCase()}${def.doc.slice(1)}.`],
      [`May appear in: ${fetchPlaces(def.use)}`],
    );
  }
}

function matchesSection(out: string[]): void {
  out.push(
    "## Matching methods",
    "",
    "Written `-m METHOD` after a fetch (before `-i` or the patterns). A sample matches when any " +
      "pattern matches; `-i` ignores ASCII case in string methods and `reg`.",
    "",
  );
  for (const [name, def] of Object.entries(ACL_MATCHES)) {
    entry(out, `-m ${name}`, [`${def.doc}.`], [`Samples: ${typeNames(def.types)}`]);
  }
}

function convertersSection(out: string[]): void {
  out.push(
    "## Converters",
    "",
    "Written after a fetch and a comma: `hdr(host),lower`. Each turns the samples before it.",
    "",
  );
  const rows = Object.entries(ACL_CONVERTERS);
  if (rows.length === 0) {
    out.push("None is supported yet: a fetch with a converter is refused.", "");
  }
  for (const [name, def] of rows) {
    const kw = def.args === undefined ? name : `${name}(${def.args})`;
    entry(out, kw, [`${def.doc}.`], [
      `Samples: takes ${typeNames(def.takes)}, gives ${SMP_T_NAMES[def.type]}`,
    ]);
  }
}

/** The reference as markdown, before `deno fmt`. */
export function keywordsRender(): string {
  const out: string[] = [
    "<!-- Generated by tools/gen_keywords.ts from the registries in lib/: do not edit. -->",
    "",
    "# Keyword reference",
    "",
    "Every HTTP action, load-balancing algorithm, fetch, ACL keyword, matching method and " +
    "converter sluice accepts, generated from the tables its configuration parser uses.",
    "",
  ];
  actionsSection(out);
  algosSection(out);
  fetchesSection(out);
  keywordsSection(out);
  matchesSection(out);
  convertersSection(out);
  return out.join("\n");
}

/** `text` as `deno fmt` formats markdown with the project's settings. */
export async function keywordsFormat(text: string): Promise<string> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext", "md", "-"],
    cwd: new URL("..", import.meta.url),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const child = cmd.spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  if (code !== 0) throw new Error(`deno fmt failed: ${new TextDecoder().decode(stderr)}`);
  return new TextDecoder().decode(stdout);
}

if (import.meta.main) {
  Deno.writeTextFileSync(KEYWORDS_PATH, await keywordsFormat(keywordsRender()));
  console.log(`wrote ${KEYWORDS_PATH.pathname}`);
}
