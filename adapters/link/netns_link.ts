/**
 * {@link LinkControl} for the network-namespace testbed (RFC 6252 section 6.3 steps 5
 * and 6, Appendix B). The MN's physical interface is one end of a veth pair; the
 * other end (the "peer") lives in an "air" namespace, in which each point of
 * attachment is a bridge. The layer-2 handover of step 5 moves the peer from one
 * bridge to another; step 6 assigns the nCoA to the MN's interface and announces it
 * with a gratuitous ARP.
 *
 * The switch goes through ONE long-lived `ip -o -n AIR -force -batch -` process fed
 * on its stdin (adapters/link/_ip_batch.ts), so that a switch costs one netlink
 * request rather than a process start (about 2 ms). Some failures (a bridge that no
 * longer exists) make ip exit: that switch fails with ip's error text and the next
 * one starts a new process. `assign`'s ip commands go through batch processes too:
 * the caller's own namespace's shared ones, or, with `netns`, this control's own.
 * {@link NetnsLinkControl.close} ends this control's processes.
 *
 * @module
 */
import { ConfigError } from "../../lib/errors.ts";
import { type LinkControl, type PortCallOptions, PortError } from "../../lib/ports.ts";
import { _abortable, _aborted, _assign, _IFNAME, _ipOrFail } from "./_assign.ts";
import { _Announcer } from "./_announcer.ts";
import { _IpBatches, _ownIpBatches } from "./_ip_batch.ts";

/** Options of {@link NetnsLinkControl}. */
export interface NetnsLinkControlOptions {
  /** The namespace holding the PoA bridges and the MN's veth peer. */
  readonly air: string;
  /** Name of the MN's veth peer in the air namespace. */
  readonly peer: string;
  /** PoA id (as in `LinkSample.poa`) to bridge name in the air namespace. */
  readonly poas: Readonly<Record<string, string>>;
  /** The MN's physical interface (the other end of the veth pair), for `assign`. */
  readonly interface: string;
  /** The namespace of the MN's interface; the caller's own when omitted. */
  readonly netns?: string;
  /**
   * Layer-2 association time to model, ms: the peer is detached from every bridge,
   * and attached to the new one only after this delay. Default 0 (one move).
   */
  readonly associationDelayMs?: number;
}

/** Options of {@link NetnsLinkControl.assign} and `IpLinkControl.assign`. */
export interface LinkAssignOptions extends PortCallOptions {
  /**
   * The default router in the new network (`Lease.router`): the default route is
   * replaced through it. Of the address's family.
   */
  readonly router?: string;
}

/**
 * Link control of an MN whose interface's veth peer is moved between PoA bridges in
 * an air namespace (the testbed's layer 2).
 *
 * @example
 * ```ts ignore
 * // Needs root and the namespaces of the testbed (tests/adapters/link/netns_link.test.ts).
 * await using link = new NetnsLinkControl({
 *   air: "mpa-air", peer: "mn0p", poas: { apA: "brA", apB: "brB" },
 *   interface: "eth0", netns: "mpa-mn",
 * });
 * await link.switchTo("apB");
 * await link.assign("10.0.2.50", 24, { router: "10.0.2.1" });
 * ```
 */
export class NetnsLinkControl implements LinkControl {
  readonly #air: string;
  readonly #peer: string;
  readonly #poas: ReadonlyMap<string, string>;
  readonly #target: { readonly interface: string; readonly netns?: string | undefined };
  readonly #associationDelayMs: number;
  readonly #announcer = new _Announcer();
  readonly #airIp: _IpBatches;
  readonly #targetIp: _IpBatches | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #current: string | undefined;
  #closed = false;

  /**
   * Checks the options; the `ip` process starts with the first switch.
   *
   * @param options the air namespace, the peer, the PoA bridges, the MN's interface
   * @throws {ConfigError} for a name `ip` would refuse or a negative delay
   */
  constructor(options: NetnsLinkControlOptions) {
    for (const [option, name] of [["peer", options.peer], ["interface", options.interface]]) {
      if (!_IFNAME.test(name!)) {
        throw new ConfigError(option!, `Invalid ${option}: not an interface name: ${name}`);
      }
    }
    for (const [poa, bridge] of Object.entries(options.poas)) {
      if (!_IFNAME.test(bridge)) {
        throw new ConfigError(`poas.${poa}`, `Invalid poas.${poa}: not a bridge name: ${bridge}`);
      }
    }
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(options.air)) {
      throw new ConfigError("air", `Invalid air: not a namespace name: ${options.air}`);
    }
    const delay = options.associationDelayMs ?? 0;
    if (!Number.isFinite(delay) || delay < 0) {
      throw new ConfigError("associationDelayMs", `Invalid associationDelayMs: ${delay}`);
    }
    this.#air = options.air;
    this.#peer = options.peer;
    this.#poas = new Map(Object.entries(options.poas));
    this.#target = { interface: options.interface, netns: options.netns };
    this.#associationDelayMs = delay;
    this.#airIp = new _IpBatches(options.air);
    this.#targetIp = options.netns === undefined ? undefined : new _IpBatches(options.netns);
  }

  /**
   * Starts the air namespace's `ip` process and the gratuitous-ARP helper ahead of
   * the first switch, so that a handover does not pay their start (a few ms each);
   * the agent calls it when it builds the link. A harmless command (the peer set up,
   * as it is) proves the process works.
   *
   * @returns when the `ip` process answered
   * @throws {PortError} as {@link NetnsLinkControl.switchTo} would for a missing peer
   */
  async warm(): Promise<void> {
    this.#announcer.warm(this.#target);
    await _ipOrFail(this.#airIp, ["link", "set", "dev", this.#peer, "up"], "warm-up");
  }

  /** The PoA the last successful switch attached to, if any. */
  get current(): string | undefined {
    return this.#current;
  }

  /**
   * Moves the MN's veth peer onto the PoA's bridge (RFC 6252 section 6.3 step 5).
   * Switches are serialized. Aborting during the association delay leaves the MN
   * detached, as an abandoned association does.
   *
   * @param poa the PoA id
   * @param options abort signal
   * @returns when the peer is attached to the PoA's bridge
   * @throws {PortError} `unreachable` (unknown PoA, missing bridge or peer),
   *   `rejected` (the kernel refused), `aborted`
   */
  switchTo(poa: string, options: PortCallOptions = {}): Promise<void> {
    const run = this.#queue.then(() => this.#switch(poa, options.signal));
    this.#queue = run.catch(() => {});
    return run;
  }

  /**
   * Assigns the address to the MN's interface, replaces the default route through
   * `options.router` when given, and sends a gratuitous ARP for an IPv4 address
   * (RFC 6252 section 6.3 step 6, Appendix B); see adapters/link/_assign.ts.
   *
   * @param address the address, usually the cached nCoA
   * @param prefixLength its prefix length
   * @param options the router, abort signal
   * @returns when assigned and announced
   * @throws {PortError} `protocol` (malformed address, prefix length or router),
   *   `unreachable` (interface missing), `rejected`, `aborted`
   */
  assign(address: string, prefixLength: number, options: LinkAssignOptions = {}): Promise<void> {
    return _assign(
      this.#target,
      this.#targetIp ?? _ownIpBatches(),
      this.#announcer,
      address,
      prefixLength,
      options,
    );
  }

  /**
   * Ends this control's `ip` processes and waits for background gratuitous ARPs;
   * idempotent.
   *
   * @returns when done
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    await this.#airIp.close();
    await this.#targetIp?.close();
    await this.#announcer.settle();
  }

  /** Same as {@link NetnsLinkControl.close} (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #switch(poa: string, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted === true) throw _aborted(`switch to ${poa}`, signal);
    if (this.#closed) {
      throw new PortError("LinkControl", "unreachable", "Link control closed: no switch");
    }
    const bridge = this.#poas.get(poa);
    if (bridge === undefined) {
      throw new PortError("LinkControl", "unreachable", `PoA not heard: ${poa} has no bridge`);
    }
    // The address assignment after a switch sends a gratuitous ARP: its helper is
    // started now, off the handover's path once the first switch is done.
    this.#announcer.warm(this.#target);
    if (this.#associationDelayMs > 0) {
      await this.#send(["link", "set", "dev", this.#peer, "nomaster"], signal, poa);
      this.#current = undefined;
      await _sleep(this.#associationDelayMs, signal, poa);
    }
    await this.#send(["link", "set", "dev", this.#peer, "master", bridge], signal, poa);
    this.#current = poa;
  }

  async #send(command: readonly string[], signal: AbortSignal | undefined, poa: string) {
    await _abortable(
      _ipOrFail(this.#airIp, command, `switch to ${poa}`),
      `switch to ${poa}`,
      signal,
    );
  }
}

function _sleep(ms: number, signal: AbortSignal | undefined, poa: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(_aborted(`association with ${poa}`, signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
