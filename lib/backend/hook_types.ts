/**
 * The TypeScript hook API of HTTP frontends and backends (`onRequest`,
 * `onResponse`) and the contexts the hooks get. Declared in the backend
 * layer, the lowest one that holds hooks, so that frontends (which run
 * them), backends and the configuration model all import it downward.
 *
 * @module
 */

/**
 * What an `onRequest` hook sees and can do. Reading is free of side
 * effects; the changes apply when the hook returns (or its promise
 * resolves). Invalid input (a header name that is not a token, a value with
 * CR/LF, an unknown backend, a path not starting with "/") throws, which
 * fails the request with 500.
 */
export interface RequestContext {
  /** Request method (`GET`). */
  readonly method: string;
  /** Path of the target, without the query string. */
  readonly path: string;
  /** Query string without the `?`, "" when none. */
  readonly query: string;
  /** `HTTP/1.0` or `HTTP/1.1`. */
  readonly version: string;
  /** Header fields as received, in order (names as sent). */
  readonly headers: readonly (readonly [string, string])[];
  /** The first value of header `name` (any case), or null. */
  header(name: string): string | null;
  /** The client: IP address, port, and whether it came over TLS. */
  readonly client: { readonly address: string; readonly port: number; readonly tls: boolean };
  /** Frontend name. */
  readonly frontend: string;
  /** The backend the request goes to now (after `use_backend` rules). */
  readonly backend: string;
  /** Sends the request to another backend (of the same mode). */
  useBackend(name: string): void;
  /** Replaces every `name` header with one of this value. */
  setHeader(name: string, value: string): void;
  /** Adds a `name` header. */
  addHeader(name: string, value: string): void;
  /** Removes every `name` header the client sent. */
  deleteHeader(name: string): void;
  /** Replaces the path (and query): `"/v2/items?x=1"`. */
  setPath(pathAndQuery: string): void;
  /** Answers the request directly (the server is not contacted); the connection closes after it. */
  respond(
    status: number,
    options?: { headers?: Record<string, string>; body?: string | Uint8Array },
  ): void;
}

/** What an `onResponse` hook sees and can do. */
export interface ResponseContext {
  /** Response status. */
  readonly status: number;
  /** Header fields as received, in order. */
  readonly headers: readonly (readonly [string, string])[];
  /** The first value of header `name` (any case), or null. */
  header(name: string): string | null;
  /** The request it answers. */
  readonly request: { readonly method: string; readonly path: string };
  /** The server that answered (`backend/server`). */
  readonly server: string;
  /** Replaces every `name` header of the response with one of this value. */
  setHeader(name: string, value: string): void;
  /** Adds a `name` header to the response. */
  addHeader(name: string, value: string): void;
  /** Removes every `name` header the server sent. */
  deleteHeader(name: string): void;
}

/** TypeScript hooks of an HTTP frontend; they cost nothing when absent. */
export interface FrontendHooks {
  /**
   * Called for each request after the `http-request` rules and `use_backend`
   * routing; may be async (other streams go on meanwhile). Throwing (or
   * rejecting) answers 500 to that request only and logs the error.
   */
  onRequest?: (ctx: RequestContext) => void | Promise<void>;
  /**
   * Called for each final response head before it is forwarded; may be
   * async (the head waits in its buffer). Throwing (or rejecting) answers 500.
   */
  onResponse?: (ctx: ResponseContext) => void | Promise<void>;
}
