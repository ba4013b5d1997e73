/**
 * The static backends' open-file cache (static_cache.ts) on real files, with
 * an explicit clock: entries trusted within the validity, checked again
 * after it (changed, deleted, relinked), nothing kept for names that do not
 * resolve or with a validity of 0, and the bounds (paths, bytes, file size)
 * held by dropping the least recently used.
 */
import assert from "node:assert/strict";
import { StaticFileCache } from "../../lib/applet/static_cache.ts";
import { withTempDirSync } from "../helpers/temp_dir.ts";

const DEC = new TextDecoder();

/** The content `c` serves for `p` at `now` (validity 1000), or null. */
function served(c: StaticFileCache, p: string, now: number): string | null {
  const e = c.probe(p, 1000, now);
  if (e === null) return null;
  const b = c.content(p, e);
  return b === null ? `<not kept: ${e.real}>` : DEC.decode(b);
}

Deno.test("static cache: trusted within the validity, checked again after it", () => {
  withTempDirSync((dir) => {
    const c = new StaticFileCache(undefined, 0);
    const p = `${dir}/a.txt`;
    Deno.writeTextFileSync(p, "one");
    Deno.utimeSync(p, 1000, 1000);
    assert.equal(served(c, p, 0), "one");
    const e = c.probe(p, 1000, 10)!;
    assert.equal(e.meta.size, 3);
    assert.equal(c.bytes, 3);
    Deno.writeTextFileSync(p, "two!");
    Deno.utimeSync(p, 2000, 2000);
    // Within the window the old answer holds (as nginx's cached descriptors).
    assert.equal(served(c, p, 999), "one");
    assert.equal(served(c, p, 1000), "two!");
    assert.equal(c.bytes, 4);
    // Same size, new content: the modification time tells.
    Deno.writeTextFileSync(p, "TWO!");
    Deno.utimeSync(p, 3000, 3000);
    assert.equal(served(c, p, 2500), "TWO!");
    // Unchanged after the window: the same entry, its bytes kept.
    const kept = c.probe(p, 1000, 2500)!;
    assert.equal(c.probe(p, 1000, 4000), kept);
    // A clock going back does not extend trust.
    Deno.writeTextFileSync(p, "three");
    assert.equal(served(c, p, 100), "three");
    // Deleted: gone after the window, and not kept.
    Deno.removeSync(p);
    assert.equal(served(c, p, 150), "three");
    assert.equal(served(c, p, 1200), null);
    assert.equal(c.entries, 0);
    assert.equal(c.bytes, 0);
  });
});

Deno.test("static cache: a relinked path resolves anew after the window", () => {
  withTempDirSync((dir) => {
    const c = new StaticFileCache(undefined, 0);
    Deno.mkdirSync(`${dir}/root`);
    Deno.writeTextFileSync(`${dir}/root/in.txt`, "inside");
    Deno.writeTextFileSync(`${dir}/out.txt`, "outside");
    const link = `${dir}/root/l.txt`;
    Deno.symlinkSync(`${dir}/root/in.txt`, link);
    const real = Deno.realPathSync(dir);
    assert.equal(c.probe(link, 1000, 0)!.real, `${real}/root/in.txt`);
    Deno.removeSync(link);
    Deno.symlinkSync(`${dir}/out.txt`, link);
    assert.equal(c.probe(link, 1000, 500)!.real, `${real}/root/in.txt`);
    assert.equal(c.probe(link, 1000, 1000)!.real, `${real}/out.txt`);
  });
});

Deno.test("static cache: a file changed just now keeps no bytes until checked again", () => {
  withTempDirSync((dir) => {
    const c = new StaticFileCache(undefined, 60_000);
    const p = `${dir}/a.txt`;
    Deno.writeTextFileSync(p, "fresh");
    const e = c.probe(p, 1000, 0)!;
    assert.equal(c.content(p, e), null);
    assert.equal(c.bytes, 0);
    // The caller reads the file itself; the entry still answers metadata.
    assert.equal(e.meta.size, 5);
    assert.equal(c.probe(p, 1000, 10), e);
  });
});

Deno.test("static cache: what does not resolve, and validity 0, are not kept", () => {
  withTempDirSync((dir) => {
    const c = new StaticFileCache(undefined, 0);
    assert.equal(c.probe(`${dir}/nope`, 1000, 0), null);
    Deno.writeTextFileSync(`${dir}/a`, "x");
    const e = c.probe(`${dir}/a`, 0, 0)!;
    assert.equal(e.isFile, true);
    assert.equal(c.content(`${dir}/a`, e), null);
    assert.equal(c.entries, 0);
    assert.equal(c.bytes, 0);
    // A directory has metadata, never content.
    const d = c.probe(dir, 1000, 0)!;
    assert.equal(d.isDirectory, true);
    assert.equal(c.content(dir, d), null);
  });
});

Deno.test("static cache: bounded paths and bytes, least recently used first", () => {
  withTempDirSync((dir) => {
    const c = new StaticFileCache({ entries: 3, bytes: 100, fileBytes: 40 }, 0);
    const p = (i: number) => `${dir}/f${i}`;
    for (let i = 0; i < 6; i++) Deno.writeTextFileSync(p(i), String(i).repeat(30));
    Deno.writeTextFileSync(`${dir}/big`, "b".repeat(41));
    // Larger than fileBytes: metadata only.
    const big = c.probe(`${dir}/big`, 1000, 0)!;
    assert.equal(c.content(`${dir}/big`, big), null);
    assert.equal(big.noBytes, true);
    assert.equal(c.bytes, 0);
    for (let i = 0; i < 3; i++) assert.equal(served(c, p(i), 0), String(i).repeat(30));
    // Four paths asked, three kept: "big" (the oldest) went.
    assert.equal(c.entries, 3);
    assert.equal(c.bytes, 90);
    // f0 used again: f1 is now the least recently used.
    served(c, p(0), 1);
    served(c, p(3), 2);
    assert.equal(c.entries, 3);
    assert.equal(c.bytes, 90);
    // f1 was dropped: asking again reads it again (a new entry).
    const f2 = c.probe(p(2), 1000, 3)!;
    served(c, p(1), 4);
    assert.equal(c.entries, 3);
    assert.ok(c.bytes <= 100);
    assert.equal(c.probe(p(2), 1000, 5), f2, "f2 was kept (used after f0)");
    // Bytes bound alone: entries allowed, bytes not.
    const d = new StaticFileCache({ entries: 100, bytes: 70, fileBytes: 40 }, 0);
    for (let i = 0; i < 6; i++) served(d, p(i), i);
    assert.ok(d.bytes <= 70, `${d.bytes} bytes`);
    assert.equal(d.bytes, 60);
    assert.throws(() => new StaticFileCache({ entries: 1, bytes: 10, fileBytes: 11 }), RangeError);
  });
});
