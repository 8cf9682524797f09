/**
 * What the proactive handover tunnel adds to a binding update (RFC 6252 sections 6.3
 * step 3, 7.5): the round trip of the SIP re-INVITE (-> 200 OK) and of the Mobile IPv6
 * Binding Update (-> Binding Acknowledgement) sent from the nCoA through the PHT
 * (the MN's TUN, policy routing, PHT over UDP with AES-GCM, the CTN's AR and its TUN)
 * versus the same exchange sent directly from the oCoA, alternating, in the same run.
 * Testbed: tests/fixtures/binding/_binding_testbed.ts (prefix `mpabub`); the home
 * agent's 50 packets/s stream keeps flowing to the bound care-of address meanwhile.
 * Needs root and /dev/net/tun.
 *
 * Run: `npx -y deno@2.9.6 run -A bench/binding_pht_bench.ts [--reps 200]
 * [--prefix mpabub] [--out bench/results/binding.json]`
 *
 * @module
 */
import { parseArgs } from "npm:deno-std@1.4.0/cli/parse_args.js";
import { canUseNetns } from "../tests/fixtures/netns/netns_lab.ts";
import { ADDR } from "../tests/fixtures/tunnel/_pht_topology.ts";
import {
  HOME,
  MIP_KEY_HEX,
  MIP_MEDIA,
  SIP_MEDIA,
  SIP_PORT,
  startBindingTestbed,
} from "../tests/fixtures/binding/_binding_testbed.ts";

const args = parseArgs(Deno.args, { string: ["reps", "prefix", "out"] });
const REPS = Number(args.reps ?? 200);

if (!canUseNetns({ tun: true })) {
  console.error("binding_pht_bench needs root and /dev/net/tun");
  Deno.exit(2);
}

interface Summary {
  n: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
  maxMs: number;
}
interface Bench {
  viaPht: Summary;
  direct: Summary;
}

const { bed, mn, cn } = await startBindingTestbed(String(args.prefix ?? "mpabub"));
try {
  await mn.request("sipStart", { cn: ADDR.cn, cnPort: SIP_PORT, mediaPort: SIP_MEDIA });
  await cn.request("sipStreamStop");
  await mn.request("mipStart", {
    home: HOME,
    ha: ADDR.cn,
    haPort: 4191,
    keyHex: MIP_KEY_HEX,
    mediaPort: MIP_MEDIA,
  });
  await mn.request("mipBind", { coas: [ADDR.oCoA] });
  const timeout = 60_000 + REPS * 200;
  const sip = await mn.request<Bench>("bench", { protocol: "sip", reps: REPS }, timeout);
  const mip = await mn.request<Bench>("bench", { protocol: "mip", reps: REPS }, timeout);
  const line = (name: string, b: Bench) =>
    `${name}: through the PHT median ${b.viaPht.medianMs.toFixed(3)} ms p90 ${
      b.viaPht.p90Ms.toFixed(3)
    } ms; direct median ${b.direct.medianMs.toFixed(3)} ms p90 ${
      b.direct.p90Ms.toFixed(3)
    } ms (${REPS} each)`;
  console.log(line("SIP re-INVITE -> 200", sip));
  console.log(line("MIP6 BU -> BA", mip));
  const out = args.out ?? new URL("./results/binding.json", import.meta.url).pathname;
  await Deno.writeTextFile(
    out,
    JSON.stringify(
      {
        what:
          "Binding-update round trip through the PHT vs the same exchange sent directly from the oCoA, alternating, same run (bench/binding_pht_bench.ts)",
        sip: { exchange: "re-INVITE -> 200 OK (SipMobility timings)", ...sip },
        mip6: { exchange: "BU -> BA (Mip6Mobility.bind wall time, incl. signing)", ...mip },
        config: { reps: REPS, deno: Deno.version.deno, date: new Date().toISOString() },
      },
      null,
      2,
    ) + "\n",
  );
  console.log(`wrote ${out}`);
} finally {
  await bed.lab.dispose();
}
