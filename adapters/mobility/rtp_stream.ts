/**
 * The media stream of the SIP mobility testbed (RFC 6252 sections 7.5, C.5.1 Figure
 * 7): an RTP sender (RFC 3550) at a fixed packet rate, retargetable the moment the
 * correspondent accepts a re-INVITE, and a receiver that records every arrival and
 * computes loss, duplicates, reordering, the largest inter-arrival gap (the
 * interruption a handover causes) and the interarrival jitter of RFC 3550 appendix
 * A.8.
 *
 * The sender schedules by absolute time (packet n is due at start + n / rate), so
 * timer drift does not accumulate: a late timer sends every packet already due.
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { UdpDatagramTransport } from "./datagram_transport.ts";
 * const rx = await RtpReceiver.listen({ address: "127.0.0.1", port: 0 });
 * const tx = await UdpDatagramTransport.bind({ address: "127.0.0.1", port: 0 });
 * const sender = new RtpSender({ transport: tx, target: rx.local, packetsPerSecond: 200 });
 * sender.start();
 * await rx.waitFor((s) => s.received >= 5);
 * sender.stop();
 * assert(rx.stats().received >= 5);
 * assertEquals(rx.stats().malformed, 0);
 * await rx.close();
 * await tx.close();
 * ```
 *
 * @module
 */
import { MalformedMessageError } from "../../lib/errors.ts";
import { decodeRtp, encodeRtp } from "../../lib/wire/rtp.ts";
import {
  type DatagramEndpoint,
  type DatagramTransport,
  UdpDatagramTransport,
} from "./datagram_transport.ts";

/** Epoch milliseconds with sub-millisecond resolution. */
function _preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

function _cryptoRandom(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

function _u32(bytes: Uint8Array): number {
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

/**
 * `address:port`, with brackets around an IPv6 address: the key of the per-source
 * counts and of the send records.
 *
 * @param endpoint an address and port
 * @returns the key
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(endpointKey({ address: "2001:db8::1", port: 5004 }), "[2001:db8::1]:5004");
 * ```
 */
export function endpointKey(endpoint: DatagramEndpoint): string {
  return endpoint.address.includes(":")
    ? `[${endpoint.address}]:${endpoint.port}`
    : `${endpoint.address}:${endpoint.port}`;
}

/** Options of {@link RtpSender}. */
export interface RtpSenderOptions {
  /** The socket the packets leave from (the correspondent's media address). */
  readonly transport: DatagramTransport;
  /** Where the packets go until {@link RtpSender.retarget}. */
  readonly target: DatagramEndpoint;
  /** Packets per second; default 50 (20 ms of G.711). */
  readonly packetsPerSecond?: number;
  /** Payload bytes per packet; default 160 (20 ms of PCMU at 8000 Hz). */
  readonly payloadBytes?: number;
  /** Payload type; default 0 (PCMU, RFC 3551 section 6). */
  readonly payloadType?: number;
  /** Timestamp increment per packet; default 160 (samples per packet). */
  readonly timestampStep?: number;
  /** The SSRC; default random (RFC 3550 section 8.1). */
  readonly ssrc?: number;
  /** Random bytes for the SSRC, first sequence number and timestamp. */
  readonly random?: (n: number) => Uint8Array;
  /** Clock, epoch ms; default `performance` based. */
  readonly now?: () => number;
  /** The most per-packet send records kept; default 1 000 000 (older ones dropped). */
  readonly maxRecords?: number;
}

/** One packet sent. */
export interface RtpSendRecord {
  /** The packet's index in this stream, 0 for the first (the extended sequence). */
  readonly index: number;
  /** The 16-bit RTP sequence number. */
  readonly sequence: number;
  /** When it was handed to the socket, epoch ms. */
  readonly sentAt: number;
  /** Where it went, `address:port`. */
  readonly to: string;
}

/** One change of destination. */
export interface RtpRetarget {
  /** When, epoch ms. */
  readonly at: number;
  /** The index of the first packet sent to the new target. */
  readonly nextIndex: number;
  /** The new target, `address:port`. */
  readonly to: string;
}

/** Counters of an {@link RtpSender}. */
export interface RtpSenderStats {
  /** Packets handed to the socket. */
  readonly packetsSent: number;
  /** Sends that failed (no route during a handover, ...). */
  readonly sendErrors: number;
  /** Destination changes. */
  readonly retargets: number;
}

/**
 * A constant-rate RTP sender (RFC 3550 section 5.1): sequence +1 and timestamp
 * +`timestampStep` per packet from random starting values, one SSRC.
 */
export class RtpSender {
  readonly #transport: DatagramTransport;
  readonly #intervalMs: number;
  readonly #payload: Uint8Array;
  readonly #payloadType: number;
  readonly #step: number;
  readonly #ssrc: number;
  readonly #firstSequence: number;
  readonly #firstTimestamp: number;
  readonly #now: () => number;
  readonly #maxRecords: number;
  #target: DatagramEndpoint;
  #startedAt: number | undefined;
  #index = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #records: RtpSendRecord[] = [];
  #retargets: RtpRetarget[] = [];
  #sendErrors = 0;

  /**
   * @param options the socket, target, rate and packet format
   */
  constructor(options: RtpSenderOptions) {
    const random = options.random ?? _cryptoRandom;
    const pps = options.packetsPerSecond ?? 50;
    if (!(pps > 0 && pps <= 10000)) throw new RangeError(`Invalid RTP packet rate: ${pps}`);
    this.#transport = options.transport;
    this.#target = options.target;
    this.#intervalMs = 1000 / pps;
    this.#payload = new Uint8Array(options.payloadBytes ?? 160).fill(0xff);
    this.#payloadType = options.payloadType ?? 0;
    this.#step = options.timestampStep ?? 160;
    const r = random(10);
    this.#ssrc = options.ssrc ?? _u32(r);
    this.#firstSequence = (r[4]! << 8) | r[5]!;
    this.#firstTimestamp = _u32(r.subarray(6, 10));
    this.#now = options.now ?? _preciseNow;
    this.#maxRecords = options.maxRecords ?? 1_000_000;
  }

  /** The SSRC of the stream. */
  get ssrc(): number {
    return this.#ssrc;
  }

  /** The current destination. */
  get target(): DatagramEndpoint {
    return this.#target;
  }

  /** Whether packets are being sent. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Starts sending (the first packet at once); no effect when running. */
  start(): void {
    if (this.#timer !== undefined) return;
    // Restarting continues the sequence; the schedule restarts from now.
    this.#startedAt = this.#now() - this.#index * this.#intervalMs;
    this.#tick();
  }

  /** Stops sending; {@link RtpSender.start} resumes. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#startedAt = undefined;
  }

  /**
   * Sends the next packets to a new destination, from the next one on (the
   * correspondent's reaction to an accepted re-INVITE, RFC 6252 section 7.5).
   *
   * @param address the new media address (SDP c=)
   * @param port the new media port (SDP m=)
   */
  retarget(address: string, port: number): void {
    this.#target = { address, port };
    this.#retargets.push({
      at: this.#now(),
      nextIndex: this.#index,
      to: endpointKey(this.#target),
    });
  }

  /**
   * Every packet sent (the newest `maxRecords`).
   *
   * @returns the send records, oldest first
   */
  records(): readonly RtpSendRecord[] {
    return this.#records;
  }

  /**
   * Every destination change.
   *
   * @returns the retargets, oldest first
   */
  retargets(): readonly RtpRetarget[] {
    return this.#retargets;
  }

  /**
   * The counters.
   *
   * @returns packets sent, send errors, retargets
   */
  stats(): RtpSenderStats {
    return {
      packetsSent: this.#index,
      sendErrors: this.#sendErrors,
      retargets: this.#retargets.length,
    };
  }

  #tick(): void {
    const startedAt = this.#startedAt;
    if (startedAt === undefined) return;
    const now = this.#now();
    while (startedAt + this.#index * this.#intervalMs <= now) this.#sendOne(now);
    const due = startedAt + this.#index * this.#intervalMs;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, due - this.#now()));
  }

  #sendOne(now: number): void {
    const index = this.#index++;
    const sequence = (this.#firstSequence + index) % 65536;
    const bytes = encodeRtp({
      marker: index === 0,
      payloadType: this.#payloadType,
      sequence,
      timestamp: (this.#firstTimestamp + index * this.#step) % 2 ** 32,
      ssrc: this.#ssrc,
      payload: this.#payload,
    });
    const to = this.#target;
    if (this.#records.length >= this.#maxRecords) this.#records.shift();
    this.#records.push({ index, sequence, sentAt: now, to: endpointKey(to) });
    this.#transport.send(bytes, to).catch(() => {
      this.#sendErrors++;
    });
  }
}

/** One packet received. */
export interface RtpArrival {
  /** The extended sequence number (RFC 3550 appendix A.1: cycles * 65536 + seq). */
  readonly sequence: number;
  /** When it arrived, epoch ms. */
  readonly arrivedAt: number;
  /** Where it came from, `address:port`. */
  readonly from: string;
  /** Whether this sequence number had been received already. */
  readonly duplicate: boolean;
}

/** The largest silence between two consecutive arrivals. */
export interface RtpGap {
  /** The gap, ms. */
  readonly ms: number;
  /** The extended sequence number received before it. */
  readonly afterSequence: number;
  /** The extended sequence number that ended it. */
  readonly beforeSequence: number;
  /** When it began (the arrival before it), epoch ms. */
  readonly from: number;
}

/** What an {@link RtpReceiver} has seen. */
export interface RtpReceiverStats {
  /** Distinct packets received (duplicates not counted). */
  readonly received: number;
  /** Packets whose sequence number had been received already. */
  readonly duplicates: number;
  /** Packets that arrived after one with a higher sequence number (not duplicates). */
  readonly reordered: number;
  /** Datagrams that are not RTP, or of another SSRC than the first one seen. */
  readonly malformed: number;
  /** Highest minus first extended sequence number plus one (RFC 3550 appendix A.3). */
  readonly expected: number;
  /** Expected minus distinct received (never negative). */
  readonly lost: number;
  /** The first extended sequence number, when any packet arrived. */
  readonly firstSequence?: number;
  /** The highest extended sequence number. */
  readonly highestSequence?: number;
  /** The first arrival, epoch ms. */
  readonly firstArrival?: number;
  /** The last arrival, epoch ms. */
  readonly lastArrival?: number;
  /** The largest gap between consecutive arrivals. */
  readonly largestGap?: RtpGap;
  /** Interarrival jitter (RFC 3550 appendix A.8), ms. */
  readonly jitterMs: number;
  /** Packets per source `address:port`. */
  readonly bySource: Readonly<Record<string, number>>;
}

/** Options of {@link RtpReceiver}. */
export interface RtpReceiverOptions {
  /** The RTP clock rate, Hz, for the jitter; default 8000 (PCMU). */
  readonly clockRate?: number;
  /** Clock, epoch ms; default `performance` based. */
  readonly now?: () => number;
  /** The most arrival records kept; default 1 000 000 (older ones dropped). */
  readonly maxRecords?: number;
}

function _signed32(x: number): number {
  const m = ((x % 2 ** 32) + 2 ** 32) % 2 ** 32;
  return m >= 2 ** 31 ? m - 2 ** 32 : m;
}

/**
 * Records RTP arrivals and computes the stream's quality. {@link RtpReceiver.listen}
 * binds a socket; {@link RtpReceiver.record} takes datagrams from anywhere (a test,
 * a capture, a tunnel endpoint).
 */
export class RtpReceiver {
  readonly #clockRate: number;
  readonly #now: () => number;
  readonly #maxRecords: number;
  #transport: DatagramTransport | undefined;
  #arrivals: RtpArrival[] = [];
  #seen = new Set<number>();
  #ssrc: number | undefined;
  #first: number | undefined;
  #highest: number | undefined;
  #firstArrival: number | undefined;
  #lastArrival: number | undefined;
  #lastSequence: number | undefined;
  #largestGap: RtpGap | undefined;
  #received = 0;
  #duplicates = 0;
  #reordered = 0;
  #malformed = 0;
  #jitter = 0; // timestamp units
  #lastTransit: { arrival: number; timestamp: number } | undefined;
  #bySource: Record<string, number> = {};
  #waiters = new Set<() => void>();

  /**
   * @param options clock rate, clock, record limit
   */
  constructor(options: RtpReceiverOptions = {}) {
    this.#clockRate = options.clockRate ?? 8000;
    this.#now = options.now ?? _preciseNow;
    this.#maxRecords = options.maxRecords ?? 1_000_000;
  }

  /**
   * A receiver on a UDP socket bound to `local`.
   *
   * @param local the address and port (0: ephemeral)
   * @param options clock rate, clock, record limit
   * @returns the receiver, recording from now on
   *
   * @example
   * ```ts
   * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
   * const rx = await RtpReceiver.listen({ address: "127.0.0.1", port: 0 });
   * assert(rx.local.port > 0);
   * await rx.close();
   * ```
   */
  static async listen(
    local: DatagramEndpoint,
    options: RtpReceiverOptions = {},
  ): Promise<RtpReceiver> {
    const rx = new RtpReceiver(options);
    rx.attach(await UdpDatagramTransport.bind(local));
    return rx;
  }

  /**
   * Records every datagram the transport receives; the receiver closes it on
   * {@link RtpReceiver.close}.
   *
   * @param transport a bound transport
   */
  attach(transport: DatagramTransport): void {
    this.#transport = transport;
    transport.onMessage((bytes, from) => this.record(bytes, from));
  }

  /** The bound address (after {@link RtpReceiver.listen} or attach). */
  get local(): DatagramEndpoint {
    if (this.#transport === undefined) throw new Error("RtpReceiver has no transport");
    return this.#transport.local;
  }

  /**
   * Records one datagram: decodes it (a datagram that is not RTP, or of another SSRC,
   * is counted as malformed and dropped), extends its sequence number (RFC 3550
   * appendix A.1) and updates the counters, the gap and the jitter (appendix A.8).
   *
   * @param bytes the datagram
   * @param from its source
   * @param at the arrival time, epoch ms; default now
   *
   * @example
   * ```ts
   * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
   * import { encodeRtp } from "../../lib/wire/rtp.ts";
   * const rx = new RtpReceiver();
   * const p = (seq: number) =>
   *   encodeRtp({ payloadType: 0, sequence: seq, timestamp: seq * 160, ssrc: 7, payload: new Uint8Array(160) });
   * const from = { address: "192.0.2.1", port: 4000 };
   * const arrivals: [number, number][] = [[1, 0], [2, 20], [4, 60], [3, 61], [4, 62]];
   * for (const [seq, at] of arrivals) rx.record(p(seq), from, at);
   * const s = rx.stats();
   * assertEquals([s.received, s.duplicates, s.reordered, s.lost], [4, 1, 1, 0]);
   * assertEquals(s.largestGap?.ms, 40);
   * ```
   */
  record(bytes: Uint8Array, from: DatagramEndpoint, at: number = this.#now()): void {
    let packet;
    try {
      packet = decodeRtp(bytes);
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
      this.#malformed++;
      return;
    }
    if (this.#ssrc === undefined) this.#ssrc = packet.ssrc;
    else if (packet.ssrc !== this.#ssrc) {
      this.#malformed++;
      return;
    }
    const ext = this.#extend(packet.sequence);
    const duplicate = this.#seen.has(ext);
    const source = endpointKey(from);
    this.#bySource[source] = (this.#bySource[source] ?? 0) + 1;
    if (this.#lastArrival !== undefined && this.#lastSequence !== undefined) {
      const gap = at - this.#lastArrival;
      if (this.#largestGap === undefined || gap > this.#largestGap.ms) {
        this.#largestGap = {
          ms: gap,
          afterSequence: this.#lastSequence,
          beforeSequence: ext,
          from: this.#lastArrival,
        };
      }
    }
    this.#firstArrival ??= at;
    this.#lastArrival = at;
    this.#lastSequence = ext;
    if (duplicate) this.#duplicates++;
    else {
      this.#seen.add(ext);
      this.#received++;
      if (this.#highest !== undefined && ext < this.#highest) this.#reordered++;
      this.#first = this.#first === undefined ? ext : Math.min(this.#first, ext);
      this.#highest = this.#highest === undefined ? ext : Math.max(this.#highest, ext);
      // RFC 3550 appendix A.8: D(i,j) = (Rj - Ri) - (Sj - Si), J += (|D| - J) / 16.
      const arrival = (at * this.#clockRate) / 1000;
      if (this.#lastTransit !== undefined) {
        const d = arrival - this.#lastTransit.arrival -
          _signed32(packet.timestamp - this.#lastTransit.timestamp);
        this.#jitter += (Math.abs(d) - this.#jitter) / 16;
      }
      this.#lastTransit = { arrival, timestamp: packet.timestamp };
    }
    if (this.#arrivals.length >= this.#maxRecords) this.#arrivals.shift();
    this.#arrivals.push({ sequence: ext, arrivedAt: at, from: source, duplicate });
    for (const wake of this.#waiters) wake();
  }

  #extend(sequence: number): number {
    const highest = this.#highest;
    if (highest === undefined) return 65536 + sequence; // room for early reordering
    let ext = Math.floor(highest / 65536) * 65536 + sequence;
    if (ext - highest > 32768) ext -= 65536;
    else if (highest - ext > 32768) ext += 65536;
    return ext;
  }

  /**
   * Every arrival (the newest `maxRecords`).
   *
   * @returns the arrivals, in arrival order
   */
  arrivals(): readonly RtpArrival[] {
    return this.#arrivals;
  }

  /**
   * The stream's quality so far.
   *
   * @returns counters, loss, largest gap and jitter
   */
  stats(): RtpReceiverStats {
    const expected = this.#first === undefined || this.#highest === undefined
      ? 0
      : this.#highest - this.#first + 1;
    const out: { -readonly [K in keyof RtpReceiverStats]: RtpReceiverStats[K] } = {
      received: this.#received,
      duplicates: this.#duplicates,
      reordered: this.#reordered,
      malformed: this.#malformed,
      expected,
      lost: Math.max(0, expected - this.#received),
      jitterMs: (this.#jitter * 1000) / this.#clockRate,
      bySource: { ...this.#bySource },
    };
    if (this.#first !== undefined) out.firstSequence = this.#first;
    if (this.#highest !== undefined) out.highestSequence = this.#highest;
    if (this.#firstArrival !== undefined) out.firstArrival = this.#firstArrival;
    if (this.#lastArrival !== undefined) out.lastArrival = this.#lastArrival;
    if (this.#largestGap !== undefined) out.largestGap = this.#largestGap;
    return out;
  }

  /**
   * Resolves once `predicate(stats)` holds (checked now and after every datagram).
   *
   * @param predicate the condition
   * @param options `signal` to give up
   * @returns the stats that satisfied it
   */
  waitFor(
    predicate: (stats: RtpReceiverStats) => boolean,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<RtpReceiverStats> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const s = this.stats();
        if (predicate(s)) {
          this.#waiters.delete(check);
          options.signal?.removeEventListener("abort", onAbort);
          resolve(s);
        }
      };
      const onAbort = () => {
        this.#waiters.delete(check);
        reject(options.signal?.reason ?? new Error("Aborted"));
      };
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(check);
      check();
    });
  }

  /**
   * Closes the socket (if any); the records stay readable.
   *
   * @returns when closed
   */
  async close(): Promise<void> {
    await this.#transport?.close();
    this.#transport = undefined;
  }
}
