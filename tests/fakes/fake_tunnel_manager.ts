/**
 * In-memory {@link TunnelManager}: keeps the set of open proactive handover tunnels
 * (RFC 6252 section 7.4) and refuses to close one it does not hold.
 *
 * @module
 */
import type {
  PortCallOptions,
  TunnelEndpoints,
  TunnelHandle,
  TunnelManager,
} from "../../lib/ports.ts";
import { FakeBehaviour, type FakeBehaviourOptions } from "./_fake_behaviour.ts";

/** Options of {@link FakeTunnelManager}. */
export interface FakeTunnelManagerOptions extends FakeBehaviourOptions {
  /** Tunnel lifetime the fake AR grants, ms. Default 60 000. */
  readonly lifetimeMs?: number;
}

/** A fake PHT endpoint manager for any number of ARs. */
export class FakeTunnelManager implements TunnelManager {
  /** Latency, failures and the call log. */
  readonly behaviour: FakeBehaviour;
  readonly #lifetimeMs: number;
  readonly #open = new Map<string, TunnelHandle>();
  readonly #keys = new Map<string, CryptoKey>();
  #next = 1;

  /** @param options lifetime, latency, failures */
  constructor(options: FakeTunnelManagerOptions = {}) {
    this.behaviour = new FakeBehaviour("TunnelManager", options);
    this.#lifetimeMs = options.lifetimeMs ?? 60_000;
  }

  /** The tunnels open now, oldest first. */
  get tunnels(): readonly TunnelHandle[] {
    return [...this.#open.values()];
  }

  /**
   * The key a tunnel was opened with (to check the MN-AR key was the one used).
   *
   * @param handle the tunnel
   * @returns the key, or `undefined` when the tunnel is not open
   */
  keyOf(handle: TunnelHandle): CryptoKey | undefined {
    return this.#keys.get(handle.id);
  }

  /**
   * Opens a tunnel.
   *
   * @param ctn the CTN's network id
   * @param endpoints oCoA, nCoA, AR
   * @param key the MN-AR key
   * @param options abort signal
   * @returns the handle
   */
  open(
    ctn: string,
    endpoints: TunnelEndpoints,
    key: CryptoKey,
    options?: PortCallOptions,
  ): Promise<TunnelHandle> {
    return this.behaviour.run(
      "open",
      [ctn, endpoints, key],
      options?.signal,
      (openedAt) => {
        if (
          endpoints.oCoA === "" || endpoints.nCoA === "" ||
          endpoints.ar.address === ""
        ) {
          throw this.behaviour.error(
            "protocol",
            "Invalid tunnel endpoints: empty address",
          );
        }
        if (!(key instanceof CryptoKey)) {
          throw this.behaviour.error(
            "protocol",
            "Invalid tunnel key: not a CryptoKey",
          );
        }
        const handle: TunnelHandle = {
          id: `pht-${this.#next++}`,
          ctn,
          endpoints,
          openedAt,
          expiresAt: openedAt + this.#lifetimeMs,
        };
        this.#open.set(handle.id, handle);
        this.#keys.set(handle.id, key);
        return handle;
      },
    );
  }

  /**
   * Closes a tunnel this manager holds.
   *
   * @param handle the tunnel
   * @returns when closed
   */
  close(handle: TunnelHandle): Promise<void> {
    return this.behaviour.run("close", [handle], undefined, () => {
      if (!this.#open.delete(handle.id)) {
        throw this.behaviour.error("not-found", `Unknown tunnel: ${handle.id}`);
      }
      this.#keys.delete(handle.id);
    });
  }
}
