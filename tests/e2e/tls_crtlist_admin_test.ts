/**
 * `show ssl crt-list` on a real admin socket with two worker threads (the
 * control thread answers from the configuration): the crt-list file and the
 * `crt` directory in use, a list's lines in HAProxy's format, `-n`, the
 * errors. Then `set/commit ssl cert` on a certificate of the list: new
 * handshakes for its SNI filter name (not in the certificate) get the new
 * certificate on every thread, and the list reads the same.
 */
import assert from "node:assert/strict";
import tls from "node:tls";
import { startSluice } from "../../mod.ts";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import { echoScript, upstream } from "../helpers/net.ts";
import { TestCa } from "../helpers/tls_ca.ts";
import { withTempDir } from "../helpers/temp_dir.ts";

/** Sends `text` on the admin socket at `path` and returns the whole answer. */
async function cli(path: string, text: string): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    await conn.write(new TextEncoder().encode(text));
    let out = "";
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return out;
      out += new TextDecoder().decode(buf.subarray(0, n));
    }
  } finally {
    conn.close();
  }
}

/** The serial (upper-case hex, as TestCert has it) of the certificate served for `servername`. */
function serialFor(port: number, servername: string): Promise<string> {
  return new Promise((resolve) => {
    const c = tls.connect(
      { host: "127.0.0.1", port, servername, rejectUnauthorized: false },
      () => {
        resolve(c.getPeerCertificate().serialNumber.toUpperCase().replace(/^0+/, ""));
        c.destroy();
      },
    );
    c.on("error", (err) => resolve(`error: ${err.message}`));
  });
}

Deno.test("show ssl crt-list [-n] [FILE] with nbthread 2; set/commit ssl cert on a listed certificate", async () => {
  await withTempDir(async (dir) => {
    const ca = await TestCa.create(dir);
    const dflt = await ca.issue(["a.test"]);
    const b = await ca.issue(["b.test"]);
    const b2 = await ca.issue(["b.test"]);
    Deno.mkdirSync(`${dir}/certs`);
    Deno.copyFileSync((await ca.issue(["c.test"])).pemFile, `${dir}/certs/c.pem`);
    const list = `${dir}/sites.list`;
    Deno.writeTextFileSync(list, `# sites\n${dflt.pemFile}\n\n${b.pemFile} alias.test !b.test\n`);
    const sock = `${dir}/admin.sock`;
    await using up = upstream(echoScript);
    const text = [
      "global",
      "  nbthread 2",
      `  stats socket ${sock} level admin`,
      "defaults",
      "  mode tcp",
      "  timeout connect 2s",
      "  timeout client 5s",
      "  timeout server 5s",
      "frontend fe",
      `  bind 127.0.0.1:0 ssl crt-list ${list} crt ${dir}/certs/`,
      "  default_backend be",
      "backend be",
      `  server s ${up.address}`,
    ].join("\n") + "\n";
    const cfg = parseConfigText(text, `${dir}/t.cfg`, {});
    cfg.global = { ...cfg.global, log: { target: "none" } };
    await using h = await startSluice(cfg);
    const port = h.addresses[0].port;

    assert.equal(await cli(sock, "show ssl crt-list\n"), `${dir}/certs\n${list}\n\n`);
    const lines = `${dflt.pemFile}\n${b.pemFile} alias.test !b.test\n`;
    assert.equal(await cli(sock, `show ssl crt-list ${list}\n`), `# ${list}\n${lines}\n`);
    assert.equal(
      await cli(sock, `show ssl crt-list -n ${list}\n`),
      `# ${list}\n${dflt.pemFile}:2\n${b.pemFile}:4 alias.test !b.test\n\n`,
    );
    assert.equal(
      await cli(sock, `show ssl crt-list -n ${dir}/certs/\n`),
      `# ${dir}/certs\n${dir}/certs/c.pem:0\n\n`,
    );
    assert.equal(
      await cli(sock, "show ssl crt-list -n\n"),
      "'show ssl crt-list -n' expects a filename or a directory\n\n",
    );
    assert.equal(
      await cli(sock, `show ssl crt-list ${dir}/other.list\n`),
      "didn't find the specified filename\n\n",
    );
    assert.equal(h.admin(`show ssl crt-list ${list}`), `# ${list}\n${lines}\n`);

    // The list's certificate is replaced in every worker; its filters still choose it.
    const strip = (s: string) => s.replace(/^0+/, "");
    assert.equal(await serialFor(port, "alias.test"), strip(b.serial));
    assert.equal(
      await cli(sock, `set ssl cert ${b.pemFile} <<\n${b2.cert}${b2.key}\n`),
      `Transaction created for certificate ${b.pemFile}!\n\n`,
    );
    assert.match(await cli(sock, `commit ssl cert ${b.pemFile}\n`), /Success!/);
    for (let i = 0; i < 6; i++) {
      assert.equal(await serialFor(port, "alias.test"), strip(b2.serial), `handshake ${i}`);
      assert.equal(await serialFor(port, "b.test"), strip(dflt.serial), "!b.test: the default");
    }
    assert.equal(await cli(sock, `show ssl crt-list ${list}\n`), `# ${list}\n${lines}\n`);
  });
});
