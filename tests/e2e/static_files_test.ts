/**
 * Static-file backends end to end over loopback: GET, HEAD, 405, 304, 412,
 * ranges (single, suffix, open, multipart, 416, If-Range), the directory
 * redirect, index and listing, precompressed variants, dotfiles, escape
 * attempts against a secret placed beside the root, routing from a
 * frontend with rules, the log line and the counters, and a large file
 * streamed without holding it in memory.
 */
import assert from "node:assert/strict";
import { startSluice } from "../../mod.ts";
import { cfgProxy, exchange } from "../helpers/http.ts";
import { withTempDir } from "../helpers/temp_dir.ts";
import { waitFor } from "../helpers/net.ts";
import { modelUpstream } from "../helpers/http.ts";

const SECRET = "TOPSECRET-beside-the-root";
const DOTSECRET = "DOTSECRET-in-the-root";

/** A root with files, a secret beside it, links in and out. Returns the root. */
async function tree(base: string): Promise<string> {
  const root = `${base}/root`;
  await Deno.mkdir(`${root}/sub/deeper`, { recursive: true });
  await Deno.mkdir(`${root}/docs`);
  await Deno.writeTextFile(`${base}/secret.txt`, SECRET);
  await Deno.writeTextFile(`${root}/index.html`, "<h1>home</h1>\n");
  await Deno.writeTextFile(`${root}/a.txt`, "hello world\n");
  await Deno.writeTextFile(`${root}/docs/index.html`, "docs home\n");
  await Deno.writeTextFile(`${root}/r.bin`, "0123456789".repeat(10));
  await Deno.writeTextFile(`${root}/app.js`, "console.log('plain');\n");
  await Deno.writeTextFile(`${root}/app.js.gz`, "GZ-BYTES");
  await Deno.writeTextFile(`${root}/app.js.br`, "BR-BYTES");
  await Deno.writeTextFile(`${root}/.env`, DOTSECRET);
  await Deno.writeTextFile(`${root}/sub/x y.txt`, "spaced");
  await Deno.writeTextFile(`${root}/sub/<b>&.txt`, "markup");
  await Deno.writeTextFile(`${root}/sub/.hidden`, DOTSECRET);
  await Deno.symlink(`${base}/secret.txt`, `${root}/link-out`);
  await Deno.symlink(base, `${root}/dirlink`);
  await Deno.symlink(`${root}/a.txt`, `${root}/link-in.txt`);
  await Deno.symlink(`${root}/.env`, `${root}/env-link.txt`);
  return root;
}

const DEFAULTS = [
  "defaults",
  "  mode http",
  "  log global",
  "  timeout client 5s",
  "  timeout server 5s",
  "  timeout connect 1s",
];

/** A frontend with a static default backend, extra `be` lines, from a root. */
function site(root: string, be: string[] = []): string[] {
  return [
    ...DEFAULTS,
    "frontend fe",
    "  bind 127.0.0.1:0",
    "  default_backend files",
    "backend files",
    `  static-root ${root}`,
    ...be.map((l) => `  ${l}`),
  ];
}

interface Res {
  status: number;
  headers: Map<string, string>;
  body: string;
  raw: string;
}

/** Parses one response (Content-Length framed, or up to the close). */
function parseRes(raw: string, head = false): Res {
  const end = raw.indexOf("\r\n\r\n");
  assert.ok(end > 0, `a response head in ${JSON.stringify(raw.slice(0, 200))}`);
  const lines = raw.slice(0, end).split("\r\n");
  const headers = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const c = l.indexOf(":");
    headers.set(l.slice(0, c).toLowerCase(), l.slice(c + 1).trim());
  }
  const len = Number(headers.get("content-length") ?? NaN);
  const rest = raw.slice(end + 4);
  const body = head ? "" : Number.isNaN(len) ? rest : rest.slice(0, len);
  return { status: Number(lines[0].split(" ")[1]), headers, body, raw };
}

/** One request (Connection: close) with `hdrs`. */
async function get(
  port: number,
  target: string,
  hdrs: Record<string, string> = {},
  method = "GET",
): Promise<Res> {
  let req = `${method} ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n`;
  for (const [k, v] of Object.entries(hdrs)) req += `${k}: ${v}\r\n`;
  const e = await exchange(port, req + "\r\n", { timeoutMs: 5000 });
  assert.ok(e.closed, `closed after ${target}`);
  return parseRes(e.text, method === "HEAD");
}

Deno.test("static: GET, HEAD, keep-alive, 405, content types and validators", async () => {
  await withTempDir(async (base) => {
    const root = await tree(base);
    await using p = await cfgProxy(site(root, ['static-cache-control "max-age=60"']));
    const r = await get(p.port, "/a.txt?ignored=1");
    assert.equal(r.status, 200);
    assert.equal(r.body, "hello world\n");
    assert.equal(r.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(r.headers.get("content-length"), "12");
    assert.equal(r.headers.get("cache-control"), "max-age=60");
    assert.ok(Math.abs(Date.parse(r.headers.get("date")!) - Date.now()) < 60_000);
    assert.equal(r.headers.get("accept-ranges"), "bytes");
    assert.match(r.headers.get("etag")!, /^"[0-9a-f]+-c"$/);
    const st = await Deno.stat(`${root}/a.txt`);
    assert.equal(r.headers.get("last-modified"), st.mtime!.toUTCString());
    const h = await get(p.port, "/a.txt", {}, "HEAD");
    assert.equal(h.status, 200);
    assert.equal(h.headers.get("content-length"), "12");
    assert.ok(h.raw.endsWith("\r\n\r\n"), "no body for HEAD");
    assert.equal((await get(p.port, "/")).body, "<h1>home</h1>\n");
    assert.equal(
      (await get(p.port, "/app.js")).headers.get("content-type"),
      "text/javascript; charset=utf-8",
    );
    assert.equal(
      (await get(p.port, "/r.bin")).headers.get("content-type"),
      "application/octet-stream",
    );
    assert.equal((await get(p.port, "/sub/x%20y.txt")).body, "spaced");
    assert.equal((await get(p.port, "/link-in.txt")).body, "hello world\n");
    assert.equal((await get(p.port, "/nope.txt")).status, 404);
    assert.equal((await get(p.port, "/a.txt/")).status, 404);
    for (const m of ["POST", "PUT", "DELETE", "OPTIONS"]) {
      const x = await get(p.port, "/a.txt", {}, m);
      assert.equal(x.status, 405, m);
      assert.equal(x.headers.get("allow"), "GET, HEAD");
    }
    // Keep-alive with the client: several requests (one with a body) on one connection.
    const two = await exchange(
      p.port,
      "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n" +
        "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello" +
        "GET /sub/x%20y.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
      { timeoutMs: 5000 },
    );
    assert.ok(two.closed);
    assert.equal(two.text.match(/HTTP\/1\.1 /g)?.length, 3, two.text);
    assert.match(
      two.text,
      /^HTTP\/1\.1 200[^]*hello world\n[^]*HTTP\/1\.1 405[^]*HTTP\/1\.1 200[^]*spaced$/,
    );
  });
});

Deno.test("static: 304 and 412 from the preconditions", async () => {
  await withTempDir(async (base) => {
    const root = await tree(base);
    await using p = await cfgProxy(site(root));
    const r = await get(p.port, "/a.txt");
    const etag = r.headers.get("etag")!, lm = r.headers.get("last-modified")!;
    const nm = await get(p.port, "/a.txt", { "If-None-Match": etag });
    assert.equal(nm.status, 304);
    assert.equal(nm.headers.get("etag"), etag);
    assert.equal(nm.body, "");
    assert.equal((await get(p.port, "/a.txt", { "If-None-Match": '"x"' })).status, 200);
    assert.equal((await get(p.port, "/a.txt", { "If-Modified-Since": lm })).status, 304);
    assert.equal(
      (await get(p.port, "/a.txt", { "If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT" }))
        .status,
      200,
    );
    assert.equal((await get(p.port, "/a.txt", { "If-Match": '"x"' })).status, 412);
    assert.equal((await get(p.port, "/a.txt", { "If-Match": etag })).status, 200);
    assert.equal(
      (await get(p.port, "/a.txt", { "If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT" }))
        .status,
      412,
    );
    assert.equal((await get(p.port, "/a.txt", { "If-Unmodified-Since": lm })).status, 200);
    assert.equal((await get(p.port, "/a.txt", { "If-None-Match": etag }, "HEAD")).status, 304);
  });
});

Deno.test("static: ranges: single, suffix, open, multipart, 416, If-Range", async () => {
  await withTempDir(async (base) => {
    const root = await tree(base);
    await using p = await cfgProxy(site(root));
    const one = await get(p.port, "/r.bin", { Range: "bytes=10-14" });
    assert.equal(one.status, 206);
    assert.equal(one.body, "01234");
    assert.equal(one.headers.get("content-range"), "bytes 10-14/100");
    assert.equal(one.headers.get("content-length"), "5");
    const suffix = await get(p.port, "/r.bin", { Range: "bytes=-3" });
    assert.equal(suffix.body, "789");
    assert.equal(suffix.headers.get("content-range"), "bytes 97-99/100");
    const open = await get(p.port, "/r.bin", { Range: "bytes=95-" });
    assert.equal(open.body, "56789");
    const bad = await get(p.port, "/r.bin", { Range: "bytes=100-" });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers.get("content-range"), "bytes */100");
    const multi = await get(p.port, "/r.bin", { Range: "bytes=0-1, 98-" });
    assert.equal(multi.status, 206);
    const m = /^multipart\/byteranges; boundary=(\S+)$/.exec(multi.headers.get("content-type")!);
    assert.ok(m !== null);
    const b = m[1];
    assert.equal(
      multi.body,
      `\r\n--${b}\r\ncontent-type: application/octet-stream\r\ncontent-range: bytes 0-1/100\r\n\r\n01` +
        `\r\n--${b}\r\ncontent-type: application/octet-stream\r\ncontent-range: bytes 98-99/100\r\n\r\n89` +
        `\r\n--${b}--\r\n`,
    );
    assert.equal(Number(multi.headers.get("content-length")), multi.body.length);
    const etag = one.headers.get("etag")!;
    const ir = await get(p.port, "/r.bin", { Range: "bytes=0-0", "If-Range": etag });
    assert.equal(ir.status, 206);
    const stale = await get(p.port, "/r.bin", { Range: "bytes=0-0", "If-Range": '"old"' });
    assert.equal(stale.status, 200);
    assert.equal(stale.body.length, 100);
    // Not a byte range: ignored.
    assert.equal((await get(p.port, "/r.bin", { Range: "lines=1-2" })).status, 200);
  });
});

Deno.test("static: directories: 301 to the slash form, index, listing, 403", async () => {
  await withTempDir(async (base) => {
    const root = await tree(base);
    await using p = await cfgProxy(site(root));
    const r = await get(p.port, "/docs?x=1");
    assert.equal(r.status, 301);
    assert.equal(r.headers.get("location"), "/docs/?x=1");
    assert.equal((await get(p.port, "/docs/")).body, "docs home\n");
    assert.equal((await get(p.port, "/sub/")).status, 403);
    // A path like //host must not redirect off-site.
    const dbl = await get(p.port, "//sub");
    assert.equal(dbl.headers.get("location"), "/sub/");
    await using q = await cfgProxy(site(root, ["static-autoindex on", "static-index none.html"]));
    const l = await get(q.port, "/sub/");
    assert.equal(l.status, 200);
    assert.equal(l.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(l.body, /<a href="x%20y\.txt">x y\.txt<\/a>/);
    assert.match(l.body, /<a href="%3Cb%3E%26\.txt">&#60;b&#62;&#38;\.txt<\/a>/);
    assert.match(l.body, /<a href="deeper\/">deeper\/<\/a>/);
    assert.ok(!l.body.includes(".hidden"), "dotfiles are not listed");
    assert.ok(!l.body.includes("<b>"), "names are escaped");
  });
});

Deno.test("static: precompressed variants with Content-Encoding and Vary", async () => {
  await withTempDir(async (base) => {
    const root = await tree(base);
    await using p = await cfgProxy(site(root, ["static-precompressed br gzip"]));
    const br = await get(p.port, "/app.js", { "Accept-Encoding": "gzip, br" });
    assert.equal(br.body, "BR-BYTES");
    assert.equal(br.headers.get("content-encoding"), "br");
    assert.equal(br.headers.get("vary"), "Accept-Encoding");
    assert.equal(br.headers.get("content-type"), "text/javascript; charset=utf-8");
    const gz = await get(p.port, "/app.js", { "Accept-Encoding": "gzip, br;q=0" });
    assert.equal(gz.body, "GZ-BYTES");
    assert.equal(gz.headers.get("content-encoding"), "gzip");
    const plain = await get(p.port, "/app.js");
    assert.equal(plain.body, "console.log('plain');\n");
    assert.equal(plain.headers.get("content-encoding"), undefined);
    assert.equal(plain.headers.get("vary"), "Accept-Encoding");
    assert.notEqual(plain.headers.get("etag"), gz.headers.get("etag"));
    // No variant: the file itself.
    const a = await get(p.port, "/a.txt", { "Accept-Encoding": "gzip" });
    assert.equal(a.body, "hello world\n");
    assert.equal(a.headers.get("content-encoding"), undefined);
  });
});

Deno.test("static: dotfiles are refused by default, served when allowed", async () => {
  await withTempDir(async (base) => {
    const root = await tree(base);
    await using p = await cfgProxy(site(root));
    for (const t of ["/.env", "/%2eenv", "/sub/.hidden", "/env-link.txt", "/sub/../.env"]) {
      const r = await get(p.port, t);
      assert.equal(r.status, 404, t);
      assert.ok(!r.raw.includes(DOTSECRET), t);
    }
    await using q = await cfgProxy(site(root, ["static-dotfiles allow"]));
    assert.equal((await get(q.port, "/.env")).body, DOTSECRET);
    assert.equal((await get(q.port, "/env-link.txt")).body, DOTSECRET);
  });
});

Deno.test("static: no escape from the root (secret beside it, links out, encodings)", async () => {
  await withTempDir(async (base) => {
    const root = await tree(base);
    await using p = await cfgProxy(site(root, ["static-autoindex on", "static-dotfiles allow"]));
    const forms = [
      "/../secret.txt",
      "/..%2fsecret.txt",
      "/%2e%2e/secret.txt",
      "/%2e%2e%2fsecret.txt",
      "/%2E%2E/secret.txt",
      "/.%2e/secret.txt",
      "/%2e./secret.txt",
      "/..%5csecret.txt",
      "/..\\secret.txt",
      "/%252e%252e/secret.txt",
      "/%252e%252e%252fsecret.txt",
      "/..%255csecret.txt",
      "/sub/../../secret.txt",
      "/sub/%2e%2e/%2e%2e/secret.txt",
      "/sub/..%2f..%2fsecret.txt",
      "/./../secret.txt",
      "//../secret.txt",
      "/%00/../secret.txt",
      "/a.txt%00/../../secret.txt",
      "/link-out",
      "/dirlink/secret.txt",
      "/dirlink/root/../secret.txt",
      "/dirlink/",
      "/%c0%ae%c0%ae/secret.txt",
      "/%c0%af..%c0%afsecret.txt",
      "/..;/secret.txt",
      "/....//secret.txt",
      "/.../secret.txt",
      "/%2e%2e%5c%2e%2e%5csecret.txt",
      `/${base}/secret.txt`,
      `/%2f${base.slice(1)}/secret.txt`,
      `/..${base}/secret.txt`,
      "/a.txt/../../secret.txt",
      "/sub/deeper/../../../secret.txt",
      "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
      "http://t/../secret.txt",
      "http://t/%2e%2e/secret.txt",
      "/?/../../secret.txt",
    ];
    assert.ok(forms.length >= 30);
    for (const t of forms) {
      const e = await exchange(
        p.port,
        `GET ${t} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`,
        {
          timeoutMs: 5000,
        },
      );
      assert.ok(e.text.startsWith("HTTP/1.1 "), `${t}: ${e.text.slice(0, 60)}`);
      assert.ok(!e.text.includes(SECRET), `${t} leaked the secret: ${e.text.slice(0, 60)}`);
      assert.ok(!e.text.includes("root:"), t);
      assert.ok(
        !/^HTTP\/1\.1 (200|206)/.test(e.text) || t.startsWith("/?"),
        `${t}: ${e.text.slice(0, 40)}`,
      );
    }
  });
});

Deno.test("static: routed by use_backend from a frontend with rules; log line and counters", async () => {
  await withTempDir(async (base) => {
    const root = await tree(base);
    await using up = modelUpstream();
    await using p = await cfgProxy([
      ...DEFAULTS,
      "frontend fe",
      "  bind 127.0.0.1:0",
      "  http-request deny if { path_beg /blocked }",
      "  http-request set-path %[path,regsub(^/static,)] if { path_beg /static/ }",
      "  use_backend files if { hdr(host) -i files.test } || { path_beg /a }",
      "  http-response set-header X-Served-By static if { status 200 }",
      "  default_backend app",
      "backend files",
      `  static-root ${root}`,
      "backend app",
      `  server s1 127.0.0.1:${up.port}`,
    ]);
    const files = await get(p.port, "/a.txt");
    assert.equal(files.body, "hello world\n");
    assert.equal(files.headers.get("x-served-by"), "static");
    const byHost = await exchange(
      p.port,
      "GET /r.bin HTTP/1.1\r\nHost: files.test\r\nConnection: close\r\n\r\n",
      { timeoutMs: 5000 },
    );
    assert.match(byHost.text, /^HTTP\/1\.1 200/);
    assert.equal((await get(p.port, "/blocked/a.txt")).status, 403);
    const proxied = await get(p.port, "/elsewhere");
    assert.equal(proxied.body, "/elsewhere");
    assert.equal(up.requests.length, 1);
    const missing = await exchange(
      p.port,
      "GET /nope HTTP/1.1\r\nHost: files.test\r\nConnection: close\r\n\r\n",
      { timeoutMs: 5000 },
    );
    assert.match(missing.text, /^HTTP\/1\.1 404/);
    await waitFor(() => p.logs.filter((l) => l.includes(" files/")).length >= 3, 2000);
    const lines = p.logs.filter((l) => l.includes(" fe files/<STATIC> "));
    assert.equal(lines.length, 3, p.logs.join("\n"));
    assert.match(lines[0], / 200 \d+ - - ---- .*"GET \/a\.txt HTTP\/1\.1"$/);
    const bytes = Number(/ 200 (\d+) /.exec(lines[0])![1]);
    assert.equal(bytes, files.raw.length);
    assert.match(lines[2], / 404 \d+ - - ---- .*"GET \/nope HTTP\/1\.1"$/);
    const be = p.handle.stats().backends.find((b) => b.name === "files")!;
    assert.equal(be.stot, 3);
    assert.equal(be.hrsp_2xx, 2);
    assert.equal(be.hrsp_4xx, 1);
    assert.ok(be.bout > 100);
    assert.equal(be.servers[0].name, "<STATIC>");
    assert.equal(be.servers[0].stot, 3);
  });
});

Deno.test("static: a 200 MB file streams whole with bounded memory", async () => {
  await withTempDir(async (base) => {
    const root = `${base}/root`;
    await Deno.mkdir(root);
    const size = 200 * 1024 * 1024;
    // Sparse: nothing is written to disk, reads give zeros.
    using f = await Deno.open(`${root}/big.bin`, { create: true, write: true });
    await f.truncate(size);
    await using p = await cfgProxy(site(root));
    const rss0 = Deno.memoryUsage().rss;
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
    const timer = setTimeout(() => conn.close(), 60_000);
    let total = 0, head = "", bodyLen = -1, peak = rss0;
    try {
      await conn.write(
        new TextEncoder().encode("GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
      );
      const buf = new Uint8Array(256 * 1024);
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        if (bodyLen < 0) {
          head += new TextDecoder().decode(buf.subarray(0, n));
          const end = head.indexOf("\r\n\r\n");
          if (end < 0) continue;
          bodyLen = head.length - end - 4;
          head = head.slice(0, end);
        } else bodyLen += n;
        total += n;
        if ((total & 0xffffff) < n) peak = Math.max(peak, Deno.memoryUsage().rss);
      }
    } finally {
      clearTimeout(timer);
      try {
        conn.close();
      } catch {
        // closed by the timer
      }
    }
    assert.match(head, /^HTTP\/1\.1 200 /);
    assert.match(head, new RegExp(`\r\ncontent-length: ${size}\r\n`));
    assert.equal(bodyLen, size);
    const growth = (peak - rss0) / 1048576;
    console.log(`200 MB file: RSS growth ${growth.toFixed(1)} MiB`);
    assert.ok(growth < 200, `RSS grew ${growth} MiB`);
  });
});

Deno.test("static: a client that leaves mid-file: the file is closed, the log says so", async () => {
  await withTempDir(async (base) => {
    const root = `${base}/root`;
    await Deno.mkdir(root);
    using f = await Deno.open(`${root}/big.bin`, { create: true, write: true });
    await f.truncate(20 * 1024 * 1024);
    await using p = await cfgProxy(site(root));
    for (let i = 0; i < 3; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
      await conn.write(new TextEncoder().encode("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n"));
      const buf = new Uint8Array(65536);
      let got = 0;
      while (got < 1024 * 1024) {
        const n = await conn.read(buf);
        if (n === null) break;
        got += n;
      }
      conn.close();
    }
    await waitFor(() => p.logs.filter((l) => l.includes("GET /big.bin")).length === 3, 5000);
    for (const l of p.logs.filter((l) => l.includes("GET /big.bin"))) {
      assert.match(l, / 200 \d+ - - CD-- /, l);
    }
    // The test's resource sanitizer fails if a file handle was left open.
  });
});

Deno.test("static: TypeScript hooks route to a static backend and edit its responses", async () => {
  await withTempDir(async (base) => {
    const root = await tree(base);
    await using up = modelUpstream();
    const seen: string[] = [];
    const h = await startSluice({
      global: { log: { target: "none" } },
      frontends: [{
        name: "fe",
        binds: [{ address: "127.0.0.1:0" }],
        defaultBackend: "app",
        hooks: {
          onRequest(ctx) {
            if (ctx.path.startsWith("/files/")) {
              ctx.useBackend("files");
              ctx.setPath(ctx.path.slice("/files".length));
            }
          },
          onResponse(ctx) {
            seen.push(`${ctx.server} ${ctx.status} ${ctx.header("content-type")}`);
            ctx.setHeader("X-Hooked", "yes");
          },
        },
      }],
      backends: [
        { name: "files", servers: [], static: { root } },
        { name: "app", servers: [{ name: "s1", address: `127.0.0.1:${up.port}` }] },
      ],
    });
    try {
      const port = h.addresses[0].port;
      const r = await get(port, "/files/a.txt");
      assert.equal(r.body, "hello world\n");
      assert.equal(r.headers.get("x-hooked"), "yes");
      assert.equal((await get(port, "/other")).body, "/other");
      assert.deepEqual(seen, [
        "files/<STATIC> 200 text/plain; charset=utf-8",
        "app/s1 200 null",
      ]);
    } finally {
      await h.close();
    }
  });
});
