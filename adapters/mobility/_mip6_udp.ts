/**
 * Private helpers of the Mobile IPv6 adapters (`mip6_mn.ts`, `home_agent.ts`): the
 * DSMIPv6-style framing of RFC 5555 (a whole IPv6 packet, fixed header plus Mobility
 * Header, as the payload of a UDP datagram on port 4191), IPv4-mapped address text,
 * UDP sockets through `node:dgram` (Deno's `Deno.listenDatagram` still needs
 * `--unstable-net`), and the status names of Binding Acknowledgements.
 *
 * @module
 */
import { createSocket, type Socket } from "node:dgram";
import { isIP } from "node:net";
import { MalformedMessageError } from "../../lib/errors.ts";
import { formatIpv6Address, parseIpv6Address } from "../../lib/wire/ip_header.ts";
import { buildIpPacket, parseIpPacket } from "../../lib/wire/ip_packet.ts";
import { BindingAckStatus, IPPROTO_MH, MH_MAX_LENGTH } from "../../lib/wire/mobility_constants.ts";

/** The IPv6 fixed header (RFC 8200 section 3) in front of the Mobility Header. */
const _IPV6_HEADER = 40;

/** The longest datagram worth reading on port 4191: IPv6 header plus the largest MH. */
export const _MIP6_MAX_DATAGRAM = _IPV6_HEADER + MH_MAX_LENGTH;

/**
 * Canonical text of an address: IPv4 dotted quad as is, IPv6 in RFC 5952 form, and an
 * IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as its IPv4 address, so that the home
 * address, the care-of addresses and the UDP source compare as text.
 *
 * @throws {MalformedMessageError} when the text is not an address
 */
export function _canonical(address: string): string {
  if (!address.includes(":")) {
    if (isIP(address) !== 4) {
      throw new MalformedMessageError(`Invalid IP address: ${JSON.stringify(address)}`);
    }
    return address;
  }
  const text = formatIpv6Address(parseIpv6Address(address));
  return text.startsWith("::ffff:") && text.includes(".") ? text.slice(7) : text;
}

/** An address as IPv6 text: IPv4 mapped to `::ffff:a.b.c.d` (RFC 4291 section 2.5.5.2). */
export function _mapped(address: string): string {
  return address.includes(":") ? address : `::ffff:${address}`;
}

/** The inner IPv6 packet of a datagram on port 4191. */
export interface _Mip6Packet {
  /** Inner source, canonical (IPv4-mapped shown as IPv4). */
  readonly source: string;
  /** Inner destination, canonical (IPv4-mapped shown as IPv4). */
  readonly destination: string;
  /** The Mobility Header bytes. */
  readonly mh: Uint8Array;
}

/**
 * Wraps a Mobility Header in an IPv6 fixed header, Next Header 135 (RFC 5555 section
 * 4.1 carries the IPv6 packet in UDP; RFC 6275 section 6.1.1 the MH in IPv6).
 */
export function _wrapMobilityHeader(
  mh: Uint8Array,
  source: string,
  destination: string,
): Uint8Array {
  return buildIpPacket({
    source: _mapped(source),
    destination: _mapped(destination),
    protocol: IPPROTO_MH,
    payload: mh,
  });
}

/**
 * Reads the IPv6 packet of a datagram on port 4191: version 6, lengths consistent,
 * Next Header 135.
 *
 * @throws {MalformedMessageError} otherwise
 */
export function _unwrapMobilityHeader(datagram: Uint8Array): _Mip6Packet {
  const packet = parseIpPacket(datagram);
  if (packet.version !== 6) {
    throw new MalformedMessageError(
      `Invalid Mobile IPv6 datagram: IP version ${packet.version}, expected 6`,
    );
  }
  if (packet.protocol !== IPPROTO_MH) {
    throw new MalformedMessageError(
      `Invalid Mobile IPv6 datagram: Next Header ${packet.protocol}, expected ${IPPROTO_MH}`,
    );
  }
  return {
    source: _canonical(packet.source),
    destination: _canonical(packet.destination),
    mh: packet.payload,
  };
}

const _STATUS_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(BindingAckStatus).map(([name, value]) => [value, name]),
);

/** `135 SequenceNumberOutOfWindow`: a Binding Acknowledgement status and its name. */
export function _statusName(status: number): string {
  return `${status} ${_STATUS_NAMES.get(status) ?? "Unknown"}`;
}

/** Where a datagram came from. */
export interface _Peer {
  /** Source address, as node:dgram reports it. */
  readonly address: string;
  /** Source port. */
  readonly port: number;
}

/**
 * Opens a UDP socket bound to `address:port` (port 0: ephemeral), delivering each
 * datagram to `onMessage`.
 *
 * @throws the bind error (EADDRINUSE, EADDRNOTAVAIL, EACCES)
 */
export function _bindUdp(
  address: string,
  port: number,
  onMessage: (bytes: Uint8Array, from: _Peer) => void,
  maxLength: number = _MIP6_MAX_DATAGRAM,
): Promise<Socket> {
  const socket = createSocket({ type: isIP(address) === 6 ? "udp6" : "udp4" });
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
      // Errors after the bind (ICMP port unreachable surfacing as ECONNREFUSED) must
      // not become uncaught exceptions; each send reports its own.
      socket.on("error", () => {});
      try {
        // Deno reads each datagram into a buffer of this size: keep it small.
        socket.setRecvBufferSize(maxLength + 1);
      } catch {
        // The default size still works, at a higher cost per datagram.
      }
      socket.on("message", (msg, rinfo) => {
        onMessage(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), {
          address: rinfo.address,
          port: rinfo.port,
        });
      });
      resolve(socket);
    });
  });
}

export { _sendUdp } from "../_udp_send.ts";

/** Closes a socket; resolves when closed (at once if it was closed already). */
export function _closeUdp(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}
