/**
 * The access router's handover buffer (RFC 6252 section 7.6.1): a FIFO of packets
 * for one MN, bounded by count and by age, whose drops are counted by reason.
 *
 * @module
 */
import { PHT_DEFAULT_BUFFER_AGE_MS, PHT_DEFAULT_BUFFER_PACKETS } from "../wire/pht_constants.ts";

/** Bounds of a {@linkcode PacketBuffer}. */
export interface PacketBufferOptions {
  /** Most packets held at once; default 1024. */
  readonly maxPackets?: number;
  /** Longest a packet is held, ms; older packets are dropped; default 2000. */
  readonly maxAgeMs?: number;
}

/** Counters of a {@linkcode PacketBuffer}. */
export interface PacketBufferStats {
  /** Packets accepted by {@linkcode PacketBuffer.push}. */
  readonly buffered: number;
  /** Packets handed out by {@linkcode PacketBuffer.drain}. */
  readonly flushed: number;
  /** Packets dropped, by reason: the buffer was full, or the packet was too old. */
  readonly dropped: { readonly overflow: number; readonly age: number };
}

/**
 * A bounded FIFO of packets with their arrival times. When full, a push drops the
 * oldest packet (`overflow`): for the real-time streams MPA serves, a fresh packet is
 * worth more than a stale one, and TCP recovers either way. Packets older than
 * `maxAgeMs` are dropped (`age`) on every push and drain. Time is given by the caller.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const buffer = new PacketBuffer({ maxPackets: 2, maxAgeMs: 100 });
 * buffer.push(Uint8Array.of(1), 0);
 * buffer.push(Uint8Array.of(2), 10);
 * assertEquals(buffer.push(Uint8Array.of(3), 20), 1); // packet 1 overflowed
 * assertEquals(buffer.drain(50).map((p) => p[0]), [2, 3]);
 * assertEquals(buffer.stats.dropped, { overflow: 1, age: 0 });
 * ```
 */
export class PacketBuffer {
  readonly #maxPackets: number;
  readonly #maxAgeMs: number;
  #packets: Uint8Array[] = [];
  #times: number[] = [];
  #head = 0;
  #buffered = 0;
  #flushed = 0;
  #overflow = 0;
  #age = 0;

  /**
   * @param options bounds by count and age
   * @throws {RangeError} for a count below 1 or a negative age
   */
  constructor(options: PacketBufferOptions = {}) {
    this.#maxPackets = options.maxPackets ?? PHT_DEFAULT_BUFFER_PACKETS;
    this.#maxAgeMs = options.maxAgeMs ?? PHT_DEFAULT_BUFFER_AGE_MS;
    if (!Number.isInteger(this.#maxPackets) || this.#maxPackets < 1) {
      throw new RangeError(`Invalid buffer bound: ${this.#maxPackets} packets`);
    }
    if (!(this.#maxAgeMs >= 0)) throw new RangeError(`Invalid buffer age: ${this.#maxAgeMs} ms`);
  }

  /** Packets held now. */
  get size(): number {
    return this.#packets.length - this.#head;
  }

  /** The counters since creation. */
  get stats(): PacketBufferStats {
    return {
      buffered: this.#buffered,
      flushed: this.#flushed,
      dropped: { overflow: this.#overflow, age: this.#age },
    };
  }

  /**
   * Appends a packet, first dropping packets too old at `now`, then the oldest if
   * the buffer is full.
   *
   * @param packet the packet; held as given, not copied
   * @param now the current time, ms
   * @returns how many packets this call dropped (age and overflow)
   */
  push(packet: Uint8Array, now: number): number {
    let dropped = this.purge(now);
    if (this.size >= this.#maxPackets) {
      this.#shift();
      this.#overflow++;
      dropped++;
    }
    this.#packets.push(packet);
    this.#times.push(now);
    this.#buffered++;
    return dropped;
  }

  /**
   * Drops the packets older than `maxAgeMs` at `now`.
   *
   * @param now the current time, ms
   * @returns how many were dropped
   */
  purge(now: number): number {
    let dropped = 0;
    while (this.size > 0 && now - this.#times[this.#head]! > this.#maxAgeMs) {
      this.#shift();
      this.#age++;
      dropped++;
    }
    return dropped;
  }

  /**
   * Takes every packet still young enough at `now`, oldest first, and empties the
   * buffer.
   *
   * @param now the current time, ms
   * @returns the packets in arrival order
   */
  drain(now: number): Uint8Array[] {
    this.purge(now);
    const out = this.#packets.slice(this.#head);
    this.#packets = [];
    this.#times = [];
    this.#head = 0;
    this.#flushed += out.length;
    return out;
  }

  /**
   * Drops every packet held, counting them as `age` drops (the buffer's owner is
   * gone: tunnel expired, AR closing).
   *
   * @returns how many were dropped
   */
  clear(): number {
    const n = this.size;
    this.#age += n;
    this.#packets = [];
    this.#times = [];
    this.#head = 0;
    return n;
  }

  #shift(): void {
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#packets.length) {
      this.#packets = this.#packets.slice(this.#head);
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
  }
}
