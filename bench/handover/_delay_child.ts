/**
 * The delay process of the testbed's `wan` namespace (see delay_relay.ts): holds the
 * TUN device `dly0` into which the policy rules send every packet crossing the
 * namespace, and writes each back after its one-way delay. JSON-line child:
 * `start {rules: DelayRule[]}`, `stats`.
 *
 * @module
 */
import { TunDevice } from "../../adapters/tunnel/tun.ts";
import { serveJsonLines } from "../../tests/fixtures/netns/json_line_server.ts";
import { DelayLine, type DelayRule, ipv4Addresses, oneWayDelayMs } from "./delay_relay.ts";

let tun: TunDevice | undefined;
let line: DelayLine<Uint8Array> | undefined;
let running = false;

async function pump(device: TunDevice, rules: readonly DelayRule[]): Promise<void> {
  line = new DelayLine<Uint8Array>({
    now: () => performance.now(),
    setTimer: (fn, ms) => void setTimeout(fn, ms),
    emit: (p) => {
      try {
        device.write(p);
      } catch {
        // closed, or a packet the kernel refuses
      }
    },
  });
  running = true;
  while (running) {
    const packet = await device.read();
    if (packet === null) return;
    const a = ipv4Addresses(packet);
    line.push(packet, a === undefined ? 0 : oneWayDelayMs(a.source, a.destination, rules));
  }
}

await serveJsonLines({
  start(args) {
    const rules = (args.rules as DelayRule[]).map((r) => ({ cidr: r.cidr, rttMs: r.rttMs }));
    tun = TunDevice.open({ name: String(args.name ?? "dly0"), mtu: 1500 });
    void pump(tun, rules);
    return { name: tun.name };
  },
  stats() {
    return { line: line?.stats(), tun: tun?.stats() };
  },
}, async () => {
  running = false;
  await tun?.close();
});
