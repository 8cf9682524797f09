/**
 * The correspondent node of SIP terminal mobility (RFC 6252 sections 7.5, C.5.1):
 * a SIP user agent server that accepts calls (INVITE, 100 Trying, 180 Ringing, 200
 * OK with its SDP answer, RFC 3261 section 13.3), retransmits the 200 until the ACK
 * arrives (section 13.3.1.4), accepts re-INVITEs (section 14.2) and BYE (section
 * 15.1.2), and is the stream source of the testbed: an RTP stream (50 packets/s,
 * PCMU) to the media address of the caller's SDP, started when the ACK confirms the
 * dialog and redirected to the new SDP c= address and m= port the moment a
 * re-INVITE is accepted, before its 200 goes out (the binding update of section 7.5).
 * With `answerDelayMs` it is a slow callee: the final response waits (after 100
 * Trying), and a CANCEL that comes first stops the INVITE: 200 to the CANCEL, 487 to
 * the INVITE (section 9.2), and a cancelled re-INVITE changes nothing.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const cn = await SipCorrespondent.listen({ listen: { address: "127.0.0.1", port: 0 } });
 * assertEquals(cn.calls(), []);
 * assertEquals(cn.stats().invites, 0);
 * await cn.close();
 * ```
 *
 * @module
 */
import { SIP_TIMERS, type SipTimers } from "../../lib/sip/client_transaction.ts";
import {
  decodeSdp,
  encodeSdp,
  sdpConnection,
  sdpMedia,
  type SessionDescription,
} from "../../lib/wire/sdp.ts";
import {
  callId,
  contacts,
  cseq,
  encodeSip,
  fromHeader,
  newBranch,
  newTag,
  type SipRequest,
  sipRequest,
  type SipResponse,
  sipResponseTo,
  toHeader,
  topVia,
} from "../../lib/wire/sip.ts";
import {
  type DatagramEndpoint,
  type DatagramTransport,
  type DatagramTransportFactory,
  udpTransport,
} from "./datagram_transport.ts";
import { RtpSender, type RtpSenderOptions } from "./rtp_stream.ts";
import { _cryptoRandom, _logger, _preciseNow, _reasonPhrase, _SipNode } from "./_sip_transport.ts";

/** A refusal the correspondent answers an INVITE with (tests, load shedding). */
export interface SipRefusal {
  /** 300 to 699 (486 Busy Here, 503 Service Unavailable, ...). */
  readonly status: number;
  /** The reason phrase; default the usual one. */
  readonly reason?: string;
}

/** The RTP stream parameters of {@link SipCorrespondentOptions.stream}. */
export type SipStreamOptions = Pick<
  RtpSenderOptions,
  "packetsPerSecond" | "payloadBytes" | "payloadType" | "timestampStep" | "maxRecords"
>;

/** Options of {@link SipCorrespondent.listen}. */
export interface SipCorrespondentOptions {
  /** The SIP address and port (port 0: ephemeral). */
  readonly listen: DatagramEndpoint;
  /** The RTP source address; default `listen.address`. */
  readonly mediaAddress?: string;
  /** The RTP source port; default 0 (ephemeral). */
  readonly mediaPort?: number;
  /** The user part of the Contact; default `cn`. */
  readonly user?: string;
  /** RTP rate and packet format; default 50 packets/s of 160-byte PCMU. */
  readonly stream?: SipStreamOptions;
  /** Send no RTP at all (signalling-only tests). */
  readonly noMedia?: boolean;
  /** Send 180 Ringing before the 200 of an initial INVITE; default true. */
  readonly ringing?: boolean;
  /**
   * How long the final response to an INVITE (initial or re-INVITE) waits after
   * 100 Trying, ms: a CANCEL can stop it meanwhile (RFC 3261 section 9.2). Default
   * 0: answered at once (and a re-INVITE without 100 Trying).
   */
  readonly answerDelayMs?: number;
  /**
   * Decides on every INVITE (initial or re-INVITE): a refusal, or `undefined` to
   * accept. Default: accept.
   */
  readonly policy?: (invite: SipRequest) => SipRefusal | undefined;
  /** Opens the SIP and media sockets; default UDP. */
  readonly transport?: DatagramTransportFactory;
  /** Random bytes (tags, SSRC); default WebCrypto. */
  readonly random?: (n: number) => Uint8Array;
  /** Timer values; default T1 500 ms, T2 4 s (RFC 3261 Table 4). */
  readonly timers?: Partial<SipTimers>;
  /** Clock, epoch ms; default `performance` based. */
  readonly now?: () => number;
  /** Called for every call event. */
  readonly onEvent?: (event: SipCorrespondentEvent) => void;
}

/** What happened to a call at the correspondent. */
export type SipCorrespondentEvent =
  /** An initial INVITE arrived. */
  | { readonly type: "invite"; readonly at: number; readonly callId: string }
  /** The ACK confirmed the dialog; the stream starts (when there is media). */
  | {
    readonly type: "established";
    readonly at: number;
    readonly callId: string;
    readonly media?: DatagramEndpoint;
  }
  /** A re-INVITE was accepted and the stream redirected (RFC 6252 section 7.5). */
  | {
    readonly type: "redirected";
    readonly at: number;
    readonly callId: string;
    readonly from?: DatagramEndpoint;
    readonly to: DatagramEndpoint;
  }
  /** A re-INVITE arrived (accepted or not). */
  | { readonly type: "reinvite"; readonly at: number; readonly callId: string }
  /** A CANCEL stopped an INVITE before its final response (487, RFC 3261 section 9.2). */
  | {
    readonly type: "cancelled";
    readonly at: number;
    readonly callId: string;
    /** Whether it was a re-INVITE (the call goes on unchanged) or the initial INVITE. */
    readonly reinvite: boolean;
  }
  /** The call ended: BYE, or no ACK for a 200 within 64*T1 (section 13.3.1.4). */
  | {
    readonly type: "ended";
    readonly at: number;
    readonly callId: string;
    readonly by: "bye" | "no-ack";
  };

/** One call at the correspondent. */
export interface SipCorrespondentCall {
  /** The Call-ID. */
  readonly callId: string;
  /** The caller's Contact, the remote target. */
  readonly remoteTarget: string;
  /** Where the stream goes now (the caller's SDP c= and m=). */
  readonly media?: DatagramEndpoint;
  /** Whether the last 200 to an INVITE was acknowledged. */
  readonly confirmed: boolean;
  /** Re-INVITEs accepted. */
  readonly reinvites: number;
}

/** Counters of a {@link SipCorrespondent}. */
export interface SipCorrespondentStats {
  /** Initial INVITEs received. */
  readonly invites: number;
  /** Re-INVITEs received. */
  readonly reinvites: number;
  /** INVITEs refused by the policy. */
  readonly refused: number;
  /** ACKs of 2xx received. */
  readonly acks: number;
  /** BYEs received in a dialog. */
  readonly byes: number;
  /** CANCELs received. */
  readonly cancels: number;
  /** INVITEs answered 487 because a CANCEL came first (RFC 3261 section 9.2). */
  readonly cancelled: number;
  /** 200 OK retransmissions while waiting for the ACK (RFC 3261 section 13.3.1.4). */
  readonly okRetransmissions: number;
  /** Retransmitted requests answered again from the server transaction. */
  readonly requestRetransmissionsAnswered: number;
  /** Datagrams that did not decode as SIP (dropped). */
  readonly malformed: number;
}

/** Sends a response to the request being handled. */
type _Reply = (
  status: number,
  tag: string | undefined,
  extra?: {
    readonly body?: Uint8Array;
    readonly headers?: { name: string; value: string }[];
    readonly reason?: string;
  },
) => SipResponse;

interface _Call {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string | undefined;
  remoteTarget: string;
  remoteCseq: number;
  media: DatagramEndpoint | undefined;
  stream: RtpSender | undefined;
  /** The unacknowledged 200 and its retransmission timer. */
  pending:
    | {
      seq: number;
      bytes: Uint8Array;
      to: DatagramEndpoint;
      transport: DatagramTransport;
      timer: ReturnType<typeof setTimeout> | undefined;
      interval: number;
      giveUpAt: number;
      /** Media from an offer in the ACK (offerless re-INVITE). */
      offerInAck: boolean;
    }
    | undefined;
  confirmed: boolean;
  reinvites: number;
  ended: boolean;
  /** The INVITE received and not answered yet (`answerDelayMs`). */
  unanswered: _Invite | undefined;
}

/** An INVITE server transaction the core may still answer, for CANCEL (section 9.2). */
interface _Invite {
  readonly call: _Call;
  readonly initial: boolean;
  /** Answers the INVITE (its server transaction keeps the response). */
  readonly reply: _Reply;
  timer: ReturnType<typeof setTimeout> | undefined;
  answered: boolean;
  /** Until when a CANCEL still matches it (64*T1). */
  readonly until: number;
}

function _mediaOf(sdp: SessionDescription): DatagramEndpoint | undefined {
  const media = sdpMedia(sdp);
  const i = media.findIndex((m) => m.media === "audio");
  if (i < 0) return undefined;
  const c = sdpConnection(sdp, i);
  if (c === undefined) return undefined;
  return { address: c.address, port: media[i]!.port };
}

function _sameEndpoint(a: DatagramEndpoint | undefined, b: DatagramEndpoint | undefined): boolean {
  return a?.address === b?.address && a?.port === b?.port;
}

/** The correspondent: a SIP UAS and RTP stream source. */
export class SipCorrespondent {
  readonly #options: SipCorrespondentOptions;
  readonly #timers: SipTimers;
  readonly #random: (n: number) => Uint8Array;
  readonly #now: () => number;
  readonly #node: _SipNode;
  readonly #calls = new Map<string, _Call>();
  /** INVITE server transactions by branch, for CANCEL matching (section 9.2). */
  readonly #invites = new Map<string, _Invite>();
  readonly #events: SipCorrespondentEvent[] = [];
  readonly #waiters = new Set<() => void>();
  #sip!: DatagramTransport;
  #media: DatagramTransport | undefined;
  #sessionId: string;
  #stats = {
    invites: 0,
    reinvites: 0,
    refused: 0,
    acks: 0,
    byes: 0,
    cancels: 0,
    cancelled: 0,
    okRetransmissions: 0,
  };

  private constructor(options: SipCorrespondentOptions) {
    this.#options = options;
    this.#timers = { ...SIP_TIMERS, ...options.timers };
    this.#random = options.random ?? _cryptoRandom;
    this.#now = options.now ?? _preciseNow;
    const r = this.#random(4);
    this.#sessionId = String(((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0);
    this.#node = new _SipNode({
      timers: this.#timers,
      now: this.#now,
      port: "MobilityProtocol",
      onRequest: (request, from, transport, respond) =>
        this.#onRequest(request, from, transport, respond),
    });
  }

  /**
   * Opens the SIP socket (and the media socket unless `noMedia`) and starts
   * answering.
   *
   * @param options addresses, stream format, policy, timers
   * @returns the running correspondent
   * @throws the bind error (EADDRINUSE, EADDRNOTAVAIL)
   */
  static async listen(options: SipCorrespondentOptions): Promise<SipCorrespondent> {
    const cn = new SipCorrespondent(options);
    const factory = options.transport ?? udpTransport;
    cn.#sip = await factory(options.listen);
    cn.#node.attach(cn.#sip);
    if (options.noMedia !== true) {
      try {
        cn.#media = await factory({
          address: options.mediaAddress ?? options.listen.address,
          port: options.mediaPort ?? 0,
        });
      } catch (error) {
        await cn.#node.close();
        throw error;
      }
    }
    return cn;
  }

  /** The SIP address and port. */
  get local(): DatagramEndpoint {
    return this.#sip.local;
  }

  /** The RTP source address and port, unless `noMedia`. */
  get mediaLocal(): DatagramEndpoint | undefined {
    return this.#media?.local;
  }

  /**
   * The calls in progress (ended ones are dropped).
   *
   * @returns one entry per dialog
   */
  calls(): SipCorrespondentCall[] {
    return [...this.#calls.values()].map((c) => {
      const out: { -readonly [K in keyof SipCorrespondentCall]: SipCorrespondentCall[K] } = {
        callId: c.callId,
        remoteTarget: c.remoteTarget,
        confirmed: c.confirmed,
        reinvites: c.reinvites,
      };
      if (c.media !== undefined) out.media = c.media;
      return out;
    });
  }

  /**
   * The RTP sender of a call (the only or first one when no Call-ID is given).
   *
   * @param id the Call-ID
   * @returns the sender, once the call has media
   */
  stream(id?: string): RtpSender | undefined {
    const call = id === undefined ? this.#calls.values().next().value : this.#calls.get(id);
    return call?.stream;
  }

  /**
   * Every event so far.
   *
   * @returns the events, oldest first
   */
  events(): readonly SipCorrespondentEvent[] {
    return this.#events;
  }

  /**
   * Resolves with the first event (past or future) that satisfies `predicate`.
   *
   * @param predicate the condition
   * @returns the event
   */
  waitForEvent(
    predicate: (event: SipCorrespondentEvent) => boolean,
  ): Promise<SipCorrespondentEvent> {
    return new Promise((resolve) => {
      const check = () => {
        const e = this.#events.find(predicate);
        if (e !== undefined) {
          this.#waiters.delete(check);
          resolve(e);
        }
      };
      this.#waiters.add(check);
      check();
    });
  }

  /**
   * The counters.
   *
   * @returns INVITEs, re-INVITEs, ACKs, BYEs, 200 retransmissions, malformed drops
   */
  stats(): SipCorrespondentStats {
    return {
      ...this.#stats,
      requestRetransmissionsAnswered: this.#node.stats.requestRetransmissionsAnswered,
      malformed: this.#node.stats.malformed,
    };
  }

  #emit(event: SipCorrespondentEvent): void {
    this.#events.push(event);
    try {
      this.#options.onEvent?.(event);
    } catch (error) {
      _logger.warn("SIP correspondent event handler threw: {error}", { error: String(error) });
    }
    for (const wake of [...this.#waiters]) wake();
  }

  #answerSdp(): Uint8Array {
    const address = this.#media?.local.address ?? this.#options.listen.address;
    const port = this.#media?.local.port ?? 0;
    const ip = address.includes(":") ? "IP6" : "IP4";
    return encodeSdp(decodeSdp(
      `v=0\r\no=${this.#options.user ?? "cn"} ${this.#sessionId} 1 IN ${ip} ${address}\r\n` +
        `s=mpa\r\nc=IN ${ip} ${address}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\n` +
        `a=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n`,
    ));
  }

  #contact(): string {
    const a = this.#sip.local.address;
    const host = a.includes(":") ? `[${a}]` : a;
    return `<sip:${this.#options.user ?? "cn"}@${host}:${this.#sip.local.port}>`;
  }

  #onRequest(
    request: SipRequest,
    from: DatagramEndpoint,
    transport: DatagramTransport,
    respond: (response: SipResponse) => void,
  ): void {
    const id = callId(request);
    const call = this.#calls.get(id);
    const reply: _Reply = (status, tag, extra = {}) => {
      const options: Parameters<typeof sipResponseTo>[3] = {
        toTag: tag ?? newTag(this.#random),
        headers: extra.headers ?? [],
        ...(extra.body === undefined ? {} : { body: extra.body, contentType: "application/sdp" }),
      };
      const response = sipResponseTo(
        request,
        status,
        extra.reason ?? _reasonPhrase(status),
        options,
      );
      respond(response);
      return response;
    };
    switch (request.method) {
      case "INVITE":
        if (call === undefined) {
          if (toHeader(request).tag !== undefined) return void reply(481, undefined);
          return this.#onInvite(request, from, transport, reply);
        }
        return this.#onReinvite(call, request, from, transport, reply);
      case "ACK":
        if (call !== undefined) this.#onAck(call, request);
        return;
      case "BYE": {
        if (call === undefined || toHeader(request).tag !== call.localTag) {
          return void reply(481, undefined);
        }
        this.#stats.byes++;
        reply(200, call.localTag);
        this.#end(call, "bye");
        return;
      }
      case "CANCEL":
        return this.#onCancel(request, reply);
      case "OPTIONS":
        return void reply(200, call?.localTag, {
          headers: [{ name: "Allow", value: "INVITE, ACK, BYE, CANCEL, OPTIONS" }],
        });
      default:
        return void reply(405, call?.localTag, {
          headers: [{ name: "Allow", value: "INVITE, ACK, BYE, CANCEL, OPTIONS" }],
        });
    }
  }

  #offerOf(request: SipRequest): SessionDescription | undefined | "bad" {
    if (request.body.length === 0) return undefined;
    try {
      return decodeSdp(request.body);
    } catch {
      return "bad";
    }
  }

  #onInvite(
    request: SipRequest,
    from: DatagramEndpoint,
    transport: DatagramTransport,
    reply: _Reply,
  ): void {
    const id = callId(request);
    this.#stats.invites++;
    this.#emit({ type: "invite", at: this.#now(), callId: id });
    reply(100, undefined);
    const localTag = newTag(this.#random);
    const refusal = this.#options.policy?.(request);
    if (refusal !== undefined) {
      this.#stats.refused++;
      return void this.#refuse(refusal, localTag, reply);
    }
    const offer = this.#offerOf(request);
    if (offer === "bad") return void reply(488, localTag);
    const contact = contacts(request)[0]?.uri;
    const call: _Call = {
      callId: id,
      localTag,
      remoteTag: fromHeader(request).tag,
      remoteTarget: contact ?? fromHeader(request).uri,
      remoteCseq: cseq(request).seq,
      media: offer === undefined ? undefined : _mediaOf(offer),
      stream: undefined,
      pending: undefined,
      confirmed: false,
      reinvites: 0,
      ended: false,
      unanswered: undefined,
    };
    this.#calls.set(id, call);
    if (this.#options.ringing !== false) reply(180, localTag);
    this.#answer(request, call, true, reply, () => {
      const ok = reply(200, localTag, {
        body: this.#answerSdp(),
        headers: [{ name: "Contact", value: this.#contact() }],
      });
      this.#awaitAck(call, ok, from, transport, offer === undefined);
    });
  }

  /**
   * Answers an INVITE now, or after `answerDelayMs` unless a CANCEL comes first; the
   * transaction is kept for CANCEL matching for 64*T1 either way (section 9.2).
   */
  #answer(
    request: SipRequest,
    call: _Call,
    initial: boolean,
    reply: _Reply,
    accept: () => void,
  ): void {
    const now = this.#now();
    for (const [b, t] of this.#invites) if (t.until <= now) this.#invites.delete(b);
    const entry: _Invite = {
      call,
      initial,
      reply,
      timer: undefined,
      answered: false,
      until: now + 64 * this.#timers.t1Ms,
    };
    const branch = topVia(request).branch;
    if (branch !== undefined) this.#invites.set(branch, entry);
    const delay = this.#options.answerDelayMs ?? 0;
    const fire = () => {
      if (entry.answered || call.ended) return;
      entry.answered = true;
      entry.timer = undefined;
      if (call.unanswered === entry) call.unanswered = undefined;
      accept();
    };
    if (delay <= 0) return fire();
    call.unanswered = entry;
    entry.timer = setTimeout(fire, delay);
  }

  /** CANCEL (RFC 3261 section 9.2): 200 to it; 487 to its INVITE when not answered yet. */
  #onCancel(request: SipRequest, reply: _Reply): void {
    this.#stats.cancels++;
    const branch = topVia(request).branch;
    const entry = branch === undefined ? undefined : this.#invites.get(branch);
    if (entry === undefined || callId(request) !== entry.call.callId) {
      return void reply(481, undefined);
    }
    const call = entry.call;
    reply(200, call.localTag);
    // Answered already: the CANCEL has no effect on the INVITE or the session.
    if (entry.answered) return;
    entry.answered = true;
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.timer = undefined;
    if (call.unanswered === entry) call.unanswered = undefined;
    entry.reply(487, call.localTag);
    this.#stats.cancelled++;
    _logger.info("SIP correspondent: {what} of call {callId} cancelled (487)", {
      what: entry.initial ? "INVITE" : "re-INVITE",
      callId: call.callId,
    });
    if (entry.initial) {
      call.ended = true;
      this.#calls.delete(call.callId);
    }
    this.#emit({
      type: "cancelled",
      at: this.#now(),
      callId: call.callId,
      reinvite: !entry.initial,
    });
  }

  #refuse(refusal: SipRefusal, tag: string, reply: _Reply): void {
    reply(refusal.status, tag, refusal.reason === undefined ? {} : { reason: refusal.reason });
  }

  #onReinvite(
    call: _Call,
    request: SipRequest,
    from: DatagramEndpoint,
    transport: DatagramTransport,
    reply: _Reply,
  ): void {
    const seq = cseq(request).seq;
    if (toHeader(request).tag !== call.localTag) return void reply(481, undefined);
    // Requests out of order in the dialog (RFC 3261 section 12.2.2).
    if (seq <= call.remoteCseq) return void reply(500, call.localTag);
    // An INVITE while the previous 200 is unacknowledged, or before the previous
    // INVITE was answered (RFC 3261 section 14.2).
    if (call.pending !== undefined || call.unanswered !== undefined) {
      return void reply(500, call.localTag, { headers: [{ name: "Retry-After", value: "1" }] });
    }
    call.remoteCseq = seq;
    this.#stats.reinvites++;
    const at = this.#now();
    this.#emit({ type: "reinvite", at, callId: call.callId });
    const refusal = this.#options.policy?.(request);
    if (refusal !== undefined) {
      this.#stats.refused++;
      return void this.#refuse(refusal, call.localTag, reply);
    }
    const offer = this.#offerOf(request);
    if (offer === "bad") return void reply(488, call.localTag);
    if ((this.#options.answerDelayMs ?? 0) > 0) reply(100, undefined);
    this.#answer(request, call, false, reply, () => {
      const contact = contacts(request)[0]?.uri;
      if (contact !== undefined) call.remoteTarget = contact;
      call.reinvites++;
      // Redirect first, then answer: the stream moves the moment the re-INVITE is
      // accepted (RFC 6252 section 7.5), not when the ACK arrives.
      if (offer !== undefined) this.#redirect(call, _mediaOf(offer));
      const ok = reply(200, call.localTag, {
        body: this.#answerSdp(),
        headers: [{ name: "Contact", value: this.#contact() }],
      });
      this.#awaitAck(call, ok, from, transport, offer === undefined);
    });
  }

  #redirect(call: _Call, media: DatagramEndpoint | undefined): void {
    if (media === undefined || _sameEndpoint(media, call.media)) return;
    const from = call.media;
    call.media = media;
    if (media.port !== 0) call.stream?.retarget(media.address, media.port);
    else call.stream?.stop(); // port 0: the stream is put on hold (RFC 3264 section 8.2)
    const event: { -readonly [K in "type" | "at" | "callId" | "to" | "from"]?: unknown } = {
      type: "redirected",
      at: this.#now(),
      callId: call.callId,
      to: media,
    };
    if (from !== undefined) event.from = from;
    _logger.info("SIP correspondent redirected call {callId} to {to}", {
      callId: call.callId,
      to: `${media.address}:${media.port}`,
    });
    this.#emit(event as SipCorrespondentEvent);
  }

  /** Retransmits the 200 from T1 doubling to T2 until the ACK (RFC 3261 section 13.3.1.4). */
  #awaitAck(
    call: _Call,
    ok: SipResponse,
    to: DatagramEndpoint,
    transport: DatagramTransport,
    offerInAck: boolean,
  ): void {
    const pending: NonNullable<_Call["pending"]> = {
      seq: cseq(ok).seq,
      bytes: encodeSip(ok),
      to,
      transport,
      timer: undefined,
      interval: this.#timers.t1Ms,
      giveUpAt: this.#now() + 64 * this.#timers.t1Ms,
      offerInAck,
    };
    call.pending = pending;
    const fire = () => {
      if (call.pending !== pending) return;
      if (this.#now() >= pending.giveUpAt) {
        call.pending = undefined;
        _logger.warn("SIP correspondent got no ACK for call {callId}: ending it", {
          callId: call.callId,
        });
        this.#byeAndEnd(call, transport);
        return;
      }
      this.#stats.okRetransmissions++;
      transport.send(pending.bytes, to).catch(() => {});
      pending.interval = Math.min(2 * pending.interval, this.#timers.t2Ms);
      pending.timer = setTimeout(
        fire,
        Math.min(pending.interval, Math.max(0, pending.giveUpAt - this.#now())),
      );
    };
    pending.timer = setTimeout(fire, pending.interval);
  }

  #onAck(call: _Call, ack: SipRequest): void {
    const pending = call.pending;
    if (pending === undefined || cseq(ack).seq !== pending.seq) return;
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    call.pending = undefined;
    this.#stats.acks++;
    if (pending.offerInAck) {
      const offer = this.#offerOf(ack);
      if (offer !== undefined && offer !== "bad") this.#redirect(call, _mediaOf(offer));
    }
    if (!call.confirmed) {
      call.confirmed = true;
      this.#startStream(call);
      const event: { type: "established"; at: number; callId: string; media?: DatagramEndpoint } = {
        type: "established",
        at: this.#now(),
        callId: call.callId,
      };
      if (call.media !== undefined) event.media = call.media;
      this.#emit(event);
    }
  }

  #startStream(call: _Call): void {
    if (this.#media === undefined || call.media === undefined || call.media.port === 0) return;
    const options: RtpSenderOptions = {
      ...this.#options.stream,
      transport: this.#media,
      target: call.media,
      random: this.#random,
      now: this.#now,
    };
    call.stream = new RtpSender(options);
    call.stream.start();
  }

  #byeAndEnd(call: _Call, transport: DatagramTransport): void {
    const host = transport.local.address;
    const bye = sipRequest({
      method: "BYE",
      uri: call.remoteTarget,
      via: { host, port: transport.local.port, branch: newBranch(this.#random), rport: true },
      from: { uri: `sip:${this.#options.user ?? "cn"}@${host}`, tag: call.localTag },
      to: {
        uri: call.remoteTarget,
        ...(call.remoteTag === undefined ? {} : { tag: call.remoteTag }),
      },
      callId: call.callId,
      cseq: 1,
    });
    const to = call.pending?.to ?? _targetOf(call.remoteTarget);
    if (to !== undefined) {
      this.#node.request(bye, to, transport).catch(() => {});
    }
    this.#end(call, "no-ack");
  }

  #end(call: _Call, by: "bye" | "no-ack"): void {
    if (call.ended) return;
    call.ended = true;
    call.stream?.stop();
    const unanswered = call.unanswered;
    call.unanswered = undefined;
    if (unanswered !== undefined && !unanswered.answered) {
      // A BYE ends the INVITE still pending with 487 (RFC 3261 section 15.1.2).
      unanswered.answered = true;
      if (unanswered.timer !== undefined) clearTimeout(unanswered.timer);
      unanswered.reply(487, call.localTag);
    }
    if (call.pending?.timer !== undefined) clearTimeout(call.pending.timer);
    call.pending = undefined;
    this.#calls.delete(call.callId);
    this.#emit({ type: "ended", at: this.#now(), callId: call.callId, by });
  }

  /**
   * Stops every stream and closes the sockets (calls are dropped without BYE).
   *
   * @returns when closed
   */
  async close(): Promise<void> {
    for (const invite of this.#invites.values()) {
      if (invite.timer !== undefined) clearTimeout(invite.timer);
    }
    this.#invites.clear();
    for (const call of [...this.#calls.values()]) {
      call.stream?.stop();
      if (call.pending?.timer !== undefined) clearTimeout(call.pending.timer);
      call.pending = undefined;
    }
    this.#calls.clear();
    await this.#node.close();
    await this.#media?.close();
  }

  /** Same as {@link SipCorrespondent.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function _targetOf(uri: string): DatagramEndpoint | undefined {
  const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>]+)(?::([0-9]+))?/.exec(uri);
  if (m === null) return undefined;
  return { address: m[1]!.replace(/^\[|\]$/g, ""), port: m[2] === undefined ? 5060 : Number(m[2]) };
}
