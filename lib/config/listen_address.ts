/**
 * The address a service listens on (or a status endpoint binds), as written in a
 * configuration file: `"HOST:PORT"`, `"[V6]:PORT"` or a bare `"HOST"`.
 *
 * @module
 */

/** An IP address literal and a port; port 0 asks for an ephemeral port. */
export interface ListenAddress {
  /** IPv4 or IPv6 address literal, without brackets. */
  readonly address: string;
  /** UDP or TCP port, 0-65535. */
  readonly port: number;
}

/**
 * Formats a {@link ListenAddress} back to `HOST:PORT` (brackets around IPv6).
 *
 * @param listen the address
 * @returns the text form
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(formatListenAddress({ address: "127.0.0.1", port: 9716 }), "127.0.0.1:9716");
 * assertEquals(formatListenAddress({ address: "::1", port: 716 }), "[::1]:716");
 * ```
 */
export function formatListenAddress(listen: ListenAddress): string {
  return listen.address.includes(":")
    ? `[${listen.address}]:${listen.port}`
    : `${listen.address}:${listen.port}`;
}
