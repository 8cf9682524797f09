/**
 * Duplicate detection at the MN for copy-and-forward (RFC 6252 section 7.6.2): the
 * old access router copies packets to the prepared interface while the tunnel still
 * carries them, so the MN may receive a packet twice and drops the second copy.
 *
 * @module
 */

/**
 * A packet's fingerprint: length and two 32-bit FNV-1a hashes of the packet with the
 * fields a router may change on the way left out (IPv4 TTL and header checksum,
 * IPv6 Hop Limit), so that a copy that crossed one more router still matches.
 *
 * @param packet an IP packet
 * @returns a short text key
 *
 * @example
 * ```ts
 * import { assertEquals, assertNotEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const a = new Uint8Array(28).fill(1); a[0] = 0x45;
 * const b = a.slice(); b[8] = 63; b[10] = 9; // TTL and checksum differ
 * assertEquals(packetFingerprint(a), packetFingerprint(b));
 * const c = a.slice(); c[20] = 2;
 * assertNotEquals(packetFingerprint(a), packetFingerprint(c));
 * ```
 */
export function packetFingerprint(packet: Uint8Array): string {
  const version = packet.length > 0 ? packet[0]! >> 4 : 0;
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < packet.length; i++) {
    if (version === 4 && (i === 8 || i === 10 || i === 11)) continue;
    if (version === 6 && i === 7) continue;
    const b = packet[i]!;
    h1 = Math.imul(h1 ^ b, 0x01000193);
    h2 = Math.imul(h2 ^ b, 0x01000193) ^ (h2 >>> 15);
  }
  return `${packet.length}:${(h1 >>> 0).toString(36)}:${(h2 >>> 0).toString(36)}`;
}

/**
 * A bounded window of recently seen packets: {@linkcode DedupWindow.admit} returns
 * `false` (and counts a duplicate) for a packet seen among the last `size` distinct
 * packets.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const window = new DedupWindow({ size: 8 });
 * const p = Uint8Array.of(0x45, 0, 0, 20);
 * assertEquals(window.admit(p), true);
 * assertEquals(window.admit(p.slice()), false);
 * assertEquals(window.duplicates, 1);
 * ```
 */
export class DedupWindow {
  readonly #size: number;
  readonly #seen = new Set<string>();
  readonly #order: string[] = [];
  #head = 0;
  #duplicates = 0;

  /**
   * @param options `size`: how many distinct recent packets to remember (default 4096)
   * @throws {RangeError} for a size below 1
   */
  constructor(options: { readonly size?: number } = {}) {
    this.#size = options.size ?? 4096;
    if (!Number.isInteger(this.#size) || this.#size < 1) {
      throw new RangeError(`Invalid dedup window size: ${this.#size}`);
    }
  }

  /** Duplicates refused so far. */
  get duplicates(): number {
    return this.#duplicates;
  }

  /**
   * Records a packet; refuses it if it was seen recently.
   *
   * @param packet an IP packet
   * @returns `true` for a first copy (deliver it), `false` for a duplicate (drop it)
   */
  admit(packet: Uint8Array): boolean {
    const key = packetFingerprint(packet);
    if (this.#seen.has(key)) {
      this.#duplicates++;
      return false;
    }
    this.#seen.add(key);
    this.#order.push(key);
    if (this.#order.length - this.#head > this.#size) {
      this.#seen.delete(this.#order[this.#head++]!);
      if (this.#head > this.#size) {
        this.#order.splice(0, this.#head);
        this.#head = 0;
      }
    }
    return true;
  }
}
