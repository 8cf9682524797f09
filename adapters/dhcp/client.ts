/**
 * The mobile node's proactive DHCPv4 client (RFC 6252 section 7.3.3): while still
 * attached to its current network, the MN sends unicast DHCP messages from its
 * current address (oCoA) to the configuration agent (DHCP server or relay) of a
 * candidate target network, with the broadcast flag 0 so that the reply comes back
 * by unicast, and option 118 (RFC 3011) naming the CTN subnet the address is wanted
 * in. The address obtained is **never** assigned to an interface here: it becomes
 * the inner address of the proactive handover tunnel, and the physical interface's
 * only after the move (section 7.3.3, last paragraph). After the move the same
 * client identifier renews the lease ({@link dhcpRenew}).
 *
 * Two ways to reach a server that is not on the MN's link:
 *
 * - `ciaddr`: `ciaddr` = oCoA; the server (Kea, ISC dhcpd) answers to `ciaddr`:68;
 * - `relay`: the MN acts as its own relay agent (RFC 2131 section 4.1): `giaddr` =
 *   oCoA, source port 67, `hops` 0; the server (dnsmasq) answers to `giaddr`:67.
 *
 * Retransmission follows RFC 2131 section 4.1 scaled down: the first after
 * `retransmitMs` (RFC: 4 s), doubling, randomized by +-`retransmitMs`/4 (RFC: +-1 s),
 * at most 16 x `retransmitMs` (RFC: 64 s), until the whole exchange's `timeoutMs`.
 *
 * Abort (RFC 6252 section C.6: the MN no longer wants the CTN): every call rejects
 * with `aborted` at once. When {@link dhcpAcquire} is aborted after its DHCPREQUEST
 * (or its rapid-commit DHCPDISCOVER, RFC 4039) left, the server may bind the address
 * anyway, so the client stops retransmitting but keeps its socket for one more answer
 * wait (`retransmitMs`, the time it would have waited before retransmitting): a
 * DHCPACK that still comes is answered with a DHCPRELEASE from the same client
 * identifier, ciaddr = the address (RFC 2131 section 4.4.6). When no answer comes to
 * a DHCPREQUEST, the requested address is released all the same (the DHCPACK may
 * have been lost; a server holding nothing for the client ignores the release).
 * Nothing is released for a DHCPNAK, for an abort during the selection (an offered
 * address is only reserved and lapses at the server, RFC 2131 section 4.3.1), nor
 * for an unanswered rapid-commit DHCPDISCOVER, whose address is unknown: a lease the
 * server bound then expires with its lease time. The socket is closed after the
 * cleanup, which is reported through {@link DhcpCallOptions.onAbortCleanup}.
 *
 * @module
 */
import type { Socket } from "node:dgram";
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { signDhcp, verifyDhcp } from "../../lib/keys/dhcp_auth.ts";
import { hex } from "../../lib/wire/_bytes.ts";
import {
  decodeDhcp,
  type DhcpMessage,
  dhcpMessage,
  type DhcpOptions,
} from "../../lib/wire/dhcp.ts";
import {
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  DhcpMessageType,
  DhcpOp,
  DhcpOption,
} from "../../lib/wire/dhcp_constants.ts";
import { encodeDhcp } from "../../lib/wire/dhcp.ts";
import {
  _bindUdp4,
  _chaddrFor,
  _closeUdp,
  _maskOf,
  _nextCounter,
  _parseCidr,
  _prefixOfMask,
  _sendUdp,
} from "./_dhcp_udp.ts";

const _log = getLogger(["mpa", "dhcp", "client"]);

/**
 * How the MN reaches a remote DHCP server from its current address (RFC 6252 section
 * 7.3.3): `ciaddr` (the server answers to ciaddr:68) or `relay` (the MN is its own
 * relay agent; the server answers to giaddr:67).
 */
export type DhcpMode = "ciaddr" | "relay";

/** The MN-CA key that signs the client's messages with option 90 (RFC 3118, see `lib/keys/dhcp_auth.ts`). */
export interface DhcpClientAuth {
  /** The MN-CA key of the MPA-SA (WebCrypto HMAC-SHA-256, `sign` usage). */
  readonly key: CryptoKey;
  /** The PANA session id of the MPA-SA: the secret id that names the key at the CA. */
  readonly sessionId: number;
  /**
   * Refuse replies without a valid option 90 (default false: a reply without option
   * 90 is accepted, since Kea and dnsmasq do not sign; a reply with an option 90
   * that does not verify is always discarded).
   */
  readonly requireSignedReplies?: boolean;
}

/** What every client call shares. */
export interface DhcpCallOptions {
  /** The DHCP server (the CA); port default 67. */
  readonly server: { readonly address: string; readonly port?: number };
  /** `ciaddr` (default for renew/inform/release) or `relay`. */
  readonly mode?: DhcpMode;
  /** Local address to bind and send from. */
  readonly source?: string;
  /** Local port: default 68 (`ciaddr`) or 67 (`relay`); 0 = ephemeral (tests). */
  readonly sourcePort?: number;
  /** Option 61 data, type byte first; the same before and after the move. */
  readonly clientId: Uint8Array;
  /** chaddr; default derived from `clientId` (the MAC of a type-1 id, else a hash). */
  readonly chaddr?: Uint8Array;
  /** Whole-exchange deadline, ms (default 4000). */
  readonly timeoutMs?: number;
  /** First retransmission, ms (default 500), doubling (RFC 2131 section 4.1, scaled). */
  readonly retransmitMs?: number;
  /** Sign with option 90 under the MN-CA key. */
  readonly auth?: DhcpClientAuth;
  /** Abandons the exchange: rejects with `DhcpError` code `aborted`. */
  readonly signal?: AbortSignal;
  /**
   * Called when an aborted exchange gives back in the background what the server may
   * hold (see the module documentation), with the cleanup's outcome; the socket is
   * closed when it settles. Never rejects.
   */
  readonly onAbortCleanup?: (cleanup: Promise<DhcpAbortCleanup>) => void;
}

/**
 * What an aborted {@link dhcpAcquire} gave back in the background (RFC 2131 section
 * 4.4.6).
 */
export interface DhcpAbortCleanup {
  /**
   * `released`: a DHCPRELEASE went to the server for `address` (a late DHCPACK, or
   * the requested address when no answer came); `nothing`: the server bound nothing
   * (a DHCPNAK, or an OFFER to a rapid-commit DHCPDISCOVER, came instead); `expiring`:
   * nothing could be released (an unanswered rapid-commit DHCPDISCOVER, or the release
   * could not be sent): a lease the server bound expires with its lease time.
   */
  readonly outcome: "released" | "nothing" | "expiring";
  /** The address released. */
  readonly address?: string;
  /** What happened, in words. */
  readonly reason: string;
}

/** Options of {@link dhcpAcquire}. */
export interface DhcpAcquireOptions extends DhcpCallOptions {
  /** CIDR of the CTN subnet: its network address goes in option 118 (RFC 3011). */
  readonly subnet: string;
  /** `ciaddr` or `relay`, see {@link DhcpMode}. */
  readonly mode: DhcpMode;
  /** The oCoA: bound as the local address, sent as ciaddr (`ciaddr`) or giaddr (`relay`). */
  readonly source: string;
  /** Send option 80 in DHCPDISCOVER and accept a DHCPACK with option 80 (RFC 4039). */
  readonly rapidCommit?: boolean;
}

/** Options of {@link dhcpRenew}. */
export interface DhcpRenewOptions extends DhcpCallOptions {
  /** The leased address (sent as ciaddr, RFC 2131 section 4.3.2 RENEWING). */
  readonly address: string;
  /** CTN subnet CIDR for option 118 (needed in `relay` mode before the move). */
  readonly subnet?: string;
}

/** Options of {@link dhcpInform}. */
export interface DhcpInformOptions extends DhcpCallOptions {
  /** The address the MN already has (ciaddr, RFC 2131 section 4.4.3). */
  readonly address: string;
  /** CTN subnet CIDR for option 118. */
  readonly subnet?: string;
}

/** Options of {@link dhcpRelease}. */
export interface DhcpReleaseOptions extends Omit<DhcpCallOptions, "timeoutMs" | "retransmitMs"> {
  /** The leased address (ciaddr, RFC 2131 section 4.4.6). */
  readonly address: string;
  /** The server identifier of the lease (option 54). */
  readonly serverId: string;
}

/** Counters of one exchange. */
export interface DhcpExchangeStats {
  /** Datagrams sent, retransmissions included. */
  readonly transmissions: number;
  /** Datagrams received and discarded: unparsable, wrong op, xid, chaddr or type, bad option 90. */
  readonly discarded: number;
}

/** A lease acquired or renewed (RFC 2131 section 3.1 step 5). */
export interface DhcpLeaseInfo extends DhcpExchangeStats {
  /** The address leased (yiaddr). */
  readonly address: string;
  /** Subnet mask (option 1; the subnet's prefix when the server sent none). */
  readonly mask: string;
  /** Prefix length of `mask`. */
  readonly prefixLength: number;
  /** First router (option 3). */
  readonly router?: string;
  /** DNS servers (option 6); may be empty. */
  readonly dns: readonly string[];
  /** Lease time, s (option 51). */
  readonly leaseTimeS: number;
  /** T1, s (option 58), when sent. */
  readonly renewalTimeS?: number;
  /** T2, s (option 59), when sent. */
  readonly rebindingTimeS?: number;
  /** Server identifier (option 54; the reply's source when absent). */
  readonly serverId: string;
  /** The client identifier used, hex. */
  readonly clientId: string;
  /** From the first transmission to the ACK, ms. */
  readonly elapsedMs: number;
  /** Whether the lease came in a rapid-commit ACK to the DISCOVER (RFC 4039). */
  readonly rapidCommit: boolean;
}

/** The parameters a DHCPINFORM returned (RFC 2131 section 3.4). */
export interface DhcpInformInfo extends DhcpExchangeStats {
  /** Subnet mask (option 1), when sent. */
  readonly mask?: string;
  /** Prefix length of `mask`, when sent. */
  readonly prefixLength?: number;
  /** First router (option 3). */
  readonly router?: string;
  /** DNS servers (option 6); may be empty. */
  readonly dns: readonly string[];
  /** Server identifier (option 54; the reply's source when absent). */
  readonly serverId: string;
  /** From the first transmission to the ACK, ms. */
  readonly elapsedMs: number;
}

/** Why a client call failed. */
export type DhcpErrorCode = "timeout" | "nak" | "protocol" | "unreachable" | "aborted";

/**
 * A failed DHCP exchange: `timeout` (no usable answer before the deadline), `nak`
 * (DHCPNAK), `protocol` (bad options, or an ACK without a lease time or address),
 * `unreachable` (cannot bind the source, no route), `aborted` (the signal fired).
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const e = new DhcpError("nak", "DHCPNAK from 10.0.2.1: address not available");
 * assertEquals([e.name, e.code, e.transmissions], ["DhcpError", "nak", 0]);
 * ```
 */
export class DhcpError extends Error {
  /** Always `DhcpError`. */
  override readonly name = "DhcpError";
  /** Why it failed. */
  readonly code: DhcpErrorCode;
  /** Datagrams sent before the failure. */
  readonly transmissions: number;
  /** Datagrams discarded before the failure. */
  readonly discarded: number;
  /**
   * @param code why it failed
   * @param message capital first letter, no trailing period, detail after a colon
   * @param options `cause`, and the exchange counters
   */
  constructor(
    code: DhcpErrorCode,
    message: string,
    options: ErrorOptions & Partial<DhcpExchangeStats> = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.transmissions = options.transmissions ?? 0;
    this.discarded = options.discarded ?? 0;
  }
}

/** Options asked for in option 55 (RFC 2132 section 9.8). */
const _PARAMETERS = [
  DhcpOption.SubnetMask,
  DhcpOption.Router,
  DhcpOption.DomainNameServer,
  DhcpOption.LeaseTime,
  DhcpOption.ServerId,
  DhcpOption.RenewalTime,
  DhcpOption.RebindingTime,
];

const _DEFAULT_TIMEOUT_MS = 4000;
const _DEFAULT_RETRANSMIT_MS = 500;

function _errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function _abortError(stats?: DhcpExchangeStats): DhcpError {
  return new DhcpError("aborted", "DHCP exchange aborted", stats ?? {});
}

/** One reply accepted by the exchange. */
interface _Reply {
  readonly msg: DhcpMessage;
  readonly from: string;
}

/** What a phase does when aborted after its request left (see the module documentation). */
interface _Linger<T> {
  /** How long to wait for a late answer, ms. */
  readonly ms: number;
  /**
   * Runs with the socket still open: `late` is the answer `pick` accepted after the
   * abort, `undefined` when none came in time or `pick` refused one (`refused`).
   */
  readonly after: (late: T | undefined, refused: boolean) => Promise<DhcpAbortCleanup>;
}

/**
 * One client transaction: a socket, an xid, the deadline, retransmissions and reply
 * filtering. `phase()` sends one message (rebuilt at each retransmission, for `secs`
 * and a fresh option-90 counter) until `pick` returns a value or throws.
 */
class _Transaction {
  readonly xid = crypto.getRandomValues(new Uint32Array(1))[0]!;
  readonly started = performance.now();
  transmissions = 0;
  discarded = 0;
  /** The background cleanup of a phase aborted after its request left. */
  cleanup: Promise<DhcpAbortCleanup> | undefined;
  readonly #socket: Socket;
  readonly #options: DhcpCallOptions;
  readonly #chaddr: Uint8Array;
  readonly #deadline: number;
  readonly #retransmitMs: number;

  constructor(socket: Socket, options: DhcpCallOptions, chaddr: Uint8Array) {
    this.#socket = socket;
    this.#options = options;
    this.#chaddr = chaddr;
    this.#deadline = this.started + (options.timeoutMs ?? _DEFAULT_TIMEOUT_MS);
    this.#retransmitMs = options.retransmitMs ?? _DEFAULT_RETRANSMIT_MS;
  }

  get stats(): DhcpExchangeStats {
    return { transmissions: this.transmissions, discarded: this.discarded };
  }

  elapsed(): number {
    return performance.now() - this.started;
  }

  /** Encodes (and signs) a request with this transaction's xid, chaddr and secs. */
  async encode(fields: Partial<DhcpMessage>, options: DhcpOptions): Promise<Uint8Array> {
    const msg = dhcpMessage({
      ...fields,
      op: DhcpOp.BootRequest,
      xid: this.xid,
      secs: Math.min(0xffff, Math.floor(this.elapsed() / 1000)),
      flags: 0, // RFC 6252 section 7.3.3: broadcast bit 0, unicast reply
      chaddr: this.#chaddr,
      options,
    });
    const auth = this.#options.auth;
    if (auth === undefined) return encodeDhcp(msg);
    return await signDhcp(msg, auth.key, auth.sessionId, _nextCounter());
  }

  async send(bytes: Uint8Array): Promise<void> {
    const port = this.#options.server.port ?? DHCP_SERVER_PORT;
    this.transmissions++;
    try {
      await _sendUdp(this.#socket, bytes, this.#options.server.address, port);
    } catch (error) {
      throw new DhcpError(
        "unreachable",
        `Cannot send to DHCP server ${this.#options.server.address}:${port}: ${_errorText(error)}`,
        { cause: error, ...this.stats },
      );
    }
  }

  /** Whether a datagram is a reply to this transaction; counts the ones that are not. */
  async #filter(data: Uint8Array): Promise<DhcpMessage | undefined> {
    let msg: DhcpMessage;
    try {
      msg = decodeDhcp(data);
    } catch (error) {
      this.discarded++;
      _log.debug("Discarded DHCP datagram: {reason}", { reason: _errorText(error) });
      return undefined;
    }
    const chaddrOk = msg.chaddr.length >= this.#chaddr.length &&
      this.#chaddr.every((b, i) => msg.chaddr[i] === b);
    if (msg.op !== DhcpOp.BootReply || msg.xid !== this.xid || !chaddrOk) {
      this.discarded++;
      _log.debug("Discarded DHCP reply: op {op}, xid {xid}, not ours", {
        op: msg.op,
        xid: msg.xid,
      });
      return undefined;
    }
    const auth = this.#options.auth;
    if (auth !== undefined && (msg.options.auth !== undefined || auth.requireSignedReplies)) {
      try {
        await verifyDhcp(data, auth.key);
      } catch (error) {
        this.discarded++;
        _log.warn("Discarded DHCP reply: {reason}", { reason: _errorText(error) });
        return undefined;
      }
    }
    return msg;
  }

  /**
   * Sends `build()` and retransmits it until `pick` accepts a reply (returns a
   * value) or refuses the exchange (throws), the deadline passes or the signal fires.
   */
  phase<T>(
    build: () => Promise<Uint8Array>,
    pick: (reply: _Reply) => T | undefined,
    linger?: _Linger<T>,
  ): Promise<T> {
    const signal = this.#options.signal;
    const first = this.transmissions;
    return new Promise<T>((resolve, reject) => {
      let done = false;
      let retransmit: ReturnType<typeof setTimeout> | undefined;
      let attempt = 0;
      let queue: Promise<void> = Promise.resolve();
      /** Set while lingering after an abort: takes the late answer (once). */
      let late: ((value: T | undefined, refused: boolean) => void) | undefined;
      const stopListening = () => {
        this.#socket.off("message", onMessage);
        this.#socket.off("error", onError);
      };
      const finish = (fn: () => void, keepListening = false) => {
        if (done) return;
        done = true;
        clearTimeout(retransmit);
        clearTimeout(deadline);
        if (!keepListening) stopListening();
        signal?.removeEventListener("abort", onAbort);
        fn();
      };
      const fail = (error: unknown) => finish(() => reject(error));
      const onAbort = () => {
        if (done) return;
        if (linger === undefined || this.transmissions === first) {
          fail(_abortError(this.stats));
          return;
        }
        // The request left: the server may act on it. Wait for its answer once more,
        // without retransmitting, then let `linger.after` give back what it holds.
        let settle!: (v: { value: T | undefined; refused: boolean }) => void;
        const arrived = new Promise<{ value: T | undefined; refused: boolean }>((r) => settle = r);
        late = (value, refused) => settle({ value, refused });
        const timer = setTimeout(() => late?.(undefined, false), linger.ms);
        this.cleanup = arrived.then(({ value, refused }) => {
          clearTimeout(timer);
          stopListening();
          return linger.after(value, refused);
        });
        finish(() => reject(_abortError(this.stats)), true);
      };
      const onError = (error: Error) => {
        if (late !== undefined) return late(undefined, false);
        fail(
          new DhcpError("unreachable", `DHCP socket error: ${error.message}`, {
            cause: error,
            ...this.stats,
          }),
        );
      };
      const onMessage = (data: Uint8Array, rinfo: { address: string }) => {
        // One datagram at a time, in arrival order (verification is asynchronous).
        queue = queue.then(() => this.#filter(new Uint8Array(data))).then((msg) => {
          if (msg === undefined || (done && late === undefined)) return;
          let value: T | undefined;
          try {
            value = pick({ msg, from: rinfo.address });
          } catch (error) {
            if (late !== undefined) late(undefined, true);
            else fail(error);
            return;
          }
          if (value === undefined) {
            this.discarded++;
            return;
          }
          if (late !== undefined) late(value, false);
          else finish(() => resolve(value));
        });
      };
      const transmit = async () => {
        try {
          const bytes = await build();
          if (done) return;
          await this.send(bytes);
        } catch (error) {
          fail(error);
          return;
        }
        if (done) return;
        const base = this.#retransmitMs * Math.min(16, 2 ** attempt++);
        const jitter = (Math.random() * 2 - 1) * (this.#retransmitMs / 4);
        retransmit = setTimeout(() => void transmit(), Math.max(1, base + jitter));
      };
      const remaining = this.#deadline - performance.now();
      const deadline = setTimeout(
        () =>
          fail(
            new DhcpError(
              "timeout",
              `No DHCP answer from ${this.#options.server.address}: ${this.transmissions} transmissions in ${
                Math.round(this.elapsed())
              } ms`,
              this.stats,
            ),
          ),
        Math.max(0, remaining),
      );
      if (signal?.aborted === true) {
        fail(_abortError(this.stats));
        return;
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#socket.on("message", onMessage);
      this.#socket.on("error", onError);
      void transmit();
    });
  }
}

/** Resolved addressing of one call. */
interface _Endpoint {
  readonly mode: DhcpMode;
  readonly source: string;
  readonly port: number;
}

function _endpoint(options: DhcpCallOptions, fallbackSource: string): _Endpoint {
  const mode = options.mode ?? "ciaddr";
  const port = options.sourcePort ?? (mode === "relay" ? DHCP_SERVER_PORT : DHCP_CLIENT_PORT);
  return { mode, source: options.source ?? fallbackSource, port };
}

function _checkClientId(clientId: Uint8Array): void {
  if (clientId.length < 2) {
    throw new DhcpError(
      "protocol",
      `Invalid DHCP client identifier: need at least 2 bytes, got ${clientId.length}`,
    );
  }
}

function _subnetOption(subnet: string | undefined): { network?: string; prefixLength?: number } {
  if (subnet === undefined) return {};
  const cidr = _parseCidr(subnet);
  if (cidr === undefined) {
    throw new DhcpError("protocol", `Invalid DHCP subnet: expected an IPv4 CIDR, got "${subnet}"`);
  }
  return cidr;
}

/** Runs `body` with a socket bound for `endpoint`, closing it after. */
async function _withSocket<T>(
  options: DhcpCallOptions,
  endpoint: _Endpoint,
  body: (tx: _Transaction) => Promise<T>,
): Promise<T> {
  if (options.signal?.aborted === true) throw _abortError();
  _checkClientId(options.clientId);
  let socket: Socket;
  try {
    socket = await _bindUdp4(endpoint.source, endpoint.port);
  } catch (error) {
    throw new DhcpError(
      "unreachable",
      `Cannot bind DHCP client to ${endpoint.source}:${endpoint.port}: ${_errorText(error)}`,
      { cause: error },
    );
  }
  const tx = new _Transaction(socket, options, options.chaddr ?? _chaddrFor(options.clientId));
  try {
    return await body(tx);
  } finally {
    const cleanup = tx.cleanup;
    if (cleanup === undefined) await _closeUdp(socket);
    else {
      // Aborted after a request left: the caller learns at once, the socket stays
      // open for the cleanup (see the module documentation).
      const reported = cleanup.catch((error): DhcpAbortCleanup => ({
        outcome: "expiring",
        reason: `Cleanup failed: ${_errorText(error)}`,
      })).then(async (result) => {
        await _closeUdp(socket);
        _log.info("Aborted DHCP exchange with {server}: {outcome}: {reason}", {
          server: options.server.address,
          outcome: result.outcome,
          reason: result.reason,
        });
        return result;
      });
      options.onAbortCleanup?.(reported);
    }
  }
}

/**
 * Sends one DHCPRELEASE for `address` on the transaction's socket (RFC 2131 section
 * 4.4.6): ciaddr = the address, option 54, the same client identifier.
 */
async function _releaseOn(
  tx: _Transaction,
  endpoint: _Endpoint,
  options: DhcpCallOptions,
  address: string,
  serverId: string,
  why: string,
): Promise<DhcpAbortCleanup> {
  try {
    const bytes = await tx.encode(_addressing(endpoint, address), {
      messageType: DhcpMessageType.Release,
      clientId: options.clientId,
      serverId,
    });
    await tx.send(bytes);
  } catch (error) {
    return {
      outcome: "expiring",
      reason: `Cannot release ${address} (${why}): ${_errorText(error)}`,
    };
  }
  return { outcome: "released", address, reason: why };
}

/** ciaddr/giaddr/hops of a request from `endpoint` (RFC 6252 section 7.3.3). */
function _addressing(
  endpoint: _Endpoint,
  ciaddr: string,
): Pick<DhcpMessage, "ciaddr" | "giaddr" | "hops"> {
  return endpoint.mode === "relay"
    ? { ciaddr, giaddr: endpoint.source, hops: 0 }
    : { ciaddr, giaddr: "0.0.0.0", hops: 0 };
}

function _nak(reply: _Reply, stats: DhcpExchangeStats): DhcpError {
  const why = reply.msg.options.message;
  return new DhcpError(
    "nak",
    `DHCPNAK from ${reply.msg.options.serverId ?? reply.from}${
      why === undefined ? "" : `: ${why}`
    }`,
    stats,
  );
}

function _lease(
  tx: _Transaction,
  reply: _Reply,
  options: DhcpCallOptions,
  subnetPrefix: number | undefined,
  rapidCommit: boolean,
): DhcpLeaseInfo {
  const o = reply.msg.options;
  if (reply.msg.yiaddr === "0.0.0.0") {
    throw new DhcpError("protocol", "Invalid DHCPACK: no yiaddr", tx.stats);
  }
  if (o.leaseTime === undefined) {
    throw new DhcpError("protocol", "Invalid DHCPACK: no lease time (option 51)", tx.stats);
  }
  let mask = o.subnetMask;
  let prefixLength = mask === undefined ? undefined : _prefixOfMask(mask);
  if (mask === undefined || prefixLength === undefined) {
    prefixLength = subnetPrefix ?? 32;
    mask = _maskOf(prefixLength);
  }
  return {
    address: reply.msg.yiaddr,
    mask,
    prefixLength,
    ...(o.routers?.[0] === undefined ? {} : { router: o.routers[0] }),
    dns: o.dns ?? [],
    leaseTimeS: o.leaseTime,
    ...(o.renewalTime === undefined ? {} : { renewalTimeS: o.renewalTime }),
    ...(o.rebindingTime === undefined ? {} : { rebindingTimeS: o.rebindingTime }),
    serverId: o.serverId ?? reply.from,
    clientId: hex(options.clientId),
    elapsedMs: tx.elapsed(),
    rapidCommit,
    transmissions: tx.transmissions,
    discarded: tx.discarded,
  };
}

/**
 * Acquires an address in a candidate target network by unicast DHCP from the
 * current address (RFC 6252 section 7.3.3): DHCPDISCOVER, DHCPOFFER, DHCPREQUEST,
 * DHCPACK (RFC 2131 section 3.1), or DHCPDISCOVER + rapid commit, DHCPACK (RFC 4039).
 * Broadcast flag 0, option 61 `clientId`, option 118 the subnet, option 90 when
 * `auth` is given. The address is not assigned to any interface.
 *
 * @param options server, subnet, mode, source address, client id, timers, auth
 * @returns the lease
 * @throws {DhcpError} `nak`, `timeout`, `unreachable`, `protocol`, `aborted`
 *
 * @example
 * ```ts ignore
 * const lease = await dhcpAcquire({
 *   server: { address: "10.0.2.1" }, subnet: "10.0.2.0/24", mode: "ciaddr",
 *   source: "10.0.1.20", clientId: new Uint8Array([0, 0x6d, 0x6e]),
 * });
 * console.log(lease.address, lease.leaseTimeS);
 * ```
 */
export function dhcpAcquire(options: DhcpAcquireOptions): Promise<DhcpLeaseInfo> {
  return Promise.resolve().then(() => {
    const subnet = _subnetOption(options.subnet);
    const endpoint = _endpoint(options, options.source);
    const base: DhcpOptions = {
      clientId: options.clientId,
      parameterRequestList: _PARAMETERS,
      ...(subnet.network === undefined ? {} : { subnetSelection: subnet.network }),
    };
    const addressing = _addressing(
      endpoint,
      endpoint.mode === "ciaddr" ? endpoint.source : "0.0.0.0",
    );
    const lingerMs = options.retransmitMs ?? _DEFAULT_RETRANSMIT_MS;
    return _withSocket(options, endpoint, async (tx) => {
      const rapid = options.rapidCommit === true;
      const first = await tx.phase(
        () =>
          tx.encode(addressing, {
            messageType: DhcpMessageType.Discover,
            ...base,
            ...(rapid ? { rapidCommit: true } : {}),
          }),
        (reply) => {
          const type = reply.msg.options.messageType;
          if (type === DhcpMessageType.Nak) throw _nak(reply, tx.stats);
          if (type === DhcpMessageType.Offer && reply.msg.yiaddr !== "0.0.0.0") return reply;
          if (rapid && type === DhcpMessageType.Ack && reply.msg.options.rapidCommit === true) {
            return reply;
          }
          return undefined;
        },
        rapid
          ? {
            ms: lingerMs,
            after: async (late, refused): Promise<DhcpAbortCleanup> => {
              if (late?.msg.options.messageType === DhcpMessageType.Ack) {
                return await _releaseOn(
                  tx,
                  endpoint,
                  options,
                  late.msg.yiaddr,
                  late.msg.options.serverId ?? late.from,
                  "rapid-commit DHCPACK after the abort",
                );
              }
              if (late !== undefined || refused) {
                return { outcome: "nothing", reason: "DHCPOFFER or DHCPNAK: no lease bound" };
              }
              return {
                outcome: "expiring",
                reason: "No answer to the rapid-commit DHCPDISCOVER: a lease bound expires",
              };
            },
          }
          : undefined,
      );
      if (first.msg.options.messageType === DhcpMessageType.Ack) {
        return _lease(tx, first, options, subnet.prefixLength, true);
      }
      const serverId = first.msg.options.serverId ?? first.from;
      const offered = first.msg.yiaddr;
      const ack = await tx.phase(
        () =>
          tx.encode(addressing, {
            messageType: DhcpMessageType.Request,
            ...base,
            requestedAddress: offered,
            serverId,
          }),
        (reply) => {
          const type = reply.msg.options.messageType;
          if (type === DhcpMessageType.Nak) throw _nak(reply, tx.stats);
          return type === DhcpMessageType.Ack ? reply : undefined;
        },
        {
          ms: lingerMs,
          after: async (late, refused): Promise<DhcpAbortCleanup> => {
            if (refused) return { outcome: "nothing", reason: "DHCPNAK: no lease bound" };
            return await _releaseOn(
              tx,
              endpoint,
              options,
              late?.msg.yiaddr ?? offered,
              late?.msg.options.serverId ?? serverId,
              late === undefined
                ? "no DHCPACK after the abort: the requested address, in case it was lost"
                : "DHCPACK after the abort",
            );
          },
        },
      );
      return _lease(tx, ack, options, subnet.prefixLength, false);
    });
  });
}

/**
 * One DHCPREQUEST (renewing) or DHCPINFORM exchange from an address the MN already
 * has (ciaddr = that address, same client id): the first DHCPACK, or the typed NAK.
 */
function _askFromAddress(
  tx: _Transaction,
  endpoint: _Endpoint,
  options: DhcpRenewOptions | DhcpInformOptions,
  subnet: ReturnType<typeof _subnetOption>,
  messageType: typeof DhcpMessageType.Request | typeof DhcpMessageType.Inform,
) {
  return tx.phase(
    () =>
      tx.encode(_addressing(endpoint, options.address), {
        messageType,
        clientId: options.clientId,
        parameterRequestList: _PARAMETERS,
        ...(subnet.network === undefined ? {} : { subnetSelection: subnet.network }),
      }),
    (reply) => {
      const type = reply.msg.options.messageType;
      if (type === DhcpMessageType.Nak) throw _nak(reply, tx.stats);
      return type === DhcpMessageType.Ack ? reply : undefined;
    },
  );
}

/**
 * Extends a lease (RFC 2131 section 4.3.2, RENEWING): DHCPREQUEST with ciaddr = the
 * leased address and the same client identifier, unicast to the server. After the
 * move the MN sends it from the leased address over the physical interface (RFC
 * 6252 section 7.3.3); before the move, `relay` mode from the oCoA also works.
 *
 * @param options server, leased address, client id, source (default the address)
 * @returns the extended lease
 * @throws {DhcpError} `nak`, `timeout`, `unreachable`, `protocol`, `aborted`
 *
 * @example
 * ```ts ignore
 * const renewed = await dhcpRenew({ server: { address: "10.0.2.1" }, address: lease.address, clientId });
 * ```
 */
export function dhcpRenew(options: DhcpRenewOptions): Promise<DhcpLeaseInfo> {
  return Promise.resolve().then(() => {
    const subnet = _subnetOption(options.subnet);
    const endpoint = _endpoint(options, options.address);
    return _withSocket(options, endpoint, async (tx) => {
      const ack = await _askFromAddress(tx, endpoint, options, subnet, DhcpMessageType.Request);
      return _lease(tx, ack, options, subnet.prefixLength, false);
    });
  });
}

/**
 * Asks for the other configuration parameters of an address the MN already has
 * (RFC 2131 section 3.4, DHCPINFORM with ciaddr = the address); after the move.
 *
 * @param options server, address, client id
 * @returns mask, router, DNS, server id
 * @throws {DhcpError} `nak`, `timeout`, `unreachable`, `protocol`, `aborted`
 *
 * @example
 * ```ts ignore
 * const info = await dhcpInform({ server: { address: "10.0.2.1" }, address: "10.0.2.50", clientId });
 * ```
 */
export function dhcpInform(options: DhcpInformOptions): Promise<DhcpInformInfo> {
  return Promise.resolve().then(() => {
    const subnet = _subnetOption(options.subnet);
    const endpoint = _endpoint(options, options.address);
    return _withSocket(options, endpoint, async (tx) => {
      const ack = await _askFromAddress(tx, endpoint, options, subnet, DhcpMessageType.Inform);
      const o = ack.msg.options;
      const prefixLength = o.subnetMask === undefined ? undefined : _prefixOfMask(o.subnetMask);
      return {
        ...(o.subnetMask === undefined ? {} : { mask: o.subnetMask }),
        ...(prefixLength === undefined ? {} : { prefixLength }),
        ...(o.routers?.[0] === undefined ? {} : { router: o.routers[0] }),
        dns: o.dns ?? [],
        serverId: o.serverId ?? ack.from,
        elapsedMs: tx.elapsed(),
        transmissions: tx.transmissions,
        discarded: tx.discarded,
      };
    });
  });
}

/**
 * Gives a lease back (RFC 2131 section 4.4.6): one DHCPRELEASE with ciaddr = the
 * address, option 54 and the client identifier; the server does not answer.
 *
 * @param options server, address, server id, client id
 * @returns when sent
 * @throws {DhcpError} `unreachable`, `protocol`, `aborted`
 *
 * @example
 * ```ts ignore
 * await dhcpRelease({ server: { address: "10.0.2.1" }, address: "10.0.2.50", serverId: "10.0.2.1", clientId });
 * ```
 */
export function dhcpRelease(options: DhcpReleaseOptions): Promise<void> {
  return Promise.resolve().then(() => {
    const endpoint = _endpoint(options, options.address);
    return _withSocket(options, endpoint, async (tx) => {
      const bytes = await tx.encode(_addressing(endpoint, options.address), {
        messageType: DhcpMessageType.Release,
        clientId: options.clientId,
        serverId: options.serverId,
      });
      if (options.signal?.aborted === true) throw _abortError(tx.stats);
      await tx.send(bytes);
    });
  });
}
