/**
 * Private helpers of the information server and its client: UDP sockets through
 * `node:dgram` (Deno's `Deno.listenDatagram` still needs `--unstable-net`) and
 * address canonicalization.
 *
 * @module
 */
import { createSocket, type Socket } from "node:dgram";
import { isIP } from "node:net";
import { INFO_QUERY_MAX_MESSAGE_LENGTH } from "../../lib/wire/info_query.ts";

/** 4 or 6 for an IP literal, 0 otherwise. */
export function _family(address: string): 0 | 4 | 6 {
  const f = isIP(address);
  return f === 4 || f === 6 ? f : 0;
}

/** Canonical text of an IP address, so that `::1` and `0::1` compare equal. */
export function _canonicalIp(address: string): string {
  if (isIP(address) !== 6) return address;
  try {
    return new URL(`http://[${address}]/`).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return address.toLowerCase();
  }
}

/** `host:port`, with brackets around an IPv6 host. */
export function _hostPort(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Opens a UDP socket bound to `address:port` (port 0: ephemeral); its read buffer is
 * sized to one datagram over the limit so that an oversized one stays detectable.
 *
 * @throws the bind error (EADDRINUSE, EADDRNOTAVAIL, EACCES)
 */
export function _bindUdp(family: 4 | 6, address: string, port: number): Promise<Socket> {
  const socket = createSocket({ type: family === 6 ? "udp6" : "udp4" });
  return new Promise<Socket>((resolve, reject) => {
    const onError = (error: Error) => {
      try {
        socket.close();
      } catch {
        // never bound
      }
      reject(error);
    };
    socket.once("error", onError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off("error", onError);
      try {
        socket.setRecvBufferSize(INFO_QUERY_MAX_MESSAGE_LENGTH + 1);
      } catch {
        // the default size works too
      }
      resolve(socket);
    });
  });
}

/** Closes a socket; resolves when closed (at once if it was closed already). */
export function _closeUdp(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
}
