/**
 * The per-packet crypto cost of the proactive handover tunnel (RFC 6252 section
 * 7.4): sealing a 1400-byte inner packet into a PHT data frame (AES-256-GCM, header
 * as AAD) and opening it again, as each packet costs the MN and the AR.
 *
 * Run: `deno bench bench/pht_seal_bench.ts`
 *
 * @module
 */
import { importMnArKey, phtDataKeys } from "../lib/keys/pht_keys.ts";
import { openPhtData, sealPhtData } from "../lib/pht/pht_data_seal.ts";
import { ReplayWindow } from "../lib/pht/replay_window.ts";
import { decodePhtFrame, type PhtDataFrame } from "../lib/wire/pht.ts";

const mnAr = await importMnArKey(new Uint8Array(32).fill(7));
const keys = await phtDataKeys(mnAr, new Uint8Array(16).fill(1), new Uint8Array(16).fill(2), 42);
const packet = new Uint8Array(1400).fill(0x55);
packet[0] = 0x45;
let sequence = 0n;
const sealed = decodePhtFrame(
  await sealPhtData(keys.mnToAr, "mn-to-ar", 42, 1n, packet),
) as PhtDataFrame;

Deno.bench("PHT seal + open, 1400-byte packet", { group: "pht", baseline: true }, async () => {
  sequence++;
  const frame = await sealPhtData(keys.mnToAr, "mn-to-ar", 42, sequence, packet);
  await openPhtData(keys.mnToAr, "mn-to-ar", decodePhtFrame(frame) as PhtDataFrame);
});

Deno.bench("PHT seal, 1400-byte packet", { group: "pht" }, async () => {
  sequence++;
  await sealPhtData(keys.mnToAr, "mn-to-ar", 42, sequence, packet);
});

Deno.bench("PHT open, 1400-byte packet", { group: "pht" }, async () => {
  await openPhtData(keys.mnToAr, "mn-to-ar", sealed);
});

const window = new ReplayWindow();
let next = 0n;
Deno.bench("PHT replay window check + accept", { group: "window" }, () => {
  next++;
  if (window.check(next) === "ok") window.accept(next);
});
