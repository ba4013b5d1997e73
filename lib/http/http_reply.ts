/**
 * Responses sluice generates itself: small, correct HTTP/1.1 with
 * `Connection: close` (every generated error ends the connection), a
 * `Content-Length`, `Cache-Control: no-cache` and a short HTML body, like
 * HAProxy's. Each can be replaced by a file holding a complete raw HTTP
 * response (HAProxy's `errorfile`).
 *
 * @module
 */

/**
 * A complete response sluice sends itself instead of the server's (a rule's
 * deny, return or redirect, a hook's answer, a service): its status for the
 * log, its bytes as they go on the wire, and whether it is a denial (counted
 * as such and logged with termination state `PR` instead of `LR`).
 */
export interface Reply {
  readonly status: number;
  readonly bytes: Uint8Array;
  readonly deny: boolean;
  /**
   * `http-request tarpit`: hold the request this many ms (HAProxy's `timeout
   * tarpit`) before sending the answer; logged PT. Absent: answer at once.
   */
  readonly tarpit?: number;
}

/** Reason phrases of the statuses sluice generates. */
export const REASONS: Readonly<Record<number, string>> = {
  200: "OK",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Payload Too Large",
  414: "URI Too Long",
  421: "Misdirected Request",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

const BODIES: Readonly<Record<number, string>> = {
  200: "Service ready.",
  400: "Your browser sent an invalid request.",
  403: "Request forbidden by administrative rules.",
  404: "The requested URL was not found.",
  405: "Method not allowed.",
  408: "Your browser didn't send a complete request in time.",
  413: "The request body is too large.",
  414: "The request URI is too long.",
  421: "The request was sent to the wrong server.",
  431: "The request header fields are too large.",
  500: "An internal server error occurred.",
  501: "Method or transfer coding not implemented.",
  502: "The server returned an invalid or incomplete response.",
  503: "No server is available to handle this request.",
  504: "The server didn't respond in time.",
  505: "HTTP version not supported.",
};

/** The statuses that can be generated (and replaced by files). */
export const GENERATED_STATUSES: readonly number[] = Object.keys(BODIES).map(Number);

/** Builds the default response for `status`. */
export function defaultReply(status: number): Uint8Array {
  const reason = REASONS[status] ?? "Error";
  const body = `<html><body><h1>${status} ${reason}</h1>\n${
    BODIES[status] ?? ""
  }\n</body></html>\n`;
  return new TextEncoder().encode(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-length: ${body.length}\r\n` +
      `cache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** The responses of one frontend: defaults, some replaced by files. */
export class Replies {
  readonly #bytes = new Map<number, Uint8Array>();

  constructor(files: ReadonlyMap<number, Uint8Array> = new Map()) {
    for (const s of GENERATED_STATUSES) this.#bytes.set(s, files.get(s) ?? defaultReply(s));
  }

  /** The bytes to send for `status`. */
  get(status: number): Uint8Array {
    let b = this.#bytes.get(status);
    if (b === undefined) {
      b = defaultReply(status);
      this.#bytes.set(status, b);
    }
    return b;
  }
}
