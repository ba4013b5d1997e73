/**
 * Event log lines for failed TLS handshakes with servers, with the reason
 * the TLS stack gave ("SSL handshake failure: certificate has expired"):
 * the traffic log only says "SC". At most one line per server per second,
 * telling how many more failed meanwhile, so a broken server cannot flood
 * the logs.
 *
 * @module
 */
import { tlsFailText } from "../conn/tls_client.ts";

/** Time between two lines about the same server. */
const TLS_FAIL_LOG_INTERVAL_MS = 1000;

/** Per-server state: when the last line went out and how many failures since. */
export class TlsFailLog {
  #last = -Infinity;
  #since = 0;

  /** The line to log for a failure at `now` (ms) with `reason`, or null when too soon. */
  note(what: string, reason: string, now: number): string | null {
    if (now - this.#last < TLS_FAIL_LOG_INTERVAL_MS) {
      this.#since++;
      return null;
    }
    const more = this.#since > 0 ? ` (${this.#since} more failed since the last report)` : "";
    this.#last = now;
    this.#since = 0;
    return `Connection to server ${what} failed: ${tlsFailText(reason)}${more}.`;
  }
}
