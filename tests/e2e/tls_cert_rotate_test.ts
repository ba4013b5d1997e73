/**
 * Certificate rotation through the runtime API on a real admin socket, as
 * HAProxy's CLI: `show ssl cert`, `set ssl cert FILE <<` with the PEM as
 * payload, `show ssl cert *FILE`, `commit ssl cert`, `abort ssl cert`. A
 * loop of TLS clients runs through the change: none fails, new handshakes
 * see the new certificate after the commit, and a connection made before it
 * keeps working. Bad payloads are refused with the reason.
 */
import assert from "node:assert/strict";
import tls from "node:tls";
import { startSluice } from "../../mod.ts";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import { echoScript, logInto, upstream, waitFor } from "../helpers/net.ts";
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

/** A serial as openssl prints it: upper-case hex, whole bytes. */
function evenHex(serial: string): string {
  const h = serial.toUpperCase();
  return h.length % 2 === 1 ? `0${h}` : h;
}

/** One TLS handshake with the proxy on `port`: the certificate serial, or the error. */
function handshake(port: number, ca: string): Promise<{ serial?: string; error?: string }> {
  return new Promise((resolve) => {
    const c = tls.connect({ host: "127.0.0.1", port, servername: "a.test", ca: [ca] }, () => {
      const serial = evenHex(c.getPeerCertificate().serialNumber);
      c.destroy();
      resolve({ serial });
    });
    c.on("error", (err) => resolve({ error: err.message }));
  });
}

Deno.test("set/commit ssl cert under load: zero failed handshakes, the new serial after commit", async () => {
  await withTempDir(async (dir) => {
    const ca = await TestCa.create(dir);
    const first = await ca.issue(["a.test"], { file: "site" });
    const second = await ca.issue(["a.test"]);
    const third = await ca.issue(["a.test"]);
    const sock = `${dir}/admin.sock`;
    await using up = upstream(echoScript);
    const text = [
      "global",
      `  stats socket ${sock} level admin`,
      "defaults",
      "  mode tcp",
      "  timeout connect 2s",
      "  timeout client 5s",
      "  timeout server 5s",
      "frontend fe",
      `  bind 127.0.0.1:0 ssl crt ${first.pemFile}`,
      "  default_backend be",
      "backend be",
      `  server s ${up.address}`,
    ].join("\n") + "\n";
    const cfg = parseConfigText(text, `${dir}/t.cfg`, {});
    const logs: string[] = [];
    cfg.global = { ...cfg.global, log: { target: logInto(logs) } };
    await using h = await startSluice(cfg);
    const port = h.addresses[0].port;
    const file = first.pemFile;

    assert.equal(await cli(sock, "show ssl cert\n"), `# filename\n${file}\n\n`);
    const shown = await cli(sock, `show ssl cert ${file}\n`);
    assert.match(shown, new RegExp(`^Filename: ${file}\nStatus: Used\nSerial: ${first.serial}\n`));
    assert.match(shown, /\nnotAfter: \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} GMT\n/);
    assert.match(shown, /\nSubject Alternative Name: DNS:a\.test\nAlgorithm: EC256\n/);
    assert.match(shown, /\nSHA1 FingerPrint: [0-9A-F]{40}\nSubject: \/CN=a\.test\n/);
    assert.match(shown, /\nIssuer: \/CN=sluice test ca\n/);

    // A connection made before the change, kept open through it.
    const kept = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const c = tls.connect(
        { host: "127.0.0.1", port, servername: "a.test", ca: [ca.cert] },
        () => resolve(c),
      );
      c.on("error", reject);
    });
    const keptSerial = evenHex(kept.getPeerCertificate().serialNumber);

    // Clients handshake in a loop (4 at a time) during the whole change.
    const results: { serial?: string; error?: string }[] = [];
    let stop = false;
    const loop = async () => {
      while (!stop) results.push(await handshake(port, ca.cert));
    };
    const loops = [loop(), loop(), loop(), loop()];
    try {
      await waitFor(() => results.length >= 8, 10000, "handshakes before the change");
      const set = await cli(sock, `set ssl cert ${file} <<\n${second.cert}${second.key}\n`);
      assert.equal(set, `Transaction created for certificate ${file}!\n\n`);
      assert.equal(
        await cli(sock, "show ssl cert\n"),
        `# transaction\n*${file}\n# filename\n${file}\n\n`,
      );
      assert.match(
        await cli(sock, `show ssl cert *${file}\n`),
        new RegExp(`Serial: ${second.serial}`),
      );
      // Not committed: new handshakes still get the first certificate.
      const before = results.length;
      await waitFor(() => results.length >= before + 8, 10000, "handshakes during the transaction");
      assert.ok(results.slice(before).every((r) => r.serial === first.serial));

      assert.equal(
        await cli(sock, `commit ssl cert ${file}\n`),
        `Committing ${file}.\nSuccess!\n\n`,
      );
      await waitFor(
        () => results.some((r) => r.serial === second.serial),
        10000,
        "the new certificate",
      );
      const at = results.length;
      await waitFor(() => results.length >= at + 8, 10000, "handshakes after the commit");
      assert.ok(results.slice(at).every((r) => r.serial === second.serial));
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    assert.deepEqual(results.filter((r) => r.error !== undefined), []);
    assert.ok(results.length >= 24);
    // The kept connection still has the first certificate and still works.
    assert.equal(keptSerial, first.serial);
    const echoed = new Promise<string>((resolve) => kept.once("data", (d) => resolve(String(d))));
    kept.write("still here");
    assert.equal(await echoed, "still here");
    kept.destroy();
    assert.match(
      await cli(sock, `show ssl cert ${file}\n`),
      new RegExp(`Serial: ${second.serial}`),
    );

    // Bad payloads are refused with the reason; nothing changes.
    assert.equal(
      await cli(sock, `set ssl cert ${file} <<\nnot a certificate\n\n`),
      `no certificate in the payload\nCan't load the payload\nCan't update ${file}!\n\n`,
    );
    assert.match(
      await cli(sock, `set ssl cert ${file} <<\n${third.cert}${first.key}\n`),
      /^inconsistencies between private key and certificate\nCan't load the payload\nCan't update .*!\n\n$/,
    );
    assert.equal(
      await cli(sock, `set ssl cert other.pem <<\n${third.cert}${third.key}\n`),
      "Can't replace a certificate which is not referenced by the configuration!\n" +
        "Can't update other.pem!\n\n",
    );
    assert.equal(
      await cli(sock, "set ssl cert x.pem\n"),
      "'set ssl cert expects a filename and a certificate as a payload\n\n",
    );
    assert.equal(
      await cli(sock, `commit ssl cert ${file}\n`),
      `No ongoing transaction! !\nCan't commit ${file}!\n\n`,
    );

    // abort: the transaction is dropped, the committed certificate stays.
    await cli(sock, `set ssl cert ${file} <<\n${third.cert}${third.key}\n`);
    assert.equal(
      await cli(sock, `abort ssl cert ${file}\n`),
      `Transaction aborted for certificate '${file}'!\n\n`,
    );
    assert.equal((await handshake(port, ca.cert)).serial, second.serial);
    assert.equal(await cli(sock, "show ssl crt-list\n"), "\n");
  });
});

Deno.test("set/commit ssl cert also replaces a server's client certificate (crt)", async () => {
  await withTempDir(async (dir) => {
    const ca = await TestCa.create(dir);
    const srvCert = await ca.issue(["a.test"]);
    const one = await ca.issue(["client-one"], { client: true });
    const two = await ca.issue(["client-two"], { client: true });
    // An upstream that requires a client certificate and answers with its CN.
    const upstreamTls = tls.createServer({
      cert: srvCert.cert,
      key: srvCert.key,
      ca: [ca.cert],
      requestCert: true,
      rejectUnauthorized: true,
    }, (s) => {
      s.on("error", () => {});
      s.end(String(s.getPeerCertificate().subject?.CN));
    });
    upstreamTls.on("tlsClientError", () => {});
    await new Promise<void>((r) => upstreamTls.listen(0, "127.0.0.1", () => r()));
    try {
      const upPort = (upstreamTls.address() as { port: number }).port;
      const sock = `${dir}/admin.sock`;
      const text = [
        "global",
        `  stats socket ${sock} level admin`,
        "defaults",
        "  mode tcp",
        "  timeout connect 2s",
        "  timeout client 5s",
        "  timeout server 5s",
        "frontend fe",
        "  bind 127.0.0.1:0",
        "  default_backend be",
        "backend be",
        `  server s 127.0.0.1:${upPort} ssl ca-file ${ca.certFile} crt ${one.pemFile}`,
      ].join("\n") + "\n";
      const cfg = parseConfigText(text, `${dir}/t.cfg`, {});
      cfg.global = { ...cfg.global, log: { target: "none" } };
      await using h = await startSluice(cfg);
      const port = h.addresses[0].port;
      const ask = async () => {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        try {
          let out = "";
          const b = new Uint8Array(1024);
          for (let n = await c.read(b); n !== null; n = await c.read(b)) {
            out += new TextDecoder().decode(b.subarray(0, n));
          }
          return out;
        } finally {
          c.close();
        }
      };
      assert.equal(await ask(), "client-one");
      assert.match(await cli(sock, "show ssl cert\n"), new RegExp(`^# filename\n${one.pemFile}\n`));
      assert.equal(
        await cli(sock, `set ssl cert ${one.pemFile} <<\n${two.cert}${two.key}\n`),
        `Transaction created for certificate ${one.pemFile}!\n\n`,
      );
      assert.equal(await ask(), "client-one");
      assert.match(await cli(sock, `commit ssl cert ${one.pemFile}\n`), /Success!/);
      assert.equal(await ask(), "client-two");
    } finally {
      await new Promise((r) => upstreamTls.close(r));
    }
  });
});
