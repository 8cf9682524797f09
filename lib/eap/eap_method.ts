/**
 * The seams between PANA and EAP (RFC 5191 carries EAP, RFC 3748, opaquely): the
 * MN's EAP peer and the AA's EAP authenticator, one instance per PANA session. PANA
 * state machines call these; EAP-PSK (RFC 4764) implements both sides locally, and a
 * RADIUS pass-through authenticator (RFC 3579) relays to an AAA server.
 *
 * Implementations do no I/O of their own except the RADIUS pass-through, which is an
 * adapter; the rest are pure apart from WebCrypto and an injected random source.
 *
 * @module
 */

/** What an EAP peer returns for one EAP packet from the authenticator. */
export type EapPeerStep =
  /** Send this EAP Response. */
  | { readonly kind: "response"; readonly eap: Uint8Array }
  /** EAP Success received: the method finished and produced these keys. */
  | { readonly kind: "success"; readonly msk: Uint8Array; readonly emsk?: Uint8Array }
  /** EAP Failure received, or the method failed (bad MAC, wrong server): why. */
  | { readonly kind: "failure"; readonly reason: string }
  /** Silently discard the packet (RFC 3748 section 2.1: duplicates, bad ids). */
  | { readonly kind: "discard"; readonly reason: string };

/** The MN side of EAP for one session (RFC 3748 peer). */
export interface EapPeer {
  /**
   * Handles one EAP packet (Request, Success or Failure) from the authenticator.
   *
   * @param eap the whole EAP packet
   * @returns what to do next
   */
  handle(eap: Uint8Array): Promise<EapPeerStep>;
}

/** What an EAP authenticator returns at each step. */
export type EapAuthStep =
  /** Send this EAP Request to the peer. */
  | { readonly kind: "request"; readonly eap: Uint8Array }
  /** Authentication succeeded: send `eap` (an EAP Success); the MSK is the peer's too. */
  | {
    readonly kind: "success";
    readonly eap: Uint8Array;
    readonly msk: Uint8Array;
    /** The peer's identity as authenticated (ID_P for EAP-PSK). */
    readonly identity: string;
  }
  /** Authentication failed: send `eap` (an EAP Failure). */
  | { readonly kind: "failure"; readonly eap: Uint8Array; readonly reason: string }
  /** Silently discard the response (wrong identifier, duplicate, malformed). */
  | { readonly kind: "discard"; readonly reason: string };

/** The AA side of EAP for one session (RFC 3748 authenticator, or a pass-through). */
export interface EapAuthenticator {
  /**
   * Starts the conversation.
   *
   * @returns the first EAP Request (normally Identity)
   */
  start(): Promise<EapAuthStep>;
  /**
   * Handles one EAP Response from the peer.
   *
   * @param eap the whole EAP packet
   * @returns the next step
   */
  handle(eap: Uint8Array): Promise<EapAuthStep>;
}

/** Creates one {@link EapAuthenticator} per PANA session. */
export interface EapAuthenticatorFactory {
  /**
   * @param session the PANA session id and the peer's transport address, for logs
   *   and for the RADIUS Calling-Station-Id
   * @returns a fresh authenticator
   */
  create(session: { readonly sessionId: number; readonly peer: string }): EapAuthenticator;
}

/** A source of random bytes, injected so the core stays deterministic in tests. */
export type RandomBytes = (length: number) => Uint8Array;
