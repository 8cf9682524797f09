/**
 * Helpers of the SIP mobility tests: a lossy transport wrapper, a receiver pair on
 * two loopback addresses with the same port, and a scripted raw UDP peer.
 *
 * @module
 */
import {
  type DatagramEndpoint,
  type DatagramTransport,
  type DatagramTransportFactory,
  udpTransport,
} from "../../../adapters/mobility/datagram_transport.ts";
import { RtpReceiver } from "../../../adapters/mobility/rtp_stream.ts";

const text = new TextDecoder();

/** The start line of a SIP datagram. */
export function startLine(bytes: Uint8Array): string {
  const s = text.decode(bytes);
  return s.slice(0, s.indexOf("\r\n"));
}

/** The CSeq method of a SIP datagram. */
export function cseqMethod(bytes: Uint8Array): string {
  return /\r\nCSeq: *[0-9]+ +([A-Z]+)/i.exec(text.decode(bytes))?.[1] ?? "";
}

/**
 * A transport factory whose transports drop the datagrams `drop` selects, in either
 * direction, and log every datagram.
 */
export function lossyTransport(
  drop: (bytes: Uint8Array, direction: "in" | "out") => boolean,
  log: { direction: "in" | "out"; line: string; dropped: boolean }[] = [],
): DatagramTransportFactory {
  return async (local) => {
    const t = await udpTransport(local);
    const wrapped: DatagramTransport = {
      get local() {
        return t.local;
      },
      send(bytes, to) {
        const dropped = drop(bytes, "out");
        log.push({ direction: "out", line: startLine(bytes), dropped });
        return dropped ? Promise.resolve() : t.send(bytes, to);
      },
      onMessage(handler) {
        t.onMessage((bytes, from) => {
          const dropped = drop(bytes, "in");
          log.push({ direction: "in", line: startLine(bytes), dropped });
          if (!dropped) handler(bytes, from);
        });
      },
      close: () => t.close(),
    };
    return wrapped;
  };
}

/** Two RTP receivers with the same port on two addresses (the old and new CoA). */
export async function receiverPair(
  oldAddress: string,
  newAddress: string,
): Promise<[RtpReceiver, RtpReceiver]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const a = await RtpReceiver.listen({ address: oldAddress, port: 0 });
    try {
      const b = await RtpReceiver.listen({ address: newAddress, port: a.local.port });
      return [a, b];
    } catch {
      await a.close();
    }
  }
  throw new Error("No common free port on both addresses");
}

/** A raw UDP peer that records what it receives and can answer. */
export async function rawPeer(address = "127.0.0.1"): Promise<{
  transport: DatagramTransport;
  received: { bytes: Uint8Array; from: DatagramEndpoint }[];
  next: () => Promise<{ bytes: Uint8Array; from: DatagramEndpoint }>;
}> {
  const transport = await udpTransport({ address, port: 0 });
  const received: { bytes: Uint8Array; from: DatagramEndpoint }[] = [];
  const waiters: (() => void)[] = [];
  let taken = 0;
  transport.onMessage((bytes, from) => {
    received.push({ bytes: bytes.slice(), from });
    waiters.splice(0).forEach((w) => w());
  });
  const next = async () => {
    while (received.length <= taken) await new Promise<void>((r) => waiters.push(r));
    return received[taken++]!;
  };
  return { transport, received, next };
}
