/**
 * A test PKI made with openssl in a temporary directory: a CA with server
 * certificates for several names, client certificates from it (one of them
 * revoked, with a CRL), and a client certificate from another CA. Made once
 * per test file (makeTestCa()), removed by its dispose.
 */

/** Paths of the files of a test PKI. */
export interface TestCa extends Disposable {
  dir: string;
  /** `ca.crt`: the CA client certificates are checked against. */
  ca: string;
  /** `ca.crl`: its revocation list (revokes `revoked`). */
  crl: string;
  /** Server certificate+key PEM files by name: localhost, a.example.com, *.w.example.com. */
  srv: Record<"localhost" | "a" | "wild", string>;
  /** Client certificate and key files. */
  client: { cert: string; key: string };
  revoked: { cert: string; key: string };
  other: { cert: string; key: string };
  /** Reads a file of the PKI. */
  read(path: string): string;
}

function openssl(dir: string, args: string[]): void {
  const out = new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" })
    .outputSync();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Makes the PKI (a few seconds of openssl); dispose to remove it. */
export function makeTestCa(): TestCa {
  const dir = Deno.makeTempDirSync({ prefix: "sluice-ca-" });
  const w = (f: string, s: string) => Deno.writeTextFileSync(`${dir}/${f}`, s);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  const root = (name: string, subj: string) =>
    openssl(dir, [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
      "-days",
      "30",
      "-subj",
      subj,
    ]);
  const leaf = (name: string, subj: string, ext: string, ca: string) => {
    w(`${name}.ext`, ext + "\n");
    openssl(dir, ["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subj]);
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${ca}.crt`,
      "-CAkey",
      `${ca}.key`,
      "-CAcreateserial",
      "-out",
      `${name}.crt`,
      "-days",
      "30",
      "-extfile",
      `${name}.ext`,
    ]);
  };
  root("ca", "/C=FR/O=Test CA/CN=ca");
  root("oca", "/CN=other ca");
  const srv = (name: string, dns: string) => {
    leaf(name, `/CN=${dns}`, `subjectAltName=DNS:${dns}`, "ca");
    w(
      `${name}.pem`,
      Deno.readTextFileSync(`${dir}/${name}.crt`) + Deno.readTextFileSync(`${dir}/${name}.key`),
    );
  };
  srv("localhost", "localhost");
  srv("a", "a.example.com");
  srv("wild", "*.w.example.com");
  leaf("client", "/C=FR/O=Acme/CN=alice", "extendedKeyUsage=clientAuth", "ca");
  leaf("revoked", "/CN=revoked", "extendedKeyUsage=clientAuth", "ca");
  leaf("other", "/CN=mallory", "extendedKeyUsage=clientAuth", "oca");
  w(
    "ca.cnf",
    `[ca]\ndefault_ca=d\n[d]\ndatabase=${dir}/index.txt\ncrlnumber=${dir}/crlnumber\n` +
      "default_md=sha256\ndefault_crl_days=30\n",
  );
  w("index.txt", "");
  w("crlnumber", "01\n");
  const caArgs = ["-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.crt"];
  openssl(dir, ["ca", ...caArgs, "-revoke", "revoked.crt"]);
  openssl(dir, ["ca", ...caArgs, "-gencrl", "-out", "ca.crl"]);
  const pair = (n: string) => ({ cert: `${dir}/${n}.crt`, key: `${dir}/${n}.key` });
  return {
    dir,
    ca: `${dir}/ca.crt`,
    crl: `${dir}/ca.crl`,
    srv: { localhost: `${dir}/localhost.pem`, a: `${dir}/a.pem`, wild: `${dir}/wild.pem` },
    client: pair("client"),
    revoked: pair("revoked"),
    other: pair("other"),
    read: (p) => Deno.readTextFileSync(p),
    [Symbol.dispose]: () => Deno.removeSync(dir, { recursive: true }),
  };
}
