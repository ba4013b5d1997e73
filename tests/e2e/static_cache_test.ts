/**
 * The static backends' open-file cache end to end over loopback, with a
 * short `static-cache-valid`: a file changed on disk is served fresh (body,
 * ETag, Last-Modified, 304 against the old ETag no more) once the window is
 * past, a deleted file stops being served, a symbolic link replaced to
 * point outside the root is refused (a large file, opened per response, at
 * once), and ranges are cut from cached bytes.
 * Waits are bounded polls, no timing is asserted.
 */
import assert from "node:assert/strict";
import { cfgProxy, exchange } from "../helpers/http.ts";
import { withTempDir } from "../helpers/temp_dir.ts";

interface Res {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** One request (Connection: close) with `hdrs`. */
async function get(port: number, target: string, hdrs: Record<string, string> = {}): Promise<Res> {
  let req = `GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n`;
  for (const [k, v] of Object.entries(hdrs)) req += `${k}: ${v}\r\n`;
  const e = await exchange(port, req + "\r\n", { timeoutMs: 5000 });
  const end = e.text.indexOf("\r\n\r\n");
  assert.ok(end > 0, `a response to ${target}`);
  const lines = e.text.slice(0, end).split("\r\n");
  const headers = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const c = l.indexOf(":");
    headers.set(l.slice(0, c).toLowerCase(), l.slice(c + 1).trim());
  }
  return { status: Number(lines[0].split(" ")[1]), headers, body: e.text.slice(end + 4) };
}

/** Polls `target` until `ok` holds for its response (bounded: 5 s), returns that response. */
async function until(port: number, target: string, ok: (r: Res) => boolean): Promise<Res> {
  const end = Date.now() + 5000;
  for (;;) {
    const r = await get(port, target);
    if (ok(r)) return r;
    if (Date.now() > end) assert.fail(`${target}: still ${r.status} ${r.body.slice(0, 40)}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

/** A site serving `root` with a 50 ms cache validity. */
function site(root: string): string[] {
  return [
    // One thread: each worker has its own cache, and these tests follow one
    // cache's window (a second worker may still be inside its own).
    "global",
    "  nbthread 1",
    "defaults",
    "  mode http",
    "  timeout client 5s",
    "  timeout server 5s",
    "  timeout connect 1s",
    "frontend fe",
    "  bind 127.0.0.1:0",
    "  default_backend files",
    "backend files",
    `  static-root ${root}`,
    "  static-cache-valid 50ms",
  ];
}

Deno.test("static cache: a changed file is served fresh after the window, validators too", async () => {
  await withTempDir(async (base) => {
    const root = `${base}/root`;
    await Deno.mkdir(root);
    await Deno.writeTextFile(`${root}/a.txt`, "version one\n");
    await Deno.utime(`${root}/a.txt`, 1_000_000, 1_000_000);
    await using p = await cfgProxy(site(root));
    const one = await get(p.port, "/a.txt");
    assert.equal(one.body, "version one\n");
    const etag1 = one.headers.get("etag")!;
    assert.equal((await get(p.port, "/a.txt", { "If-None-Match": etag1 })).status, 304);
    const r = await get(p.port, "/a.txt", { Range: "bytes=8-10" });
    assert.equal(r.status, 206);
    assert.equal(r.body, "one");
    // Same size, new content and modification time.
    await Deno.writeTextFile(`${root}/a.txt`, "version two\n");
    await Deno.utime(`${root}/a.txt`, 2_000_000, 2_000_000);
    const two = await until(p.port, "/a.txt", (r) => r.body === "version two\n");
    assert.notEqual(two.headers.get("etag"), etag1);
    assert.equal(two.headers.get("last-modified"), new Date(2_000_000_000).toUTCString());
    assert.equal((await get(p.port, "/a.txt", { "If-None-Match": etag1 })).status, 200);
    // Another size.
    await Deno.writeTextFile(`${root}/a.txt`, "3\n");
    const three = await until(p.port, "/a.txt", (r) => r.body === "3\n");
    assert.equal(three.headers.get("content-length"), "2");
  });
});

Deno.test("static cache: a deleted file stops being served; a new one is served at once", async () => {
  await withTempDir(async (base) => {
    const root = `${base}/root`;
    await Deno.mkdir(root);
    await Deno.writeTextFile(`${root}/gone.txt`, "here");
    await using p = await cfgProxy(site(root));
    assert.equal((await get(p.port, "/gone.txt")).body, "here");
    assert.equal((await get(p.port, "/new.txt")).status, 404);
    await Deno.remove(`${root}/gone.txt`);
    await until(p.port, "/gone.txt", (r) => r.status === 404);
    // What did not exist is not remembered.
    await Deno.writeTextFile(`${root}/new.txt`, "new");
    assert.equal((await get(p.port, "/new.txt")).body, "new");
  });
});

Deno.test("static cache: a link replaced to point outside the root is refused after the window", async () => {
  await withTempDir(async (base) => {
    const root = `${base}/root`;
    await Deno.mkdir(root);
    await Deno.writeTextFile(`${root}/in.txt`, "inside");
    await Deno.writeTextFile(`${base}/secret.txt`, "SECRET");
    await Deno.symlink(`${root}/in.txt`, `${root}/l.txt`);
    await Deno.mkdir(`${root}/d`);
    await Deno.writeTextFile(`${root}/d/f.txt`, "in dir");
    await using p = await cfgProxy(site(root));
    assert.equal((await get(p.port, "/l.txt")).body, "inside");
    assert.equal((await get(p.port, "/d/f.txt")).body, "in dir");
    await Deno.remove(`${root}/l.txt`);
    await Deno.symlink(`${base}/secret.txt`, `${root}/l.txt`);
    const r = await until(p.port, "/l.txt", (r) => r.status === 404);
    assert.ok(!r.body.includes("SECRET"));
    // A directory replaced by a link to outside: same.
    await Deno.mkdir(`${base}/outdir`);
    await Deno.writeTextFile(`${base}/outdir/f.txt`, "SECRET");
    await Deno.rename(`${root}/d`, `${base}/old-d`);
    await Deno.symlink(`${base}/outdir`, `${root}/d`);
    const d = await until(p.port, "/d/f.txt", (r) => r.status === 404);
    assert.ok(!d.body.includes("SECRET"));
    // A file too large to keep is opened (by its cached real path) per
    // response: the file opened must be the one resolved, so with its
    // directory swapped for a link to outside, the outside one is never
    // sent, even within the window.
    const big = "i".repeat(100 * 1024);
    await Deno.mkdir(`${root}/bd`);
    await Deno.writeTextFile(`${root}/bd/big.bin`, big);
    await Deno.mkdir(`${base}/bigout`);
    await Deno.writeTextFile(`${base}/bigout/big.bin`, "SECRET".repeat(20 * 1024));
    assert.equal((await get(p.port, "/bd/big.bin")).body, big);
    await Deno.rename(`${root}/bd`, `${base}/old-bd`);
    await Deno.symlink(`${base}/bigout`, `${root}/bd`);
    const b = await get(p.port, "/bd/big.bin");
    assert.equal(b.status, 404);
    assert.ok(!b.body.includes("SECRET"));
  });
});
