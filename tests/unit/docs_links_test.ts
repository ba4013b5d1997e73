/**
 * The documentation holds together: every relative link and `#anchor` in
 * README.md, CONTRIBUTING.md and docs/*.md points at a file that exists and
 * a heading it has (anchors as GitHub makes them), every page of docs/ is
 * reachable from the README, and the README stays a front door (under 200
 * lines).
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The Markdown files checked, relative to the repository. */
function pages(): string[] {
  const docs = [...Deno.readDirSync(`${ROOT}docs`)]
    .filter((e) => e.isFile && e.name.endsWith(".md"))
    .map((e) => `docs/${e.name}`)
    .sort();
  return ["README.md", "CONTRIBUTING.md", ...docs];
}

/** The lines of `text` outside fenced code blocks, with their numbers. */
function proseLines(text: string): [number, string][] {
  const out: [number, string][] = [];
  let fence: string | null = null;
  text.split("\n").forEach((line, i) => {
    const m = /^\s*(`{3,}|~{3,})/.exec(line);
    if (m !== null) {
      if (fence === null) fence = m[1];
      else if (m[1].startsWith(fence)) fence = null;
      return;
    }
    if (fence === null) out.push([i + 1, line]);
  });
  return out;
}

/**
 * GitHub's anchor for a heading (github-slugger): the rendered text in
 * lower case, without punctuation and symbols (letters, marks, digits, `_`,
 * `-` and spaces stay), each space a `-`; a repeated slug gets `-1`, `-2`...
 */
function githubSlug(heading: string, seen: Map<string, number>): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // links and images: their text
    .replace(/<[^>]+>/g, "") // inline HTML tags
    .trim()
    .toLowerCase();
  const base = text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
  const n = seen.get(base) ?? 0;
  seen.set(base, n + 1);
  return n === 0 ? base : `${base}-${n}`;
}

/** Every anchor of a Markdown file. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, line] of proseLines(Deno.readTextFileSync(`${ROOT}${file}`))) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (m !== null) out.add(githubSlug(m[1], seen));
  }
  return out;
}

/** Relative links of a page: `[text](target)` and images, outside code. */
function links(file: string): { line: number; target: string }[] {
  const out: { line: number; target: string }[] = [];
  for (const [n, raw] of proseLines(Deno.readTextFileSync(`${ROOT}${file}`))) {
    const line = raw.replace(/`[^`]*`/g, "``"); // code spans are not links
    for (const m of line.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      out.push({ line: n, target: m[1] });
    }
  }
  return out;
}

/** Resolves `target` from `file` to a repository path and an anchor. */
function resolve(file: string, target: string): { path: string; anchor: string | null } {
  const [p, anchor] = target.split("#", 2) as [string, string | undefined];
  if (p === "") return { path: file, anchor: anchor ?? null };
  const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/") + 1) : "";
  const parts: string[] = [];
  for (const seg of `${dir}${p}`.split("/")) {
    if (seg === "..") parts.pop();
    else if (seg !== "." && seg !== "") parts.push(seg);
  }
  return { path: parts.join("/"), anchor: anchor ?? null };
}

Deno.test("githubSlug() makes GitHub's anchors", () => {
  const seen = new Map<string, number>();
  assert.equal(githubSlug("`--timeout`", seen), "--timeout");
  assert.equal(githubSlug("`-f`, `--config`", seen), "-f---config");
  assert.equal(githubSlug("Why `--allow-ffi`", seen), "why---allow-ffi");
  assert.equal(
    githubSlug("I/O on Deno: what we measured and chose", seen),
    "io-on-deno-what-we-measured-and-chose",
  );
  assert.equal(githubSlug("`default_backend`", seen), "default_backend");
  assert.equal(githubSlug("server `weight`", seen), "server-weight");
  assert.equal(
    githubSlug("Like `Deno.serve()`: `signal`, `onListen`", seen),
    "like-denoserve-signal-onlisten",
  );
  assert.equal(githubSlug("See [the docs](x.md)", seen), "see-the-docs");
  assert.equal(githubSlug("`maxconn`", seen), "maxconn");
  assert.equal(githubSlug("`maxconn`", seen), "maxconn-1");
});

Deno.test("every relative link and #anchor in README, CONTRIBUTING and docs/ resolves", () => {
  const broken: string[] = [];
  const cache = new Map<string, Set<string>>();
  for (const file of pages()) {
    for (const { line, target } of links(file)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, file:...
      const { path, anchor } = resolve(file, target);
      let stat: Deno.FileInfo;
      try {
        stat = Deno.statSync(`${ROOT}${path}`);
      } catch {
        broken.push(`${file}:${line}: ${target}: no such file "${path}"`);
        continue;
      }
      if (anchor === null) continue;
      if (!stat.isFile || !path.endsWith(".md")) {
        broken.push(`${file}:${line}: ${target}: an anchor into "${path}", not a Markdown file`);
        continue;
      }
      if (!cache.has(path)) cache.set(path, anchors(path));
      if (!cache.get(path)!.has(anchor)) {
        broken.push(`${file}:${line}: ${target}: "${path}" has no heading "#${anchor}"`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

Deno.test("every page of docs/ is listed in docs/README.md, which the README links", () => {
  const linked = (file: string) => new Set(links(file).map((l) => resolve(file, l.target).path));
  const index = linked("docs/README.md");
  const missing = pages().filter((p) => p.startsWith("docs/") && p !== "docs/README.md")
    .filter((p) => !index.has(p));
  assert.deepEqual(missing, [], "pages docs/README.md does not list");
  assert.ok(linked("README.md").has("docs/README.md"), "README links docs/README.md");
});

Deno.test("README.md is a front door: under 200 lines", () => {
  const lines = Deno.readTextFileSync(`${ROOT}README.md`).split("\n").length;
  assert.ok(lines < 200, `README.md has ${lines} lines`);
});
