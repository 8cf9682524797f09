/**
 * Ports: the interfaces through which the pure core asks the imperative shell for
 * I/O (ARCHITECTURE.md, "Ports"). Each port serves one step of the MPA framework of
 * RFC 6252: link metrics and discovery (section 7.1), pre-authentication (sections
 * 6.2, 6.3 step 1, 7.2), pre-configuration of an address (section 7.3) and of a
 * proactive handover tunnel (section 7.4), the proactive binding update (sections
 * 6.3 step 3, 7.5), the link switch (section 6.3 steps 5 and 6) and, on the
 * authentication agent, the MPA-SA store (section C.2).
 *
 * This file holds types and one error class only: no I/O. Times are milliseconds on
 * the clock of the scheduler given to the adapter (epoch milliseconds for the real
 * adapters, virtual time in tests). Key material is held as WebCrypto `CryptoKey`
 * objects (non-extractable where the adapter allows), never as bytes, so that no
 * value defined here can leak a key when it is logged or serialised to JSON.
 *
 * @module
 */
import type { Observable } from "npm:rxjs@^7.8.2";
import type { LinkSample, Position } from "./metrics/link_sample.ts";
import type { Cell, CtnProfile } from "./metrics/cell.ts";

// ---------------------------------------------------------------------------
// Failure
// ---------------------------------------------------------------------------

/** The name of a port, as carried by {@link PortError.port}. */
export type PortName =
  | "MetricsSource"
  | "Discovery"
  | "PreAuthenticator"
  | "Configurator"
  | "TunnelManager"
  | "MobilityProtocol"
  | "LinkControl"
  | "SaStore";

/**
 * Why a port call failed:
 *
 * - `timeout`: the peer did not answer in time (retransmissions exhausted);
 * - `rejected`: the peer answered and refused (authentication failure, DHCPNAK,
 *   binding refused, CA gate closed to an MN that is not pre-authenticated);
 * - `unreachable`: no route, port unreachable, PoA not heard, device missing;
 * - `protocol`: the peer answered with something the protocol forbids, or the
 *   request itself was malformed (empty CoA list, bad prefix length);
 * - `aborted`: the caller's `AbortSignal` fired (the planner dropped the phase,
 *   RFC 6252 section C.6);
 * - `not-found`: the call names a handle, lease or SA the port does not hold.
 */
export type PortErrorCode =
  | "timeout"
  | "rejected"
  | "unreachable"
  | "protocol"
  | "aborted"
  | "not-found";

/**
 * The one typed failure of every port: adapters reject their promises (or error
 * their observables) with it, so that the core can react by `code` without knowing
 * the protocol behind the port. The original error, if any, goes in `cause`.
 *
 * @example
 * ```ts
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 * const e = new PortError("PreAuthenticator", "rejected", "EAP failure: PSK mismatch");
 * assert(e instanceof Error && e.name === "PortError");
 * assert(e.port === "PreAuthenticator" && e.code === "rejected");
 * ```
 */
export class PortError extends Error {
  /** Always `PortError`. */
  override readonly name = "PortError";
  /** The port whose call failed. */
  readonly port: PortName;
  /** Why it failed. */
  readonly code: PortErrorCode;
  /**
   * Creates a port failure.
   *
   * @param port the port whose call failed
   * @param code why it failed
   * @param message human-readable reason: a capital first letter, no trailing
   *   period, detail after a colon
   * @param options `cause`: the underlying error, if any
   */
  constructor(
    port: PortName,
    code: PortErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.port = port;
    this.code = code;
  }
}

// ---------------------------------------------------------------------------
// Shared data types
// ---------------------------------------------------------------------------

/** Options every asynchronous port call accepts. */
export interface PortCallOptions {
  /**
   * Abandons the call: the adapter stops retransmitting, releases what it holds for
   * this call and rejects with a {@link PortError} of code `aborted`.
   */
  readonly signal?: AbortSignal;
}

/** A network service address: an IP address and, when not the protocol's own, a port. */
export interface ServiceAddress {
  /** IPv4 or IPv6 address, textual form (`192.0.2.1`, `2001:db8::1`). */
  readonly address: string;
  /**
   * UDP port; omitted means the protocol's well-known port (PANA 716, DHCP server
   * 67). The loopback demo runs several CTNs on one host and sets it.
   */
  readonly port?: number;
}

/**
 * What discovery tells about one candidate target network (CTN): the addresses of
 * its functional elements (RFC 6252 section 6.2) and its points of attachment
 * (section 7.1).
 */
export interface CtnInfo {
  /** Network id; equals {@link LinkSample.network} of the CTN's PoAs. */
  readonly network: string;
  /** Authentication agent (the PANA PAA) that pre-authenticates the MN. */
  readonly aa: ServiceAddress;
  /** Configuration agent (DHCP server or relay) that hands out the nCoA. */
  readonly ca: ServiceAddress;
  /** Access router: the far end of the proactive handover tunnel. */
  readonly ar: ServiceAddress;
  /** Ids of the CTN's points of attachment, as in {@link LinkSample.poa}. */
  readonly poas: readonly string[];
  /** Position and coverage of the PoAs, when known (lead-time geometry, section C.6). */
  readonly cells?: readonly Cell[];
  /** Subnet the CA serves, CIDR (`10.0.2.0/24`): DHCP option 118 (section 7.3.3). */
  readonly subnet?: string;
  /** Measured or configured phase timings towards this CTN (section C.6). */
  readonly profile?: CtnProfile;
}

/**
 * The WebCrypto keys derived from an MPA-SA (RFC 6252 section 6.3 step 1): the MN-CA
 * key protects the configuration protocol, the MN-AR key the tunnel management
 * protocol and the tunnelled packets.
 */
export interface MpaSaKeys {
  /** MN-CA key (protects DHCP / PANA-assisted configuration, section 7.3). */
  readonly mnCa: CryptoKey;
  /**
   * MN-AR key (protects the PHT and its management, section 7.4): an HKDF key
   * (usages `deriveKey`, `deriveBits`) from which the tunnel's management and data
   * keys are derived (`lib/keys/pht_keys.ts`).
   */
  readonly mnAr: CryptoKey;
}

/** Identifiers of the keys of an MPA-SA; safe to log (they name keys, they are not keys). */
export interface MpaSaKeyIds {
  /** PANA Key-Id of the MSK the SA derives from (RFC 5191 section 8.6). */
  readonly msk: number;
  /** Id of the MN-CA key, as the CA knows it. */
  readonly mnCa: string;
  /** Id of the MN-AR key, as the AR knows it. */
  readonly mnAr: string;
}

/**
 * An MPA security association between the mobile node and the authentication agent
 * of one CTN, created by pre-authentication (RFC 6252 sections 6.2, 6.3 step 1) and
 * time-bound (section 7.2).
 */
export interface MpaSa {
  /** Network id of the CTN whose AA holds the other end. */
  readonly ctn: string;
  /** The MN's identity as the AA knows it (EAP peer identity). */
  readonly mnId: string;
  /** PANA Session Identifier, a 32-bit unsigned integer (RFC 5191 section 6.2). */
  readonly sessionId: number;
  /** When the SA was established, ms. */
  readonly establishedAt: number;
  /** Session lifetime granted by the AA, ms (PANA Session-Lifetime AVP, in seconds on the wire). */
  readonly lifetimeMs: number;
  /** `establishedAt + lifetimeMs`, ms. */
  readonly expiresAt: number;
  /** Key identifiers, safe to log. */
  readonly keyIds: MpaSaKeyIds;
  /** Key handles; `CryptoKey` prints and serialises without its bytes. */
  readonly keys: MpaSaKeys;
}

/**
 * The authorization state of an MPA-SA held by an authentication agent (RFC 6252
 * section C.2): `unauthorized` after pre-authentication or after the MN left,
 * `authorized` once the MN is attached and proved possession of the SA's key.
 */
export type SaAuthorization = "unauthorized" | "authorized";

/** An MPA-SA as stored by the authentication agent. */
export interface SaRecord extends MpaSa {
  /** Whether the MN behind this SA is authorized for network access now. */
  readonly state: SaAuthorization;
}

/** How a {@link Lease} was obtained (RFC 6252 section 7.3). */
export type LeaseMethod =
  /** DHCPv4 by unicast from the oCoA, section 7.3.3. */
  | "dhcp-unicast"
  /** Address piggy-backed in PANA by the AA's DHCP client, section 7.3.1. */
  | "pana"
  /** IPv6 stateless autoconfiguration from an RA sent over the PHT, section 7.3.4. */
  | "ra";

/**
 * A proactively acquired configuration in a CTN (RFC 6252 section 7.3): the nCoA
 * that is the PHT's inner address and, after the switch, the physical interface's.
 */
export interface Lease {
  /** Network id of the CTN. */
  readonly ctn: string;
  /** The new care-of address. */
  readonly nCoA: string;
  /** Prefix length of the CTN subnet (24 for a 255.255.255.0 mask, 64 for SLAAC). */
  readonly prefixLength: number;
  /** Default router in the CTN, when given (DHCP option 3, the RA's source). */
  readonly router?: string;
  /** DNS servers (DHCP option 6, RDNSS); may be empty. */
  readonly dns: readonly string[];
  /** When the lease was obtained, ms. */
  readonly obtainedAt: number;
  /** Lease time, ms (DHCP option 51, valid lifetime of the prefix). */
  readonly lifetimeMs: number;
  /** `obtainedAt + lifetimeMs`, ms. */
  readonly expiresAt: number;
  /** DHCP server identifier (option 54), when DHCP was used. */
  readonly serverId?: string;
  /**
   * The DHCP client identifier used, hex; the lease is extended after the move with
   * the same one (section 7.3.3).
   */
  readonly clientId?: string;
  /** How it was obtained. */
  readonly method: LeaseMethod;
}

/** The addresses of a proactive handover tunnel (RFC 6252 sections 6.3 step 2, 7.4). */
export interface TunnelEndpoints {
  /** The MN's current care-of address: the tunnel's outer address at the MN. */
  readonly oCoA: string;
  /** The proactively acquired address: the tunnel's inner address. */
  readonly nCoA: string;
  /** The CTN's access router: the tunnel's far end. */
  readonly ar: ServiceAddress;
}

/** An open proactive handover tunnel, as returned by {@link TunnelManager.open}. */
export interface TunnelHandle {
  /** Opaque id, unique per tunnel manager. */
  readonly id: string;
  /** Network id of the CTN. */
  readonly ctn: string;
  /** The tunnel's addresses. */
  readonly endpoints: TunnelEndpoints;
  /** When the tunnel was established, ms. */
  readonly openedAt: number;
  /** When the AR deletes the tunnel unless refreshed, ms (time-bound, section 7.2). */
  readonly expiresAt: number;
}

/** Options of {@link MobilityProtocol.bind}. */
export interface BindOptions extends PortCallOptions {
  /** Requested binding lifetime, ms; the protocol's default when omitted. */
  readonly lifetimeMs?: number;
  /**
   * Send the binding update through this PHT (proactive binding update, RFC 6252
   * section 6.3 step 3, section 7.5); omitted after the switch.
   */
  readonly tunnel?: TunnelHandle;
}

/** The outcome of a binding update (RFC 6252 section 7.5). */
export interface BindingResult {
  /**
   * The care-of addresses the correspondent / home agent now sends to, in
   * preference order. A protocol without multiple care-of addresses binds only
   * the first one asked for (section 7.2, second solution).
   */
  readonly bound: readonly string[];
  /** Lifetime granted, ms. */
  readonly lifetimeMs: number;
}

// ---------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------

/**
 * Source of link measurements (RFC 6252 sections 7.1 and C.1: SNR, location and
 * velocity drive the handover decision). Real adapters: trace replay, mobility
 * simulator, /proc/net/wireless, gpsd.
 */
export interface MetricsSource {
  /**
   * The measurements, one {@link LinkSample} per PoA heard per instant, `t` never
   * decreasing. Cold: each subscription starts its own measurement. Errors with a
   * {@link PortError} when the source fails.
   *
   * @returns the stream of samples
   */
  samples(): Observable<LinkSample>;
}

/**
 * Discovery of candidate target networks and the addresses of their AA, CA and AR
 * (RFC 6252 section 7.1; e.g. an IEEE 802.21 information server queried by
 * location). Real adapters: static table, information server.
 */
export interface Discovery {
  /**
   * Lists the CTNs near a position.
   *
   * @param position where the MN is; omitted means "all CTNs known"
   * @param options abort signal
   * @returns the candidates, nearest or most likely first; may be empty
   */
  candidates(
    position?: Position,
    options?: PortCallOptions,
  ): Promise<readonly CtnInfo[]>;
}

/**
 * Pre-authentication with a CTN's authentication agent, establishing an MPA-SA from
 * which the MN-CA and MN-AR keys are derived (RFC 6252 sections 6.2, 6.3 step 1; with
 * several CTNs in parallel, section 7.2). Real adapter: PANA PaC with the
 * pre-authentication flag (RFC 5873) carrying EAP-PSK.
 */
export interface PreAuthenticator {
  /**
   * Pre-authenticates with the CTN's AA.
   *
   * @param ctn the candidate target network (its `aa` is contacted)
   * @param options abort signal
   * @returns the new MPA-SA
   * @throws {PortError} `rejected` on authentication failure, `timeout`,
   *   `unreachable`, `protocol`, `aborted`
   */
  preAuthenticate(ctn: CtnInfo, options?: PortCallOptions): Promise<MpaSa>;
}

/**
 * Proactive address acquisition from a CTN's configuration agent, protected with the
 * MN-CA key of the MPA-SA (RFC 6252 sections 6.3 step 2, 7.3). Real adapters: unicast
 * DHCPv4 from the oCoA (section 7.3.3), PANA-assisted (section 7.3.1), RA over the
 * PHT (section 7.3.4).
 */
export interface Configurator {
  /**
   * Acquires an nCoA and its parameters in the CTN while still in the current
   * network. The address is not assigned to any interface (section 7.3.3).
   *
   * @param ctn the candidate target network (its `ca` is contacted)
   * @param sa the MPA-SA with that CTN; its MN-CA key protects the exchange
   * @param options abort signal
   * @returns the lease
   * @throws {PortError} `rejected` (no or expired SA, no address), `timeout`,
   *   `unreachable`, `protocol`, `aborted`
   */
  acquire(ctn: CtnInfo, sa: MpaSa, options?: PortCallOptions): Promise<Lease>;
  /**
   * Extends a lease with the same client identifier, after the move (section
   * 7.3.3) or before it expires.
   *
   * @param lease the lease to extend
   * @param options abort signal
   * @returns the extended lease (same nCoA)
   * @throws {PortError} `not-found` for a lease this configurator did not grant or
   *   that was released; `rejected`, `timeout`, `unreachable`, `aborted`
   */
  renew(lease: Lease, options?: PortCallOptions): Promise<Lease>;
  /**
   * Gives a lease back: a CTN not chosen need not keep the address reserved
   * (section 7.2, section C.4).
   *
   * @param lease the lease to release
   * @param options abort signal
   * @returns when released
   * @throws {PortError} `not-found` for an unknown or already released lease
   */
  release(lease: Lease, options?: PortCallOptions): Promise<void>;
}

/**
 * Proactive handover tunnels between the MN (outer address oCoA, inner address nCoA)
 * and a CTN's access router, protected with the MN-AR key (RFC 6252 sections 6.3
 * steps 2, 4 and 6, 7.4). Real adapter: PHT frames over UDP sealed with AES-GCM, a
 * TUN device inside.
 */
export interface TunnelManager {
  /**
   * Establishes a PHT with the CTN's AR.
   *
   * @param ctn network id of the CTN
   * @param endpoints outer address, inner address and the AR
   * @param key the MN-AR key of the MPA-SA ({@link MpaSaKeys.mnAr})
   * @param options abort signal
   * @returns a handle to close it with
   * @throws {PortError} `rejected` (AR refuses the key), `timeout`,
   *   `unreachable`, `protocol`, `aborted`
   */
  open(
    ctn: string,
    endpoints: TunnelEndpoints,
    key: CryptoKey,
    options?: PortCallOptions,
  ): Promise<TunnelHandle>;
  /**
   * Deletes a PHT (before or after the switch, section 6.3 steps 4 and 6); the AR
   * buffers the MN's packets from then on.
   *
   * @param handle a handle from {@link TunnelManager.open}
   * @returns when deleted
   * @throws {PortError} `not-found` for a handle not open in this manager
   */
  close(handle: TunnelHandle): Promise<void>;
}

/**
 * The mobility management protocol's binding update to the correspondent node or
 * home agent (RFC 6252 sections 6.3 step 3, 7.5), with several care-of addresses at
 * once where the protocol allows (section 7.2, RFC 5648). Real adapters: SIP
 * re-INVITE / REGISTER, Mobile IPv6 BU with multiple CoAs.
 */
export interface MobilityProtocol {
  /** Whether {@link MobilityProtocol.bind} can bind more than one CoA at once (RFC 5648). */
  readonly multipleCoAs: boolean;
  /**
   * Binds the MN to the given care-of addresses, replacing the previous binding.
   *
   * @param coas at least one care-of address, preferred first
   * @param options lifetime, the PHT to send through, abort signal
   * @returns the addresses bound and the lifetime granted
   * @throws {PortError} `protocol` for an empty list, `rejected`, `timeout`,
   *   `unreachable`, `aborted`
   */
  bind(coas: readonly string[], options?: BindOptions): Promise<BindingResult>;
}

/**
 * Control of the MN's link: the layer-2 switch to the new PoA and the assignment of
 * the cached nCoA to the physical interface (RFC 6252 section 6.3 steps 5 and 6,
 * followed by gratuitous ARP / unsolicited NA, Appendix B). Real adapters: netns
 * veth (testbed), ip(8).
 */
export interface LinkControl {
  /**
   * Attaches to a point of attachment (link-layer handover).
   *
   * @param poa PoA id, as in {@link LinkSample.poa}
   * @param options abort signal
   * @returns when attached
   * @throws {PortError} `unreachable` (PoA not heard), `timeout`, `rejected`
   *   (association refused), `aborted`
   */
  switchTo(poa: string, options?: PortCallOptions): Promise<void>;
  /**
   * Assigns an address to the physical interface and announces it (gratuitous ARP
   * for IPv4, unsolicited Neighbor Advertisement for IPv6).
   *
   * @param address the address, usually the cached nCoA
   * @param prefixLength its prefix length (0-32 for IPv4, 0-128 for IPv6)
   * @param options abort signal; `router`: the default route's next hop
   * @returns when assigned
   * @throws {PortError} `protocol` for a malformed address or prefix length,
   *   `unreachable` (interface missing), `aborted`
   */
  assign(
    address: string,
    prefixLength: number,
    options?: AssignOptions,
  ): Promise<void>;
}

/** Options of {@link LinkControl.assign}. */
export interface AssignOptions extends PortCallOptions {
  /**
   * The default router on the new link (the lease's option 3, or the serving
   * network's gateway): the default route goes through it, so that what the MN sends
   * after the move leaves through the new network. Omitted: routes are left alone.
   */
  readonly router?: string;
}

/** Selects stored SAs by PANA session id or by MN id. */
export type SaKey =
  /** The one SA with this PANA Session Identifier. */
  | { readonly sessionId: number }
  /** The SAs of this MN. */
  | { readonly mnId: string };

/**
 * The authentication agent's store of MPA-SAs, so that SAs survive restarts and are
 * held, unauthorized, after the MN leaves (RFC 6252 section C.2). Several SAs of one
 * MN may coexist (a new session before the old one ends). Real adapter: Deno KV.
 */
export interface SaStore {
  /**
   * Reads one SA.
   *
   * @param key by session id: that SA; by MN id: the MN's most recently
   *   established SA (largest `establishedAt`, then largest `sessionId`)
   * @returns the record, or `undefined` when none matches
   */
  get(key: SaKey): Promise<SaRecord | undefined>;
  /**
   * Stores an SA, replacing any record with the same session id.
   *
   * @param record the SA
   * @returns when stored
   */
  put(record: SaRecord): Promise<void>;
  /**
   * Deletes SAs.
   *
   * @param key by session id: that SA; by MN id: all of the MN's SAs
   * @returns how many records were deleted (0 when none matched)
   */
  delete(key: SaKey): Promise<number>;
  /**
   * Lists SAs ordered by session id.
   *
   * @param filter `mnId`: only that MN's SAs; omitted: all
   * @returns the records
   */
  list(filter?: { readonly mnId?: string }): Promise<readonly SaRecord[]>;
}
