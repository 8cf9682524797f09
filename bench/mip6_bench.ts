/**
 * The cost of one Mobile IPv6 Binding Update at the home agent (RFC 6275 section 10.3,
 * RFC 5648 bulk registration, as used for the simultaneous binding of RFC 6252
 * sections 7.2 and C.4): encode and sign the BU (MN side), decode, verify and run the
 * binding cache reducer (HA side), for one CoA and for three at once.
 *
 * The BU -> BA round trip over UDP is measured by the last test of
 * `tests/adapters/mobility/mip6_mn.test.ts` (median of 200) rather than here: under
 * `deno bench` (2.9.6) the same loopback exchange took 13 to 500 ms per iteration
 * against a 0.26 ms median in a plain `deno run` loop, an artefact of the bench
 * runner, not of the protocol.
 *
 * Run: `deno bench bench/mip6_bench.ts`
 *
 * @module
 */
import { signMobilityHeader, verifyMobilityHeader } from "../lib/keys/binding_auth.ts";
import {
  bindingCacheReducer,
  type BindingCacheState,
  INITIAL_BINDING_CACHE_STATE,
} from "../lib/mip6/binding_cache.ts";
import {
  bindingUpdateFlags,
  decodeMobilityHeader,
  findMobilityOptions,
  type MobilityOption,
} from "../lib/wire/mobility_header.ts";

const KEY = new Uint8Array(32).fill(7);
const HOME = "10.9.0.100";
const HA = "127.0.0.1";
const COAS = ["10.1.0.50", "10.2.0.50", "10.3.0.50"];
const ADDRESSES = { careOf: COAS[0]!, peer: HA };
const CHECKSUM = { checksum: { source: HOME, destination: HA } };
const CONFIG = { role: "home-agent" as const };

function bids(coas: readonly string[]): MobilityOption[] {
  if (coas.length === 1) return [];
  return coas.map((coa, i) => ({
    kind: "bindingIdentifier",
    bid: i + 1,
    status: 0,
    simultaneousHome: false,
    overwrite: true,
    careOfAddress: coa,
  }));
}

let state: BindingCacheState = INITIAL_BINDING_CACHE_STATE;
let sequence = 0;

async function oneBu(coas: readonly string[]): Promise<void> {
  sequence = (sequence + 1) & 0xffff;
  const mh = await signMobilityHeader(
    KEY,
    {
      kind: "bindingUpdate",
      sequence,
      flags: bindingUpdateFlags({ ack: true, home: true }),
      lifetime: 600,
      options: bids(coas),
    },
    ADDRESSES,
    CHECKSUM,
  );
  const msg = decodeMobilityHeader(mh, CHECKSUM);
  if (msg.kind !== "bindingUpdate") throw new Error("Not a BU");
  if (!await verifyMobilityHeader(KEY, mh, ADDRESSES)) throw new Error("Does not verify");
  const ids = findMobilityOptions(msg, "bindingIdentifier");
  const requests = ids.length === 0
    ? [{ coa: ADDRESSES.careOf }]
    : ids.map((o) => ({ coa: o.careOfAddress!, bid: o.bid }));
  [state] = bindingCacheReducer(state, {
    kind: "bu-received",
    home: HOME,
    coas: requests,
    sequence: msg.sequence,
    lifetime: msg.lifetime,
    authentic: true,
    now: sequence * 10,
    overwrite: ids.some((o) => o.overwrite),
  }, CONFIG);
}

Deno.bench(
  "BU encode+sign+decode+verify+reducer, 1 CoA",
  { group: "bu", baseline: true },
  () => oneBu(COAS.slice(0, 1)),
);

Deno.bench(
  "BU encode+sign+decode+verify+reducer, 3 CoAs (RFC 5648 bulk)",
  { group: "bu" },
  () => oneBu(COAS),
);

Deno.bench("binding cache reducer alone, 3 CoAs", { group: "reducer" }, () => {
  sequence = (sequence + 1) & 0xffff;
  [state] = bindingCacheReducer(state, {
    kind: "bu-received",
    home: HOME,
    coas: COAS.map((coa, i) => ({ coa, bid: i + 1 })),
    sequence,
    lifetime: 600,
    authentic: true,
    now: sequence * 10,
    overwrite: true,
  }, CONFIG);
});
