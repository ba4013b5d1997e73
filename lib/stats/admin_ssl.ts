/**
 * The runtime API's certificate commands, in HAProxy 2.6's words and
 * formats: `show ssl cert [[*]FILE]`, `set ssl cert FILE <<` (the PEM as
 * the command's payload, ended by an empty line), `commit ssl cert FILE`,
 * `abort ssl cert FILE` and `show ssl crt-list` (admin_crtlist.ts). The
 * work is the instance's TlsCertStore (lib/conn/tls_cert_store.ts); this
 * file only formats.
 *
 * @module
 */
import { createHash, type X509Certificate } from "node:crypto";
import { errMsg } from "../core/errors.ts";
import { type StoredCert, TlsCertStore } from "../conn/tls_cert_store.ts";
import type { AdminTarget } from "./admin_types.ts";
import { showCrtList } from "./admin_crtlist.ts";

/** What these commands need of a command's context. */
interface SslCtx {
  readonly target: AdminTarget;
  /** The payload after `<<`, or null. */
  readonly payload: string | null;
}

/** A certificate command (same shape as admin_api.ts's commands). */
interface SslCmd {
  readonly kw: readonly string[];
  readonly usage: string;
  readonly help: string;
  run(ctx: SslCtx, args: string[]): string;
}

/** A distinguished name as HAProxy prints it: `/C=FR/O=Example/CN=a.test`. */
function dnOneLine(dn: string): string {
  return dn.split("\n").filter((l) => l !== "").map((l) => `/${l}`).join("");
}

/** Upper-case hex of `bytes`. */
function hexUpper(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
}

/** The serial as HAProxy dumps its bytes: upper-case hex, whole bytes. */
function serialHex(x: X509Certificate): string {
  const h = x.serialNumber.toUpperCase();
  return h.length % 2 === 1 ? `0${h}` : h;
}

/** HAProxy's `Algorithm:` value: `RSA2048`, `EC256`, `ED25519`... */
function keyAlgo(x: X509Certificate): string {
  const k = x.publicKey;
  const d = k.asymmetricKeyDetails ?? {};
  switch (k.asymmetricKeyType) {
    case "rsa":
    case "rsa-pss":
      return `RSA${d.modulusLength ?? ""}`;
    case "ec": {
      const bits: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 };
      return `EC${bits[d.namedCurve ?? ""] ?? ""}`;
    }
    default:
      return (k.asymmetricKeyType ?? "unknown").toUpperCase();
  }
}

/** `show ssl cert FILE`'s block for `c`; `star` marks the uncommitted one. */
function certDetail(c: StoredCert, status: string, star: boolean): string {
  const x = c.x509;
  let out = `Filename: ${star ? "*" : ""}${c.file}\n`;
  out += `Status: ${status}\n`;
  out += `Serial: ${serialHex(x)}\n`;
  out += `notBefore: ${x.validFrom}\n`;
  out += `notAfter: ${x.validTo}\n`;
  out += `Subject Alternative Name: ${x.subjectAltName ?? ""}\n`;
  out += `Algorithm: ${keyAlgo(x)}\n`;
  out += `SHA1 FingerPrint: ${hexUpper(createHash("sha1").update(x.raw).digest())}\n`;
  out += `Subject: ${dnOneLine(x.subject)}\n`;
  out += `Issuer: ${dnOneLine(x.issuer)}\n`;
  for (const ch of c.chain) {
    out += `Chain Subject: ${dnOneLine(ch.subject)}\n`;
    out += `Chain Issuer: ${dnOneLine(ch.issuer)}\n`;
  }
  return out;
}

/** The instance's store; an empty one when no certificate is named (answers as HAProxy's). */
function storeOf(ctx: SslCtx): TlsCertStore {
  return ctx.target.sslCerts?.() ?? EMPTY;
}

const EMPTY = new TlsCertStore([]);

/** Runs `fn` and returns its answer with a line feed, or the error's words. */
function answer(fn: () => string): string {
  try {
    return `${fn()}\n`;
  } catch (err) {
    return `${errMsg(err)}\n`;
  }
}

/** The certificate commands, added to admin_api.ts's table. */
export const SSL_COMMANDS: readonly SslCmd[] = [
  {
    kw: ["show", "ssl", "cert"],
    usage: "show ssl cert [<certfile>]",
    help: "display the SSL certificates used in memory, or the details of a file",
    run(ctx, args) {
      const store = storeOf(ctx);
      const name = args[0];
      if (name === undefined) {
        let out = "";
        const t = store.pending;
        if (t !== null) out += `# transaction\n*${t.file}\n`;
        out += "# filename\n";
        for (const f of store.files()) out += `${f}\n`;
        return out;
      }
      if (name.startsWith("*")) {
        const t = store.pending;
        if (t === null || t.file !== name.slice(1)) {
          return "Can't display the certificate: Not found or the certificate is a bundle!\n";
        }
        return certDetail(t, "Unused", true);
      }
      const c = store.get(name);
      if (c === undefined) {
        return "Can't display the certificate: Not found or the certificate is a bundle!\n";
      }
      return certDetail(c, store.used(name) ? "Used" : "Unused", false);
    },
  },
  {
    kw: ["set", "ssl", "cert"],
    usage: "set ssl cert <certfile> <payload>",
    help: "replace a certificate file (the PEM after <<, ended by an empty line)",
    run(ctx, args) {
      if (args[0] === undefined || ctx.payload === null || ctx.payload.trim() === "") {
        return "'set ssl cert expects a filename and a certificate as a payload\n";
      }
      const store = storeOf(ctx);
      const file = args[0], payload = ctx.payload;
      try {
        const out = `${store.set(file, payload)}\n`;
        ctx.target.forwardSsl?.(`set ssl cert ${file}`, payload);
        return out;
      } catch (err) {
        return `${errMsg(err)}\nCan't update ${file}!\n`;
      }
    },
  },
  {
    kw: ["commit", "ssl", "cert"],
    usage: "commit ssl cert <certfile>",
    help: "commit a certificate file",
    run(ctx, args) {
      if (args[0] === undefined) return "'commit ssl cert expects a filename\n";
      const store = storeOf(ctx);
      const file = args[0];
      try {
        const out = `${store.commit(file)}\n`;
        ctx.target.forwardSsl?.(`commit ssl cert ${file}`, null);
        return out;
      } catch (err) {
        return `${errMsg(err)}\nCan't commit ${file}!\n`;
      }
    },
  },
  {
    kw: ["abort", "ssl", "cert"],
    usage: "abort ssl cert <certfile>",
    help: "abort a transaction for a certificate file",
    run(ctx, args) {
      if (args[0] === undefined) return "'abort ssl cert' expects a filename\n";
      const store = storeOf(ctx);
      const file = args[0];
      return answer(() => {
        const out = store.abort(file);
        ctx.target.forwardSsl?.(`abort ssl cert ${file}`, null);
        return out;
      });
    },
  },
  {
    kw: ["show", "ssl", "crt-list"],
    usage: "show ssl crt-list [-n] [<list>]",
    help: "show the list of crt-lists or the content of a crt-list file <list>",
    run: (ctx, args) => showCrtList(ctx.target.crtLists?.() ?? new Map(), args),
  },
];
