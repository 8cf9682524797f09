/**
 * The correspondent side of the handover testbed, a JSON-line child in the `cn`
 * namespace (RFC 6252 Appendix C.5.1): a SIP correspondent that answers the MN's
 * INVITE with an RTP stream at the run's rate (50 or 62.5 packets/s: 20 or 16 ms, the
 * interval of Figures 6 and 7) and redirects it on re-INVITE, or a Mobile IPv6 home
 * agent that forwards a local RTP stream at that rate to every care-of address bound
 * for the MN's home address. `records` stops the stream and returns what was sent.
 *
 * @module
 */
import { udpTransport } from "../../adapters/mobility/datagram_transport.ts";
import { HomeAgent } from "../../adapters/mobility/home_agent.ts";
import { RtpSender } from "../../adapters/mobility/rtp_stream.ts";
import { SipCorrespondent } from "../../adapters/mobility/sip_cn.ts";
import { fromHex } from "../../lib/wire/_bytes.ts";
import { serveJsonLines } from "../../tests/fixtures/netns/json_line_server.ts";

let cn: SipCorrespondent | undefined;
let ha: HomeAgent | undefined;
let haSender: RtpSender | undefined;

await serveJsonLines({
  /** {address, port, rate}: the SIP correspondent. */
  async sip(args) {
    cn = await SipCorrespondent.listen({
      listen: { address: String(args.address), port: Number(args.port) },
      stream: { packetsPerSecond: Number(args.rate) },
      ringing: false,
    });
    return { port: cn.local.port };
  },
  /** {address, home, keyHex, mediaPort, rate}: the home agent and its stream (started by `haStream`). */
  async ha(args) {
    const key = fromHex(String(args.keyHex));
    const home = String(args.home);
    ha = await HomeAgent.listen({
      address: String(args.address),
      keys: (h) => h === home ? key : undefined,
      stream: { listenPort: 0, mediaPort: Number(args.mediaPort), home },
    });
    const tx = await udpTransport({ address: String(args.address), port: 0 });
    haSender = new RtpSender({
      transport: tx,
      target: { address: String(args.address), port: ha.streamPort! },
      packetsPerSecond: Number(args.rate),
    });
    return { port: ha.port };
  },
  haStream() {
    haSender?.start();
    return {};
  },
  /** Stops the stream; returns every packet sent and the redirects. */
  records() {
    const sender = haSender ?? cn?.stream();
    sender?.stop();
    return {
      sent: (sender?.records() ?? []).map((r) => [r.sequence, r.sentAt]),
      redirects: cn?.events().filter((e) => e.type === "redirected").map((e) => e.at) ?? [],
    };
  },
}, async () => {
  haSender?.stop();
  await ha?.close().catch(() => {});
  await cn?.close().catch(() => {});
});
