/**
 * The layer order holds: every import in `lib/` goes down the order that
 * docs/architecture.md documents. The order is read from that file's
 * `### name (`lib/name/`)` headings under "Layers", so the docs and this test
 * cannot drift apart.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const LIB = new URL("lib/", ROOT);

/**
 * The one documented exception: the plug-in interfaces of the stream may
 * name a type of the upper layers that implement them, with `import type`
 * (or `export type ... from`) only, never a value.
 */
const TYPE_ONLY_UPWARD_FROM = new Set(["lib/stream/stream_types.ts"]);

/** A file directly under `lib/` (version.ts) is below every layer: it imports nothing of lib/. */
const OUTSIDE_LAYERS = -1;

/** One `import`/`export ... from` of a module. */
interface ImportDecl {
  /** The module specifier as written. */
  spec: string;
  /** `import type` / `export type`: erased, no module is loaded at run time. */
  typeOnly: boolean;
  /** 1-based line of the statement's start. */
  line: number;
}

// A static import or re-export at the start of a line: default and/or named
// bindings (over several lines too), a namespace, `export *`, or a bare
// side-effect import. Doc comments' examples start with ` * ` and are not
// matched: they are separate modules (`deno test --doc`), not this file's.
const IMPORT_RE = new RegExp(
  String.raw`^[ \t]*(?:(import|export)[ \t]+(type[ \t]+)?` +
    String.raw`(?:[\w$]+[ \t]*,?[ \t]*)?(?:\{[^}]*\}|\*(?:[ \t]+as[ \t]+[\w$]+)?)?` +
    String.raw`[ \t]*from[ \t]*|import[ \t]*)["']([^"']+)["']`,
  "gm",
);

/** The static imports and re-exports of a module's source. */
function parseImports(src: string): ImportDecl[] {
  const out: ImportDecl[] = [];
  for (const m of src.matchAll(IMPORT_RE)) {
    const line = src.slice(0, m.index).split("\n").length;
    out.push({ spec: m[3], typeOnly: m[2] !== undefined, line });
  }
  return out;
}

/** The layers in order, bottom first, from the "Layers" section of docs/architecture.md. */
async function documentedLayers(): Promise<string[]> {
  const doc = await Deno.readTextFile(new URL("docs/architecture.md", ROOT));
  const start = doc.indexOf("\n## Layers\n");
  assert.ok(start >= 0, 'docs/architecture.md has no "## Layers" section');
  const end = doc.indexOf("\n## ", start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  const layers: string[] = [];
  for (const m of section.matchAll(/^### (.*)$/gm)) {
    // One layer per heading, so that every directory has a place in the order.
    const h = m[1].match(/^([a-z_]+) \(`lib\/([a-z_]+)\/`\)$/);
    assert.ok(h !== null && h[1] === h[2], `layer heading not "name (\`lib/name/\`)": ${m[0]}`);
    layers.push(h[1]);
  }
  return layers;
}

/** Every `.ts` file under `dir`, as paths relative to the repository (`lib/x/y.ts`). */
async function tsFiles(dir: URL): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const url = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
    if (e.isDirectory) out.push(...await tsFiles(url));
    else if (e.name.endsWith(".ts")) out.push(url.href.slice(ROOT.href.length));
  }
  return out.sort();
}

/** The layer of a repository path under lib/ (its directory there), or null outside lib/. */
function layerOf(path: string): string | null {
  if (!path.startsWith("lib/")) return null;
  const parts = path.split("/");
  return parts.length > 2 ? parts[1] : "";
}

Deno.test("parseImports() sees every form of static import and re-export, and no doc example", () => {
  const src = [
    `import assert from "node:assert/strict";`,
    `import { a, type B } from "../core/a.ts";`,
    `import type { C } from "../http/c.ts";`,
    `import {`,
    `  d,`,
    `  e,`,
    `} from "./d.ts";`,
    `import f, { g } from "./f.ts";`,
    `import * as h from "./h.ts";`,
    `import "./side_effect.ts";`,
    `export { i } from "./i.ts";`,
    `export type { J } from "../stats/j.ts";`,
    `export * from "./k.ts";`,
    `/**`,
    ` * import { notThis } from "../worker/x.ts";`,
    ` */`,
    `const s = "import { x } from 'y'";`,
  ].join("\n");
  assert.deepEqual(parseImports(src), [
    { spec: "node:assert/strict", typeOnly: false, line: 1 },
    { spec: "../core/a.ts", typeOnly: false, line: 2 },
    { spec: "../http/c.ts", typeOnly: true, line: 3 },
    { spec: "./d.ts", typeOnly: false, line: 4 },
    { spec: "./f.ts", typeOnly: false, line: 8 },
    { spec: "./h.ts", typeOnly: false, line: 9 },
    { spec: "./side_effect.ts", typeOnly: false, line: 10 },
    { spec: "./i.ts", typeOnly: false, line: 11 },
    { spec: "../stats/j.ts", typeOnly: true, line: 12 },
    { spec: "./k.ts", typeOnly: false, line: 13 },
  ]);
});

Deno.test("every directory of lib/ is a documented layer, and every documented layer a directory", async () => {
  const layers = await documentedLayers();
  const dirs: string[] = [];
  for await (const e of Deno.readDir(LIB)) if (e.isDirectory) dirs.push(e.name);
  assert.deepEqual([...layers].sort(), dirs.sort());
});

Deno.test("no import in lib/ goes up the layer order of docs/architecture.md", async () => {
  const order = await documentedLayers();
  const rank = (layer: string) => layer === "" ? OUTSIDE_LAYERS : order.indexOf(layer);
  const upward: string[] = [];
  let seen = 0;
  for (const file of await tsFiles(LIB)) {
    const from = layerOf(file)!;
    const src = await Deno.readTextFile(new URL(file, ROOT));
    for (const imp of parseImports(src)) {
      seen++;
      if (!imp.spec.startsWith(".")) continue; // node:, npm:, jsr: modules
      const target = new URL(imp.spec, new URL(file, ROOT)).href.slice(ROOT.href.length);
      const to = layerOf(target);
      const where = `${file}:${imp.line} imports ${target}`;
      if (to === null) upward.push(`${where}: outside lib/`);
      else if (to === from) continue;
      else if (rank(to) < rank(from)) continue;
      else if (imp.typeOnly && TYPE_ONLY_UPWARD_FROM.has(file)) continue;
      else upward.push(`${where}: ${from || "lib/"} is below ${to}`);
    }
  }
  // A parser that silently saw nothing would pass: lib/ has hundreds of imports.
  assert.ok(seen > 300, `only ${seen} imports found in lib/`);
  assert.deepEqual(upward, [], `imports that go up the layers:\n${upward.join("\n")}`);
});
