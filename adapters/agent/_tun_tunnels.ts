/**
 * The MN's proactive handover tunnels with a TUN device each (`"tunnel": { "tun":
 * true }`, RFC 6252 section 7.4): every tunnel the PHT manager opens gets its own TUN
 * carrying the nCoA, with its own policy-routing table (`from nCoA lookup T`), so
 * that the proactive binding update and the data sent from the nCoA go through the
 * tunnel (section 6.3 steps 2-3). Closing a tunnel detaches and closes its TUN first
 * (step 4: the nCoA is about to move to the physical interface). Needs root.
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import {
  type PortCallOptions,
  PortError,
  type TunnelEndpoints,
  type TunnelHandle,
  type TunnelManager,
} from "../../lib/ports.ts";
import type { PhtTunnelManager } from "../tunnel/pht_mn.ts";
import { TunDevice } from "../tunnel/tun.ts";
import { attachMnTun, type MnTunAttachment } from "../tunnel/tun_glue.ts";
import type { TunnelBuffering } from "./run_sessions.ts";

const _logger = getLogger(["mpa", "agent", "tunnel"]);

/** First policy-routing table and rule priority; one per tunnel from there. */
const _TABLE_BASE = 7716;
/** How many tables are cycled through. */
const _TABLES = 64;

/** PHT tunnels with TUN devices (private to the agent). */
export class _TunTunnels implements TunnelManager, TunnelBuffering, AsyncDisposable {
  readonly #manager: PhtTunnelManager;
  readonly #attachments: Map<string, MnTunAttachment>;
  #next = 0;

  /**
   * @param manager the PHT manager; its `onPacket` must hand packets to
   *   `attachments.get(handle.id)?.onPacket`
   * @param attachments the TUN attachment of each open tunnel, by handle id (filled here)
   */
  constructor(manager: PhtTunnelManager, attachments: Map<string, MnTunAttachment>) {
    this.#manager = manager;
    this.#attachments = attachments;
  }

  /**
   * Opens the PHT, then a TUN for its nCoA.
   *
   * @param ctn the CTN
   * @param endpoints oCoA, nCoA, AR
   * @param key the MN-AR key
   * @param options abort signal
   * @returns the handle
   * @throws {PortError} the manager's, or `unreachable` when the TUN cannot be set up
   *   (the tunnel is closed again)
   */
  async open(
    ctn: string,
    endpoints: TunnelEndpoints,
    key: CryptoKey,
    options?: PortCallOptions,
  ): Promise<TunnelHandle> {
    const handle = await this.#manager.open(ctn, endpoints, key, options);
    let tun: TunDevice | undefined;
    try {
      tun = TunDevice.open({ name: "mpa%d", mtu: 1400 });
      const slot = _TABLE_BASE + (this.#next++ % _TABLES);
      const attachment = await attachMnTun(this.#manager, handle, tun, {
        table: slot,
        rulePriority: slot,
      });
      this.#attachments.set(handle.id, attachment);
      _logger.info("Tunnel {id} to {ctn}: nCoA {nCoA} on {tun}", {
        id: handle.id,
        ctn,
        nCoA: endpoints.nCoA,
        tun: tun.name,
      });
      return handle;
    } catch (error) {
      await tun?.close().catch(() => {});
      await this.#manager.close(handle).catch(() => {});
      throw new PortError(
        "TunnelManager",
        "unreachable",
        `Cannot set up the TUN device of tunnel ${handle.id}: ${
          error instanceof Error ? error.message.split("\n")[0] : String(error)
        }`,
        { cause: error },
      );
    }
  }

  /**
   * Detaches and closes the tunnel's TUN and deletes the PHT, both at once: the
   * delete's route is looked up without the TUN (the manager's socket is not bound to
   * the nCoA), so it does not wait for the TUN's kernel state to go.
   *
   * @param handle the tunnel
   * @returns when both are done
   */
  async close(handle: TunnelHandle): Promise<void> {
    await Promise.all([this.#detach(handle.id), this.#manager.close(handle)]);
  }

  /**
   * Asks the AR to buffer (RFC 6252 section 7.6.1).
   *
   * @param handle the tunnel
   * @param options abort signal
   * @returns when confirmed
   */
  buffer(handle: TunnelHandle, options?: PortCallOptions): Promise<void> {
    return this.#manager.buffer(handle, options);
  }

  /**
   * Asks the AR to release what it buffered.
   *
   * @param handle the tunnel
   * @param options abort signal
   * @returns packets released
   */
  flush(handle: TunnelHandle, options?: PortCallOptions): Promise<number> {
    return this.#manager.flush(handle, options);
  }

  /** Detaches and closes every TUN still attached. */
  async [Symbol.asyncDispose](): Promise<void> {
    for (const id of [...this.#attachments.keys()]) await this.#detach(id);
  }

  async #detach(id: string): Promise<void> {
    const attachment = this.#attachments.get(id);
    if (attachment === undefined) return;
    this.#attachments.delete(id);
    try {
      await attachment.detach();
    } catch (error) {
      _logger.warn("Cannot detach the TUN of tunnel {id}: {error}", { id, error: String(error) });
    }
    await attachment.tun.close().catch(() => {});
  }
}
