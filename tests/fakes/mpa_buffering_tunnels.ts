/**
 * A fake tunnel manager whose ARs can buffer and flush (RFC 6252 section 7.6.1), as
 * the PHT manager does: `buffer` needs an open tunnel, `flush` works on an open or
 * recently closed one.
 *
 * @module
 */
import type { PortCallOptions, TunnelHandle } from "../../lib/ports.ts";
import { FakeTunnelManager, type FakeTunnelManagerOptions } from "./fake_tunnel_manager.ts";

/** {@link FakeTunnelManager} plus AR buffering. */
export class MpaBufferingTunnels extends FakeTunnelManager {
  readonly #buffering = new Set<string>();
  readonly #known = new Set<string>();

  /** @param options lifetime, latency, failures */
  constructor(options: FakeTunnelManagerOptions = {}) {
    super(options);
  }

  /** Tunnels whose AR buffers now. */
  get buffering(): readonly string[] {
    return [...this.#buffering];
  }

  /**
   * Opens a tunnel (remembered for a later flush).
   *
   * @param ctn the CTN
   * @param endpoints the endpoints
   * @param key the MN-AR key
   * @param options abort signal
   * @returns the handle
   */
  override async open(
    ctn: string,
    endpoints: Parameters<FakeTunnelManager["open"]>[1],
    key: CryptoKey,
    options?: PortCallOptions,
  ): Promise<TunnelHandle> {
    const handle = await super.open(ctn, endpoints, key, options);
    this.#known.add(handle.id);
    return handle;
  }

  /**
   * Asks the AR to buffer.
   *
   * @param handle an open tunnel
   * @param options abort signal
   * @returns when confirmed
   */
  buffer(handle: TunnelHandle, options?: PortCallOptions): Promise<void> {
    return this.behaviour.run("buffer", [handle], options?.signal, () => {
      if (!this.tunnels.some((t) => t.id === handle.id)) {
        throw this.behaviour.error("not-found", `Unknown tunnel: ${handle.id}`);
      }
      this.#buffering.add(handle.id);
    });
  }

  /**
   * Asks the AR to release what it buffered.
   *
   * @param handle a tunnel opened here
   * @param options abort signal
   * @returns packets released (always 3 when it was buffering, else 0)
   */
  flush(handle: TunnelHandle, options?: PortCallOptions): Promise<number> {
    return this.behaviour.run("flush", [handle], options?.signal, () => {
      if (!this.#known.has(handle.id)) {
        throw this.behaviour.error("not-found", `Unknown tunnel: ${handle.id}`);
      }
      return this.#buffering.delete(handle.id) ? 3 : 0;
    });
  }
}
