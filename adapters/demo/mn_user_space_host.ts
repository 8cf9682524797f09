/**
 * The mobile node's network stack in user space, for the embedded demo on loopback
 * (no root, no TUN; RFC 6252 sections 6.3 steps 2-6, 7.4, 7.5, Appendix B). It is the
 * MN's {@link LinkControl} and the socket factory of its SIP user agent and media
 * receiver:
 *
 * - Sockets on the current care-of address are real UDP sockets. Sockets on the
 *   nCoA of an open proactive handover tunnel go through the tunnel as inner IPv4/UDP
 *   packets ({@link PhtDatagramStack}), so that the proactive binding update (a SIP
 *   re-INVITE from the nCoA) and the media redirected to the nCoA travel through the
 *   PHT (section 7.5). When a tunnel opens, a media socket is bound on its nCoA.
 * - {@linkcode UserSpaceMnHost.switchTo} is the link-layer handover: the MN leaves its
 *   link (from then on nothing sent to the old link reaches it: datagrams to its old
 *   address and tunnel frames to its oCoA are dropped and counted), waits an
 *   association delay, and is attached to the new PoA's network.
 * - {@linkcode UserSpaceMnHost.assign} assigns the cached nCoA: every socket on the
 *   nCoA is re-bound as a real UDP socket on the same port, keeping its handler (the
 *   media receiver, the SIP user agent), then the MN announces the address (its
 *   gratuitous ARP: {@linkcode UserSpaceArLink.announce} closes the AR's proxy
 *   sockets). The sockets share the address with the proxy's (SO_REUSEADDR, see
 *   `_shared_udp.ts`), and Linux gives new datagrams to the socket bound last.
 *
 * What is simpler than a real host: sending is not gated by the link state (the
 * tunnel's management messages after the switch still leave from the oCoA socket,
 * which exists on loopback), and there is no ARP, only the announcement.
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import {
  type LinkControl,
  type PortCallOptions,
  PortError,
  type TunnelEndpoints,
  type TunnelHandle,
  type TunnelManager,
} from "../../lib/ports.ts";
import type { TunnelBuffering } from "../agent/run_sessions.ts";
import type {
  DatagramEndpoint,
  DatagramHandler,
  DatagramTransport,
  DatagramTransportFactory,
} from "../mobility/datagram_transport.ts";
import { PhtDatagramStack } from "../mobility/pht_datagram_transport.ts";
import { _bindShared } from "./_shared_udp.ts";
import type { PhtTunnelManager } from "../tunnel/pht_mn.ts";

const _logger = getLogger(["mpa", "demo", "mn-host"]);

/** What a {@link UserSpaceMnHost} reports. */
export type MnHostEvent =
  /** The MN left its link (start of the link-layer handover). */
  | { readonly kind: "link-down"; readonly poa: string | undefined }
  /** The MN is associated with a PoA. */
  | { readonly kind: "link-up"; readonly poa: string; readonly network: string }
  /** An address was assigned and announced. */
  | { readonly kind: "assigned"; readonly address: string; readonly announced: boolean }
  /** A tunnel opened; its nCoA has a media socket through it. */
  | { readonly kind: "tunnel-up"; readonly ctn: string; readonly nCoA: string }
  /** A tunnel closed. */
  | { readonly kind: "tunnel-down"; readonly ctn: string; readonly nCoA: string };

/** The AR side the host announces its address to. */
export interface ArAnnouncement {
  /**
   * The MN announced an address on the link (gratuitous ARP).
   *
   * @param address the address
   * @returns whether the AR was capturing it
   */
  announce(address: string): Promise<boolean>;
}

/** Options of {@linkcode UserSpaceMnHost.start}. */
export interface UserSpaceMnHostOptions {
  /** The network the MN is attached to at the start. */
  readonly network: string;
  /** The PoA it is attached to. */
  readonly poa: string;
  /** Its address there (the oCoA). */
  readonly address: string;
  /** The media port, at every address. */
  readonly mediaPort: number;
  /** The network of a PoA; `undefined` for a PoA not known. */
  readonly networkOfPoa: (poa: string) => string | undefined;
  /** The AR link of a network (where the gratuitous ARP is heard). */
  readonly arLink: (network: string) => ArAnnouncement | undefined;
  /** Link-layer association time, ms. Default 40. */
  readonly associationDelayMs?: number;
  /** Every media datagram received. */
  readonly onMedia: DatagramHandler;
  /** Called for every event. */
  readonly onEvent?: (event: MnHostEvent) => void;
}

/** Counters of a {@linkcode UserSpaceMnHost}. */
export interface MnHostStats {
  /** Datagrams and tunnelled packets that arrived while the MN was not on their link. */
  readonly droppedOffLink: number;
  /** Sockets re-bound from a tunnel to the link at an assignment. */
  readonly rebound: number;
  /** Sockets open now. */
  readonly sockets: number;
  /** Tunnels open now. */
  readonly tunnels: number;
}

/** A socket of the MN: real UDP or through a tunnel, re-bindable at an assignment. */
class _MnSocket implements DatagramTransport {
  readonly #host: UserSpaceMnHost;
  readonly #local: DatagramEndpoint;
  #inner: DatagramTransport;
  #real: boolean;
  #handler: DatagramHandler | undefined;
  #closed = false;

  constructor(
    host: UserSpaceMnHost,
    inner: DatagramTransport,
    real: boolean,
  ) {
    this.#host = host;
    this.#inner = inner;
    this.#real = real;
    this.#local = inner.local;
    this.#listen();
  }

  get local(): DatagramEndpoint {
    return this.#local;
  }

  get real(): boolean {
    return this.#real;
  }

  #listen(): void {
    const real = this.#real;
    this.#inner.onMessage((bytes, from) => {
      // Tunnelled packets were gated by the host already (tunnel frames to the oCoA).
      if (real && !this.#host._onLinkOf(this.#local.address)) {
        this.#host._droppedOffLink();
        return;
      }
      this.#handler?.(bytes, from);
    });
  }

  send(bytes: Uint8Array, to: DatagramEndpoint): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("Transport closed"));
    return this.#inner.send(bytes, to);
  }

  onMessage(handler: DatagramHandler): void {
    this.#handler = handler;
  }

  /** Moves the socket from the tunnel to the link: a real UDP socket on the same port. */
  async rebind(): Promise<void> {
    if (this.#real || this.#closed) return;
    const old = this.#inner;
    // Bound first, then the tunnelled socket goes: the new one takes the traffic over
    // from the AR's proxy socket on the same address (see `_shared_udp.ts`).
    const next = await _bindShared(this.#local);
    await old.close();
    this.#inner = next;
    this.#real = true;
    this.#listen();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#handler = undefined;
    this.#host._forget(this);
    await this.#inner.close();
  }
}

/**
 * The MN's user-space network stack (see the module documentation).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const host = await UserSpaceMnHost.start({
 *   network: "A", poa: "a1", address: "127.0.0.1", mediaPort: 0,
 *   networkOfPoa: (poa) => poa === "b1" ? "B" : undefined,
 *   arLink: () => undefined, associationDelayMs: 1, onMedia: () => {},
 * });
 * await host.switchTo("b1");
 * assertEquals(host.attached, "B");
 * await host.close();
 * ```
 */
export class UserSpaceMnHost implements LinkControl {
  readonly #options: UserSpaceMnHostOptions;
  readonly #sockets = new Set<_MnSocket>();
  readonly #stacks = new Map<string, PhtDatagramStack>();
  readonly #networkOf = new Map<string, string>();
  readonly #assigned = new Set<string>();
  #attached: string | undefined;
  #poa: string | undefined;
  #droppedOffLink = 0;
  #rebound = 0;

  private constructor(options: UserSpaceMnHostOptions) {
    this.#options = options;
    this.#attached = options.network;
    this.#poa = options.poa;
    this.#networkOf.set(options.address, options.network);
    this.#assigned.add(options.address);
  }

  /**
   * Starts the host attached to its first network, with a media socket on its
   * address.
   *
   * @param options addresses, PoA map, AR links, media sink
   * @returns the host
   * @throws the bind error of the media socket
   */
  static async start(options: UserSpaceMnHostOptions): Promise<UserSpaceMnHost> {
    const host = new UserSpaceMnHost(options);
    await host.#media(options.address);
    return host;
  }

  /** The network the MN is attached to; `undefined` during a link switch. */
  get attached(): string | undefined {
    return this.#attached;
  }

  /** The PoA the MN is attached to (the last one while switching). */
  get poa(): string | undefined {
    return this.#poa;
  }

  /**
   * The socket factory of the SIP user agent: real UDP on an assigned address,
   * through the tunnel on a tunnel's nCoA.
   *
   * @param local address and port (0: ephemeral)
   * @returns the socket
   * @throws {Error} `EADDRNOTAVAIL` for an address neither assigned nor tunnelled
   */
  readonly transport: DatagramTransportFactory = (local) => this.#socket(local);

  /**
   * The tunnel port of the sessions over a {@link PhtTunnelManager} whose `onPacket`
   * is {@linkcode UserSpaceMnHost.onTunnelPacket}: opening a tunnel also opens the
   * user-space stack on its nCoA and a media socket there.
   *
   * @param pht the MN's tunnel endpoint
   * @param buffering whether to offer the AR's buffering (RFC 6252 section 7.6.1)
   * @returns the tunnel manager (with `buffer` and `flush` when buffering)
   */
  tunnels(
    pht: PhtTunnelManager,
    buffering: boolean,
  ): TunnelManager & Partial<TunnelBuffering> {
    const manager: TunnelManager = {
      open: async (
        ctn: string,
        endpoints: TunnelEndpoints,
        key: CryptoKey,
        options?: PortCallOptions,
      ): Promise<TunnelHandle> => {
        const handle = await pht.open(ctn, endpoints, key, options);
        this.#stacks.set(handle.id, new PhtDatagramStack(pht, handle));
        this.#networkOf.set(endpoints.nCoA, ctn);
        try {
          await this.#media(endpoints.nCoA);
        } catch (error) {
          _logger.warn("No media socket on {nCoA}: {error}", {
            nCoA: endpoints.nCoA,
            error: String(error),
          });
        }
        this.#emit({ kind: "tunnel-up", ctn, nCoA: endpoints.nCoA });
        return handle;
      },
      close: async (handle: TunnelHandle): Promise<void> => {
        try {
          await pht.close(handle);
        } finally {
          this.#stacks.delete(handle.id);
          const nCoA = handle.endpoints.nCoA;
          if (!this.#assigned.has(nCoA)) {
            // Not the address the MN moved to: its sockets go with the tunnel.
            await Promise.all(
              [...this.#sockets].filter((s) => s.local.address === nCoA).map((s) => s.close()),
            );
          }
          this.#emit({ kind: "tunnel-down", ctn: handle.ctn, nCoA });
        }
      },
    };
    if (!buffering) return manager;
    return {
      ...manager,
      buffer: (handle, options) => pht.buffer(handle, options),
      flush: (handle, options) => pht.flush(handle, options),
    };
  }

  /**
   * Takes an inner packet a tunnel delivered (the tunnel manager's `onPacket`):
   * dropped when the MN is no longer on the link of the tunnel's outer address.
   *
   * @param handle the tunnel
   * @param packet the inner IP packet
   */
  onTunnelPacket(handle: TunnelHandle, packet: Uint8Array): void {
    if (!this._onLinkOf(handle.endpoints.oCoA)) {
      this.#droppedOffLink++;
      return;
    }
    this.#stacks.get(handle.id)?.onPacket(packet);
  }

  /**
   * The link-layer handover (RFC 6252 section 6.3 step 5): leaves the link, waits
   * the association delay, attaches to the PoA's network.
   *
   * @param poa the PoA
   * @param options abort signal
   * @returns when associated
   * @throws {PortError} `unreachable` for an unknown PoA, `aborted`
   */
  async switchTo(poa: string, options: PortCallOptions = {}): Promise<void> {
    const network = this.#options.networkOfPoa(poa);
    if (network === undefined) {
      throw new PortError("LinkControl", "unreachable", `Unknown PoA: ${poa}`);
    }
    this.#attached = undefined;
    this.#emit({ kind: "link-down", poa: this.#poa });
    await _sleep(this.#options.associationDelayMs ?? 40, options.signal);
    this.#attached = network;
    this.#poa = poa;
    this.#emit({ kind: "link-up", poa, network });
  }

  /**
   * Assigns an address on the current link and announces it (RFC 6252 section 6.3
   * step 6, Appendix B): the AR stops capturing it, the MN's sockets on it are
   * re-bound on the link.
   *
   * @param address the address (the cached nCoA)
   * @param _prefixLength its prefix length (no routes in user space)
   * @param options abort signal
   * @returns when assigned
   * @throws {PortError} `unreachable` when not attached, `aborted`
   */
  async assign(
    address: string,
    _prefixLength: number,
    options: PortCallOptions = {},
  ): Promise<void> {
    if (options.signal?.aborted) {
      throw new PortError("LinkControl", "aborted", "Address assignment aborted");
    }
    const network = this.#attached;
    if (network === undefined) {
      throw new PortError("LinkControl", "unreachable", "Not attached to any link");
    }
    // Assign, then announce (Appendix B): the MN's sockets on the address are bound
    // before the AR's proxy sockets close.
    this.#assigned.add(address);
    this.#networkOf.set(address, network);
    for (const s of [...this.#sockets]) {
      if (s.local.address !== address || s.real) continue;
      try {
        await s.rebind();
        this.#rebound++;
      } catch (error) {
        throw new PortError(
          "LinkControl",
          "unreachable",
          `Cannot bind ${address}:${s.local.port}: ${String(error)}`,
          { cause: error },
        );
      }
    }
    const media = (s: _MnSocket) =>
      s.local.address === address && s.local.port === this.#options.mediaPort;
    // A reactive handover had no tunnel, hence no media socket on the address yet.
    if (![...this.#sockets].some(media)) await this.#media(address);
    const announced = await this.#options.arLink(network)?.announce(address) ?? false;
    this.#emit({ kind: "assigned", address, announced });
  }

  /**
   * The counters.
   *
   * @returns drops off the link, re-bound sockets, open sockets and tunnels
   */
  stats(): MnHostStats {
    return {
      droppedOffLink: this.#droppedOffLink,
      rebound: this.#rebound,
      sockets: this.#sockets.size,
      tunnels: this.#stacks.size,
    };
  }

  /**
   * Closes every socket.
   *
   * @returns when closed
   */
  async close(): Promise<void> {
    await Promise.all([...this.#sockets].map((s) => s.close()));
    this.#stacks.clear();
  }

  /** Whether the MN is on the link of `address` (used by its sockets). */
  _onLinkOf(address: string): boolean {
    const network = this.#networkOf.get(address);
    return network !== undefined && network === this.#attached;
  }

  /** Counts a datagram dropped off the link (used by its sockets). */
  _droppedOffLink(): void {
    this.#droppedOffLink++;
  }

  /** Forgets a closed socket (used by its sockets). */
  _forget(socket: _MnSocket): void {
    this.#sockets.delete(socket);
  }

  #emit(event: MnHostEvent): void {
    try {
      this.#options.onEvent?.(event);
    } catch (error) {
      _logger.warn("MN host event handler failed: {error}", { error: String(error) });
    }
  }

  async #media(address: string): Promise<void> {
    const socket = await this.#socket({ address, port: this.#options.mediaPort });
    socket.onMessage(this.#options.onMedia);
  }

  async #socket(local: DatagramEndpoint): Promise<_MnSocket> {
    let inner: DatagramTransport;
    let real: boolean;
    if (this.#assigned.has(local.address)) {
      inner = await _bindShared(local);
      real = true;
    } else {
      const stack = [...this.#stacks.values()].find((s) => s.address === local.address);
      if (stack === undefined) {
        throw Object.assign(
          new Error(`EADDRNOTAVAIL: ${local.address} is neither assigned nor tunnelled`),
          { code: "EADDRNOTAVAIL" },
        );
      }
      inner = await stack.bind(local);
      real = false;
    }
    const socket = new _MnSocket(this, inner, real);
    this.#sockets.add(socket);
    return socket;
  }
}

function _sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const abort = () => {
      clearTimeout(timer);
      reject(new PortError("LinkControl", "aborted", "Link switch aborted"));
    };
    if (signal?.aborted) return abort();
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", abort, { once: true });
  });
}
