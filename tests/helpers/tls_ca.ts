/**
 * A test certificate authority made with openssl in a temporary directory:
 * server certificates for given names, client certificates, certificates of
 * another CA, expired ones and CRLs. Files are written so configuration
 * files can name them; the PEM texts are returned for node:tls options.
 */

/** A certificate, its key and where they are written. */
export interface TestCert {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** The certificate then the key, as HAProxy's `crt` file holds them. */
  readonly pemFile: string;
  /** Serial as openssl prints it (upper-case hex). */
  readonly serial: string;
}

/** Runs openssl with `args` in `dir`; throws with its stderr on failure. */
async function openssl(dir: string, args: string[], stdin?: string): Promise<string> {
  const cmd = new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const p = cmd.spawn();
  if (stdin !== undefined) {
    const w = p.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await p.output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

let seq = 0;

/** A CA in `dir` that issues certificates; `name` tells CAs apart. */
export class TestCa {
  readonly dir: string;
  readonly name: string;
  readonly certFile: string;
  readonly cert: string;
  #keyFile: string;

  private constructor(dir: string, name: string, cert: string) {
    this.dir = dir;
    this.name = name;
    this.certFile = `${dir}/${name}.crt`;
    this.#keyFile = `${dir}/${name}.key`;
    this.cert = cert;
  }

  /** Makes a CA (key and self-signed certificate) in `dir`. */
  static async create(dir: string, name = "ca"): Promise<TestCa> {
    await openssl(dir, [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
      "-days",
      "3650",
      "-subj",
      `/CN=sluice test ${name}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    return new TestCa(dir, name, await Deno.readTextFile(`${dir}/${name}.crt`));
  }

  /**
   * Issues a certificate. `names` become DNS subjectAltNames (the first is
   * the CN); `client` makes a client certificate; `expired` one whose
   * validity ended yesterday; `days` sets the validity (default 365).
   */
  async issue(
    names: string[],
    opts: { client?: boolean; expired?: boolean; days?: number; file?: string } = {},
  ): Promise<TestCert> {
    const base = opts.file ?? `${this.name}-${names[0].replace(/[^a-z0-9.-]/gi, "_")}-${++seq}`;
    await openssl(this.dir, [
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      `${base}.key`,
      "-out",
      `${base}.csr`,
      "-subj",
      `/CN=${names[0]}`,
    ]);
    const ext = [
      `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}`,
      `extendedKeyUsage=${opts.client ? "clientAuth" : "serverAuth"}`,
      "basicConstraints=CA:FALSE",
    ].join("\n");
    await Deno.writeTextFile(`${this.dir}/${base}.ext`, ext + "\n");
    const args = [
      "x509",
      "-req",
      "-in",
      `${base}.csr`,
      "-CA",
      `${this.name}.crt`,
      "-CAkey",
      `${this.name}.key`,
      "-set_serial",
      `0x${(Date.now() * 1000 + ++seq).toString(16)}`,
      "-extfile",
      `${base}.ext`,
      "-out",
      `${base}.crt`,
    ];
    if (opts.expired) {
      // -not_before/-not_after need openssl 3.4; a past window through `ca`
      // would need a database: sign with a negative day count instead.
      args.push("-days", "-1");
    } else args.push("-days", String(opts.days ?? 365));
    await openssl(this.dir, args);
    const cert = await Deno.readTextFile(`${this.dir}/${base}.crt`);
    const key = await Deno.readTextFile(`${this.dir}/${base}.key`);
    await Deno.writeTextFile(`${this.dir}/${base}.pem`, cert + key);
    const serial = (await openssl(this.dir, ["x509", "-in", `${base}.crt`, "-noout", "-serial"]))
      .trim().replace(/^serial=/, "");
    return {
      cert,
      key,
      certFile: `${this.dir}/${base}.crt`,
      keyFile: `${this.dir}/${base}.key`,
      pemFile: `${this.dir}/${base}.pem`,
      serial,
    };
  }
}
