/**
 * The mobile node's SIP user agent, the `MobilityProtocol` of SIP terminal mobility
 * (RFC 6252 sections 6.3 steps 3 to 6, 7.2, 7.5): {@link SipMobility.start} sets up
 * an audio call to the correspondent from the current care-of address (INVITE with
 * an SDP offer, RFC 3261 section 13); {@link SipMobility.bind} is the binding update,
 * a REGISTER of the new contact at the registrar (section 10) and a re-INVITE inside
 * the dialog (section 14) whose Contact, Via and SDP c= carry the new care-of address,
 * sent from a socket bound to that address. Bound to the nCoA while the proactive
 * handover tunnel is up, the re-INVITE travels through the tunnel (policy routing
 * by source address), so the correspondent redirects the media before the MN moves
 * (section 7.5: no binding-update delay after the switch).
 *
 * SIP has one contact per dialog: `multipleCoAs` is false and `bind` binds the first
 * care-of address (section 7.2, second solution).
 *
 * Over UDP, requests are retransmitted by the client transactions of RFC 3261
 * section 17.1 (T1 = 500 ms by default); a retransmitted 2xx to an INVITE is
 * acknowledged again (section 13.2.2.4).
 *
 * An aborted binding update never leaves the UA and the correspondent out of step:
 * its promise rejects at once, but a re-INVITE that already left runs on in the
 * background. A 2xx is acknowledged and adopted (the new contact, care-of address
 * and SDP are the dialog's from then on); while only provisional responses came,
 * the re-INVITE is cancelled (CANCEL, section 9.1), and the correspondent answers it
 * 487. The next re-INVITE waits until that transaction is over and its ACK sent
 * (section 14.1: one INVITE transaction at a time), so the correspondent never
 * answers it 491 or 500.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { SipCorrespondent } from "./sip_cn.ts";
 * const cn = await SipCorrespondent.listen({ listen: { address: "127.0.0.1", port: 0 } });
 * const mn = new SipMobility({
 *   aor: "sip:mn@example.org",
 *   localAddress: "127.0.0.1",
 *   mediaPort: 40000,
 *   correspondent: { ...cn.local, uri: `sip:cn@127.0.0.1:${cn.local.port}` },
 * });
 * await mn.start();
 * const result = await mn.bind(["127.0.0.2"]);
 * assertEquals(result.bound, ["127.0.0.2"]);
 * assertEquals(cn.calls()[0]?.media, { address: "127.0.0.2", port: 40000 });
 * await mn.stop();
 * await cn.close();
 * ```
 *
 * @module
 */
import { SerialQueue } from "../../lib/eap/serial_queue.ts";
import {
  type BindingResult,
  type BindOptions,
  type MobilityProtocol,
  type PortCallOptions,
  PortError,
} from "../../lib/ports.ts";
import { SIP_TIMERS, type SipTimers } from "../../lib/sip/client_transaction.ts";
import {
  decodeSdp,
  encodeSdp,
  sdpConnection,
  sdpMedia,
  type SessionDescription,
  withConnectionAddress,
} from "../../lib/wire/sdp.ts";
import {
  callId,
  contacts,
  cseq,
  expires,
  fromHeader,
  header,
  headers,
  newBranch,
  newCallId,
  newTag,
  parseSipUri,
  type SipRequest,
  sipRequest,
  type SipResponse,
  sipResponseTo,
  toHeader,
} from "../../lib/wire/sip.ts";
import {
  type DatagramEndpoint,
  type DatagramTransport,
  type DatagramTransportFactory,
  udpTransport,
} from "./datagram_transport.ts";
import {
  _cryptoRandom,
  _logger,
  _preciseNow,
  _reasonPhrase,
  _SipNode,
  type _SipNodeStats,
  _unreachable,
} from "./_sip_transport.ts";

/** The correspondent of the call. */
export interface SipPeer extends DatagramEndpoint {
  /** The Request-URI of the initial INVITE (`sip:cn@192.0.2.9`). */
  readonly uri: string;
}

/** A SIP registrar (RFC 3261 section 10). */
export interface SipRegistrar extends DatagramEndpoint {
  /** The REGISTER Request-URI; default `sip:` and the domain of the AOR (section 10.2). */
  readonly uri?: string;
}

/** Options of {@link SipMobility}. */
export interface SipMobilityOptions {
  /** The address-of-record (`sip:mn@example.org`): From of every request, To of REGISTER. */
  readonly aor: string;
  /** The current care-of address, the source of {@link SipMobility.start}. */
  readonly localAddress: string;
  /** The local SIP port at every care-of address; default 0 (ephemeral). */
  readonly sipPort?: number;
  /** The RTP port offered in the SDP (m=), kept across moves. */
  readonly mediaPort: number;
  /** The correspondent: where the INVITE goes and its Request-URI. */
  readonly correspondent: SipPeer;
  /** Registrar to REGISTER the new contact at on every bind (section 7.5); none by default. */
  readonly registrar?: SipRegistrar;
  /** Requested registration lifetime, s; default 3600 (RFC 3261 section 10.2.1.1). */
  readonly registerExpiresS?: number;
  /** Opens a transport bound to a local address; default UDP sockets. */
  readonly transport?: DatagramTransportFactory;
  /** Random bytes (branches, tags, Call-IDs, SDP session id); default WebCrypto. */
  readonly random?: (n: number) => Uint8Array;
  /** Timer values; default T1 500 ms, T2 4 s, T4 5 s (RFC 3261 Table 4). */
  readonly timers?: Partial<SipTimers>;
  /** Clock, epoch ms; default `performance` based. */
  readonly now?: () => number;
}

/** The confirmed dialog (RFC 3261 section 12). */
export interface SipDialogInfo {
  /** The Call-ID. */
  readonly callId: string;
  /** This UA's tag (From). */
  readonly localTag: string;
  /** The correspondent's tag (To). */
  readonly remoteTag: string;
  /** The correspondent's Contact URI, the Request-URI of in-dialog requests. */
  readonly remoteTarget: string;
  /** This UA's current care-of address. */
  readonly coa: string;
  /** The correspondent's media address and port from its SDP answer. */
  readonly remoteMedia?: DatagramEndpoint;
  /** The o= session version of the last offer sent. */
  readonly sdpVersion: bigint;
}

/** Timings of one binding update, epoch ms. */
export interface SipBindTiming {
  /** The care-of address bound. */
  readonly coa: string;
  /** The re-INVITE's first transmission. */
  readonly reinviteSentAt?: number;
  /** Its 200 OK. */
  readonly reinviteOkAt?: number;
  /** The REGISTER's first transmission. */
  readonly registerSentAt?: number;
  /** Its 200 OK. */
  readonly registerOkAt?: number;
}

/** Counters of a {@link SipMobility}. */
export interface SipMobilityStats extends Readonly<_SipNodeStats> {
  /** Re-INVITEs that got a 2xx. */
  readonly reinvites: number;
  /** REGISTERs that got a 2xx. */
  readonly registers: number;
  /** ACKs sent again for a retransmitted 2xx (RFC 3261 section 13.2.2.4). */
  readonly ackRetransmissions: number;
  /** CANCELs sent for re-INVITEs of aborted binding updates (RFC 3261 section 9.1). */
  readonly cancels: number;
  /** 2xx answers to re-INVITEs of aborted binding updates, acknowledged and adopted. */
  readonly adoptedAfterAbort: number;
}

/** Why the call ended. */
export type SipCallEnd = "local" | "remote";

interface _Dialog {
  readonly callId: string;
  readonly localTag: string;
  remoteTag: string;
  remoteTarget: string;
  remote: DatagramEndpoint;
  localCseq: number;
  remoteCseq: number | undefined;
  remoteMedia: DatagramEndpoint | undefined;
}

function _userOf(aor: string): string {
  try {
    return parseSipUri(aor).user ?? "mn";
  } catch {
    return "mn";
  }
}

function _domainOf(aor: string): string {
  return parseSipUri(aor).host;
}

function _hostOf(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}

function _isIp(host: string): boolean {
  return /^[0-9.]+$/.test(host) || host.startsWith("[");
}

function _mediaOf(sdp: SessionDescription): DatagramEndpoint | undefined {
  const media = sdpMedia(sdp);
  const i = media.findIndex((m) => m.media === "audio");
  if (i < 0) return undefined;
  const c = sdpConnection(sdp, i);
  return c === undefined ? undefined : { address: c.address, port: media[i]!.port };
}

/** A running INVITE client transaction (see `SipMobility.#startInvite`). */
interface _InviteRun {
  /** The final response (any status), or the transaction's failure. */
  readonly response: Promise<SipResponse>;
  /** The TU gives up: CANCEL once a provisional response came (RFC 3261 section 9.1). */
  abandon(): void;
}

/**
 * The CANCEL of an INVITE (RFC 3261 section 9.1): its Request-URI, Call-ID, To, From
 * and CSeq number (method CANCEL), its top Via alone (same branch) and its Route.
 */
function _cancelOf(invite: SipRequest): SipRequest {
  const copy = (name: string) => headers(invite, name).map((value) => ({ name, value }));
  return {
    kind: "request",
    method: "CANCEL",
    uri: invite.uri,
    version: invite.version,
    headers: [
      { name: "Via", value: header(invite, "Via")!.split(",")[0]!.trim() },
      { name: "Max-Forwards", value: "70" },
      { name: "To", value: header(invite, "To")! },
      { name: "From", value: header(invite, "From")! },
      { name: "Call-ID", value: callId(invite) },
      { name: "CSeq", value: `${cseq(invite).seq} CANCEL` },
      ...copy("Route"),
      { name: "Content-Length", value: "0" },
    ],
    body: new Uint8Array(0),
  };
}

/** `p`, or a rejection with `error()` as soon as `signal` aborts (`p` runs on). */
function _abortable<T>(
  p: Promise<T>,
  signal: AbortSignal | undefined,
  error: () => Error,
): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(error());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(error());
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (reason: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(reason);
      },
    );
  });
}

/**
 * The mobile node's SIP user agent: call setup, binding update by re-INVITE and
 * REGISTER (RFC 6252 section 7.5), teardown.
 */
export class SipMobility implements MobilityProtocol {
  /** SIP binds one contact per dialog (RFC 6252 section 7.2). */
  readonly multipleCoAs = false;
  readonly #options: SipMobilityOptions;
  readonly #timers: SipTimers;
  readonly #random: (n: number) => Uint8Array;
  readonly #now: () => number;
  readonly #factory: DatagramTransportFactory;
  readonly #node: _SipNode;
  readonly #queue = new SerialQueue();
  readonly #registerCallId: string;
  readonly #registerTag: string;
  #registerCseq = 0;
  #transport: DatagramTransport | undefined;
  #coa: string;
  #sdp: SessionDescription | undefined;
  #dialog: _Dialog | undefined;
  #acks = new Map<number, { bytes: SipRequest; to: DatagramEndpoint }>();
  #timings: SipBindTiming[] = [];
  #retiring = new Map<DatagramTransport, ReturnType<typeof setTimeout>>();
  /** The re-INVITE of an aborted binding update, running on in the background. */
  #inviting: Promise<void> | undefined;
  #reinvites = 0;
  #registers = 0;
  #ackRetransmissions = 0;
  #cancels = 0;
  #adoptedAfterAbort = 0;
  #ended: Promise<SipCallEnd>;
  #resolveEnded!: (how: SipCallEnd) => void;

  /**
   * @param options AOR, addresses, correspondent, registrar, timers
   */
  constructor(options: SipMobilityOptions) {
    this.#options = options;
    this.#timers = { ...SIP_TIMERS, ...options.timers };
    this.#random = options.random ?? _cryptoRandom;
    this.#now = options.now ?? _preciseNow;
    this.#factory = options.transport ?? udpTransport;
    this.#coa = options.localAddress;
    this.#registerCallId = newCallId(this.#random, options.localAddress);
    this.#registerTag = newTag(this.#random);
    this.#ended = new Promise((resolve) => (this.#resolveEnded = resolve));
    this.#node = new _SipNode({
      timers: this.#timers,
      now: this.#now,
      port: "MobilityProtocol",
      onRequest: (request, _from, _transport, respond) => this.#onRequest(request, respond),
      onStrayResponse: (response, _from, transport) => this.#onStrayResponse(response, transport),
    });
  }

  /** The current care-of address (the Contact and SDP c= of the dialog). */
  get coa(): string {
    return this.#coa;
  }

  /** The SIP socket's address at the current care-of address, once started. */
  get local(): DatagramEndpoint | undefined {
    return this.#transport?.local;
  }

  /** Resolves when the call ends: `local` after {@link SipMobility.stop}, `remote` on a BYE. */
  get ended(): Promise<SipCallEnd> {
    return this.#ended;
  }

  /**
   * The dialog, once confirmed.
   *
   * @returns identifiers, remote target and media, current CoA
   */
  dialog(): SipDialogInfo | undefined {
    const d = this.#dialog;
    if (d === undefined) return undefined;
    const out: { -readonly [K in keyof SipDialogInfo]: SipDialogInfo[K] } = {
      callId: d.callId,
      localTag: d.localTag,
      remoteTag: d.remoteTag,
      remoteTarget: d.remoteTarget,
      coa: this.#coa,
      sdpVersion: this.#sdp === undefined ? 0n : BigInt(this.#sdpVersion()),
    };
    if (d.remoteMedia !== undefined) out.remoteMedia = d.remoteMedia;
    return out;
  }

  /**
   * Timings of every binding update, oldest first.
   *
   * @returns when each re-INVITE and REGISTER went out and got its 200
   */
  timings(): readonly SipBindTiming[] {
    return this.#timings;
  }

  /**
   * The counters.
   *
   * @returns malformed drops, retransmissions, re-INVITEs, REGISTERs, ACK resends
   */
  stats(): SipMobilityStats {
    return {
      ...this.#node.stats,
      reinvites: this.#reinvites,
      registers: this.#registers,
      ackRetransmissions: this.#ackRetransmissions,
      cancels: this.#cancels,
      adoptedAfterAbort: this.#adoptedAfterAbort,
    };
  }

  /**
   * Waits until no INVITE transaction of an aborted binding update is in progress:
   * its 2xx acknowledged and adopted, or its CANCEL answered (RFC 3261 sections 9.1,
   * 14.1).
   *
   * @returns when the dialog is settled; never rejects
   */
  async idle(): Promise<void> {
    while (this.#inviting !== undefined) await this.#inviting;
  }

  #sdpVersion(): string {
    const o = this.#sdp?.session.find((f) => f.type === "o");
    return o?.value.split(" ")[2] ?? "0";
  }

  #contactUri(coa: string, transport: DatagramTransport): string {
    return `sip:${_userOf(this.#options.aor)}@${_hostOf(coa)}:${transport.local.port}`;
  }

  async #open(coa: string): Promise<DatagramTransport> {
    try {
      const t = await this.#factory({ address: coa, port: this.#options.sipPort ?? 0 });
      this.#node.attach(t);
      return t;
    } catch (error) {
      throw new PortError(
        "MobilityProtocol",
        "unreachable",
        `Cannot bind a SIP socket to ${coa}: ${
          String((error as { code?: unknown })?.code ?? error)
        }`,
        { cause: error },
      );
    }
  }

  #offer(coa: string): SessionDescription {
    const r = this.#random(4);
    const sessionId = String(((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0);
    const ip = coa.includes(":") ? "IP6" : "IP4";
    return decodeSdp(
      `v=0\r\no=${_userOf(this.#options.aor)} ${sessionId} 1 IN ${ip} ${coa}\r\ns=mpa\r\n` +
        `c=IN ${ip} ${coa}\r\nt=0 0\r\nm=audio ${this.#options.mediaPort} RTP/AVP 0\r\n` +
        `a=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n`,
    );
  }

  #rejected(method: string, response: SipResponse): PortError {
    return new PortError(
      "MobilityProtocol",
      "rejected",
      `SIP ${method} rejected: ${response.status} ${response.reason}`,
    );
  }

  /**
   * Sets up the call from the current care-of address (RFC 3261 section 13.2): INVITE
   * with an audio offer (c= the CoA, m= `mediaPort`, PCMU), provisional responses,
   * 200 OK with the answer, ACK.
   *
   * @param options abort signal
   * @returns the confirmed dialog
   * @throws {PortError} `rejected` (3xx-6xx, with status and reason), `timeout`
   *   (Timer B, or no final response within 64*T1 after a provisional one),
   *   `unreachable`, `protocol` (a call is up already, or a 2xx without To tag or
   *   Contact), `aborted`
   */
  start(options: PortCallOptions = {}): Promise<SipDialogInfo> {
    return this.#queue.run(async () => {
      if (this.#dialog !== undefined) {
        throw new PortError("MobilityProtocol", "protocol", "SIP call already established");
      }
      this.#transport ??= await this.#open(this.#coa);
      const transport = this.#transport;
      const sdp = this.#offer(this.#coa);
      const localTag = newTag(this.#random);
      const id = newCallId(this.#random, this.#coa);
      const invite = sipRequest({
        method: "INVITE",
        uri: this.#options.correspondent.uri,
        via: {
          host: this.#coa,
          port: transport.local.port,
          branch: newBranch(this.#random),
          rport: true,
        },
        from: { uri: this.#options.aor, tag: localTag },
        to: { uri: this.#options.correspondent.uri },
        callId: id,
        cseq: 1,
        contact: { uri: this.#contactUri(this.#coa, transport) },
        body: encodeSdp(sdp),
        contentType: "application/sdp",
      });
      const response = await this.#invite(invite, this.#options.correspondent, transport, options);
      if (response.status >= 300) throw this.#rejected("INVITE", response);
      const remoteTag = toHeader(response).tag;
      const target = contacts(response)[0]?.uri;
      if (remoteTag === undefined || target === undefined) {
        throw new PortError(
          "MobilityProtocol",
          "protocol",
          "SIP 2xx to INVITE without To tag or Contact",
        );
      }
      const dialog: _Dialog = {
        callId: id,
        localTag,
        remoteTag,
        remoteTarget: target,
        remote: this.#targetEndpoint(target),
        localCseq: 1,
        remoteCseq: undefined,
        remoteMedia: undefined,
      };
      this.#dialog = dialog;
      this.#sdp = sdp;
      this.#answer(response);
      await this.#ack(dialog, 1, this.#coa, transport);
      _logger.info("SIP call {callId} established from {coa}", { callId: id, coa: this.#coa });
      return this.dialog()!;
    });
  }

  #targetEndpoint(uri: string): DatagramEndpoint {
    try {
      const u = parseSipUri(uri);
      if (_isIp(u.host)) {
        return { address: u.host.replace(/^\[|\]$/g, ""), port: u.port ?? 5060 };
      }
    } catch {
      // not a SIP URI with an address: fall back to where the INVITE went
    }
    return this.#options.correspondent;
  }

  #answer(response: SipResponse): void {
    if (response.body.length === 0 || this.#dialog === undefined) return;
    try {
      this.#dialog.remoteMedia = _mediaOf(decodeSdp(response.body));
    } catch (error) {
      _logger.warn("SIP answer SDP ignored: {error}", { error: String(error) });
    }
  }

  /** An INVITE client transaction that the caller's signal aborts outright (call setup). */
  #invite(
    invite: SipRequest,
    to: DatagramEndpoint,
    transport: DatagramTransport,
    options: PortCallOptions,
  ): Promise<SipResponse> {
    return this.#startInvite(invite, to, transport, options.signal).response;
  }

  /**
   * Runs an INVITE client transaction. After a provisional response it waits at most
   * 64*T1 for the final one (the INVITE transaction has no timer then, RFC 3261
   * section 17.1.1.2: the TU bounds the wait). `abandon` is the TU giving up without
   * tearing the transaction down: CANCEL once a provisional response came (section
   * 9.1: never before), then at most 64*T1 more for the 487; a 2xx still resolves.
   * `signal` aborts the transaction outright.
   */
  #startInvite(
    invite: SipRequest,
    to: DatagramEndpoint,
    transport: DatagramTransport,
    signal?: AbortSignal,
  ): _InviteRun {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    let provisional = false;
    let abandoned = false;
    let final = false;
    let cancelled = false;
    const giveUpIn = (ms: number) => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, ms);
    };
    const cancel = () => {
      if (cancelled || final) return;
      cancelled = true;
      this.#cancels++;
      const request = _cancelOf(invite);
      _logger.info("SIP CANCEL of INVITE CSeq {seq} in call {callId} (RFC 3261 section 9.1)", {
        seq: cseq(invite).seq,
        callId: callId(invite),
      });
      this.#node.request(request, to, transport).then(
        (response) => _logger.debug("SIP CANCEL answered {status}", { status: response.status }),
        (error) => _logger.warn("SIP CANCEL failed: {error}", { error: String(error) }),
      );
      giveUpIn(64 * this.#timers.t1Ms);
    };
    const onAbort = () => controller.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) controller.abort();
    const response = (async () => {
      try {
        return await this.#node.request(invite, to, transport, {
          signal: controller.signal,
          onProvisional: () => {
            if (provisional) return;
            provisional = true;
            if (abandoned) cancel();
            else giveUpIn(64 * this.#timers.t1Ms);
          },
        });
      } catch (error) {
        if (timedOut) {
          throw new PortError(
            "MobilityProtocol",
            "timeout",
            `SIP INVITE timed out: no final response ${
              64 * this.#timers.t1Ms
            } ms after a provisional one${cancelled ? " and its CANCEL" : ""}`,
          );
        }
        throw error;
      } finally {
        final = true;
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      }
    })();
    return {
      response,
      abandon: () => {
        if (abandoned) return;
        abandoned = true;
        if (provisional) cancel();
      },
    };
  }

  async #ack(
    dialog: _Dialog,
    seq: number,
    coa: string,
    transport: DatagramTransport,
  ): Promise<void> {
    // The ACK of a 2xx is sent by the UA core with a new branch (section 13.2.2.4).
    const ack = sipRequest({
      method: "ACK",
      uri: dialog.remoteTarget,
      via: { host: coa, port: transport.local.port, branch: newBranch(this.#random), rport: true },
      from: { uri: this.#options.aor, tag: dialog.localTag },
      to: { uri: this.#options.correspondent.uri, tag: dialog.remoteTag },
      callId: dialog.callId,
      cseq: seq,
    });
    this.#acks.set(seq, { bytes: ack, to: dialog.remote });
    try {
      await this.#node.send(ack, dialog.remote, transport);
    } catch (error) {
      throw _unreachable(error);
    }
  }

  #onStrayResponse(response: SipResponse, transport: DatagramTransport): void {
    const d = this.#dialog;
    const c = cseq(response);
    if (
      d === undefined || c.method !== "INVITE" || response.status < 200 || response.status >= 300 ||
      callId(response) !== d.callId
    ) return;
    const ack = this.#acks.get(c.seq);
    if (ack === undefined) return;
    this.#ackRetransmissions++;
    this.#node.send(ack.bytes, ack.to, transport).catch(() => {});
  }

  /**
   * The binding update (RFC 6252 section 7.5): REGISTER the new contact at the
   * registrar (when configured) and, in the call, a re-INVITE whose Via, Contact and
   * SDP c= are the new care-of address (o= version incremented), both sent from a
   * socket bound to that address: through the proactive handover tunnel while it is
   * up (section 6.3 step 3), directly after the switch (step 6). A 200 is
   * acknowledged; the old address's socket is closed 64*T1 after a successful move.
   *
   * A re-INVITE waits until the one before it is over (RFC 3261 section 14.1). On
   * abort the promise rejects at once; a re-INVITE already sent runs on: its 2xx is
   * acknowledged and adopted (the call moves to `coa` all the same, see
   * {@link SipMobility.idle}), and while only a provisional response came it is
   * cancelled (section 9.1).
   *
   * @param coas the care-of addresses; only the first is bound
   * @param options `signal`; `lifetimeMs` asks for a registration lifetime;
   *   `tunnel` is informational (the socket's source address selects the tunnel)
   * @returns `{ bound: [coa], lifetimeMs }`: the registration lifetime granted, or
   *   the one asked for (default 3600 s) when there is no registrar (a dialog does
   *   not expire)
   * @throws {PortError} `protocol` (empty list; no call and no registrar),
   *   `rejected` (3xx-6xx, with status and reason; the dialog keeps the old
   *   address), `timeout` (Timer B or F), `unreachable` (cannot bind the address,
   *   send failed), `aborted`
   */
  bind(coas: readonly string[], options: BindOptions = {}): Promise<BindingResult> {
    const coa = coas[0];
    if (coa === undefined) {
      return Promise.reject(
        new PortError("MobilityProtocol", "protocol", "No care-of address to bind"),
      );
    }
    const signal = options.signal;
    const aborted = () =>
      new PortError("MobilityProtocol", "aborted", "SIP binding update aborted");
    return _abortable(
      this.#queue.run(async () => {
        if (signal?.aborted) throw aborted();
        if (this.#dialog === undefined && this.#options.registrar === undefined) {
          throw new PortError(
            "MobilityProtocol",
            "protocol",
            "No SIP call and no registrar: call start() first",
          );
        }
        if (this.#inviting !== undefined) {
          // One INVITE transaction at a time in a dialog (RFC 3261 section 14.1): the
          // re-INVITE of an aborted update ends first, its 2xx acknowledged or its
          // CANCEL answered, so that the correspondent does not answer 491 or 500.
          _logger.info("SIP re-INVITE to {coa} waits for the previous INVITE transaction", {
            coa,
          });
          await _abortable(this.idle(), signal, aborted);
        }
        const old = this.#transport;
        const same = old !== undefined && old.local.address === coa;
        const transport = same ? old : this.#unretire(coa) ?? await this.#open(coa);
        const timing: { -readonly [K in keyof SipBindTiming]: SipBindTiming[K] } = { coa };
        this.#timings.push(timing);
        const move = this.#dialog === undefined
          ? undefined
          : this.#reinvite(coa, transport, timing);
        const registering = this.#options.registrar === undefined
          ? Promise.resolve(options.lifetimeMs ?? 1000 * (this.#options.registerExpiresS ?? 3600))
          : this.#register(coa, transport, options, timing);
        const both = Promise.allSettled([registering, move?.done ?? Promise.resolve()]);
        let settled;
        try {
          settled = await _abortable(both, signal, aborted);
        } catch (error) {
          if (move !== undefined) {
            // The re-INVITE left already: it runs to its end in the background (2xx
            // acknowledged and adopted, or CANCEL), and the next one waits for it.
            move.abandon();
            const background = both.then(() => this.#dropUnused(transport)).finally(() => {
              if (this.#inviting === background) this.#inviting = undefined;
            });
            this.#inviting = background;
          } else void both.then(() => this.#dropUnused(transport));
          throw error;
        }
        const [registered, moved] = settled;
        // The dialog moved (its 2xx adopted the address), or there is no dialog and the
        // registration took: the new address is the UA's from now on, even if the other
        // half failed.
        if (move === undefined && registered.status === "fulfilled") this.#adopt(coa, transport);
        await this.#dropUnused(transport);
        if (moved.status === "rejected") throw moved.reason;
        if (registered.status === "rejected") throw registered.reason;
        return { bound: [coa], lifetimeMs: registered.value };
      }),
      signal,
      aborted,
    );
  }

  /** Makes `coa` and its socket the UA's; the previous socket retires. */
  #adopt(coa: string, transport: DatagramTransport): void {
    this.#coa = coa;
    const old = this.#transport;
    if (old === transport) return;
    this.#transport = transport;
    if (old !== undefined) this.#retire(old);
  }

  /** Closes a socket opened for a move that did not take. */
  async #dropUnused(transport: DatagramTransport): Promise<void> {
    if (transport === this.#transport || this.#retiring.has(transport)) return;
    await this.#node.detach(transport).catch(() => {});
  }

  /** A retiring socket at `coa`, taken back (a move back within 64*T1). */
  #unretire(coa: string): DatagramTransport | undefined {
    for (const [transport, timer] of this.#retiring) {
      if (transport.local.address !== coa) continue;
      clearTimeout(timer);
      this.#retiring.delete(transport);
      return transport;
    }
    return undefined;
  }

  /**
   * Keeps the old address's socket for 64*T1 after a move, then closes it: late
   * responses and 2xx retransmissions still reach the UA there, and so do responses
   * of peers that answer the address a dialog started from rather than the Via (SIPp
   * as UAS does). After the switch the old address is gone anyway.
   */
  #retire(transport: DatagramTransport): void {
    const timer = setTimeout(() => {
      this.#retiring.delete(transport);
      this.#node.detach(transport).catch(() => {});
    }, 64 * this.#timers.t1Ms);
    this.#retiring.set(transport, timer);
  }

  async #register(
    coa: string,
    transport: DatagramTransport,
    options: BindOptions,
    timing: { registerSentAt?: number; registerOkAt?: number },
  ): Promise<number> {
    const registrar = this.#options.registrar!;
    const requestedS = options.lifetimeMs !== undefined
      ? Math.ceil(options.lifetimeMs / 1000)
      : this.#options.registerExpiresS ?? 3600;
    const contact = this.#contactUri(coa, transport);
    const register = sipRequest({
      method: "REGISTER",
      uri: registrar.uri ?? `sip:${_domainOf(this.#options.aor)}`,
      via: { host: coa, port: transport.local.port, branch: newBranch(this.#random), rport: true },
      from: { uri: this.#options.aor, tag: this.#registerTag },
      to: { uri: this.#options.aor },
      callId: this.#registerCallId,
      cseq: ++this.#registerCseq,
      contact: { uri: contact },
      headers: [{ name: "Expires", value: String(requestedS) }],
    });
    timing.registerSentAt = this.#now();
    const response = await this.#node.request(register, registrar, transport, options);
    if (response.status < 200 || response.status >= 300) {
      throw this.#rejected("REGISTER", response);
    }
    timing.registerOkAt = this.#now();
    this.#registers++;
    // The granted lifetime: our contact's expires parameter, else Expires (section 10.2.4).
    const mine = contacts(response).find((c) => c.uri === contact);
    const grantedS = mine?.expires ?? expires(response) ?? requestedS;
    return grantedS * 1000;
  }

  /**
   * Sends the re-INVITE that moves the dialog to `coa` (RFC 3261 section 14.1). Its
   * 2xx is adopted whether or not the caller still waits: new remote target (section
   * 12.2.1.2), SDP, care-of address and socket, then the ACK (section 13.2.2.4).
   */
  #reinvite(
    coa: string,
    transport: DatagramTransport,
    timing: { reinviteSentAt?: number; reinviteOkAt?: number },
  ): { readonly done: Promise<void>; abandon(): void } {
    const d = this.#dialog!;
    const sdp = withConnectionAddress(this.#sdp!, coa);
    const seq = ++d.localCseq;
    const invite = sipRequest({
      method: "INVITE",
      uri: d.remoteTarget,
      via: { host: coa, port: transport.local.port, branch: newBranch(this.#random), rport: true },
      from: { uri: this.#options.aor, tag: d.localTag },
      to: { uri: this.#options.correspondent.uri, tag: d.remoteTag },
      callId: d.callId,
      cseq: seq,
      contact: { uri: this.#contactUri(coa, transport) },
      body: encodeSdp(sdp),
      contentType: "application/sdp",
    });
    timing.reinviteSentAt = this.#now();
    const run = this.#startInvite(invite, d.remote, transport);
    let abandoned = false;
    const done = (async () => {
      let response: SipResponse;
      try {
        response = await run.response;
      } catch (error) {
        if (abandoned) {
          _logger.warn("SIP re-INVITE {seq} of an aborted binding update failed: {error}", {
            seq,
            error: String(error),
          });
        }
        throw error;
      }
      if (response.status >= 300) {
        if (abandoned) {
          _logger.info("SIP re-INVITE {seq} of an aborted binding update answered {status}", {
            seq,
            status: response.status,
          });
        }
        throw this.#rejected("re-INVITE", response);
      }
      if (this.#dialog !== d) {
        throw new PortError("MobilityProtocol", "aborted", "SIP call ended during the re-INVITE");
      }
      timing.reinviteOkAt = this.#now();
      this.#reinvites++;
      this.#sdp = sdp;
      // A 2xx to a re-INVITE may update the remote target (section 12.2.1.2).
      const target = contacts(response)[0]?.uri;
      if (target !== undefined) {
        d.remoteTarget = target;
        d.remote = this.#targetEndpoint(target);
      }
      this.#answer(response);
      for (const old of this.#acks.keys()) if (old < seq) this.#acks.delete(old);
      // The correspondent sends to the new address now: so is the dialog's.
      this.#adopt(coa, transport);
      await this.#ack(d, seq, coa, transport);
      if (abandoned) {
        this.#adoptedAfterAbort++;
        _logger.warn(
          "SIP re-INVITE {seq} answered 2xx after its binding update was aborted: ACKed, call {callId} is at {coa} now",
          { seq, callId: d.callId, coa },
        );
      } else {
        _logger.info("SIP re-INVITE moved call {callId} to {coa} in {ms} ms", {
          callId: d.callId,
          coa,
          ms: (timing.reinviteOkAt - timing.reinviteSentAt!).toFixed(2),
        });
      }
    })();
    return {
      done,
      abandon: () => {
        abandoned = true;
        run.abandon();
      },
    };
  }

  #onRequest(request: SipRequest, respond: (response: SipResponse) => void): void {
    const d = this.#dialog;
    const inDialog = d !== undefined && callId(request) === d.callId &&
      fromHeader(request).tag === d.remoteTag && toHeader(request).tag === d.localTag;
    const reply = (status: number, extra: { name: string; value: string }[] = []) =>
      respond(
        sipResponseTo(request, status, _reasonPhrase(status), {
          toTag: d?.localTag ?? newTag(this.#random),
          headers: extra,
        }),
      );
    const allow = { name: "Allow", value: "INVITE, ACK, BYE, OPTIONS" };
    switch (request.method) {
      case "ACK":
        return;
      case "OPTIONS":
        return reply(200, [allow, { name: "Accept", value: "application/sdp" }]);
      case "BYE": {
        if (!inDialog) return reply(481);
        const seq = cseq(request).seq;
        if (d.remoteCseq !== undefined && seq < d.remoteCseq) return reply(500);
        d.remoteCseq = seq;
        reply(200);
        this.#dialog = undefined;
        _logger.info("SIP call {callId} ended by the correspondent", { callId: d.callId });
        this.#resolveEnded("remote");
        return;
      }
      case "INVITE":
        // A re-INVITE from the correspondent: this UA only moves its own end.
        return reply(inDialog ? 488 : 481);
      default:
        return reply(405, [allow]);
    }
  }

  /**
   * Ends the call with BYE (RFC 3261 section 15.1.1; a timeout still ends it
   * locally) and closes every socket.
   *
   * @param options abort signal
   * @returns when done
   */
  async stop(options: PortCallOptions = {}): Promise<void> {
    await this.#queue.run(async () => {
      // The BYE goes from the address the correspondent knows: after a re-INVITE still
      // in progress is over (its 2xx adopted, or cancelled).
      await _abortable(this.idle(), options.signal, () => new Error("aborted")).catch(() => {});
      const d = this.#dialog;
      const transport = this.#transport;
      if (d !== undefined && transport !== undefined) {
        const bye = sipRequest({
          method: "BYE",
          uri: d.remoteTarget,
          via: {
            host: this.#coa,
            port: transport.local.port,
            branch: newBranch(this.#random),
            rport: true,
          },
          from: { uri: this.#options.aor, tag: d.localTag },
          to: { uri: this.#options.correspondent.uri, tag: d.remoteTag },
          callId: d.callId,
          cseq: ++d.localCseq,
        });
        try {
          const response = await this.#node.request(bye, d.remote, transport, options);
          if (response.status >= 300) {
            _logger.warn("SIP BYE answered {status}", { status: response.status });
          }
        } catch (error) {
          _logger.warn("SIP BYE failed: {error}", { error: String(error) });
        }
        this.#dialog = undefined;
        this.#resolveEnded("local");
      }
      for (const timer of this.#retiring.values()) clearTimeout(timer);
      this.#retiring.clear();
      await this.#node.close();
      this.#transport = undefined;
    });
  }

  /** Same as {@link SipMobility.stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
