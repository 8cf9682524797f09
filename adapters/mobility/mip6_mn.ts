/**
 * The mobile node's Mobile IPv6 binding client (RFC 6275 sections 11.7.1, 11.8) with
 * multiple care-of addresses (RFC 5648), a {@link MobilityProtocol}: the proactive
 * binding update of RFC 6252 (section 6.3 step 3, section 7.5) and the simultaneous
 * binding of sections 7.2 (first solution) and C.4, where the MN, still in the previous
 * network, registers the care-of addresses c1, c2, c3 of the candidate networks at
 * once and, after the move, the single CoA of the network it entered.
 *
 * Framing (DSMIPv6, RFC 5555): the kernel here has no Mobile IPv6, so each message is
 * an IPv6 packet carried as the payload of a UDP datagram on port 4191
 * ({@linkcode MIP6_UDP_PORT}):
 *
 * ```
 * UDP/IPv4  CoA:ephemeral -> HA:4191
 *   IPv6 fixed header (40 bytes), Next Header 135
 *     BU: source = home address, destination = home agent
 *     BA: source = home agent,   destination = home address
 *   Mobility Header (RFC 6275 section 6.1), Checksum over that IPv6 pseudo-header
 * ```
 *
 * IPv4 addresses (the testbed is IPv4) appear in the IPv6 header as IPv4-mapped
 * addresses (`::ffff:a.b.c.d`). The care-of address is IPv4: the outer UDP source of
 * the BU for a single CoA (or an Alternate Care-of Address option when the BU goes out
 * from another address, e.g. through the tunnel's nCoA); for several at once, one
 * Binding Identifier option per CoA carrying the IPv4 CoA, all with the overwrite (O)
 * flag so that the set replaces whatever was bound (bulk registration, RFC 5648
 * sections 5.3, 6.1). The home agent takes the home address from the inner IPv6
 * source.
 *
 * Authentication: every BU carries a Binding Authorization Data option computed with
 * the pre-shared key as in `lib/keys/binding_auth.ts`, care-of address = the address
 * the BU is sent from (the UDP source the home agent sees), peer = the home agent's
 * address; BAs are checked the same way, and one that does not verify is dropped and
 * counted (`forgedAcks`).
 *
 * Retransmission (RFC 6275 section 11.8): the first wait is `initialTimeoutMs`
 * (InitialBindackTimeoutFirstReg, 1.5 s), doubled on each retransmission up to
 * `maxTimeoutMs` (MAX_BINDACK_TIMEOUT, 32 s); once a wait of `maxTimeoutMs` has run
 * out, `bind` fails with `timeout`. Each retransmission is a new BU with the next
 * Sequence Number (section 11.7.1: every BU to a destination carries a greater one),
 * and a BA for any of them completes the exchange. A BA with status 135 (Sequence
 * Number out of window) carries the last number the home agent accepted: the MN
 * continues from it and retries once (section 11.7.3).
 *
 * Not done here: the binding is not refreshed automatically before it expires (call
 * `bind` again within the granted lifetime); no return routability towards
 * correspondents; no NAT detection (RFC 5555 section 4.1).
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { signMobilityHeader, verifyMobilityHeader } from "../../lib/keys/binding_auth.ts";
import {
  type BindingResult,
  type BindOptions,
  type MobilityProtocol,
  type PortCallOptions,
  PortError,
  type ServiceAddress,
} from "../../lib/ports.ts";
import {
  type BindingAck,
  bindingUpdateFlags,
  decodeMobilityHeader,
  findMobilityOptions,
  type MobilityOption,
} from "../../lib/wire/mobility_header.ts";
import {
  BindingAckStatus,
  isBindingAccepted,
  MH_LIFETIME_UNIT_SECONDS,
  MH_MAX_LIFETIME_SECONDS,
  MIP6_UDP_PORT,
} from "../../lib/wire/mobility_constants.ts";
import {
  _bindUdp,
  _canonical,
  _closeUdp,
  _mapped,
  type _Peer,
  _sendUdp,
  _statusName,
  _unwrapMobilityHeader,
  _wrapMobilityHeader,
} from "./_mip6_udp.ts";

const _logger = getLogger(["mpa", "mip6", "mn"]);

/**
 * InitialBindackTimeoutFirstReg, ms: the first wait for a Binding Acknowledgement of
 * a home registration (RFC 6275 section 13, default 1.5 s).
 */
export const INITIAL_BINDACK_TIMEOUT_FIRST_REG_MS = 1500;

/** MAX_BINDACK_TIMEOUT, ms: the longest wait between retransmissions (RFC 6275 section 12). */
export const MAX_BINDACK_TIMEOUT_MS = 32_000;

/** The binding lifetime asked for when `bind` is given none, ms (10 minutes). */
export const DEFAULT_MIP6_LIFETIME_MS = 600_000;

/** A UDP socket bound to a local (care-of) address, as the transport gives it. */
export interface Mip6Socket {
  /** The local address the socket is bound to: the care-of address the BU is sent from. */
  readonly localAddress: string;
  /**
   * Sends one datagram.
   *
   * @param bytes the datagram
   * @param address destination address
   * @param port destination port
   * @returns when handed to the kernel
   */
  send(bytes: Uint8Array, address: string, port: number): Promise<void>;
  /**
   * Closes the socket.
   *
   * @returns when closed
   */
  close(): Promise<void>;
}

/**
 * Opens a {@linkcode Mip6Socket} bound to `localAddress`, delivering every datagram it
 * receives to `onMessage`. Tests wrap it to lose or record datagrams.
 */
export type Mip6Transport = (
  localAddress: string,
  onMessage: (bytes: Uint8Array, from: { readonly address: string; readonly port: number }) => void,
) => Promise<Mip6Socket>;

/**
 * The default transport: a `node:dgram` socket bound to `localAddress` on an ephemeral
 * port. Bound to the nCoA of a proactive handover tunnel in TUN mode, what it sends
 * leaves through the tunnel (policy routing by source address).
 *
 * @param localAddress the care-of address to bind
 * @param onMessage called with each datagram received
 * @returns the bound socket
 * @throws the bind error (EADDRNOTAVAIL when the address is not local)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const socket = await udpMip6Transport("127.0.0.1", () => {});
 * assertEquals(socket.localAddress, "127.0.0.1");
 * await socket.close();
 * ```
 */
export async function udpMip6Transport(
  localAddress: string,
  onMessage: (bytes: Uint8Array, from: { readonly address: string; readonly port: number }) => void,
): Promise<Mip6Socket> {
  const socket = await _bindUdp(localAddress, 0, onMessage);
  return {
    localAddress,
    send: (bytes, address, port) => _sendUdp(socket, bytes, address, port),
    close: () => _closeUdp(socket),
  };
}

/** Options of {@linkcode Mip6Mobility}. */
export interface Mip6MobilityOptions {
  /** The MN's home address, IPv6 or IPv4 text (IPv4-mapped in the IPv6 header). */
  readonly home: string;
  /** The home agent (or correspondent); port default {@linkcode MIP6_UDP_PORT}. */
  readonly homeAgent: ServiceAddress;
  /** The key shared with the home agent, at least 16 bytes (32 recommended). */
  readonly key: Uint8Array;
  /** Opens the socket on a care-of address; default {@linkcode udpMip6Transport}. */
  readonly transport?: Mip6Transport;
  /** First wait for a BA, ms; default {@linkcode INITIAL_BINDACK_TIMEOUT_FIRST_REG_MS}. */
  readonly initialTimeoutMs?: number;
  /** Longest wait between retransmissions, ms; default {@linkcode MAX_BINDACK_TIMEOUT_MS}. */
  readonly maxTimeoutMs?: number;
  /** Lifetime asked for when `bind` is given none, ms; default {@linkcode DEFAULT_MIP6_LIFETIME_MS}. */
  readonly lifetimeMs?: number;
  /** H flag: a home registration (default true); false for a correspondent. */
  readonly homeRegistration?: boolean;
  /** The Sequence Number before the first BU, 0 to 65535; default random. */
  readonly initialSequence?: number;
  /** Clock, epoch ms; default `Date.now`. */
  readonly now?: () => number;
}

/** Counters of a {@linkcode Mip6Mobility}. */
export interface Mip6MobilityStats {
  /** Binding Updates sent, retransmissions included. */
  readonly updatesSent: number;
  /** Retransmissions after a timeout (RFC 6275 section 11.8). */
  readonly retransmissions: number;
  /** Authentic Binding Acknowledgements received. */
  readonly acksReceived: number;
  /** BAs whose Binding Authorization Data did not verify (dropped). */
  readonly forgedAcks: number;
  /** Datagrams that do not parse, or Mobility Headers other than a BA (dropped). */
  readonly malformed: number;
  /** Authentic BAs matching no outstanding BU (late, duplicated). */
  readonly unexpected: number;
  /** Sequence Number resynchronisations after status 135. */
  readonly resyncs: number;
}

/** The current binding, as last acknowledged. */
export interface Mip6Binding {
  /** The care-of addresses bound, preferred first. */
  readonly bound: readonly string[];
  /** Lifetime granted, ms. */
  readonly lifetimeMs: number;
  /** When the BA arrived, ms on the `now` clock. */
  readonly at: number;
  /** When the binding runs out unless refreshed, ms on the `now` clock. */
  readonly expiresAt: number;
}

interface _Exchange {
  readonly localAddress: string;
  readonly sent: Set<number>;
  readonly queue: BindingAck[];
  wake: (() => void) | undefined;
}

type _Counters = { -readonly [K in keyof Mip6MobilityStats]: number };

const _PORT = "MobilityProtocol";

/**
 * Mobile IPv6 binding updates over UDP to a home agent, a {@link MobilityProtocol}
 * with multiple care-of addresses (RFC 5648 bulk registration).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { HomeAgent } from "./home_agent.ts";
 * const key = new Uint8Array(32).fill(7);
 * await using ha = await HomeAgent.listen({
 *   address: "127.0.0.1", port: 0, keys: (home) => home === "10.9.0.100" ? key : undefined,
 * });
 * await using mn = new Mip6Mobility({
 *   home: "10.9.0.100", homeAgent: { address: "127.0.0.1", port: ha.port }, key,
 * });
 * const result = await mn.bind(["127.0.0.1"], { lifetimeMs: 60_000 });
 * assertEquals(result, { bound: ["127.0.0.1"], lifetimeMs: 60_000 });
 * assertEquals(ha.bindings("10.9.0.100"), ["127.0.0.1"]);
 * ```
 */
export class Mip6Mobility implements MobilityProtocol, AsyncDisposable {
  /** Several care-of addresses bind at once (RFC 5648). */
  readonly multipleCoAs = true;
  readonly #home: string;
  readonly #ha: { readonly address: string; readonly port: number };
  readonly #key: Uint8Array;
  readonly #transport: Mip6Transport;
  readonly #initialTimeoutMs: number;
  readonly #maxTimeoutMs: number;
  readonly #lifetimeMs: number;
  readonly #homeRegistration: boolean;
  readonly #now: () => number;
  readonly #sockets = new Map<string, Promise<Mip6Socket>>();
  readonly #bids = new Map<string, number>();
  readonly #counters: _Counters = {
    updatesSent: 0,
    retransmissions: 0,
    acksReceived: 0,
    forgedAcks: 0,
    malformed: 0,
    unexpected: 0,
    resyncs: 0,
  };
  #sequence: number;
  #exchange: _Exchange | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #binding: Mip6Binding | undefined;
  #lastSource: string | undefined;
  #closed = false;

  /**
   * Creates the client; sockets open on the first `bind`.
   *
   * @param options home address, home agent, key, transport and timers
   * @throws {RangeError} for a key under 16 bytes, a bad address or timer
   */
  constructor(options: Mip6MobilityOptions) {
    if (options.key.length < 16) {
      throw new RangeError(`Invalid binding key: ${options.key.length} bytes, need at least 16`);
    }
    try {
      this.#home = _canonical(options.home);
      this.#ha = {
        address: _canonical(options.homeAgent.address),
        port: options.homeAgent.port ?? MIP6_UDP_PORT,
      };
    } catch (error) {
      throw new RangeError(`Invalid address: ${(error as Error).message}`, { cause: error });
    }
    // A copy: the caller may wipe its buffer once this is built (the agent does).
    this.#key = options.key.slice();
    this.#transport = options.transport ?? udpMip6Transport;
    this.#initialTimeoutMs = options.initialTimeoutMs ?? INITIAL_BINDACK_TIMEOUT_FIRST_REG_MS;
    this.#maxTimeoutMs = options.maxTimeoutMs ?? MAX_BINDACK_TIMEOUT_MS;
    if (!(this.#initialTimeoutMs > 0) || !(this.#maxTimeoutMs >= this.#initialTimeoutMs)) {
      throw new RangeError(
        `Invalid retransmission timers: initial ${this.#initialTimeoutMs} ms, max ${this.#maxTimeoutMs} ms`,
      );
    }
    this.#lifetimeMs = options.lifetimeMs ?? DEFAULT_MIP6_LIFETIME_MS;
    this.#homeRegistration = options.homeRegistration ?? true;
    this.#now = options.now ?? Date.now;
    this.#sequence = (options.initialSequence ?? Math.floor(Math.random() * 0x10000)) & 0xffff;
  }

  /** The counters so far (a copy). */
  get stats(): Mip6MobilityStats {
    return { ...this.#counters };
  }

  /** The binding last acknowledged; undefined before the first or after `deregister`. */
  get binding(): Mip6Binding | undefined {
    return this.#binding;
  }

  /** The Sequence Number of the last BU sent (or the initial one), 0 to 65535. */
  get sequence(): number {
    return this.#sequence;
  }

  /**
   * Binds the home address to `coas` with one Binding Update (several: bulk
   * registration with one Binding Identifier per CoA, RFC 5648), sent from the
   * first CoA or, with `options.tunnel`, from the tunnel's nCoA, and retransmitted
   * until the home agent acknowledges it (RFC 6275 section 11.8). Calls are
   * serialised.
   *
   * @param coas at least one care-of address, preferred first
   * @param options lifetime (rounded down to 4 s units, at least 4 s), the PHT, abort signal
   * @returns the addresses bound (those whose Binding ID was accepted) and the lifetime granted
   * @throws {PortError} `protocol` for an empty list or a bad address, `rejected` for
   *   a BA status of 128 or more (named in the message), `timeout`, `unreachable`
   *   when the socket cannot be opened or the send fails, `aborted`
   */
  bind(coas: readonly string[], options: BindOptions = {}): Promise<BindingResult> {
    return this.#serial(() => this.#bind(coas, options));
  }

  /**
   * Removes every binding of the home address (a BU with lifetime 0 and no Binding ID,
   * RFC 6275 section 11.7.1), from the address the last BU went out from.
   *
   * @param options abort signal
   * @returns when the home agent acknowledged
   * @throws {PortError} `not-found` when nothing was bound through this client,
   *   `rejected`, `timeout`, `unreachable`, `aborted`
   */
  deregister(options: PortCallOptions = {}): Promise<void> {
    return this.#serial(async () => {
      const source = this.#lastSource;
      if (source === undefined) {
        throw new PortError(_PORT, "not-found", "Cannot deregister: no binding update sent yet");
      }
      await this.#exchangeWith(source, [], 0, options.signal);
      this.#binding = undefined;
    });
  }

  /**
   * Closes the sockets; a `bind` in progress fails with `aborted`.
   *
   * @returns when closed
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#exchange?.wake?.();
    this.#key.fill(0);
    const sockets = [...this.#sockets.values()];
    this.#sockets.clear();
    await Promise.all(sockets.map(async (s) => {
      try {
        await (await s).close();
      } catch {
        // never opened
      }
    }));
  }

  /** Same as {@linkcode Mip6Mobility.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => {});
    return next;
  }

  async #bind(coas: readonly string[], options: BindOptions): Promise<BindingResult> {
    if (coas.length === 0) {
      throw new PortError(_PORT, "protocol", "Cannot bind: no care-of address given");
    }
    let canonical: string[];
    let source: string;
    try {
      canonical = coas.map(_canonical);
      source = _canonical(options.tunnel?.endpoints.nCoA ?? canonical[0]!);
    } catch (error) {
      throw new PortError(_PORT, "protocol", `Cannot bind: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const lifetimeMs = options.lifetimeMs ?? this.#lifetimeMs;
    const lifetimeS = Math.min(
      MH_MAX_LIFETIME_SECONDS,
      Math.max(MH_LIFETIME_UNIT_SECONDS, Math.floor(lifetimeMs / 1000)),
    );
    const ack = await this.#exchangeWith(source, canonical, lifetimeS, options.signal);
    let bound: string[];
    if (canonical.length > 1) {
      const status = new Map<number, number>();
      for (const o of findMobilityOptions(ack, "bindingIdentifier")) status.set(o.bid, o.status);
      bound = canonical.filter((coa) =>
        isBindingAccepted(status.get(this.#bids.get(coa)!) ?? ack.status)
      );
    } else {
      bound = canonical;
    }
    const result = { bound, lifetimeMs: ack.lifetime * 1000 };
    const at = this.#now();
    this.#binding = { ...result, at, expiresAt: at + result.lifetimeMs };
    _logger.info("Bound {home} to {bound} for {lifetime} s (sequence {sequence})", {
      home: this.#home,
      bound,
      lifetime: ack.lifetime,
      sequence: ack.sequence,
    });
    return result;
  }

  /** Options of the BU: the care-of addresses as RFC 5648 / RFC 6275 want them. */
  #coaOptions(source: string, coas: readonly string[]): MobilityOption[] {
    if (coas.length === 0) return []; // deregistration: no Binding ID, removes all
    if (coas.length === 1) {
      const coa = coas[0]!;
      return coa === source ? [] : [{ kind: "alternateCareOfAddress", address: _mapped(coa) }];
    }
    return coas.map((coa) => {
      let bid = this.#bids.get(coa);
      if (bid === undefined) {
        bid = this.#bids.size + 1;
        this.#bids.set(coa, bid);
      }
      return {
        kind: "bindingIdentifier",
        bid,
        status: 0,
        simultaneousHome: false,
        overwrite: true,
        careOfAddress: coa,
      };
    });
  }

  /** Sends BUs until an acceptable BA arrives; returns it. */
  async #exchangeWith(
    source: string,
    coas: readonly string[],
    lifetimeS: number,
    signal: AbortSignal | undefined,
  ): Promise<BindingAck> {
    if (this.#closed) throw new PortError(_PORT, "aborted", "Cannot bind: the client is closed");
    if (signal?.aborted) throw new PortError(_PORT, "aborted", "Binding update aborted");
    const socket = await this.#socket(source);
    const options = this.#coaOptions(source, coas);
    const exchange: _Exchange = {
      localAddress: source,
      sent: new Set(),
      queue: [],
      wake: undefined,
    };
    this.#exchange = exchange;
    this.#lastSource = source;
    try {
      let timeoutMs = this.#initialTimeoutMs;
      let resynced = false;
      let retransmission = false;
      for (;;) {
        const sequence = (this.#sequence + 1) & 0xffff;
        this.#sequence = sequence;
        exchange.sent.add(sequence);
        const mh = await signMobilityHeader(
          this.#key,
          {
            kind: "bindingUpdate",
            sequence,
            flags: bindingUpdateFlags({ ack: true, home: this.#homeRegistration }),
            lifetime: lifetimeS,
            options,
          },
          { careOf: source, peer: this.#ha.address },
          { checksum: { source: this.#home, destination: this.#ha.address } },
        );
        const datagram = _wrapMobilityHeader(mh, this.#home, this.#ha.address);
        try {
          await socket.send(datagram, this.#ha.address, this.#ha.port);
        } catch (error) {
          throw new PortError(
            _PORT,
            "unreachable",
            `Cannot send the Binding Update: ${(error as Error).message}`,
            { cause: error },
          );
        }
        this.#counters.updatesSent++;
        if (retransmission) this.#counters.retransmissions++;
        retransmission = true;
        const ack = await this.#wait(exchange, timeoutMs, signal);
        if (ack === undefined) {
          if (timeoutMs >= this.#maxTimeoutMs) {
            throw new PortError(
              _PORT,
              "timeout",
              `No Binding Acknowledgement from ${this.#ha.address}:${this.#ha.port}: ${exchange.sent.size} Binding Updates sent`,
            );
          }
          timeoutMs = Math.min(2 * timeoutMs, this.#maxTimeoutMs);
          continue;
        }
        if (ack.status === BindingAckStatus.SequenceNumberOutOfWindow && !resynced) {
          // RFC 6275 section 11.7.3: continue from the number the home agent accepted last.
          resynced = true;
          this.#counters.resyncs++;
          _logger.info("Sequence Number out of window: resynchronising from {sequence}", {
            sequence: ack.sequence,
          });
          this.#sequence = ack.sequence;
          timeoutMs = this.#initialTimeoutMs;
          retransmission = false;
          continue;
        }
        if (!isBindingAccepted(ack.status)) {
          throw new PortError(
            _PORT,
            "rejected",
            `Binding Update rejected by ${this.#ha.address}: status ${_statusName(ack.status)}`,
          );
        }
        return ack;
      }
    } finally {
      if (this.#exchange === exchange) this.#exchange = undefined;
    }
  }

  /** The next BA of the exchange, or undefined after `timeoutMs`. */
  #wait(
    exchange: _Exchange,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<BindingAck | undefined> {
    return new Promise<BindingAck | undefined>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        exchange.wake = undefined;
      };
      const onAbort = () => {
        done();
        reject(new PortError(_PORT, "aborted", "Binding update aborted"));
      };
      const timer = setTimeout(() => {
        done();
        resolve(undefined);
      }, timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      exchange.wake = () => {
        if (this.#closed) {
          done();
          reject(new PortError(_PORT, "aborted", "Binding update aborted: the client closed"));
          return;
        }
        const ack = exchange.queue.shift();
        if (ack === undefined) return;
        done();
        resolve(ack);
      };
      if (exchange.queue.length > 0 || this.#closed) exchange.wake();
    });
  }

  #socket(localAddress: string): Promise<Mip6Socket> {
    let socket = this.#sockets.get(localAddress);
    if (socket === undefined) {
      socket = this.#transport(localAddress, (bytes, from) => {
        this.#onDatagram(localAddress, bytes, from).catch((error) => {
          _logger.warn("Dropped a datagram: {error}", { error: String(error) });
        });
      });
      this.#sockets.set(localAddress, socket);
      socket.catch(() => this.#sockets.delete(localAddress));
    }
    return socket.catch((error) => {
      throw new PortError(
        _PORT,
        "unreachable",
        `Cannot open a socket on ${localAddress}: ${(error as Error).message}`,
        { cause: error },
      );
    });
  }

  async #onDatagram(localAddress: string, bytes: Uint8Array, from: _Peer): Promise<void> {
    let ack: BindingAck;
    let mh: Uint8Array;
    try {
      const packet = _unwrapMobilityHeader(bytes);
      mh = packet.mh;
      const msg = decodeMobilityHeader(mh, {
        checksum: { source: packet.source, destination: packet.destination },
      });
      if (msg.kind !== "bindingAck") throw new Error(`Unexpected ${msg.kind}`);
      if (packet.destination !== this.#home) {
        throw new Error(`Binding Acknowledgement for ${packet.destination}`);
      }
      ack = msg;
    } catch (error) {
      this.#counters.malformed++;
      _logger.debug("Dropped a datagram from {from}: {error}", {
        from: from.address,
        error: (error as Error).message,
      });
      return;
    }
    const authentic = await verifyMobilityHeader(this.#key, mh, {
      careOf: localAddress,
      peer: this.#ha.address,
    });
    if (!authentic) {
      this.#counters.forgedAcks++;
      _logger.warn(
        "Dropped a Binding Acknowledgement from {from}: bad Binding Authorization Data",
        {
          from: from.address,
        },
      );
      return;
    }
    this.#counters.acksReceived++;
    const exchange = this.#exchange;
    if (
      exchange === undefined || exchange.localAddress !== localAddress ||
      (!exchange.sent.has(ack.sequence) &&
        ack.status !== BindingAckStatus.SequenceNumberOutOfWindow)
    ) {
      this.#counters.unexpected++;
      return;
    }
    exchange.queue.push(ack);
    exchange.wake?.();
  }
}
