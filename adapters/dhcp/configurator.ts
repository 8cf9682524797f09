/**
 * The {@link Configurator} port over the proactive DHCPv4 client (RFC 6252 section
 * 7.3.3): acquires an nCoA from a candidate target network's configuration agent by
 * unicast DHCP from the oCoA, signed with the MN-CA key of the MPA-SA, renews it with
 * the same client identifier after the move and releases the leases of CTNs not
 * chosen (section 7.2). The address is never assigned to an interface here.
 *
 * An aborted acquisition (RFC 6252 section C.6) rejects with `aborted` at once; a
 * DHCPACK that still comes for its DHCPREQUEST is answered in the background with a
 * DHCPRELEASE from the same client identifier (RFC 2131 section 4.4.6, see
 * `client.ts`). Those cleanups are counted in {@link DhcpConfigurator.stats} and
 * awaited by {@link DhcpConfigurator.idle}; the lease never enters
 * {@link DhcpConfigurator.leases}.
 *
 * @module
 */
import type {
  Configurator,
  CtnInfo,
  Lease,
  MpaSa,
  PortCallOptions,
  PortErrorCode,
} from "../../lib/ports.ts";
import { PortError } from "../../lib/ports.ts";
import {
  type DhcpAbortCleanup,
  dhcpAcquire,
  type DhcpCallOptions,
  DhcpError,
  type DhcpLeaseInfo,
  type DhcpMode,
  dhcpRelease,
  dhcpRenew,
} from "./client.ts";
import { _localAddressFor } from "./_dhcp_udp.ts";
import { DHCP_SERVER_PORT } from "../../lib/wire/dhcp_constants.ts";

/** Options of {@link DhcpConfigurator}. */
export interface DhcpConfiguratorOptions {
  /**
   * The oCoA to send from; default: the address the kernel uses to reach the CA
   * (found with a connected UDP socket at each acquisition).
   */
  readonly source?: string;
  /** How to reach the CA: `ciaddr` (default) or `relay` (see `DhcpMode`). */
  readonly mode?: DhcpMode;
  /**
   * Option 61 for an MPA-SA, type byte first; the same before and after the move.
   * Default: type 0 followed by the UTF-8 of `sa.mnId` (RFC 2132 section 9.14).
   */
  readonly clientId?: (sa: MpaSa) => Uint8Array;
  /**
   * Local UDP port: `client` for every call (default 68 in `ciaddr` mode, 67 in
   * `relay` mode; 0 = ephemeral, for tests). The CA's port comes from `ctn.ca.port`.
   */
  readonly ports?: { readonly client?: number };
  /** Send option 80 (RFC 4039). */
  readonly rapidCommit?: boolean;
  /** Sign with option 90 under `sa.keys.mnCa` (default true). */
  readonly authenticate?: boolean;
  /** Whole-exchange deadline per call, ms (default 4000). */
  readonly timeoutMs?: number;
  /** First retransmission, ms (default 500). */
  readonly retransmitMs?: number;
  /** Clock for `obtainedAt`, ms (default `Date.now`). */
  readonly now?: () => number;
}

/** Counters of a {@link DhcpConfigurator}. */
export interface DhcpConfiguratorStats {
  /** Background cleanups of acquisitions aborted after their request left. */
  readonly abortCleanups: {
    /** Cleanups started. */
    readonly started: number;
    /** A DHCPRELEASE went to the CA (late DHCPACK, or no answer to the DHCPREQUEST). */
    readonly released: number;
    /** The CA bound nothing (DHCPNAK). */
    readonly nothing: number;
    /** Nothing could be released: a lease the CA bound expires with its lease time. */
    readonly expiring: number;
  };
}

/** What the configurator remembers of a lease it granted. */
interface _Held {
  readonly lease: Lease;
  readonly sa: MpaSa;
  readonly server: { readonly address: string; readonly port: number };
  readonly source: string;
  readonly clientId: Uint8Array;
  readonly subnet?: string;
}

/** Whether a client error is the bind failure of an address that is not local. */
function _notLocal(error: unknown): boolean {
  return error instanceof DhcpError && error.code === "unreachable" &&
    (error.cause as { code?: unknown } | undefined)?.code === "EADDRNOTAVAIL";
}

function _portCode(code: DhcpError["code"]): PortErrorCode {
  return code === "nak" ? "rejected" : code;
}

function _portError(error: unknown): PortError {
  if (error instanceof PortError) return error;
  if (error instanceof DhcpError) {
    return new PortError("Configurator", _portCode(error.code), error.message, { cause: error });
  }
  return new PortError(
    "Configurator",
    "protocol",
    `DHCP failure: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}

function _key(lease: Lease): string {
  return `${lease.ctn}|${lease.nCoA}`;
}

/**
 * Proactive address acquisition by unicast DHCPv4 (RFC 6252 section 7.3.3), as the
 * {@link Configurator} port. Leases have method `dhcp-unicast`, the client id in hex
 * and the server identifier.
 *
 * Errors: DHCPNAK becomes `rejected`, no answer `timeout`, bind or send failures
 * `unreachable`, bad replies `protocol`, the signal `aborted`; an expired MPA-SA or
 * one of another CTN is `rejected` before anything is sent; `renew` and `release`
 * of a lease this configurator does not hold are `not-found`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { PortError } from "../../lib/ports.ts";
 * const configurator = new DhcpConfigurator({ source: "127.0.0.1", ports: { client: 0 } });
 * const lease = {
 *   ctn: "net-b", nCoA: "10.0.2.50", prefixLength: 24, dns: [], obtainedAt: 0,
 *   lifetimeMs: 1000, expiresAt: 1000, method: "dhcp-unicast" as const,
 * };
 * try {
 *   await configurator.renew(lease);
 * } catch (e) {
 *   assertEquals((e as PortError).code, "not-found");
 * }
 * ```
 */
export class DhcpConfigurator implements Configurator {
  readonly #options: DhcpConfiguratorOptions;
  readonly #now: () => number;
  readonly #held = new Map<string, _Held>();
  readonly #cleanups = new Set<Promise<void>>();
  readonly #abortCleanups = { started: 0, released: 0, nothing: 0, expiring: 0 };

  /** @param options source address, mode, client id, ports, timers, clock */
  constructor(options: DhcpConfiguratorOptions = {}) {
    this.#options = options;
    this.#now = options.now ?? (() => Date.now());
  }

  /** The leases held (acquired or renewed, not released), oldest first. */
  get leases(): readonly Lease[] {
    return [...this.#held.values()].map((h) => h.lease);
  }

  /** A snapshot of the counters. */
  get stats(): DhcpConfiguratorStats {
    return { abortCleanups: { ...this.#abortCleanups } };
  }

  /**
   * Waits for the background cleanups of aborted acquisitions (each bounded by one
   * retransmission interval and one send).
   *
   * @returns when no cleanup is running
   */
  async idle(): Promise<void> {
    while (this.#cleanups.size > 0) await Promise.all([...this.#cleanups]);
  }

  #track(cleanup: Promise<DhcpAbortCleanup>): void {
    this.#abortCleanups.started++;
    const tracked = cleanup.then((result) => {
      this.#abortCleanups[result.outcome]++;
    });
    this.#cleanups.add(tracked);
    void tracked.finally(() => this.#cleanups.delete(tracked));
  }

  #common(
    sa: MpaSa,
    clientId: Uint8Array,
    options: PortCallOptions,
  ): Omit<DhcpCallOptions, "server"> {
    const o = this.#options;
    return {
      clientId,
      ...(o.ports?.client === undefined ? {} : { sourcePort: o.ports.client }),
      ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
      ...(o.retransmitMs === undefined ? {} : { retransmitMs: o.retransmitMs }),
      ...(o.authenticate === false ? {} : { auth: { key: sa.keys.mnCa, sessionId: sa.sessionId } }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    };
  }

  #lease(ctn: string, info: DhcpLeaseInfo): Lease {
    const obtainedAt = this.#now();
    const lifetimeMs = info.leaseTimeS * 1000;
    return {
      ctn,
      nCoA: info.address,
      prefixLength: info.prefixLength,
      ...(info.router === undefined ? {} : { router: info.router }),
      dns: info.dns,
      obtainedAt,
      lifetimeMs,
      expiresAt: obtainedAt + lifetimeMs,
      serverId: info.serverId,
      clientId: info.clientId,
      method: "dhcp-unicast",
    };
  }

  /**
   * Acquires an nCoA in `ctn` from its CA (`ctn.ca`) for option-118 subnet
   * `ctn.subnet`, signed with `sa.keys.mnCa` (RFC 6252 section 7.3.3).
   *
   * @param ctn the CTN: `ca` and `subnet` are used
   * @param sa the MPA-SA with the CTN (MN-CA key, session id, MN id)
   * @param options abort signal
   * @returns the lease
   * @throws {PortError} `rejected` (NAK, expired or foreign SA), `timeout`,
   *   `unreachable`, `protocol` (no subnet), `aborted`
   */
  async acquire(ctn: CtnInfo, sa: MpaSa, options: PortCallOptions = {}): Promise<Lease> {
    try {
      if (sa.ctn !== ctn.network) {
        throw new PortError(
          "Configurator",
          "rejected",
          `MPA-SA mismatch: SA of ${sa.ctn} used for ${ctn.network}`,
        );
      }
      if (this.#now() >= sa.expiresAt) {
        throw new PortError("Configurator", "rejected", `MPA-SA expired: session ${sa.sessionId}`);
      }
      if (ctn.subnet === undefined) {
        throw new PortError("Configurator", "protocol", `No subnet for CTN ${ctn.network}`);
      }
      const server = { address: ctn.ca.address, port: ctn.ca.port ?? DHCP_SERVER_PORT };
      const source = this.#options.source ??
        await _localAddressFor(server.address, server.port).catch((error) => {
          throw new PortError(
            "Configurator",
            "unreachable",
            `No route to CA ${server.address}: ${error instanceof Error ? error.message : error}`,
            { cause: error },
          );
        });
      const clientId = this.#options.clientId?.(sa) ??
        new Uint8Array([0, ...new TextEncoder().encode(sa.mnId)]);
      const info = await dhcpAcquire({
        ...this.#common(sa, clientId, options),
        server,
        subnet: ctn.subnet,
        mode: this.#options.mode ?? "ciaddr",
        source,
        ...(this.#options.rapidCommit === true ? { rapidCommit: true } : {}),
        onAbortCleanup: (cleanup) => this.#track(cleanup),
      });
      const lease = this.#lease(ctn.network, info);
      this.#held.set(_key(lease), { lease, sa, server, source, clientId, subnet: ctn.subnet });
      return lease;
    } catch (error) {
      throw _portError(error);
    }
  }

  /**
   * Extends a lease with the same client identifier: a DHCPREQUEST from the nCoA
   * with ciaddr = nCoA (after the move, RFC 6252 section 7.3.3). Before the move,
   * when the nCoA is not a local address yet, the MN sends it from the oCoA as its
   * own relay (giaddr = oCoA), so that the reply reaches it.
   *
   * @param lease a lease from {@link acquire} or {@link renew}
   * @param options abort signal
   * @returns the extended lease
   * @throws {PortError} `not-found`, `rejected`, `timeout`, `unreachable`, `aborted`
   */
  async renew(lease: Lease, options: PortCallOptions = {}): Promise<Lease> {
    const held = this.#held.get(_key(lease));
    if (held === undefined) {
      throw new PortError(
        "Configurator",
        "not-found",
        `Unknown lease: ${lease.nCoA} in ${lease.ctn}`,
      );
    }
    try {
      const renew = (mode: DhcpMode, source: string) =>
        dhcpRenew({
          ...this.#common(held.sa, held.clientId, options),
          server: held.server,
          address: lease.nCoA,
          mode,
          source,
          ...(held.subnet === undefined ? {} : { subnet: held.subnet }),
        });
      let info: DhcpLeaseInfo;
      try {
        info = await renew("ciaddr", lease.nCoA);
      } catch (error) {
        if (!_notLocal(error)) throw error;
        // Still before the move: the nCoA is not ours yet, renew as our own relay.
        info = await renew("relay", held.source);
      }
      const renewed = this.#lease(lease.ctn, info);
      this.#held.delete(_key(lease));
      this.#held.set(_key(renewed), { ...held, lease: renewed });
      return renewed;
    } catch (error) {
      throw _portError(error);
    }
  }

  /**
   * Releases a lease (RFC 6252 section 7.2: a CTN not chosen need not keep the
   * address): one DHCPRELEASE from the oCoA used to acquire it, or from the nCoA
   * when the oCoA is gone (after the move).
   *
   * @param lease a lease from {@link acquire} or {@link renew}
   * @param options abort signal
   * @returns when sent
   * @throws {PortError} `not-found`, `unreachable`, `aborted`
   */
  async release(lease: Lease, options: PortCallOptions = {}): Promise<void> {
    const held = this.#held.get(_key(lease));
    if (held === undefined) {
      throw new PortError(
        "Configurator",
        "not-found",
        `Unknown lease: ${lease.nCoA} in ${lease.ctn}`,
      );
    }
    const { timeoutMs: _t, retransmitMs: _r, ...common } = this.#common(
      held.sa,
      held.clientId,
      options,
    );
    const send = (source: string) =>
      dhcpRelease({
        ...common,
        server: held.server,
        address: lease.nCoA,
        serverId: lease.serverId ?? held.server.address,
        source,
        mode: this.#options.mode ?? "ciaddr",
      });
    try {
      try {
        await send(held.source);
      } catch (error) {
        if (!_notLocal(error)) throw error;
        await send(lease.nCoA); // after the move the oCoA is gone
      }
      this.#held.delete(_key(lease));
    } catch (error) {
      throw _portError(error);
    }
  }
}
