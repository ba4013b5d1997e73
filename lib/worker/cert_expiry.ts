/**
 * The certificates' expiry (bind and server `crt` files): their notAfter for the stats
 * (`sluice_ssl_cert_not_after_seconds`) and a warning in the event log from
 * `ssl-cert-expiry-warning` days before it (a sluice extension; HAProxy has
 * no such warning), checked when the instance starts and then once a day.
 *
 * @module
 */
import type { TlsCertStore } from "../conn/tls_cert_store.ts";

/** Time between two checks. */
const DAY_MS = 86_400_000;

/** A certificate's file and notAfter in Unix seconds, as the stats carry them. */
export interface CertExpiry {
  file: string;
  notAfter: number;
}

/** notAfter of every certificate of `store`, by file name. */
export function certExpiries(store: TlsCertStore | null): CertExpiry[] {
  if (store === null) return [];
  return store.files().map((file) => ({
    file,
    notAfter: Math.floor(Date.parse(store.get(file)!.x509.validTo) / 1000),
  }));
}

/**
 * The warning for a certificate expiring at `notAfter` (Unix seconds) seen
 * at `now` (ms), or null when it is more than `days` days away.
 */
export function certExpiryWarning(c: CertExpiry, days: number, now: number): string | null {
  const left = c.notAfter * 1000 - now;
  if (left > days * DAY_MS) return null;
  const when = new Date(c.notAfter * 1000).toUTCString();
  if (left <= 0) return `SSL certificate '${c.file}' has expired (notAfter: ${when}).`;
  const n = Math.floor(left / DAY_MS);
  return `SSL certificate '${c.file}' expires in ${n} day${
    n === 1 ? "" : "s"
  } (notAfter: ${when}).`;
}

/** The daily check: logs one warning per certificate within `days` of its end. */
export class CertExpiryWatch {
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly days: number,
    readonly store: () => TlsCertStore | null,
    readonly warn: (line: string) => void,
  ) {}

  /** Checks now, then once a day until stop(); nothing when `days` is 0. */
  start(): void {
    if (this.days === 0 || this.#timer !== undefined) return;
    this.check(Date.now());
    const t = setInterval(() => this.check(Date.now()), DAY_MS);
    // A process with nothing else to do must not be kept alive by this.
    Deno.unrefTimer(t);
    this.#timer = t;
  }

  /** Logs the warnings due at `now` (ms). */
  check(now: number): void {
    for (const c of certExpiries(this.store())) {
      const line = certExpiryWarning(c, this.days, now);
      if (line !== null) this.warn(line);
    }
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
