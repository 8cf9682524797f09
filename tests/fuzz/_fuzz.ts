/**
 * A seeded mutation fuzzer for the wire codecs (issue 3 section 6): each case takes
 * a valid fixture, applies 1-4 random mutations (bit flips, byte sets to 0x00 /
 * 0xff / random, truncation, extension, insertion, deletion, length fields nudged)
 * and decodes it. The decoder must either return a message or throw one of the
 * typed codec errors; anything else (a TypeError, a RangeError, a hang) is a bug.
 * When a mutant decodes, it must re-encode and decode to the same message.
 *
 * @module
 */
import { MalformedMessageError, ProtocolViolationError } from "../../lib/errors.ts";
import { Prng } from "../../lib/metrics/prng.ts";
import { decodeEap, encodeEap } from "../../lib/wire/eap.ts";
import { decodeEapPsk, encodeEapPsk } from "../../lib/wire/eap_psk.ts";
import { decodePana, encodePana } from "../../lib/wire/pana.ts";
import { decodeRadius, encodeRadius } from "../../lib/wire/radius.ts";
import { fromHex } from "../../lib/wire/_bytes.ts";

/** One codec under fuzz: its seeds and a decode / re-encode pair. */
export interface FuzzTarget {
  /** Codec name for reports. */
  readonly name: string;
  /** Valid inputs to mutate. */
  readonly seeds: readonly Uint8Array[];
  /** Decodes; throws a typed error on bad input. */
  readonly decode: (bytes: Uint8Array) => unknown;
  /** Encodes a decoded message back to bytes. */
  readonly encode: (message: never) => Uint8Array;
}

/** The outcome of a fuzz run. */
export interface FuzzReport {
  readonly name: string;
  readonly cases: number;
  /** Mutants that decoded (and round-tripped). */
  readonly decoded: number;
  /** Mutants refused with a typed error. */
  readonly refused: number;
  /** Failures: untyped exceptions or round-trip mismatches, with the input as hex. */
  readonly failures: readonly { readonly input: string; readonly error: string }[];
}

function _hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Applies 1-4 random mutations to a copy of `seed`. */
export function mutate(seed: Uint8Array, prng: Prng): Uint8Array {
  let bytes = Uint8Array.from(seed);
  const count = 1 + Math.floor(prng.next() * 4);
  for (let m = 0; m < count; m++) {
    const at = bytes.length === 0 ? 0 : Math.floor(prng.next() * bytes.length);
    switch (Math.floor(prng.next() * 8)) {
      case 0: // bit flip
        if (bytes.length > 0) bytes[at] = bytes[at]! ^ (1 << Math.floor(prng.next() * 8));
        break;
      case 1: // interesting byte
        if (bytes.length > 0) {
          bytes[at] = [0x00, 0xff, 0x7f, 0x80, 0x01][Math.floor(prng.next() * 5)]!;
        }
        break;
      case 2: // truncate
        bytes = bytes.slice(0, at);
        break;
      case 3: { // extend with random bytes
        const extra = new Uint8Array(1 + Math.floor(prng.next() * 16));
        for (let i = 0; i < extra.length; i++) extra[i] = Math.floor(prng.next() * 256);
        const out = new Uint8Array(bytes.length + extra.length);
        out.set(bytes);
        out.set(extra, bytes.length);
        bytes = out;
        break;
      }
      case 4: { // insert a byte
        const out = new Uint8Array(bytes.length + 1);
        out.set(bytes.subarray(0, at));
        out[at] = Math.floor(prng.next() * 256);
        out.set(bytes.subarray(at), at + 1);
        bytes = out;
        break;
      }
      case 5: // delete a byte
        if (bytes.length > 0) {
          bytes = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + 1)]);
        }
        break;
      case 6: { // nudge a 16-bit big-endian field (length fields live in such)
        if (bytes.length >= 2) {
          const i = Math.min(at, bytes.length - 2);
          const v = (bytes[i]! << 8 | bytes[i + 1]!) +
            [-4, -1, 1, 4, 0x100][Math.floor(prng.next() * 5)]!;
          bytes[i] = (v >> 8) & 0xff;
          bytes[i + 1] = v & 0xff;
        }
        break;
      }
      default: // random byte
        if (bytes.length > 0) bytes[at] = Math.floor(prng.next() * 256);
    }
  }
  return bytes;
}

/**
 * Runs `cases` mutants of the target's seeds.
 *
 * @param target the codec
 * @param cases how many mutants
 * @param seed the PRNG seed (same seed, same mutants)
 * @returns the counts and failures
 */
export function fuzz(target: FuzzTarget, cases: number, seed = 1): FuzzReport {
  const prng = new Prng(seed);
  let decoded = 0;
  let refused = 0;
  const failures: { input: string; error: string }[] = [];
  for (let i = 0; i < cases; i++) {
    const input = mutate(target.seeds[i % target.seeds.length]!, prng);
    let message: unknown;
    try {
      message = target.decode(input);
    } catch (error) {
      if (error instanceof MalformedMessageError || error instanceof ProtocolViolationError) {
        refused++;
        continue;
      }
      failures.push({ input: _hex(input), error: String(error) });
      continue;
    }
    try {
      const again = target.decode(target.encode(message as never));
      if (JSON.stringify(again, _replacer) !== JSON.stringify(message, _replacer)) {
        failures.push({ input: _hex(input), error: "Round trip changed the message" });
        continue;
      }
      decoded++;
    } catch (error) {
      failures.push({ input: _hex(input), error: `Re-encoding failed: ${String(error)}` });
    }
  }
  return { name: target.name, cases, decoded, refused, failures };
}

function _replacer(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? _hex(value) : value;
}

/**
 * The codecs under fuzz with their seeds from tests/fixtures.
 *
 * @param root the project root path
 * @returns the targets
 */
export async function fuzzTargets(root: string): Promise<FuzzTarget[]> {
  const read = async (dir: string) => {
    const out: Uint8Array[] = [];
    for await (const e of Deno.readDir(`${root}/tests/fixtures/${dir}`)) {
      if (e.name.endsWith(".hex")) {
        out.push(fromHex(await Deno.readTextFile(`${root}/tests/fixtures/${dir}/${e.name}`)));
      }
    }
    return out.sort((a, b) => a.length - b.length);
  };
  const eap = await read("eap");
  const radiusJson = JSON.parse(
    await Deno.readTextFile(`${root}/tests/fixtures/radius/eapol_test_eap_psk.json`),
  ) as { packets: { hex: string }[] };
  const radius = radiusJson.packets.map((p) => fromHex(p.hex));
  // EAP-PSK type data: the EAP packets of type 47 without their 5-byte header.
  const psk = eap.filter((p) => p.length > 5 && p[4] === 47).map((p) => p.subarray(5));
  return [
    { name: "EAP", seeds: eap, decode: decodeEap, encode: encodeEap as (m: never) => Uint8Array },
    {
      name: "EAP-PSK",
      seeds: psk,
      decode: decodeEapPsk,
      encode: encodeEapPsk as (m: never) => Uint8Array,
    },
    {
      name: "PANA",
      seeds: await read("pana"),
      decode: decodePana,
      encode: encodePana as (m: never) => Uint8Array,
    },
    {
      name: "RADIUS",
      seeds: radius,
      decode: decodeRadius,
      encode: encodeRadius as (m: never) => Uint8Array,
    },
  ];
}
