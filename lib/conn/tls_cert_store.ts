/**
 * The certificates of an instance's listeners by file name, and HAProxy's
 * one-at-a-time transaction to replace one at run time (`set ssl cert`,
 * `commit ssl cert`, `abort ssl cert`): the new PEM is parsed and checked
 * when it is set, and takes effect for new handshakes on every listener
 * using that file when it is committed. Connections already made keep
 * their certificate. Nothing is written to disk (as HAProxy: a reload reads
 * the files again).
 *
 * The store is generic over its users (TlsCertUser): the listeners' SNI
 * stores (TlsCerts) and the servers' client certificates (`server ... crt`,
 * as HAProxy 2.6 updates those too); any certificate with a `file` is listed
 * and replaced, whatever configured it.
 *
 * @module
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { errMsg } from "../core/errors.ts";
import type { TlsCertPair } from "./tls_sock.ts";

/**
 * What uses certificates by file: a listener's SNI store (TlsCerts), or a
 * server's client certificate (clientCertUser()).
 */
export interface TlsCertUser {
  /** The certificates, with the files they came from. */
  readonly pairs: readonly TlsCertPair[];
  /** Replaces the pairs of `file`; throws, changing nothing, when refused; false when none. */
  replace(file: string, cert: string, key: string): boolean;
}

/** A server's client certificate (`crt`) as a store user: `live` is updated in place. */
export function clientCertUser(
  live: { cert: string; key: string; readonly file?: string },
): TlsCertUser {
  return {
    get pairs() {
      return [live];
    },
    replace(file, cert, key) {
      if (live.file !== file) return false;
      live.cert = cert;
      live.key = key;
      return true;
    },
  };
}

/** A certificate of the store: its chain and key as PEM, and the leaf parsed. */
export interface StoredCert {
  readonly file: string;
  readonly cert: string;
  readonly key: string;
  readonly x509: X509Certificate;
  /** More certificates of the chain (issuers), in file order. */
  readonly chain: readonly X509Certificate[];
}

/** The PEM blocks of `text` with their labels. */
function pemBlocks(text: string): { label: string; text: string }[] {
  return [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)].map((m) => ({
    label: m[1],
    text: m[0] + "\n",
  }));
}

/**
 * Parses a certificate file's text (chain then key, in any order, as a
 * `crt` file) into a StoredCert; throws an Error saying what is wrong.
 * `key` is used when the text has no private key (a certificate-only update).
 */
export function storedCertParse(file: string, text: string, key?: string): StoredCert {
  const blocks = pemBlocks(text);
  const certs = blocks.filter((b) => b.label === "CERTIFICATE");
  const keys = blocks.filter((b) => b.label.endsWith("PRIVATE KEY"));
  if (certs.length === 0) throw new Error("no certificate in the payload");
  if (keys.length > 1) throw new Error("more than one private key in the payload");
  if (keys[0]?.label === "ENCRYPTED PRIVATE KEY") {
    throw new Error("encrypted private keys are not supported");
  }
  const keyText = keys[0]?.text ?? key;
  if (keyText === undefined) throw new Error("no private key in the payload");
  let x509s: X509Certificate[];
  try {
    x509s = certs.map((b) => new X509Certificate(b.text));
  } catch (err) {
    throw new Error(`the certificate does not parse (${errMsg(err)})`);
  }
  let pk;
  try {
    pk = createPrivateKey(keyText);
  } catch (err) {
    throw new Error(`the private key does not parse (${errMsg(err)})`);
  }
  if (!x509s[0].checkPrivateKey(pk)) {
    throw new Error("inconsistencies between private key and certificate");
  }
  return {
    file,
    cert: certs.map((b) => b.text).join(""),
    key: keyText,
    x509: x509s[0],
    chain: x509s.slice(1),
  };
}

/** The committed certificates of the listeners, and the ongoing transaction. */
export class TlsCertStore {
  readonly #users: readonly TlsCertUser[];
  readonly #certs = new Map<string, StoredCert>();
  #txn: StoredCert | null = null;

  /** Lists the named certificates of `users` (listeners' SNI stores, servers' client certificates). */
  constructor(users: readonly TlsCertUser[]) {
    this.#users = users;
    for (const u of users) {
      for (const p of u.pairs) {
        if (p.file === undefined || this.#certs.has(p.file)) continue;
        try {
          this.#certs.set(p.file, storedCertParse(p.file, p.cert + p.key));
        } catch {
          // Loaded by the TLS stack, so it parses; if not, it is not listed
          // rather than breaking the stats and the runtime API.
        }
      }
    }
  }

  /** File names, sorted. */
  files(): string[] {
    return [...this.#certs.keys()].sort();
  }

  /** The committed certificate of `file`, or undefined. */
  get(file: string): StoredCert | undefined {
    return this.#certs.get(file);
  }

  /** The certificate of the ongoing transaction, or null. */
  get pending(): StoredCert | null {
    return this.#txn;
  }

  /** True when a listener uses `file`. */
  used(file: string): boolean {
    return this.#users.some((u) => u.pairs.some((p) => p.file === file));
  }

  /**
   * `set ssl cert FILE` with `payload`: starts or updates the transaction.
   * Returns HAProxy's answer; throws an Error with it when refused.
   */
  set(file: string, payload: string): string {
    if (this.#txn !== null && this.#txn.file !== file) {
      throw new Error(
        `The ongoing transaction is about '${this.#txn.file}' but you are trying to set '${file}'`,
      );
    }
    const old = this.#certs.get(file);
    if (old === undefined) {
      throw new Error("Can't replace a certificate which is not referenced by the configuration!");
    }
    let next: StoredCert;
    try {
      // A payload with only a certificate keeps the key in force (HAProxy
      // keeps the parts of the old certificate the payload lacks).
      next = storedCertParse(file, payload, (this.#txn ?? old).key);
    } catch (err) {
      throw new Error(`${errMsg(err)}\nCan't load the payload`);
    }
    const updated = this.#txn !== null;
    this.#txn = next;
    return `Transaction ${updated ? "updated" : "created"} for certificate ${file}!`;
  }

  /** `commit ssl cert FILE`: new handshakes use it. Returns the answer; throws when refused. */
  commit(file: string): string {
    const t = this.#txn;
    if (t === null) throw new Error("No ongoing transaction! !");
    if (t.file !== file) {
      throw new Error(
        `The ongoing transaction is about '${t.file}' but you are trying to set '${file}'`,
      );
    }
    let n = 0;
    try {
      for (const u of this.#users) if (u.replace(file, t.cert, t.key)) n++;
    } catch (err) {
      // Checked when set, so this is the TLS stack refusing it: undo.
      const old = this.#certs.get(file)!;
      for (const u of this.#users) u.replace(file, old.cert, old.key);
      throw new Error(`${errMsg(err)}\nCan't commit ${file}!`);
    }
    this.#certs.set(file, t);
    this.#txn = null;
    return `Committing ${file}${".".repeat(Math.max(n, 1))}\nSuccess!`;
  }

  /** `abort ssl cert FILE`: drops the transaction. Returns the answer; throws when refused. */
  abort(file: string): string {
    const t = this.#txn;
    if (t === null) throw new Error("No ongoing transaction!");
    if (t.file !== file) {
      throw new Error(
        `The ongoing transaction is about '${t.file}' but you are trying to abort a transaction for '${file}'`,
      );
    }
    this.#txn = null;
    return `Transaction aborted for certificate '${file}'!`;
  }
}
