/**
 * TLS listeners as operators configure them: client certificates (`verify`,
 * `ca-file`, `crl-file`, ignored errors), the ssl_fc_* / ssl_c_* fetches
 * through `http-request set-header` to a raw upstream, ALPN, `strict-sni`,
 * `crt-list` SNI filters and session resumption, over loopback with a test
 * PKI made by openssl (tests/helpers/test_ca.ts).
 */
import assert from "node:assert/strict";
import tls from "node:tls";
import { cfgProxy, headReply, modelUpstream } from "../helpers/http.ts";
import { makeTestCa } from "../helpers/test_ca.ts";
import { waitFor } from "../helpers/net.ts";

const pki = makeTestCa();
globalThis.addEventListener("unload", () => pki[Symbol.dispose]());

interface Outcome {
  /** The response (status line onwards), or "" when the connection failed. */
  text: string;
  /** The handshake or connection error, or "". */
  error: string;
  alpn: string;
  reused: boolean;
  session?: Buffer;
}

/** One GET over TLS to `port` with client options `o`. */
function get(port: number, o: tls.ConnectionOptions = {}, path = "/"): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { text: "", error: "", alpn: "", reused: false };
    const c = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...o }, () => {
      out.alpn = typeof c.alpnProtocol === "string" ? c.alpnProtocol : "";
      out.reused = c.isSessionReused();
      c.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    });
    c.on("session", (s) => out.session = s);
    c.on("data", (d) => out.text += d.toString("latin1"));
    c.on("error", (e) => out.error ||= e.message);
    c.on("close", () => resolve(out));
    c.setTimeout(5000, () => c.destroy(new Error("timeout")));
  });
}

const cert = (p: { cert: string; key: string }) => ({
  cert: pki.read(p.cert),
  key: pki.read(p.key),
});

function proxy(bindOpts: string, rules: string[] = [], upAddr: string, threads?: number) {
  return cfgProxy([
    ...(threads === undefined ? [] : ["global", `  nbthread ${threads}`]),
    "frontend fe",
    "  mode http",
    `  bind 127.0.0.1:0 ssl crt ${pki.srv.localhost} ${bindOpts}`,
    ...rules.map((r) => "  " + r),
    "  default_backend be",
    "backend be",
    "  mode http",
    `  server s ${upAddr}`,
  ]);
}

Deno.test("verify required: no certificate and another CA's are refused, the CA's is served", async () => {
  await using up = modelUpstream();
  await using p = await proxy(`verify required ca-file ${pki.ca}`, [], up.address);
  const none = await get(p.port);
  assert.equal(none.text, "");
  // The refusal reaches the client as an alert, or (TLS 1.3, the client
  // done with its side) as a plain close before any response.
  assert.match(none.error, /^$|CertificateRequired|alert|reset|socket/i);
  const other = await get(p.port, cert(pki.other));
  assert.equal(other.text, "", "a certificate from another CA gets no response");
  const good = await get(p.port, cert(pki.client));
  assert.match(good.text, /^HTTP\/1\.1 200 /);
  assert.equal(up.requests.length, 1, "only the good client reached the server");
  // Each refusal is logged as HAProxy logs a failed handshake.
  await waitFor(() => p.logs.filter((l) => l.includes(": SSL ")).length === 2, 5000, "2 lines");
  const lines = p.logs.filter((l) => l.includes(": SSL "));
  assert.match(lines[0], /127\.0\.0\.1:\d+ fe\/1: SSL handshake failure \(/);
  assert.match(
    lines[1],
    /fe\/1: SSL client certificate not trusted \(depth 0: unable to get local issuer certificate\)/,
  );
});

Deno.test("verify optional: no certificate passes, a bad one is refused unless its error is ignored", async () => {
  await using up = modelUpstream(headReply);
  const rules = [
    "http-request set-header X-Used %[ssl_c_used]",
    "http-request set-header X-Verify %[ssl_c_verify]",
  ];
  await using p = await proxy(`verify optional ca-file ${pki.ca}`, rules, up.address);
  const none = await get(p.port);
  assert.match(none.text, /x-used: 0/i);
  assert.match(none.text, /x-verify: 0/i);
  assert.equal((await get(p.port, cert(pki.other))).text, "");
  await using q = await proxy(
    `verify optional ca-file ${pki.ca} crt-ignore-err all`,
    rules,
    up.address,
  );
  const other = await get(q.port, cert(pki.other));
  assert.match(other.text, /x-used: 1/i);
  assert.match(other.text, /x-verify: 20/i, "unable to get local issuer (X509_V_ERR 20), ignored");
  const good = await get(q.port, cert(pki.client));
  assert.match(good.text, /x-verify: 0/i);
});

Deno.test("crl-file: a revoked client certificate is refused, a good one served", async () => {
  await using up = modelUpstream();
  await using p = await proxy(
    `verify required ca-file ${pki.ca} crl-file ${pki.crl}`,
    [],
    up.address,
  );
  assert.equal((await get(p.port, cert(pki.revoked))).text, "");
  assert.match((await get(p.port, cert(pki.client))).text, /^HTTP\/1\.1 200 /);
  await waitFor(() => p.logs.some((l) => l.includes("certificate revoked")), 5000, "the log");
  assert.match(
    p.logs.find((l) => l.includes("revoked"))!,
    /SSL client certificate not trusted \(depth 0: certificate revoked\)/,
  );
  await using q = await proxy(
    `verify required ca-file ${pki.ca} crl-file ${pki.crl} crt-ignore-err 23`,
    ["http-request set-header X-Verify %[ssl_c_verify]"],
    up.address,
  );
  assert.match(
    (await get(q.port, cert(pki.revoked))).text,
    /^HTTP\/1\.1 200 /,
    "crt-ignore-err 23 lets a revoked certificate through",
  );
});

Deno.test("ssl fetches reach the server through set-header; deny if !{ ssl_c_used }", async () => {
  await using up = modelUpstream(headReply);
  await using p = await proxy(`verify optional ca-file ${pki.ca} alpn http/1.1`, [
    "http-request deny if { path_beg /admin } !{ ssl_c_used }",
    "http-request set-header X-Fc %[ssl_fc]",
    "http-request set-header X-Proto %[ssl_fc_protocol]",
    "http-request set-header X-Cipher %[ssl_fc_cipher]",
    "http-request set-header X-Alpn %[ssl_fc_alpn]",
    "http-request set-header X-Sni %[ssl_fc_sni]",
    "http-request set-header X-Dn %[ssl_c_s_dn]",
    "http-request set-header X-Idn %[ssl_c_i_dn]",
    "http-request set-header X-Serial %[ssl_c_serial,hex]",
    "http-request set-header X-Sha1 %[ssl_c_sha1,hex]",
    "http-request set-header X-End %[ssl_c_notafter]",
    "http-request set-header X-Der %[ssl_c_der,base64]",
  ], up.address);
  assert.match((await get(p.port, {}, "/admin")).text, /^HTTP\/1\.1 403 /);
  const r = await get(p.port, {
    ...cert(pki.client),
    servername: "localhost",
    ALPNProtocols: ["http/1.1"],
  }, "/admin");
  const x = new (await import("node:crypto")).X509Certificate(pki.read(pki.client.cert));
  const h = (name: string) => new RegExp(`^${name}: (.*)\r?$`, "mi").exec(r.text)?.[1];
  assert.equal(h("X-Fc"), "1");
  assert.equal(h("X-Proto"), "TLSv1.3");
  assert.match(h("X-Cipher") ?? "", /^TLS_(AES|CHACHA)/);
  assert.equal(h("X-Alpn"), "http/1.1");
  assert.equal(h("X-Sni"), "localhost");
  assert.equal(h("X-Dn"), "/C=FR/O=Acme/CN=alice");
  assert.equal(h("X-Idn"), "/C=FR/O=Test CA/CN=ca");
  assert.equal(h("X-Serial")?.replace(/^0+/, ""), x.serialNumber.replace(/^0+/, ""));
  assert.equal(h("X-Sha1"), x.fingerprint.replaceAll(":", ""));
  assert.match(h("X-End") ?? "", /^\d{12}Z$/);
  assert.equal(h("X-Der"), Buffer.from(x.raw).toString("base64"));
});

Deno.test("ssl-min-ver / ssl-max-ver bound the versions; alpn offers http/1.1", async () => {
  await using up = modelUpstream(headReply);
  await using p = await proxy(
    "ssl-max-ver TLSv1.2 alpn http/1.1",
    ["http-request set-header X-Proto %[ssl_fc_protocol]"],
    up.address,
  );
  const r = await get(p.port, { ALPNProtocols: ["h2", "http/1.1"] });
  assert.equal(r.alpn, "http/1.1");
  assert.match(r.text, /x-proto: TLSv1\.2/i);
  await using q = await proxy("ssl-min-ver TLSv1.3", [], up.address);
  assert.equal((await get(q.port, { maxVersion: "TLSv1.2" })).text, "");
  assert.match((await get(q.port)).text, /^HTTP\/1\.1 200 /);
});

Deno.test("crt-list SNI filters (wildcard, negative) and strict-sni", async () => {
  await using up = modelUpstream();
  const list = `${pki.dir}/list.txt`;
  Deno.writeTextFileSync(
    list,
    `# default first, chosen only when nothing else matches\n${pki.srv.localhost} !*\n` +
      `${pki.srv.a} a.example.com alt.example.com\n` +
      `${pki.srv.wild} *.w.example.com !no.w.example.com\n`,
  );
  await using p = await cfgProxy([
    "frontend fe",
    "  mode http",
    `  bind 127.0.0.1:0 ssl crt-list ${list} strict-sni`,
    "  default_backend be",
    "backend be",
    "  mode http",
    `  server s ${up.address}`,
  ]);
  const cn = async (servername?: string) => {
    const r = await new Promise<string>((resolve) => {
      const c = tls.connect(
        { host: "127.0.0.1", port: p.port, servername, rejectUnauthorized: false },
        () => {
          resolve(String(c.getPeerCertificate().subject?.CN));
          c.destroy();
        },
      );
      c.on("error", () => resolve("refused"));
    });
    return r;
  };
  assert.equal(await cn("alt.example.com"), "a.example.com", "a filter name, not in the cert");
  assert.equal(await cn("x.w.example.com"), "*.w.example.com");
  assert.equal(await cn("no.w.example.com"), "refused", "negative filter, strict-sni");
  assert.equal(await cn("localhost"), "refused", "!* leaves the default's names out");
  assert.equal((await get(p.port)).text, "", "strict-sni: no SNI is refused");
});

Deno.test("TLS sessions resume on the bind side", async () => {
  await using up = modelUpstream();
  // One thread: each worker thread has its own ticket keys (docs/connections.md).
  await using p = await proxy("", [], up.address, 1);
  const first = await get(p.port);
  assert.ok(first.session !== undefined, "the listener issued a session ticket");
  const again = await get(p.port, { session: first.session });
  assert.match(again.text, /^HTTP\/1\.1 200 /);
  assert.equal(again.reused, true);
});

/** One GET with `openssl s_client` (its session saved to / read from `sess`); its output. */
async function opensslGet(port: number, args: string[]): Promise<string> {
  const cmd = new Deno.Command("openssl", {
    args: ["s_client", "-connect", `127.0.0.1:${port}`, "-ign_eof", ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const w = cmd.stdin.getWriter();
  await w.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  await w.close();
  const out = await cmd.output();
  return new TextDecoder().decode(out.stdout);
}

Deno.test("a resumed session keeps its client certificate (verify required), TLS 1.2 and 1.3", async () => {
  await using up = modelUpstream(headReply);
  await using p = await proxy(
    `verify required ca-file ${pki.ca}`,
    ["http-request set-header X-Dn %[ssl_c_s_dn]"],
    up.address,
    1, // each worker thread resumes only its own sessions
  );
  for (const v of ["-tls1_2", "-tls1_3"]) {
    const sess = `${pki.dir}/sess${v}`;
    const c = ["-cert", pki.client.cert, "-key", pki.client.key, v];
    const first = await opensslGet(p.port, [...c, "-sess_out", sess]);
    assert.match(first, /^New, TLSv1\.[23]/m);
    assert.match(first, /x-dn: \/C=FR\/O=Acme\/CN=alice/i);
    const again = await opensslGet(p.port, [...c, "-sess_in", sess]);
    assert.match(again, /^Reused, TLSv1\.[23]/m, `${v}: the session resumes`);
    assert.match(again, /x-dn: \/C=FR\/O=Acme\/CN=alice/i, `${v}: the certificate is kept`);
  }
});
