/**
 * Private helper of the status server: parses `HOST:PORT` and tells loopback
 * addresses from others.
 *
 * @module
 */
import { isIP } from "node:net";
import { ConfigError } from "../../lib/errors.ts";

/** A parsed listen address. */
export interface _ListenAddress {
  /** IP address literal, without brackets. */
  readonly hostname: string;
  /** TCP port, 0 for an ephemeral one. */
  readonly port: number;
}

/**
 * Parses `HOST:PORT` or `[V6]:PORT`; `localhost` means 127.0.0.1 (never a name
 * lookup, so that it cannot resolve to a non-loopback address).
 */
export function _parseListen(text: string): _ListenAddress {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:]+):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[2]);
  const hostname = m?.[1] === "localhost" ? "127.0.0.1" : m?.[1];
  if (hostname === undefined || isIP(hostname) === 0 || !(port >= 0 && port <= 65535)) {
    throw new ConfigError(
      "listen",
      `Invalid status listen address: expected HOST:PORT with an IP address, got "${text}"`,
    );
  }
  return { hostname, port };
}

/** Whether `address` (an IP literal) is a loopback address: 127.0.0.0/8, ::1, or ::ffff:127.x.x.x. */
export function _isLoopback(address: string): boolean {
  const a = address.toLowerCase();
  if (isIP(a) === 4) return a.startsWith("127.");
  if (isIP(a) !== 6) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped !== null) return mapped[1]!.startsWith("127.");
  // Expand "::" and compare the eight groups with 0:0:0:0:0:0:0:1.
  const [head = "", tail] = a.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill("0"), ...t];
  return groups.length === 8 && groups.every((g, i) => parseInt(g, 16) === (i === 7 ? 1 : 0));
}

/** `http://host:port` with brackets around an IPv6 host. */
export function _httpUrl(hostname: string, port: number): string {
  return isIP(hostname) === 6 ? `http://[${hostname}]:${port}` : `http://${hostname}:${port}`;
}
