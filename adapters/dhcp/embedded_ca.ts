/**
 * An embedded configuration agent (CA) for the loopback demo: a small DHCPv4 server
 * (RFC 2131) on a chosen address and port, no root needed, that answers the unicast
 * proactive DHCP of RFC 6252 section 7.3.3 in both of its forms — the MN as its own
 * relay (`giaddr` = the MN's current address, oCoA) and the MN with `ciaddr` = oCoA
 * plus option 118 (RFC 3011) naming the CTN subnet — and hands addresses only to
 * pre-authenticated MNs: an `isAllowed(source, msg)` admission check (the in-process
 * counterpart of {@link NftGate}) and, when `keys` is given, a required option 90
 * (RFC 3118, under the MN-CA key of the MPA-SA, see `lib/keys/dhcp_auth.ts`).
 *
 * **Departure from the design (ARCHITECTURE.md names npm:dhcp's server).** npm
 * `dhcp@0.2.20` (infusion/node-dhcp) was evaluated and cannot serve section 7.3.3:
 * its `Server` drops the datagram's source (`sock.on('message', buf => ...)` never
 * reads `rinfo`), so no per-source admission is possible; it sends every reply to
 * its configured broadcast address at the fixed client port 68 (`_send(broadcast,
 * ...)`, `CLIENT_PORT`), ignoring `giaddr`, `ciaddr` and the request's source port,
 * so a reply never reaches a relayed MN (port 67) or an MN without root (ephemeral
 * port); it ignores option 118 and option 90, keys leases by `chaddr` (not the client
 * identifier that section 7.3.3 requires to stay the same before and after the
 * move), handles only DISCOVER and REQUEST (no INFORM, RELEASE, rapid commit, and
 * ACKs any REQUEST: no NAK), and emits parse failures as `error` events that crash a
 * process without a listener. This server is instead built on the project's own codec
 * (`lib/wire/dhcp.ts`).
 *
 * Replies go, RFC 2131 section 4.1 adapted to unicast-only operation: to `giaddr` when
 * set (at the request's source port when the request came from `giaddr` itself, the
 * MN-as-relay case, else port 67), else to `ciaddr` (at the source port when the
 * request came from `ciaddr`, else 68), else back to the request's source. The
 * broadcast flag is not honoured: the CA has no link to broadcast on.
 *
 * Leases live in memory, keyed by client identifier (option 61; `chaddr` when absent):
 * the same client id gets the same address back while it is not given to another
 * client (section 7.3.3). Expiry follows the injected clock. Bad input never throws:
 * it is counted and logged.
 *
 * @module
 */
import { createSocket, type Socket } from "node:dgram";
import { isIP } from "node:net";
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import {
  decodeDhcp,
  type DhcpMessage,
  dhcpMessage,
  type DhcpOptions,
  encodeDhcp,
} from "../../lib/wire/dhcp.ts";
import {
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  DhcpMessageType,
  DhcpOp,
} from "../../lib/wire/dhcp_constants.ts";
import { signDhcp, verifyDhcp } from "../../lib/keys/dhcp_auth.ts";

/** Options of {@link EmbeddedCa.listen}. */
export interface EmbeddedCaOptions {
  /** The address to bind, e.g. `127.0.0.1`. */
  readonly address: string;
  /** The UDP port; default 67 (needs root), 0 for an ephemeral one. */
  readonly port?: number;
  /** The CTN subnet served, CIDR, e.g. `10.0.2.0/24`. */
  readonly subnet: string;
  /** The pool, first and last address inclusive, inside `subnet`. */
  readonly range: readonly [string, string];
  /** Option 3, the CTN's default router. */
  readonly router?: string;
  /** Option 6, DNS servers. */
  readonly dns?: readonly string[];
  /** Option 54, the server identifier; default `address` (the first host of `subnet` when `address` is 0.0.0.0). */
  readonly serverId?: string;
  /** Option 51, lease time, s; default 600. */
  readonly leaseTimeS?: number;
  /** Answer a DISCOVER carrying option 80 with an ACK (RFC 4039); default true. */
  readonly rapidCommit?: boolean;
  /** How long an offered address stays reserved for the client, ms; default 30000. */
  readonly offerHoldMs?: number;
  /**
   * Admission check (RFC 6252 section 7.3.3): false drops the message unanswered.
   * Default: everyone is admitted.
   */
  readonly isAllowed?: (source: string, msg: DhcpMessage) => boolean;
  /**
   * The MN-CA key of an MPA-SA by PANA session id. When given, every message must
   * carry a valid option 90 whose secret id names a known key, with a counter above
   * the last one accepted for that session; replies are signed with the same key.
   */
  readonly keys?: (sessionId: number) => CryptoKey | undefined;
  /** The clock, epoch ms; default `Date.now`. */
  readonly now?: () => number;
}

/** Counters of an {@link EmbeddedCa}. */
export interface EmbeddedCaStats {
  /** Datagrams received. */
  readonly received: number;
  /** DHCPOFFERs sent. */
  readonly offers: number;
  /** DHCPACKs sent (including rapid commit, renewals and INFORM answers). */
  readonly acks: number;
  /** DHCPNAKs sent. */
  readonly naks: number;
  /** DHCPRELEASEs honoured. */
  readonly releases: number;
  /** Messages dropped by the admission check. */
  readonly droppedGated: number;
  /** Messages dropped for a missing, unknown, wrong or replayed option 90. */
  readonly droppedBadAuth: number;
  /** Datagrams that do not decode as a DHCP request. */
  readonly malformed: number;
  /** Well-formed messages left unanswered (another subnet or server, pool exhausted). */
  readonly ignored: number;
}

/** One lease held by an {@link EmbeddedCa}. */
export interface EmbeddedCaLease {
  /** The client identifier (option 61 data, or `chaddr`), hex. */
  readonly clientId: string;
  /** The leased address. */
  readonly address: string;
  /** `offered` (reserved until `expiresAt`) or `bound`. */
  readonly state: "offered" | "bound";
  /** When it expires, epoch ms. */
  readonly expiresAt: number;
}

interface _Lease {
  clientId: string;
  address: string;
  state: "offered" | "bound";
  expiresAt: number;
}

type _Stats = { -readonly [K in keyof EmbeddedCaStats]: EmbeddedCaStats[K] };

const log = getLogger(["mpa", "dhcp", "ca"]);

const _toInt = (address: string): number =>
  address.split(".").reduce((n, part) => n * 256 + Number(part), 0);
const _toText = (n: number): string =>
  [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
const _hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/**
 * An embedded DHCPv4 configuration agent for RFC 6252 section 7.3.3 (see the module
 * documentation for why it is not npm:dhcp).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * await using ca = await EmbeddedCa.listen({
 *   address: "127.0.0.1",
 *   port: 0,
 *   subnet: "10.0.2.0/24",
 *   range: ["10.0.2.100", "10.0.2.199"],
 *   router: "10.0.2.1",
 * });
 * assertEquals(ca.local.address, "127.0.0.1");
 * assertEquals(ca.stats.offers, 0);
 * ```
 */
export class EmbeddedCa implements AsyncDisposable {
  readonly #socket: Socket;
  readonly #network: number;
  readonly #prefixLength: number;
  readonly #first: number;
  readonly #last: number;
  readonly #serverId: string;
  readonly #options: EmbeddedCaOptions;
  readonly #now: () => number;
  readonly #leaseTimeS: number;
  readonly #byClient = new Map<string, _Lease>();
  readonly #byAddress = new Map<number, _Lease>();
  readonly #lastCounter = new Map<number, bigint>();
  readonly #replyCounter = new Map<number, bigint>();
  readonly #stats: _Stats = {
    received: 0,
    offers: 0,
    acks: 0,
    naks: 0,
    releases: 0,
    droppedGated: 0,
    droppedBadAuth: 0,
    malformed: 0,
    ignored: 0,
  };
  #pending = Promise.resolve();
  #closed = false;

  private constructor(socket: Socket, options: EmbeddedCaOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#leaseTimeS = options.leaseTimeS ?? 600;
    const [net, len] = options.subnet.split("/");
    this.#prefixLength = Number(len);
    const mask = this.#prefixLength === 0 ? 0 : (0xffffffff << (32 - this.#prefixLength)) >>> 0;
    this.#network = (_toInt(net!) & mask) >>> 0;
    this.#first = _toInt(options.range[0]);
    this.#last = _toInt(options.range[1]);
    this.#serverId = options.serverId ??
      (options.address === "0.0.0.0" ? _toText(this.#network + 1) : options.address);
  }

  /**
   * Binds the UDP socket and starts serving.
   *
   * @param options address, port, subnet, pool, options handed out, admission, keys
   * @returns the running CA
   * @throws {TypeError} for a bad address, subnet or range (range outside the subnet)
   * @throws the bind error (EADDRINUSE, EACCES for port 67 without root)
   */
  static async listen(options: EmbeddedCaOptions): Promise<EmbeddedCa> {
    _validate(options);
    const socket = createSocket({ type: "udp4" });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => {
        try {
          socket.close();
        } catch {
          // never bound
        }
        reject(error);
      };
      socket.once("error", onError);
      socket.bind({ address: options.address, port: options.port ?? DHCP_SERVER_PORT }, () => {
        socket.off("error", onError);
        resolve();
      });
    });
    const ca = new EmbeddedCa(socket, options);
    socket.on("message", (bytes: Uint8Array, rinfo: { address: string; port: number }) => {
      // One message at a time: the lease table is not shared with concurrent awaits.
      ca.#pending = ca.#pending
        .then(() => ca.#receive(new Uint8Array(bytes), rinfo.address, rinfo.port))
        .catch((error: unknown) => {
          ca.#stats.malformed++;
          log.warn("Dropped a datagram from {source}: {error}", {
            source: rinfo.address,
            error: String(error),
          });
        });
    });
    socket.on(
      "error",
      (error: Error) => log.warn("Socket error: {error}", { error: error.message }),
    );
    log.info("Serving {subnet} on {address}:{port}", {
      subnet: options.subnet,
      ...ca.local,
    });
    return ca;
  }

  /** The bound address and port. */
  get local(): { readonly address: string; readonly port: number } {
    const { address, port } = this.#socket.address();
    return { address, port };
  }

  /** A snapshot of the counters. */
  get stats(): EmbeddedCaStats {
    return { ...this.#stats };
  }

  /** The server identifier (option 54) this CA sends. */
  get serverId(): string {
    return this.#serverId;
  }

  /**
   * The unexpired leases and offers.
   *
   * @returns a snapshot, by address
   */
  leases(): readonly EmbeddedCaLease[] {
    const now = this.#now();
    return [...this.#byAddress.values()]
      .filter((l) => l.expiresAt > now)
      .sort((a, b) => _toInt(a.address) - _toInt(b.address))
      .map((l) => ({ ...l }));
  }

  /**
   * Stops serving and closes the socket. Idempotent.
   *
   * @returns when closed
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await new Promise<void>((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
    await this.#pending;
  }

  /** Same as {@link EmbeddedCa.close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #receive(bytes: Uint8Array, source: string, sourcePort: number): Promise<void> {
    this.#stats.received++;
    let msg: DhcpMessage;
    try {
      msg = decodeDhcp(bytes);
    } catch (error) {
      this.#drop("malformed", source, error instanceof Error ? error.message : String(error));
      return;
    }
    const type = msg.options.messageType;
    if (msg.op !== DhcpOp.BootRequest || type === undefined) {
      this.#drop("malformed", source, "Not a DHCP request");
      return;
    }
    let allowed = true;
    try {
      allowed = this.#options.isAllowed?.(source, msg) ?? true;
    } catch (error) {
      allowed = false;
      log.warn("Admission check failed for {source}: {error}", { source, error: String(error) });
    }
    if (!allowed) {
      this.#drop("droppedGated", source, "Not pre-authenticated");
      return;
    }
    let key: { key: CryptoKey; sessionId: number } | undefined;
    if (this.#options.keys !== undefined) {
      key = await this.#authenticate(bytes, msg, source);
      if (key === undefined) return;
    }
    const selection = msg.options.subnetSelection;
    if (selection !== undefined && !this.#inSubnet(_toInt(selection))) {
      this.#drop("ignored", source, `Another subnet: ${selection}`);
      return;
    }
    const reply = this.#answer(msg, type);
    if (reply === undefined) return;
    const to = this.#destination(msg, source, sourcePort);
    const out = key === undefined
      ? encodeDhcp(reply)
      : await signDhcp(reply, key.key, key.sessionId, this.#nextReplyCounter(key.sessionId));
    if (this.#closed) return;
    this.#socket.send(out, to.port, to.address, (error) => {
      if (error !== null && error !== undefined) {
        log.warn("Cannot send to {address}:{port}: {error}", { ...to, error: error.message });
      }
    });
  }

  async #authenticate(
    bytes: Uint8Array,
    msg: DhcpMessage,
    source: string,
  ): Promise<{ key: CryptoKey; sessionId: number } | undefined> {
    const info = msg.options.auth?.info;
    if (info === undefined || info.length < 4) {
      this.#drop("droppedBadAuth", source, "No option 90");
      return undefined;
    }
    const sessionId = new DataView(info.buffer, info.byteOffset, 4).getUint32(0);
    const key = this.#options.keys!(sessionId);
    if (key === undefined) {
      this.#drop("droppedBadAuth", source, `Unknown session ${sessionId}`);
      return undefined;
    }
    try {
      const last = this.#lastCounter.get(sessionId);
      const result = await verifyDhcp(bytes, key, last === undefined ? {} : { after: last });
      this.#lastCounter.set(sessionId, result.counter);
    } catch (error) {
      this.#drop("droppedBadAuth", source, error instanceof Error ? error.message : String(error));
      return undefined;
    }
    return { key, sessionId };
  }

  #nextReplyCounter(sessionId: number): bigint {
    const next = (this.#replyCounter.get(sessionId) ?? 0n) + 1n;
    this.#replyCounter.set(sessionId, next);
    return next;
  }

  #drop(counter: keyof _Stats, source: string, reason: string): void {
    this.#stats[counter]++;
    log.debug("Dropped a message from {source} ({counter}): {reason}", {
      source,
      counter,
      reason,
    });
  }

  #destination(msg: DhcpMessage, source: string, sourcePort: number) {
    if (msg.giaddr !== "0.0.0.0") {
      return { address: msg.giaddr, port: msg.giaddr === source ? sourcePort : DHCP_SERVER_PORT };
    }
    if (msg.ciaddr !== "0.0.0.0") {
      return { address: msg.ciaddr, port: msg.ciaddr === source ? sourcePort : DHCP_CLIENT_PORT };
    }
    return { address: source, port: sourcePort };
  }

  #inSubnet(address: number): boolean {
    const mask = this.#prefixLength === 0 ? 0 : (0xffffffff << (32 - this.#prefixLength)) >>> 0;
    return ((address & mask) >>> 0) === this.#network;
  }

  #clientKey(msg: DhcpMessage): string {
    return msg.options.clientId !== undefined
      ? _hex(msg.options.clientId)
      : `hw:${_hex(msg.chaddr)}`;
  }

  #answer(msg: DhcpMessage, type: number): DhcpMessage | undefined {
    const client = this.#clientKey(msg);
    switch (type) {
      case DhcpMessageType.Discover:
        return this.#discover(msg, client);
      case DhcpMessageType.Request:
        return this.#request(msg, client);
      case DhcpMessageType.Inform:
        this.#stats.acks++;
        return this.#reply(msg, DhcpMessageType.Ack, "0.0.0.0", { lease: false });
      case DhcpMessageType.Release:
        this.#release(msg, client);
        return undefined;
      case DhcpMessageType.Decline:
        this.#decline(msg, client);
        return undefined;
      default:
        this.#stats.ignored++;
        return undefined;
    }
  }

  #discover(msg: DhcpMessage, client: string): DhcpMessage | undefined {
    const now = this.#now();
    const address = this.#pick(client, msg.options.requestedAddress, now);
    if (address === undefined) {
      this.#stats.ignored++;
      log.warn("Pool exhausted: no address for {client}", { client });
      return undefined;
    }
    if (msg.options.rapidCommit === true && this.#options.rapidCommit !== false) {
      this.#bind(client, address, "bound", now + this.#leaseTimeS * 1000);
      this.#stats.acks++;
      return this.#reply(msg, DhcpMessageType.Ack, _toText(address), { rapidCommit: true });
    }
    this.#bind(client, address, "offered", now + (this.#options.offerHoldMs ?? 30_000));
    this.#stats.offers++;
    return this.#reply(msg, DhcpMessageType.Offer, _toText(address));
  }

  #request(msg: DhcpMessage, client: string): DhcpMessage | undefined {
    const now = this.#now();
    const lease = this.#byClient.get(client);
    const serverId = msg.options.serverId;
    const requested = msg.options.requestedAddress;
    if (serverId !== undefined && serverId !== this.#serverId) {
      // SELECTING another server's offer (RFC 2131 section 4.3.2): free ours.
      if (lease?.state === "offered") this.#unbind(lease);
      this.#stats.ignored++;
      return undefined;
    }
    // SELECTING or INIT-REBOOT name the address in option 50; RENEWING/REBINDING in
    // ciaddr, or (from the old network, section 7.3.3) by client id alone.
    let wanted: number | undefined;
    if (requested !== undefined) wanted = _toInt(requested);
    else if (msg.ciaddr !== "0.0.0.0" && this.#inSubnet(_toInt(msg.ciaddr))) {
      wanted = _toInt(msg.ciaddr);
    } else if (lease !== undefined) wanted = _toInt(lease.address);
    const owner = wanted === undefined ? undefined : this.#byAddress.get(wanted);
    const ours = lease !== undefined && wanted !== undefined && _toInt(lease.address) === wanted;
    const free = wanted !== undefined && this.#inPool(wanted) &&
      (owner === undefined || owner.expiresAt <= now || owner.clientId === client);
    const renewable = ours && (lease!.expiresAt > now || free);
    // INIT-REBOOT (option 50, no server id, ciaddr 0) may also take a free address of
    // the pool (a lease this in-memory CA forgot); RENEWING must name the client's own.
    const initReboot = serverId === undefined && requested !== undefined &&
      msg.ciaddr === "0.0.0.0";
    if (wanted === undefined || !(renewable || (initReboot && free))) {
      this.#stats.naks++;
      return this.#nak(msg, wanted === undefined ? "No lease" : "Wrong address");
    }
    this.#bind(client, wanted, "bound", now + this.#leaseTimeS * 1000);
    this.#stats.acks++;
    return this.#reply(msg, DhcpMessageType.Ack, _toText(wanted));
  }

  #release(msg: DhcpMessage, client: string): void {
    const lease = this.#byClient.get(client);
    if (
      lease === undefined ||
      (msg.options.serverId !== undefined && msg.options.serverId !== this.#serverId) ||
      (msg.ciaddr !== "0.0.0.0" && msg.ciaddr !== lease.address)
    ) {
      this.#stats.ignored++;
      return;
    }
    // RFC 2131 section 3.1 step 6: the address is free again; the client id is
    // forgotten too, since it gave the address back.
    this.#unbind(lease);
    this.#stats.releases++;
  }

  #decline(msg: DhcpMessage, client: string): void {
    const lease = this.#byClient.get(client);
    const address = msg.options.requestedAddress;
    if (lease === undefined || address === undefined || address !== lease.address) {
      this.#stats.ignored++;
      return;
    }
    // RFC 2131 section 4.3.3: mark the address as in use by someone else.
    this.#unbind(lease);
    const taken: _Lease = {
      clientId: "declined",
      address,
      state: "bound",
      expiresAt: this.#now() + this.#leaseTimeS * 1000,
    };
    this.#byAddress.set(_toInt(address), taken);
  }

  #inPool(address: number): boolean {
    return address >= this.#first && address <= this.#last;
  }

  #pick(client: string, requested: string | undefined, now: number): number | undefined {
    const usable = (a: number) => {
      const owner = this.#byAddress.get(a);
      return owner === undefined || owner.clientId === client || owner.expiresAt <= now;
    };
    const previous = this.#byClient.get(client);
    if (previous !== undefined && usable(_toInt(previous.address))) {
      return _toInt(previous.address);
    }
    if (requested !== undefined) {
      const r = _toInt(requested);
      if (this.#inPool(r) && usable(r)) return r;
    }
    // Never-used addresses first, so that an expired lease keeps its address for its
    // client as long as possible.
    for (let a = this.#first; a <= this.#last; a++) if (!this.#byAddress.has(a)) return a;
    for (let a = this.#first; a <= this.#last; a++) if (usable(a)) return a;
    return undefined;
  }

  #bind(client: string, address: number, state: "offered" | "bound", expiresAt: number): void {
    const previous = this.#byClient.get(client);
    if (previous !== undefined) this.#unbind(previous);
    const owner = this.#byAddress.get(address);
    if (owner !== undefined) this.#unbind(owner);
    const lease: _Lease = { clientId: client, address: _toText(address), state, expiresAt };
    this.#byClient.set(client, lease);
    this.#byAddress.set(address, lease);
  }

  #unbind(lease: _Lease): void {
    if (this.#byClient.get(lease.clientId) === lease) this.#byClient.delete(lease.clientId);
    const a = _toInt(lease.address);
    if (this.#byAddress.get(a) === lease) this.#byAddress.delete(a);
  }

  #reply(
    msg: DhcpMessage,
    type: number,
    yiaddr: string,
    flags: { lease?: boolean; rapidCommit?: boolean } = {},
  ): DhcpMessage {
    const lease = flags.lease !== false;
    const options: DhcpOptions = {
      messageType: type,
      serverId: this.#serverId,
      ...(lease
        ? {
          leaseTime: this.#leaseTimeS,
          renewalTime: Math.floor(this.#leaseTimeS / 2),
          rebindingTime: Math.floor((this.#leaseTimeS * 7) / 8),
        }
        : {}),
      subnetMask: _toText(
        this.#prefixLength === 0 ? 0 : (0xffffffff << (32 - this.#prefixLength)) >>> 0,
      ),
      ...(this.#options.router !== undefined ? { routers: [this.#options.router] } : {}),
      ...(this.#options.dns !== undefined && this.#options.dns.length > 0
        ? { dns: this.#options.dns }
        : {}),
      ...(msg.options.clientId !== undefined ? { clientId: msg.options.clientId } : {}),
      ...(flags.rapidCommit === true ? { rapidCommit: true } : {}),
      // RFC 3011 section 3: echo option 118; RFC 3046 section 2.2: echo option 82.
      ...(msg.options.subnetSelection !== undefined
        ? { subnetSelection: msg.options.subnetSelection }
        : {}),
      ...(msg.options.relayAgentInfo !== undefined
        ? { relayAgentInfo: msg.options.relayAgentInfo }
        : {}),
    };
    const ack = type === DhcpMessageType.Ack;
    return dhcpMessage({
      op: DhcpOp.BootReply,
      htype: msg.htype,
      hlen: msg.hlen,
      xid: msg.xid,
      flags: msg.flags,
      // RFC 2131 table 3: ciaddr is echoed in an ACK, 0 in an OFFER.
      ciaddr: ack ? msg.ciaddr : "0.0.0.0",
      yiaddr,
      giaddr: msg.giaddr,
      chaddr: msg.chaddr,
      options,
    });
  }

  #nak(msg: DhcpMessage, reason: string): DhcpMessage {
    return dhcpMessage({
      op: DhcpOp.BootReply,
      htype: msg.htype,
      hlen: msg.hlen,
      xid: msg.xid,
      flags: msg.flags,
      giaddr: msg.giaddr,
      chaddr: msg.chaddr,
      options: {
        messageType: DhcpMessageType.Nak,
        serverId: this.#serverId,
        message: reason,
        ...(msg.options.clientId !== undefined ? { clientId: msg.options.clientId } : {}),
        ...(msg.options.subnetSelection !== undefined
          ? { subnetSelection: msg.options.subnetSelection }
          : {}),
      },
    });
  }
}

function _validate(options: EmbeddedCaOptions): void {
  if (isIP(options.address) !== 4) throw new TypeError(`Invalid address: ${options.address}`);
  const match = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(options.subnet);
  if (match === null || isIP(match[1]!) !== 4 || Number(match[2]) > 30) {
    throw new TypeError(`Invalid subnet: ${options.subnet}`);
  }
  const len = Number(match[2]);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  const net = (_toInt(match[1]!) & mask) >>> 0;
  const [first, last] = options.range;
  for (const a of [first, last]) {
    if (isIP(a) !== 4 || ((_toInt(a) & mask) >>> 0) !== net) {
      throw new TypeError(`Invalid range: ${a} is not in ${options.subnet}`);
    }
  }
  if (_toInt(first) > _toInt(last)) throw new TypeError(`Invalid range: ${first} after ${last}`);
  const lease = options.leaseTimeS ?? 600;
  if (!Number.isInteger(lease) || lease < 1 || lease > 0xfffffffe) {
    throw new TypeError(`Invalid lease time: ${lease}`);
  }
}
