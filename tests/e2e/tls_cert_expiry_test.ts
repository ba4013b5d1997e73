/**
 * Listener certificate expiry: the stats carry each certificate file's
 * notAfter, Prometheus shows it as `sluice_ssl_cert_not_after_seconds`, and
 * a warning is logged at start for a certificate within
 * `ssl-cert-expiry-warning` days of its end (default 30).
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { startSluice } from "../../mod.ts";
import { parseConfigText } from "../../lib/cfg/cfg_parser.ts";
import { formatPrometheus } from "../../lib/stats/prometheus.ts";
import { certExpiryWarning } from "../../lib/worker/cert_expiry.ts";
import { logInto } from "../helpers/net.ts";
import { TestCa } from "../helpers/tls_ca.ts";
import { withTempDir } from "../helpers/temp_dir.ts";

/** Starts sluice with one TLS bind per certificate file; `global` lines first. */
async function start(dir: string, files: string[], global: string[] = []) {
  const text = [
    "global",
    ...global.map((l) => `  ${l}`),
    "defaults",
    "  mode tcp",
    "frontend fe",
    ...files.map((f) => `  bind 127.0.0.1:0 ssl crt ${f}`),
    "  default_backend be",
    "backend be",
    "  server s 127.0.0.1:1",
  ].join("\n") + "\n";
  const cfg = parseConfigText(text, `${dir}/t.cfg`, {});
  const logs: string[] = [];
  cfg.global = { ...cfg.global, log: { target: logInto(logs) } };
  const h = await startSluice(cfg);
  return { h, logs };
}

Deno.test("certificate expiry: stats, Prometheus gauge, warning within the window", async () => {
  await withTempDir(async (dir) => {
    const ca = await TestCa.create(dir);
    const soon = await ca.issue(["soon.test"], { days: 10 });
    const later = await ca.issue(["later.test"], { days: 365 });
    const { h, logs } = await start(dir, [soon.pemFile, later.pemFile]);
    try {
      const notAfter = (c: { cert: string }) =>
        Math.floor(Date.parse(new X509Certificate(c.cert).validTo) / 1000);
      assert.deepEqual(
        h.stats().sslCerts,
        [
          { file: soon.pemFile, notAfter: notAfter(soon) },
          { file: later.pemFile, notAfter: notAfter(later) },
        ].sort((a, b) => a.file < b.file ? -1 : 1),
      );
      const prom = formatPrometheus(h.stats());
      assert.match(prom, /# TYPE sluice_ssl_cert_not_after_seconds gauge/);
      assert.ok(
        prom.includes(
          `sluice_ssl_cert_not_after_seconds{file="${soon.pemFile}"} ${notAfter(soon)}`,
        ),
      );
      const warned = logs.filter((l) => /SSL certificate/.test(l));
      assert.equal(warned.length, 1, warned.join("\n"));
      assert.match(
        warned[0],
        new RegExp(
          `\\[WARNING\\] SSL certificate '${soon.pemFile}' expires in (9|10) days \\(notAfter: `,
        ),
      );
    } finally {
      await h.close();
    }
    // A window of 0 days turns the warning off.
    const off = await start(dir, [soon.pemFile], ["ssl-cert-expiry-warning 0"]);
    await off.h.close();
    assert.deepEqual(off.logs.filter((l) => /SSL certificate/.test(l)), []);
  });
});

Deno.test("certExpiryWarning: days left, expired, outside the window", () => {
  const now = Date.UTC(2026, 0, 1);
  const at = (days: number) => ({ file: "f.pem", notAfter: (now + days * 86_400_000) / 1000 });
  assert.equal(certExpiryWarning(at(31), 30, now), null);
  assert.match(certExpiryWarning(at(30), 30, now)!, /'f\.pem' expires in 30 days/);
  assert.match(certExpiryWarning(at(1.5), 30, now)!, /expires in 1 day \(/);
  assert.match(certExpiryWarning(at(-1), 30, now)!, /'f\.pem' has expired \(notAfter: /);
});
