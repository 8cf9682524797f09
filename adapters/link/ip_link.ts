/**
 * {@link LinkControl} for a real MN through ip(8) (RFC 6252 section 6.3 steps 5 and
 * 6, Appendix B). A layer-2 handover cannot be done generically: how to move to
 * another PoA depends on the technology and its supplicant, so {@link IpLinkControl}
 * runs the command configured for that PoA (for Wi-Fi,
 * `["wpa_cli", "-i", "wlan0", "roam", "00:11:22:33:44:55"]`) and refuses a PoA with
 * none. `assign` is the same as the testbed's: `ip addr replace`, the default route
 * through the new router, and a gratuitous ARP with `arping -U` (iputils-arping). The
 * ip commands run in long-lived `ip -batch` processes (adapters/link/_ip_batch.ts):
 * the caller's own namespace's shared ones, or, with `netns`, this control's own,
 * which {@link IpLinkControl.close} ends.
 *
 * @module
 */
import { ConfigError } from "../../lib/errors.ts";
import { type LinkControl, type PortCallOptions, PortError } from "../../lib/ports.ts";
import { _assign, _IFNAME, _inNetns, _runOrFail } from "./_assign.ts";
import { _Announcer } from "./_announcer.ts";
import { _IpBatches, _ownIpBatches } from "./_ip_batch.ts";
import type { LinkAssignOptions } from "./netns_link.ts";

/** Options of {@link IpLinkControl}. */
export interface IpLinkControlOptions {
  /** The MN's physical interface (`wlan0`). */
  readonly interface: string;
  /** Run `ip`, `arping` and the switch commands in this namespace; the caller's own when omitted. */
  readonly netns?: string;
  /**
   * PoA id to the command (program and arguments, no shell) that attaches to it;
   * it must exit 0 once attached. PoAs not listed are refused.
   */
  readonly switchCommands?: Readonly<Record<string, readonly string[]>>;
  /** Kill a switch command after this long, ms. Default 10000. */
  readonly switchTimeoutMs?: number;
}

/**
 * Link control of a real MN: configured switch commands and ip(8).
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { PortError } from "../../lib/ports.ts";
 * const link = new IpLinkControl({
 *   interface: "wlan0",
 *   switchCommands: { ap1: ["wpa_cli", "-i", "wlan0", "roam", "00:11:22:33:44:55"] },
 * });
 * // No command for ap2: a generic MN cannot switch to it.
 * const e = await assertRejects(() => link.switchTo("ap2"), PortError);
 * assertEquals([e.port, e.code], ["LinkControl", "rejected"]);
 * ```
 */
export class IpLinkControl implements LinkControl {
  readonly #target: { readonly interface: string; readonly netns?: string | undefined };
  readonly #commands: ReadonlyMap<string, readonly string[]>;
  readonly #timeoutMs: number;
  readonly #announcer = new _Announcer();
  readonly #ip: _IpBatches | undefined;

  /**
   * Checks the options.
   *
   * @param options the interface, namespace, switch commands and their timeout
   * @throws {ConfigError} naming the offending option
   */
  constructor(options: IpLinkControlOptions) {
    if (!_IFNAME.test(options.interface)) {
      throw new ConfigError("interface", `Invalid interface: ${options.interface}`);
    }
    const commands = new Map(Object.entries(options.switchCommands ?? {}));
    for (const [poa, argv] of commands) {
      if (argv.length === 0 || argv[0] === "") {
        throw new ConfigError(`switchCommands.${poa}`, `Invalid switchCommands.${poa}: empty`);
      }
    }
    const timeoutMs = options.switchTimeoutMs ?? 10_000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new ConfigError("switchTimeoutMs", `Invalid switchTimeoutMs: ${timeoutMs}`);
    }
    this.#target = { interface: options.interface, netns: options.netns };
    this.#commands = commands;
    this.#timeoutMs = timeoutMs;
    this.#ip = options.netns === undefined ? undefined : new _IpBatches(options.netns);
  }

  /**
   * Runs the PoA's switch command (RFC 6252 section 6.3 step 5).
   *
   * @param poa the PoA id
   * @param options abort signal (kills the command)
   * @returns when the command exited 0
   * @throws {PortError} `rejected` (no command for the PoA, or it failed),
   *   `unreachable` (program missing), `timeout`, `aborted`
   */
  async switchTo(poa: string, options: PortCallOptions = {}): Promise<void> {
    const argv = this.#commands.get(poa);
    if (argv === undefined) {
      throw new PortError(
        "LinkControl",
        "rejected",
        `Link switch not possible: no switch command configured for PoA ${poa}`,
      );
    }
    this.#announcer.warm(this.#target); // for the assignment after the switch
    try {
      await _runOrFail(_inNetns(this.#target.netns, argv), `switch to ${poa}`, {
        signal: options.signal,
        timeoutMs: this.#timeoutMs,
      });
    } catch (e) {
      // A command that ran and failed is a refused association, whatever its stderr.
      if (e instanceof PortError && e.code === "unreachable" && !/cannot run/.test(e.message)) {
        throw new PortError("LinkControl", "rejected", e.message, { cause: e });
      }
      throw e;
    }
  }

  /**
   * Assigns the address to the interface, replaces the default route through
   * `options.router` when given, and sends a gratuitous ARP for an IPv4 address
   * (RFC 6252 section 6.3 step 6, Appendix B).
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
      this.#ip ?? _ownIpBatches(),
      this.#announcer,
      address,
      prefixLength,
      options,
    );
  }

  /**
   * Ends this control's `ip -batch` processes (with `netns`) and waits for background
   * gratuitous ARPs to finish; idempotent.
   *
   * @returns when done
   */
  async close(): Promise<void> {
    await this.#ip?.close();
    await this.#announcer.settle();
  }

  /** Same as {@link IpLinkControl.close} (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
