/**
 * Default values of the configuration (HAProxy's where sluice has the same
 * setting), applied by resolveConfig() and named in config_types.ts docs.
 *
 * @module
 */
import type { TimeoutsConfig } from "./config_types.ts";

/** Default process maxconn. */
export const DEFAULT_MAXCONN = 4096;
/** Default grace period after a stop signal, in ms. */
export const DEFAULT_GRACE_MS = 10_000;
/** Default timeouts, in ms (0: none). */
export const DEFAULT_TIMEOUTS: Readonly<Required<TimeoutsConfig>> = {
  client: 30_000,
  server: 30_000,
  connect: 5_000,
  tunnel: 0,
  queue: 0,
  httpRequest: 10_000,
  httpKeepAlive: 10_000,
};
/** Default HTTP limits and server connection reuse. */
export const DEFAULT_MAXHDRS = 101;
export const DEFAULT_MAXREWRITE = 1024;
export const DEFAULT_SERVER_IDLE_TIMEOUT = 4_000;
/** Default connection retries. */
export const DEFAULT_RETRIES = 3;
/** Large buffers per instance (4 × bufsize each). */
export const DEFAULT_LARGE_BUFFERS = 256;
/** Default redispatch: on the last retry only. */
export const DEFAULT_REDISPATCH = -1;
/** Default health check interval, rise and fall (HAProxy's). */
export const DEFAULT_CHECK_INTER = 2_000;
export const DEFAULT_CHECK_RISE = 2;
export const DEFAULT_CHECK_FALL = 3;
/** Default passive-health error limit (HAProxy's). */
export const DEFAULT_ERROR_LIMIT = 10;
/** Default size and expiry of the source stickiness table. */
export const DEFAULT_STICK_SIZE = 100_000;
export const DEFAULT_STICK_EXPIRE = 30 * 60_000;
/** Default queue of log bytes waiting for a slow sink. */
export const DEFAULT_LOG_QUEUE_BYTES = 1 << 20;
/** Default idle time of an interactive runtime API session (HAProxy's `stats timeout`), in ms. */
export const DEFAULT_ADMIN_TIMEOUT = 10_000;
