/**
 * Opening sockets to an address: the L4 part of connecting to a server.
 *
 * @module
 */
import type { Address } from "../core/addr_types.ts";

/** Starts a TCP or unix connect; errors (even synchronous ones) reject. */
export function sockConnect(addr: Address): Promise<Deno.Conn> {
  try {
    return addr.kind === "unix"
      ? Deno.connect({ transport: "unix", path: addr.path })
      : Deno.connect({ hostname: addr.host, port: addr.port });
  } catch (err) {
    return Promise.reject(err);
  }
}
