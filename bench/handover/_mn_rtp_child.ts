/**
 * The MN's RTP receiver for the agent driver (_mn_agent.ts): a JSON-line child in the
 * MN's namespace that listens on the media port on every address (the oCoA on eth0,
 * the nCoA on a TUN or, after the move, on eth0) and reports each arrival, so the
 * stream is measured outside the agent process that is being measured.
 *
 * @module
 */
import { RtpReceiver } from "../../adapters/mobility/rtp_stream.ts";
import { serveJsonLines } from "../../tests/fixtures/netns/json_line_server.ts";

let rx: RtpReceiver | undefined;

await serveJsonLines({
  /** {port}: starts listening on 0.0.0.0:port. */
  async listen(a) {
    rx = await RtpReceiver.listen({ address: "0.0.0.0", port: Number(a.port) });
    return { listening: true };
  },
  /** Every RTP arrival: [sequence, arrivedAt, duplicate 0|1]. */
  arrivals() {
    return (rx?.arrivals() ?? []).map((r) => [r.sequence, r.arrivedAt, r.duplicate ? 1 : 0]);
  },
}, async () => {
  await rx?.close().catch(() => {});
});
