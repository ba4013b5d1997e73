/**
 * The HTML stats page as a browser sees it: headless Chromium loads it from
 * a running sluice (basic auth through the URL), after known traffic, with
 * servers UP, DOWN (failed checks) and in MAINT. The DOM Chromium built must
 * show the names, states and exact counters; the screenshot must have the
 * window's size and the state colours painted. Skipped, saying why, when no
 * Chromium is installed (CI installs Debian's when apt can). The helpers'
 * own guarantees (the time bound, PNG decoding) are checked without one.
 */
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { startSluice } from "../../mod.ts";
import { chromiumFind, chromiumRun, chromiumSays } from "../helpers/chromium.ts";
import { farm, request } from "../helpers/http_farm.ts";
import { pngColors, pngHeader } from "../helpers/png.ts";
import { concat } from "../helpers/net.ts";

const chromium = chromiumFind();
if ("missing" in chromium) {
  console.log(
    `stats page browser check skipped: ${chromium.missing} (Debian: apt-get install chromium)`,
  );
}

/** One cell of the page's tables. */
interface Cell {
  text: string;
  cls: string;
}

/** A table of the page: the cell in the row whose first cell is `row`, under header `column`. */
type PageTable = (row: string, column: string) => Cell;

function htmlText(s: string): string {
  return s.replace(/<[^>]*>/g, "").replace(/&nbsp;/g, " ").replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">").replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))).replace(/&amp;/g, "&")
    .trim();
}

/**
 * The tables of a serialized stats page DOM by the title above them
 * ("backend app"). A lookup of a missing row or column fails the test,
 * naming it.
 */
function pageTables(dom: string): Map<string, PageTable> {
  const tables = new Map<string, PageTable>();
  for (const [, h2, html] of dom.matchAll(/<h2>(.*?)<\/h2>\s*<table>(.*?)<\/table>/gs)) {
    const title = htmlText(h2);
    const rows = [...html.matchAll(/<tr[^>]*>(.*?)<\/tr>/gs)].map(([, tr]) =>
      [...tr.matchAll(/<t[dh]([^>]*)>(.*?)<\/t[dh]>/gs)].map(([, attrs, inner]): Cell => ({
        text: htmlText(inner),
        cls: /class="([^"]*)"/.exec(attrs)?.[1] ?? "",
      }))
    );
    const head = rows[0].map((c) => c.text);
    tables.set(title, (row, column) => {
      const cells = rows.find((r) => r[0].text === row);
      const i = head.indexOf(column);
      assert.ok(cells !== undefined, `no row "${row}" in "${title}"`);
      assert.ok(i >= 0, `no column "${column}" in "${title}"`);
      return cells[i];
    });
  }
  return tables;
}

// Colours of the page's CSS (lib/stats/stats_page.ts), 0xRRGGBB.
const UP = 0xc6f2c6, DOWN = 0xf5b7b1, MAINT = 0xd7bde2, TH = 0xeeeeee, WHITE = 0xffffff;
const WIDTH = 1500, HEIGHT = 620;

Deno.test({
  name: "stats page in headless Chromium shows names, states and exact counters, in colour",
  ignore: "missing" in chromium,
  async fn(t) {
    if (!("path" in chromium)) return;
    const browser = chromium.path;
    await using f = farm(4);
    f[1].status = 503;
    await f[3].stop(); // web4's checks find nothing listening there: DOWN.
    await using h = await startSluice({
      global: { log: { target: "none" }, stats: { address: "127.0.0.1:0", auth: "admin:s3cret" } },
      frontends: [{ name: "public", binds: [{ address: "127.0.0.1:0" }], defaultBackend: "app" }],
      backends: [{
        name: "app",
        servers: [
          { name: "web1", address: f[0].address },
          { name: "web2", address: f[1].address },
          { name: "web3", address: f[2].address, state: "maint" },
          { name: "web4", address: f[3].address, check: { inter: 50, fall: 1, rise: 1 } },
        ],
      }],
    });
    const web4 = () => h.stats().backends[0].servers[3].status;
    const t0 = Date.now();
    while (web4() !== "DOWN" && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    assert.equal(web4(), "DOWN", "web4 marked down by its checks");
    // Round robin over the two servers left: web1 answers 6 × 200, web2 6 × 503.
    for (let i = 0; i < 12; i++) await request(h.addresses[0].port, `/r${i}`);
    // Without the credentials Chromium gets a 401 and exits 0 with no DOM
    // and no screenshot, saying so only on stderr.
    const url = `http://admin:s3cret@127.0.0.1:${h.statsPort}/`;

    await t.step("the DOM after loading has every proxy, server, state and count", async () => {
      const r = await chromiumRun(browser, url, { dumpDom: true });
      assert.match(r.stdout, /<h1>sluice [^<]+<\/h1>/, `no stats page DOM: ${chromiumSays(r)}`);
      const tables = pageTables(r.stdout);
      assert.deepEqual([...tables.keys()], ["frontend public", "backend app"]);
      const fe = tables.get("frontend public")!, be = tables.get("backend app")!;
      assert.deepEqual(fe("FRONTEND", "status"), { text: "OPEN", cls: "up" });
      assert.equal(fe("FRONTEND", "total").text, "12");
      assert.equal(fe("FRONTEND", "requests").text, "12");
      assert.equal(fe("FRONTEND", "2xx").text, "6");
      assert.equal(fe("FRONTEND", "5xx").text, "6");
      assert.ok(Number(fe("FRONTEND", "bytes in").text) > 0, "frontend bytes in");
      assert.ok(Number(fe("FRONTEND", "bytes out").text) > 0, "frontend bytes out");
      assert.deepEqual(be("web1", "status"), { text: "UP", cls: "up" });
      assert.equal(be("web1", "requests").text, "6");
      assert.equal(be("web1", "2xx").text, "6");
      assert.equal(be("web1", "check").text, "no check");
      assert.deepEqual(be("web2", "status"), { text: "UP", cls: "up" });
      assert.equal(be("web2", "requests").text, "6");
      assert.equal(be("web2", "5xx").text, "6");
      assert.deepEqual(be("web3", "status"), { text: "MAINT", cls: "maint" });
      assert.equal(be("web3", "requests").text, "0");
      assert.deepEqual(be("web4", "status"), { text: "DOWN", cls: "down" });
      assert.equal(be("web4", "requests").text, "0");
      // Refused, or on a loaded machine not even refused within the 50 ms
      // check timeout: either way the page shows the check's verdict.
      assert.match(be("web4", "check").text, /^L4(CON|TOUT) /);
      assert.deepEqual(be("BACKEND", "status"), { text: "UP", cls: "up" });
      assert.equal(be("BACKEND", "weight").text, "2 act / 0 bck");
      assert.equal(be("BACKEND", "total").text, "12");
      assert.equal(be("BACKEND", "2xx").text, "6");
      assert.equal(be("BACKEND", "5xx").text, "6");
    });

    await t.step("the screenshot is window-sized and paints the state colours", async () => {
      const r = await chromiumRun(browser, url, {
        screenshot: true,
        windowSize: [WIDTH, HEIGHT],
      });
      assert.ok(r.png !== null, `no screenshot: ${chromiumSays(r)}`);
      const hdr = pngHeader(r.png);
      assert.deepEqual([hdr.width, hdr.height], [WIDTH, HEIGHT]);
      // Not blank, and the CSS applied: each state cell's flat background is
      // an exact colour (sRGB forced), some 700-1000 px per cell at this
      // size, whatever the fonts; header cells are grey; text is dark.
      const colors = pngColors(r.png);
      const px = (c: number) => colors.get(c) ?? 0;
      const isDark = (c: number) => Math.max(c >> 16, (c >> 8) & 0xff, c & 0xff) < 0x60;
      const dark = [...colors].reduce((n, [c, k]) => isDark(c) ? n + k : n, 0);
      const seen = `UP ${px(UP)}, DOWN ${px(DOWN)}, MAINT ${px(MAINT)}, header ${px(TH)}, ` +
        `white ${px(WHITE)}, dark ${dark} px, ${colors.size} colours`;
      assert.ok(px(UP) >= 2 * 300, `two UP cells: ${seen}`);
      assert.ok(px(DOWN) >= 300, `a DOWN cell: ${seen}`);
      assert.ok(px(MAINT) >= 300, `a MAINT cell: ${seen}`);
      assert.ok(px(TH) >= 5000, `two header rows: ${seen}`);
      assert.ok(dark >= 2000, `text: ${seen}`);
      assert.ok(px(WHITE) < 0.95 * WIDTH * HEIGHT, `not a white page: ${seen}`);
    });
  },
});

Deno.test("chromiumRun() ends a browser that hangs, and what it started, at the timeout", async () => {
  // A stand-in browser that never finishes and leaves a child holding its
  // stdout: only the process-group kill lets the run end.
  const dir = await Deno.makeTempDir({ prefix: "sluice_fake_chromium_" });
  try {
    const fake = `${dir}/chromium`;
    await Deno.writeTextFile(
      fake,
      "#!/bin/sh\nPATH=/usr/bin:/bin:$PATH\nsleep 60 &\necho $!\nexec sleep 60\n",
    );
    await Deno.chmod(fake, 0o755);
    const t0 = Date.now();
    const r = await chromiumRun(fake, "http://127.0.0.1:1/", { timeoutMs: 200, graceMs: 200 });
    assert.ok(r.timedOut, "reported as timed out");
    assert.ok(Date.now() - t0 < 10000, `took ${Date.now() - t0} ms`);
    const grandchild = Number(r.stdout.trim());
    assert.ok(grandchild > 0, `grandchild pid "${r.stdout}"`);
    let state = "gone";
    try {
      // Field 3 of /proc/PID/stat; a zombie (Z) not yet reaped by init is dead too.
      state = (await Deno.readTextFile(`/proc/${grandchild}/stat`)).split(") ")[1][0];
    } catch {
      // No such process.
    }
    assert.ok(state === "gone" || state === "Z", `grandchild ${grandchild} state ${state}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A PNG of RGB rows, row y filtered with filter type y % 5. */
function pngEncode(width: number, rows: number[][]): Uint8Array {
  const bpp = 3, stride = width * bpp;
  const raw: number[] = [];
  let prev = new Array(stride).fill(0);
  rows.forEach((pixels, y) => {
    const cur = pixels.flatMap((c) => [c >> 16, (c >> 8) & 0xff, c & 0xff]);
    const filter = y % 5;
    raw.push(filter);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      const pred = [0, a, b, (a + b) >> 1, paeth][filter];
      raw.push((cur[i] - pred) & 0xff);
    }
    prev = cur;
  });
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    new DataView(out.buffer).setUint32(0, data.length);
    out.set([...type].map((ch) => ch.charCodeAt(0)), 4);
    out.set(data, 8);
    return out; // CRC left 0: pngColors() does not check it.
  };
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, rows.length);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", new Uint8Array(deflateSync(new Uint8Array(raw)))),
    chunk("IEND", new Uint8Array(0)),
  ];
  return concat(parts);
}

Deno.test("pngColors() undoes all five row filters and counts every pixel", () => {
  const rows = [
    [UP, UP, DOWN, WHITE],
    [0x102030, UP, 0xfefefe, 0x000001],
    [MAINT, 0x808080, 0x7f7f7f, UP],
    [0xffffff, 0x000000, 0xff00ff, 0x00ff00],
    [0x0a0b0c, 0xc0b0a0, 0x0a0b0c, DOWN],
    [TH, TH, TH, TH],
  ];
  const png = pngEncode(4, rows);
  assert.deepEqual(pngHeader(png), {
    width: 4,
    height: 6,
    bitDepth: 8,
    colorType: 2,
    interlace: 0,
  });
  const want = new Map<number, number>();
  for (const c of rows.flat()) want.set(c, (want.get(c) ?? 0) + 1);
  assert.deepEqual(pngColors(png), want);
  assert.throws(() => pngHeader(new Uint8Array(8)), /Not a PNG/);
});
