/**
 * The testbed's distance without netem (RFC 6252 Appendix C.5: a distant
 * correspondent or home agent, a home AAA server across the Internet in the roaming
 * case of Figure 10). The kernel here has no netem, so the delay is added in user
 * space ON THE ROUTER PATH, not by a relay with addresses of its own: in the `wan`
 * namespace every packet arriving from one of its links is policy-routed into a TUN
 * device (`ip rule iif LINK lookup 100`, `default dev dly0 table 100`); the
 * `_delay_child.ts` process reads it, holds it for the one-way delay of its
 * source / destination ({@link oneWayDelayMs}) and writes it back into the same TUN,
 * where the kernel routes it by the main table (the rules match only the physical
 * links). Addresses, ports and TTL handling stay the kernel's: SIP, Mobile IPv6 and
 * RADIUS see the real peers. Each direction is delayed once, so a round trip costs
 * the configured RTT.
 *
 * {@link DelayLine} is the queue: packets leave in arrival order, each at its arrival
 * time plus its delay (a constant delay per path keeps the order; a shorter delay
 * behind a longer one waits: head-of-line, as on a FIFO link). Timers are injected.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { DelayLine, oneWayDelayMs } from "./delay_relay.ts";
 * const out: string[] = [];
 * let now = 0;
 * const timers: (() => void)[] = [];
 * const line = new DelayLine<string>({
 *   now: () => now,
 *   setTimer: (fn) => { timers.push(fn); },
 *   emit: (p) => out.push(p),
 * });
 * line.push("a", 50);
 * now = 50;
 * timers.shift()!();
 * assertEquals(out, ["a"]);
 * assertEquals(oneWayDelayMs("10.9.0.2", "10.0.1.2", [{ cidr: "10.9.0.0/24", rttMs: 100 }]), 50);
 * ```
 *
 * @module
 */

/** A path with extra delay: packets from or to `cidr` get `rttMs / 2` each way. */
export interface DelayRule {
  /** IPv4 prefix, `10.9.0.0/24`. */
  readonly cidr: string;
  /** Extra round-trip time, ms. */
  readonly rttMs: number;
}

function _v4(address: string): number {
  const parts = address.split(".").map(Number);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/**
 * Whether an IPv4 address is in a prefix.
 *
 * @param address dotted quad
 * @param cidr `a.b.c.d/n`
 * @returns true when inside
 *
 * @example
 * ```ts
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { inCidr } from "./delay_relay.ts";
 * assert(inCidr("10.9.1.2", "10.9.0.0/16"));
 * assert(!inCidr("10.8.1.2", "10.9.0.0/16"));
 * ```
 */
export function inCidr(address: string, cidr: string): boolean {
  const [net, len] = cidr.split("/");
  const bits = Number(len);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((_v4(address) & mask) >>> 0) === ((_v4(net!) & mask) >>> 0);
}

/**
 * The one-way delay of a packet: half the largest RTT among the rules its source or
 * destination falls in, 0 when none.
 *
 * @param source IPv4 source
 * @param destination IPv4 destination
 * @param rules the delayed paths
 * @returns ms
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { oneWayDelayMs } from "./delay_relay.ts";
 * assertEquals(oneWayDelayMs("10.0.1.2", "10.8.0.1", [{ cidr: "10.9.0.0/24", rttMs: 100 }]), 0);
 * ```
 */
export function oneWayDelayMs(
  source: string,
  destination: string,
  rules: readonly DelayRule[],
): number {
  let rtt = 0;
  for (const r of rules) {
    if (inCidr(source, r.cidr) || inCidr(destination, r.cidr)) rtt = Math.max(rtt, r.rttMs);
  }
  return rtt / 2;
}

/**
 * Source and destination of an IPv4 packet, undefined for anything else.
 *
 * @param packet raw IP packet
 * @returns the two addresses
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { ipv4Addresses } from "./delay_relay.ts";
 * const p = new Uint8Array(20);
 * p[0] = 0x45;
 * p.set([10, 0, 0, 1], 12);
 * p.set([10, 0, 0, 2], 16);
 * assertEquals(ipv4Addresses(p), { source: "10.0.0.1", destination: "10.0.0.2" });
 * ```
 */
export function ipv4Addresses(
  packet: Uint8Array,
): { readonly source: string; readonly destination: string } | undefined {
  if (packet.length < 20 || packet[0]! >> 4 !== 4) return undefined;
  return {
    source: [...packet.subarray(12, 16)].join("."),
    destination: [...packet.subarray(16, 20)].join("."),
  };
}

/** Options of {@link DelayLine}. */
export interface DelayLineOptions<T> {
  /** Clock, ms. */
  readonly now: () => number;
  /** Runs `fn` after `ms` (setTimeout in production). */
  readonly setTimer: (fn: () => void, ms: number) => void;
  /** Where a packet goes when its time has come. */
  readonly emit: (item: T) => void;
  /** Packets held at most; more are dropped (a full queue). Default 10000. */
  readonly maxQueue?: number;
}

/** A FIFO that releases each item at its arrival time plus its delay. */
export class DelayLine<T> {
  readonly #options: DelayLineOptions<T>;
  readonly #queue: { readonly due: number; readonly item: T }[] = [];
  #armed = false;
  #dropped = 0;
  #passed = 0;

  /** @param options clock, timer, output */
  constructor(options: DelayLineOptions<T>) {
    this.#options = options;
  }

  /**
   * Queues an item (emits it at once when the delay is 0 and nothing waits).
   *
   * @param item the packet
   * @param delayMs its one-way delay
   */
  push(item: T, delayMs: number): void {
    if (delayMs <= 0 && this.#queue.length === 0) {
      this.#passed++;
      this.#options.emit(item);
      return;
    }
    if (this.#queue.length >= (this.#options.maxQueue ?? 10_000)) {
      this.#dropped++;
      return;
    }
    this.#queue.push({ due: this.#options.now() + delayMs, item });
    this.#arm();
  }

  /** Counters: passed, dropped, waiting. */
  stats(): { readonly passed: number; readonly dropped: number; readonly waiting: number } {
    return { passed: this.#passed, dropped: this.#dropped, waiting: this.#queue.length };
  }

  #arm(): void {
    if (this.#armed || this.#queue.length === 0) return;
    this.#armed = true;
    const wait = Math.max(0, this.#queue[0]!.due - this.#options.now());
    this.#options.setTimer(() => {
      this.#armed = false;
      const now = this.#options.now();
      while (this.#queue.length > 0 && this.#queue[0]!.due <= now + 0.05) {
        this.#passed++;
        this.#options.emit(this.#queue.shift()!.item);
      }
      this.#arm();
    }, wait);
  }
}
