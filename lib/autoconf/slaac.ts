/**
 * IPv6 stateless address autoconfiguration (RFC 4862) as pure functions: interface
 * identifiers (modified EUI-64 from a MAC, RFC 4291 Appendix A; or stable and opaque,
 * RFC 7217 section 5, with HMAC-SHA-256 as the pseudorandom function), and the
 * addresses and lifetimes formed from the Prefix Information options of a Router
 * Advertisement (RFC 4862 section 5.5.3).
 *
 * RFC 6252 section 7.3.4 has the mobile node form its nCoA this way from the CTN
 * router's RA received over the proactive handover tunnel, then, after the move,
 * compare the prefix of the RA seen on the new link with that of the nCoA
 * ({@linkcode raConfirmsAddress}) to skip address acquisition.
 *
 * Times are milliseconds on the caller's clock (`now`); lifetimes of all one bits
 * ({@linkcode INFINITE_LIFETIME}) become `Infinity`.
 *
 * @module
 */
import { ConfigError, MalformedMessageError } from "../errors.ts";
import { formatIpv6Address, parseIpv6Address } from "../wire/ip_header.ts";
import {
  INFINITE_LIFETIME,
  optionsOf,
  type PrefixInformation,
  type RouterAdvertisement,
} from "../wire/icmpv6.ts";

/** Length of an interface identifier for SLAAC on Ethernet-like links, bits (RFC 2464 section 4). */
export const IID_BITS = 64;

/** The two-hour rule of RFC 4862 section 5.5.3 (e), ms. */
export const TWO_HOURS_MS = 2 * 60 * 60 * 1000;

/**
 * The modified EUI-64 interface identifier of a 48-bit MAC address (RFC 4291 Appendix
 * A, RFC 2464 section 4): `ff:fe` inserted in the middle and the universal/local bit
 * inverted.
 *
 * @param mac 6 bytes, or text `02:00:5e:10:00:01` (`:` or `-` separated)
 * @returns 8 bytes
 * @throws {MalformedMessageError} on anything but 6 bytes / 6 hex pairs
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { hex } from "../wire/_bytes.ts";
 * assertEquals(hex(modifiedEui64("00:1b:21:3a:4c:5d")), "021b21fffe3a4c5d");
 * assertEquals(hex(modifiedEui64("02:00:00:00:00:0b")), "000000fffe00000b");
 * ```
 */
export function modifiedEui64(mac: Uint8Array | string): Uint8Array {
  const m = typeof mac === "string" ? parseMacAddress(mac) : mac;
  if (m.length !== 6) {
    throw new MalformedMessageError(`Invalid MAC address: ${m.length} bytes, not 6`);
  }
  return new Uint8Array([m[0]! ^ 0x02, m[1]!, m[2]!, 0xff, 0xfe, m[3]!, m[4]!, m[5]!]);
}

/**
 * Parses a 48-bit MAC address in the usual text form.
 *
 * @param text six hex pairs separated by `:` or `-`
 * @returns 6 bytes
 * @throws {MalformedMessageError} on anything else
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * assertEquals(parseMacAddress("02-00-5E-10-00-01"), new Uint8Array([2, 0, 0x5e, 0x10, 0, 1]));
 * ```
 */
export function parseMacAddress(text: string): Uint8Array {
  if (!/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/.test(text)) {
    throw new MalformedMessageError(`Invalid MAC address: ${JSON.stringify(text)}`);
  }
  return new Uint8Array(text.split(/[:-]/).map((h) => parseInt(h, 16)));
}

/** Inputs of {@linkcode stableInterfaceId} (RFC 7217 section 5). */
export interface StableInterfaceIdOptions {
  /** `secret_key`: at least 16 bytes, random, kept by the node (RFC 7217 section 5). */
  readonly secret: Uint8Array;
  /** `Prefix`: the /64 the address is formed in, text (`2001:db8:1::`). */
  readonly prefix: string;
  /** `Net_Iface`: a stable name of the interface (`wlan0`). */
  readonly netIface: string;
  /** `Network_ID`: optional network name (an SSID); empty when omitted. */
  readonly networkId?: string;
  /** `DAD_Counter`: 0, then incremented after each DAD failure (section 6); 0 to 255. */
  readonly dadCounter?: number;
}

/**
 * A stable, semantically opaque interface identifier (RFC 7217 section 5): the
 * leftmost 64 bits of `HMAC-SHA-256(secret, Prefix | Net_Iface | Network_ID |
 * DAD_Counter)`. The message is the prefix's first 8 bytes, then Net_Iface and
 * Network_ID each as a length byte and UTF-8, then DAD_Counter as one byte. An
 * identifier reserved by RFC 5453 is never returned: the next DAD_Counter is tried
 * instead (section 5, "IDGEN").
 *
 * @param options secret, prefix, interface, network id and DAD counter
 * @returns 8 bytes
 * @throws {ConfigError} on a secret under 16 bytes or a DAD counter out of range
 * @throws {MalformedMessageError} on bad prefix text
 *
 * @example
 * ```ts
 * import { assertEquals, assertNotEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const secret = new Uint8Array(16).fill(7);
 * const a = await stableInterfaceId({ secret, prefix: "2001:db8:1::", netIface: "wlan0" });
 * const b = await stableInterfaceId({ secret, prefix: "2001:db8:1::", netIface: "wlan0" });
 * const c = await stableInterfaceId({ secret, prefix: "2001:db8:2::", netIface: "wlan0" });
 * assertEquals(a, b); // stable within a network
 * assertNotEquals(a, c); // different in another
 * ```
 */
export async function stableInterfaceId(options: StableInterfaceIdOptions): Promise<Uint8Array> {
  if (options.secret.length < 16) {
    throw new ConfigError(
      "secret",
      `Invalid RFC 7217 secret: ${options.secret.length} bytes, at least 16 needed`,
    );
  }
  const start = options.dadCounter ?? 0;
  if (!Number.isInteger(start) || start < 0 || start > 255) {
    throw new ConfigError("dadCounter", `Invalid RFC 7217 DAD_Counter: ${start}`);
  }
  const prefix = parseIpv6Address(options.prefix).subarray(0, 8);
  const iface = new TextEncoder().encode(options.netIface);
  const network = new TextEncoder().encode(options.networkId ?? "");
  if (iface.length > 255 || network.length > 255) {
    throw new ConfigError(
      "netIface",
      "Invalid RFC 7217 input: Net_Iface or Network_ID over 255 bytes",
    );
  }
  const key = await crypto.subtle.importKey(
    "raw",
    options.secret as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const message = new Uint8Array(8 + 1 + iface.length + 1 + network.length + 1);
  message.set(prefix, 0);
  message[8] = iface.length;
  message.set(iface, 9);
  message[9 + iface.length] = network.length;
  message.set(network, 10 + iface.length);
  for (let counter = start; counter <= 255; counter++) {
    message[message.length - 1] = counter;
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
    const iid = mac.slice(0, 8);
    if (!isReservedInterfaceId(iid)) return iid;
  }
  // 256 reserved identifiers in a row: probability about 2^-2048.
  throw new ConfigError("secret", "Invalid RFC 7217 input: every DAD_Counter gave a reserved IID");
}

/**
 * Whether an interface identifier is reserved (RFC 5453 section 3): the Subnet-Router
 * anycast identifier (all zeros), `0200:5eff:fe00:0000` to `0200:5eff:feff:ffff`
 * (IANA's Ethernet block, including the Proxy Mobile IPv6 one), and the reserved
 * subnet anycast identifiers `fdff:ffff:ffff:ff80` to `fdff:ffff:ffff:ffff`.
 *
 * @param iid 8 bytes
 * @returns true when SLAAC must not use it
 *
 * @example
 * ```ts
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 * assert(isReservedInterfaceId(new Uint8Array(8)));
 * assert(!isReservedInterfaceId(new Uint8Array([0, 0, 0, 0xff, 0xfe, 0, 0, 0x0b])));
 * ```
 */
export function isReservedInterfaceId(iid: Uint8Array): boolean {
  if (iid.every((b) => b === 0)) return true;
  if (iid[0] === 0x02 && iid[1] === 0x00 && iid[2] === 0x5e && iid[3] === 0xff && iid[4] === 0xfe) {
    return true;
  }
  return iid[0] === 0xfd && iid[1] === 0xff && iid[2] === 0xff && iid[3] === 0xff &&
    iid[4] === 0xff && iid[5] === 0xff && iid[6] === 0xff && iid[7]! >= 0x80;
}

/**
 * An address formed from a /64 prefix and a 64-bit interface identifier (RFC 4862
 * section 5.5.3 (d), RFC 4291 section 2.5.1).
 *
 * @param prefix the prefix, text; its last 64 bits are ignored
 * @param iid 8 bytes
 * @returns the address, RFC 5952 text
 * @throws {MalformedMessageError} on bad prefix text or an identifier that is not 8 bytes
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const iid = new Uint8Array([0, 0, 0, 0xff, 0xfe, 0, 0, 0x0b]);
 * assertEquals(interfaceAddress("2001:db8:1::", iid), "2001:db8:1::ff:fe00:b");
 * ```
 */
export function interfaceAddress(prefix: string, iid: Uint8Array): string {
  if (iid.length !== 8) {
    throw new MalformedMessageError(`Invalid interface identifier: ${iid.length} bytes, not 8`);
  }
  const a = parseIpv6Address(prefix);
  a.set(iid, 8);
  return formatIpv6Address(a);
}

/** An address formed by SLAAC, with its lifetimes (RFC 4862 section 5.5.3). */
export interface SlaacAddress {
  /** The address, RFC 5952 text. */
  readonly address: string;
  /** The prefix it was formed from, text (`2001:db8:1::`). */
  readonly prefix: string;
  /** Always 64 here (RFC 4862 section 5.5.3 (d) with a 64-bit identifier). */
  readonly prefixLength: number;
  /** L flag of the prefix: on-link (RFC 4861 section 4.6.2). */
  readonly onLink: boolean;
  /** When the address becomes invalid, ms; `Infinity` for an infinite lifetime. */
  readonly validUntil: number;
  /** When the address becomes deprecated, ms; `Infinity` for an infinite lifetime. */
  readonly preferredUntil: number;
}

/** What a Router Advertisement configures, as computed by {@linkcode slaacFromRa}. */
export interface SlaacConfig {
  /** Addresses formed, one per usable Prefix Information option, in RA order. */
  readonly addresses: readonly SlaacAddress[];
  /** Prefix Information options ignored, with the RFC 4862 reason. */
  readonly ignored: readonly { readonly prefix: string; readonly reason: string }[];
  /** When the sender stops being a default router, ms; `now` when Router Lifetime is 0. */
  readonly defaultRouterUntil: number;
  /** The link MTU from the MTU option, when present (RFC 4861 section 4.6.4). */
  readonly mtu?: number;
  /** DNS servers of the RDNSS options with a lifetime above 0 (RFC 8106 section 5.1). */
  readonly dns: readonly string[];
  /** The M and O flags: DHCPv6 is available for addresses / other configuration. */
  readonly managed: boolean;
  /** O flag. */
  readonly other: boolean;
}

/**
 * Forms addresses from a Router Advertisement (RFC 4862 section 5.5.3): for each
 * Prefix Information option with the A flag, unless its prefix is link-local (b), its
 * preferred lifetime exceeds its valid lifetime (c), its length plus the 64-bit
 * identifier is not 128 (d), or its valid lifetime is 0 (d), the address is prefix +
 * `iid`, valid and preferred from `now` for the advertised lifetimes. Also reports the
 * default-router lifetime, MTU and RDNSS servers of the RA.
 *
 * This is the formation of a new address; for an address already configured from the
 * same prefix, use {@linkcode refreshSlaacAddress} (section 5.5.3 (e)).
 *
 * @param ra the decoded Router Advertisement
 * @param iid the 64-bit interface identifier (8 bytes)
 * @param now the current time, ms
 * @returns the addresses and the RA's other configuration
 * @throws {MalformedMessageError} when `iid` is not 8 bytes
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const ra = {
 *   kind: "router-advertisement", curHopLimit: 64, managed: false, other: false,
 *   routerLifetime: 1800, reachableTime: 0, retransTimer: 0,
 *   options: [{ kind: "prefix-information", prefixLength: 64, onLink: true, autonomous: true,
 *     validLifetime: 600, preferredLifetime: 300, prefix: "2001:db8:1::" }],
 * } as const;
 * const cfg = slaacFromRa(ra, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1]), 1000);
 * assertEquals(cfg.addresses[0]?.address, "2001:db8:1::1");
 * assertEquals(cfg.addresses[0]?.validUntil, 601_000);
 * assertEquals(cfg.addresses[0]?.preferredUntil, 301_000);
 * ```
 */
export function slaacFromRa(ra: RouterAdvertisement, iid: Uint8Array, now: number): SlaacConfig {
  if (iid.length !== 8) {
    throw new MalformedMessageError(`Invalid interface identifier: ${iid.length} bytes, not 8`);
  }
  const addresses: SlaacAddress[] = [];
  const ignored: { prefix: string; reason: string }[] = [];
  for (const pio of optionsOf(ra, "prefix-information")) {
    const reason = _unusable(pio);
    if (reason !== undefined) {
      ignored.push({ prefix: `${pio.prefix}/${pio.prefixLength}`, reason });
      continue;
    }
    addresses.push({
      address: interfaceAddress(pio.prefix, iid),
      prefix: pio.prefix,
      prefixLength: pio.prefixLength,
      onLink: pio.onLink,
      validUntil: _until(now, pio.validLifetime),
      preferredUntil: _until(now, pio.preferredLifetime),
    });
  }
  const mtu = optionsOf(ra, "mtu")[0]?.mtu;
  const dns = optionsOf(ra, "rdnss").filter((o) => o.lifetime > 0).flatMap((o) => o.servers);
  return {
    addresses,
    ignored,
    defaultRouterUntil: now + ra.routerLifetime * 1000,
    ...(mtu === undefined ? {} : { mtu }),
    dns,
    managed: ra.managed,
    other: ra.other,
  };
}

function _unusable(pio: PrefixInformation): string | undefined {
  if (!pio.autonomous) return "A flag not set (RFC 4862 section 5.5.3 a)";
  if (
    parseIpv6Address(pio.prefix)[0] === 0xfe && (parseIpv6Address(pio.prefix)[1]! & 0xc0) === 0x80
  ) {
    return "link-local prefix (RFC 4862 section 5.5.3 b)";
  }
  if (pio.preferredLifetime > pio.validLifetime) {
    return "preferred lifetime above valid lifetime (RFC 4862 section 5.5.3 c)";
  }
  if (pio.prefixLength + IID_BITS !== 128) {
    return `prefix length ${pio.prefixLength} + ${IID_BITS}-bit identifier is not 128 (RFC 4862 section 5.5.3 d)`;
  }
  if (pio.validLifetime === 0) return "valid lifetime 0 (RFC 4862 section 5.5.3 d)";
  return undefined;
}

function _until(now: number, lifetimeS: number): number {
  return lifetimeS === INFINITE_LIFETIME ? Infinity : now + lifetimeS * 1000;
}

/**
 * Updates the lifetimes of an address already formed from a prefix when an RA
 * advertises that prefix again (RFC 4862 section 5.5.3 (e)): the preferred lifetime
 * is reset; the valid lifetime is set to the advertised one if that is over two hours
 * or beyond the remaining one; otherwise, if the remaining one is two hours or less it
 * is kept (protection against a spoofed short lifetime), else set to two hours.
 *
 * @param address the address as formed before
 * @param pio the Prefix Information option now received for the same prefix
 * @param now the current time, ms
 * @returns the address with updated lifetimes (the same object when the prefix differs)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const addr = { address: "2001:db8::1", prefix: "2001:db8::", prefixLength: 64, onLink: true,
 *   validUntil: 10 * 3_600_000, preferredUntil: 3_600_000 };
 * const pio = { kind: "prefix-information", prefixLength: 64, onLink: true, autonomous: true,
 *   validLifetime: 60, preferredLifetime: 30, prefix: "2001:db8::" } as const;
 * // A 60 s lifetime cannot cut a 10 h remaining lifetime below two hours.
 * assertEquals(refreshSlaacAddress(addr, pio, 0).validUntil, 2 * 3_600_000);
 * ```
 */
export function refreshSlaacAddress(
  address: SlaacAddress,
  pio: PrefixInformation,
  now: number,
): SlaacAddress {
  if (
    pio.prefixLength !== address.prefixLength ||
    formatIpv6Address(parseIpv6Address(pio.prefix)) !==
      formatIpv6Address(parseIpv6Address(address.prefix)) ||
    pio.preferredLifetime > pio.validLifetime
  ) {
    return address;
  }
  const advertised = _until(now, pio.validLifetime);
  const remaining = address.validUntil - now;
  let validUntil: number;
  if (advertised - now > TWO_HOURS_MS || advertised > address.validUntil) validUntil = advertised;
  else if (remaining <= TWO_HOURS_MS) validUntil = address.validUntil;
  else validUntil = now + TWO_HOURS_MS;
  return { ...address, validUntil, preferredUntil: _until(now, pio.preferredLifetime) };
}

/**
 * Whether an RA seen on a link confirms an address formed earlier (RFC 6252 section
 * 7.3.4: after the move, the mobile node matches the prefix of the RA in the new
 * network with that of its nCoA; if they match, it does not acquire an address again).
 * True when a Prefix Information option with a valid lifetime above 0 covers the
 * address.
 *
 * @param ra the Router Advertisement received on the new link
 * @param address the nCoA, text
 * @returns true when the RA advertises the nCoA's prefix
 *
 * @example
 * ```ts
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 * const ra = { kind: "router-advertisement", curHopLimit: 0, managed: false, other: false,
 *   routerLifetime: 0, reachableTime: 0, retransTimer: 0,
 *   options: [{ kind: "prefix-information", prefixLength: 64, onLink: true, autonomous: true,
 *     validLifetime: 600, preferredLifetime: 300, prefix: "2001:db8:1::" }] } as const;
 * assert(raConfirmsAddress(ra, "2001:db8:1::ff:fe00:b"));
 * assert(!raConfirmsAddress(ra, "2001:db8:2::ff:fe00:b"));
 * ```
 */
export function raConfirmsAddress(ra: RouterAdvertisement, address: string): boolean {
  const a = parseIpv6Address(address);
  return optionsOf(ra, "prefix-information").some((pio) =>
    pio.validLifetime > 0 && _inPrefix(a, parseIpv6Address(pio.prefix), pio.prefixLength)
  );
}

function _inPrefix(address: Uint8Array, prefix: Uint8Array, length: number): boolean {
  for (let bit = 0; bit < length; bit += 8) {
    const keep = Math.min(8, length - bit);
    const mask = (0xff00 >> keep) & 0xff;
    const i = bit >> 3;
    if ((address[i]! & mask) !== (prefix[i]! & mask)) return false;
  }
  return true;
}
