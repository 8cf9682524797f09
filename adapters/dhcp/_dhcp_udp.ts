/**
 * Private helpers of the DHCP adapters: IPv4 UDP sockets through `node:dgram`,
 * CIDR and mask arithmetic, the client hardware address derived from a client
 * identifier, the option-90 replay counter, and the local address the kernel would
 * use towards a server.
 *
 * @module
 */
import { createSocket, type Socket } from "node:dgram";
import { ipv4Bytes, ipv4Text } from "../../lib/wire/dhcp.ts";

/** Read buffer for one DHCP datagram: far above the 576 bytes RFC 2131 section 2 guarantees. */
const _READ_BUFFER = 4096;

/**
 * Opens an IPv4 UDP socket bound to `address:port` (port 0: ephemeral).
 *
 * @throws the bind error (EADDRINUSE, EADDRNOTAVAIL, EACCES for ports below 1024)
 */
export function _bindUdp4(address: string, port: number): Promise<Socket> {
  const socket = createSocket({ type: "udp4" });
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
        socket.setRecvBufferSize(_READ_BUFFER);
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

export { _sendUdp } from "../_udp_send.ts";

/** A parsed IPv4 CIDR. */
export interface _Cidr {
  /** The network address (host bits cleared). */
  readonly network: string;
  /** The prefix length, 0 to 32. */
  readonly prefixLength: number;
}

/** Parses `a.b.c.d/n`; returns undefined when it is no IPv4 CIDR. */
export function _parseCidr(text: string): _Cidr | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (m === null) return undefined;
  const prefixLength = Number(m[2]);
  if (prefixLength > 32) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = ipv4Bytes(m[1]!);
  } catch {
    return undefined;
  }
  const mask = ipv4Bytes(_maskOf(prefixLength));
  for (let i = 0; i < 4; i++) bytes[i]! &= mask[i]!;
  return { network: ipv4Text(bytes), prefixLength };
}

/** The dotted mask of a prefix length (24 -> 255.255.255.0). */
export function _maskOf(prefixLength: number): string {
  const value = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** The prefix length of a contiguous dotted mask; undefined for a non-contiguous one. */
export function _prefixOfMask(mask: string): number | undefined {
  const b = ipv4Bytes(mask);
  const value = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const prefix = Math.clz32(~value);
  return _maskOf(prefix) === ipv4Text(b) ? prefix : undefined;
}

/**
 * A 6-byte Ethernet chaddr for a client identifier: the MAC itself for a type-1
 * identifier of 6 bytes (RFC 2132 section 9.14), otherwise a locally administered
 * unicast address hashed (FNV-1a) from the identifier, so that the same identifier
 * gives the same chaddr before and after the move.
 */
export function _chaddrFor(clientId: Uint8Array): Uint8Array {
  if (clientId.length === 7 && clientId[0] === 1) return clientId.slice(1);
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (const b of clientId) {
    h1 = Math.imul(h1 ^ b, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ b, 0x01000193) >>> 0;
  }
  const out = new Uint8Array(6);
  const v = new DataView(out.buffer);
  v.setUint32(0, h1);
  v.setUint16(4, h2 & 0xffff);
  out[0] = (out[0]! | 0x02) & 0xfe; // locally administered, unicast
  return out;
}

let _lastCounter = 0n;

/**
 * The next option-90 replay counter (RFC 3118 RDM 0): epoch milliseconds shifted
 * left by 16 bits, and at least one above the last one handed out, so that it keeps
 * increasing across processes and within one millisecond.
 */
export function _nextCounter(): bigint {
  const now = BigInt(Date.now()) << 16n;
  _lastCounter = now > _lastCounter ? now : _lastCounter + 1n;
  return _lastCounter;
}

/**
 * The local IPv4 address the kernel would send from to reach `address`: the name of
 * a connected UDP socket (no datagram is sent) or, where the runtime leaves that
 * unbound (Deno's node:dgram reports 0.0.0.0), the `src` of `ip -4 route get`.
 *
 * @throws when there is no route (ENETUNREACH, or `ip` reports an error)
 */
export async function _localAddressFor(address: string, port: number): Promise<string> {
  const socket = createSocket({ type: "udp4" });
  const local = await new Promise<string>((resolve, reject) => {
    socket.once("error", reject);
    socket.connect(port, address, () => resolve(socket.address().address));
  }).finally(() => _closeUdp(socket));
  if (local !== "0.0.0.0") return local;
  const out = await new Deno.Command("ip", {
    args: ["-4", "-o", "route", "get", address],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.success ? out.stdout : out.stderr);
  const src = /\bsrc (\d+\.\d+\.\d+\.\d+)/.exec(text)?.[1];
  if (!out.success || src === undefined) {
    throw new Error(text.trim().split("\n")[0] || `no route to ${address}`);
  }
  return src;
}
