/**
 * In-memory {@link Configurator}: an auth-gated address pool per CTN, in the manner
 * of the CA of RFC 6252 section 7.3.3 (only a pre-authenticated MN gets an address,
 * the same client identifier keeps the same address).
 *
 * @module
 */
import type {
  Configurator,
  CtnInfo,
  Lease,
  LeaseMethod,
  MpaSa,
  PortCallOptions,
} from "../../lib/ports.ts";
import { FakeBehaviour, type FakeBehaviourOptions } from "./_fake_behaviour.ts";

/** Options of {@link FakeConfigurator}. */
export interface FakeConfiguratorOptions extends FakeBehaviourOptions {
  /** How leases are said to be obtained. Default `dhcp-unicast`. */
  readonly method?: LeaseMethod;
  /** Lease time granted, ms. Default 3 600 000. */
  readonly leaseMs?: number;
  /**
   * Addresses to hand out per network, in order. A network without a pool uses its
   * IPv4 `subnet` (hosts from .10 up, router .1).
   */
  readonly pools?: Readonly<Record<string, readonly string[]>>;
}

/** A fake configuration agent for any number of CTNs. */
export class FakeConfigurator implements Configurator {
  /** Latency, failures and the call log. */
  readonly behaviour: FakeBehaviour;
  readonly #method: LeaseMethod;
  readonly #leaseMs: number;
  readonly #pools: Readonly<Record<string, readonly string[]>>;
  /** Active leases by `network|nCoA`. */
  readonly #active = new Map<string, Lease>();
  /** Sticky bindings: `network|clientId` to the address handed out (section 7.3.3). */
  readonly #bindings = new Map<string, string>();

  /** @param options method, lease time, pools, latency, failures */
  constructor(options: FakeConfiguratorOptions = {}) {
    this.behaviour = new FakeBehaviour("Configurator", options);
    this.#method = options.method ?? "dhcp-unicast";
    this.#leaseMs = options.leaseMs ?? 3_600_000;
    this.#pools = options.pools ?? {};
  }

  /** The leases granted and not released, oldest first. */
  get leases(): readonly Lease[] {
    return [...this.#active.values()];
  }

  /**
   * Acquires an nCoA for the SA's MN.
   *
   * @param ctn the CTN
   * @param sa the MPA-SA with that CTN
   * @param options abort signal
   * @returns the lease
   */
  acquire(ctn: CtnInfo, sa: MpaSa, options?: PortCallOptions): Promise<Lease> {
    return this.behaviour.run("acquire", [ctn, sa], options?.signal, (now) => {
      if (sa.ctn !== ctn.network) {
        throw this.behaviour.error(
          "rejected",
          `CA gate closed: the SA is with ${sa.ctn}, not ${ctn.network}`,
        );
      }
      if (sa.expiresAt <= now) {
        throw this.behaviour.error(
          "rejected",
          `CA gate closed: MPA-SA ${sa.sessionId} expired`,
        );
      }
      const { addresses, prefixLength, router } = this.#pool(ctn);
      const clientId = _hex(sa.mnId);
      const bindingKey = `${ctn.network}|${clientId}`;
      let nCoA = this.#bindings.get(bindingKey);
      if (nCoA === undefined) {
        const taken = new Set(this.#bindings.values());
        nCoA = addresses.find((a) => !taken.has(a));
        if (nCoA === undefined) {
          throw this.behaviour.error(
            "rejected",
            `No free address: pool of ${ctn.network} exhausted`,
          );
        }
        this.#bindings.set(bindingKey, nCoA);
      }
      const lease: Lease = {
        ctn: ctn.network,
        nCoA,
        prefixLength,
        ...(router === undefined ? {} : { router }),
        dns: router === undefined ? [] : [router],
        obtainedAt: now,
        lifetimeMs: this.#leaseMs,
        expiresAt: now + this.#leaseMs,
        ...(this.#method === "ra" ? {} : { serverId: ctn.ca.address, clientId }),
        method: this.#method,
      };
      this.#active.set(`${ctn.network}|${nCoA}`, lease);
      return lease;
    });
  }

  /**
   * Extends an active lease.
   *
   * @param lease the lease
   * @param options abort signal
   * @returns the extended lease
   */
  renew(lease: Lease, options?: PortCallOptions): Promise<Lease> {
    return this.behaviour.run("renew", [lease], options?.signal, (now) => {
      const key = `${lease.ctn}|${lease.nCoA}`;
      const held = this.#active.get(key);
      if (held === undefined) {
        throw this.behaviour.error(
          "not-found",
          `Unknown lease: ${lease.nCoA} in ${lease.ctn}`,
        );
      }
      const renewed: Lease = {
        ...held,
        obtainedAt: now,
        expiresAt: now + this.#leaseMs,
      };
      this.#active.set(key, renewed);
      return renewed;
    });
  }

  /**
   * Releases an active lease; its address returns to the pool.
   *
   * @param lease the lease
   * @param options abort signal
   * @returns when released
   */
  release(lease: Lease, options?: PortCallOptions): Promise<void> {
    return this.behaviour.run("release", [lease], options?.signal, () => {
      const key = `${lease.ctn}|${lease.nCoA}`;
      if (!this.#active.delete(key)) {
        throw this.behaviour.error(
          "not-found",
          `Unknown lease: ${lease.nCoA} in ${lease.ctn}`,
        );
      }
      for (const [binding, address] of this.#bindings) {
        if (address === lease.nCoA && binding.startsWith(`${lease.ctn}|`)) {
          this.#bindings.delete(binding);
        }
      }
    });
  }

  #pool(
    ctn: CtnInfo,
  ): { addresses: readonly string[]; prefixLength: number; router?: string } {
    const explicit = this.#pools[ctn.network];
    const subnet = ctn.subnet === undefined ? undefined : _parseIpv4Cidr(ctn.subnet);
    if (explicit !== undefined) {
      return subnet === undefined
        ? { addresses: explicit, prefixLength: this.#method === "ra" ? 64 : 24 }
        : {
          addresses: explicit,
          prefixLength: subnet.prefixLength,
          router: subnet.router,
        };
    }
    if (subnet === undefined) {
      throw this.behaviour.error(
        "rejected",
        `No address pool: ${ctn.network} has no pool and no IPv4 subnet`,
      );
    }
    return subnet;
  }
}

function _parseIpv4Cidr(
  cidr: string,
):
  | { addresses: readonly string[]; prefixLength: number; router: string }
  | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (match === null) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefixLength = Number(match[5]);
  if (octets.some((o) => o > 255) || prefixLength > 30) return undefined;
  const base = (octets.reduce((acc, o) => acc * 256 + o, 0) >>> 0) &
    (prefixLength === 0 ? 0 : (~0 << (32 - prefixLength)) >>> 0);
  const size = 2 ** (32 - prefixLength);
  const addresses: string[] = [];
  for (let host = 10; host < Math.min(size - 1, 10 + 1024); host++) {
    addresses.push(_ipv4((base >>> 0) + host));
  }
  return { addresses, prefixLength, router: _ipv4((base >>> 0) + 1) };
}

function _ipv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

function _hex(text: string): string {
  return [...new TextEncoder().encode(text)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
