import { describe, expect, it } from "npm:vitest@4.1.12";
import { ConfigError, MalformedMessageError } from "../../../lib/errors.ts";
import { fromHex, hex } from "../../../lib/wire/_bytes.ts";
import {
  INFINITE_LIFETIME,
  type PrefixInformation,
  type RouterAdvertisement,
} from "../../../lib/wire/icmpv6.ts";
import {
  interfaceAddress,
  isReservedInterfaceId,
  modifiedEui64,
  parseMacAddress,
  raConfirmsAddress,
  refreshSlaacAddress,
  slaacFromRa,
  stableInterfaceId,
  TWO_HOURS_MS,
} from "../../../lib/autoconf/slaac.ts";

const pio = (over: Partial<PrefixInformation> = {}): PrefixInformation => ({
  kind: "prefix-information",
  prefixLength: 64,
  onLink: true,
  autonomous: true,
  validLifetime: 86400,
  preferredLifetime: 14400,
  prefix: "2001:db8:1::",
  ...over,
});

const ra = (
  options: RouterAdvertisement["options"],
  over: Partial<RouterAdvertisement> = {},
): RouterAdvertisement => ({
  kind: "router-advertisement",
  curHopLimit: 64,
  managed: false,
  other: false,
  routerLifetime: 1800,
  reachableTime: 0,
  retransTimer: 0,
  options,
  ...over,
});

const IID = fromHex("000000fffe00000b");

describe("modified EUI-64 (RFC 4291 Appendix A, RFC 2464 section 4)", () => {
  it("RFC 2464 section 4: 34-56-78-9A-BC-DE gives 3656:78ff:fe9a:bcde", () => {
    expect(hex(modifiedEui64("34-56-78-9A-BC-DE"))).toBe("365678fffe9abcde");
    expect(hex(modifiedEui64(fromHex("3456789abcde")))).toBe("365678fffe9abcde");
  });

  it("matches the Linux link-local address of MAC 02:00:00:00:00:0b (fe80::ff:fe00:b)", () => {
    expect(interfaceAddress("fe80::", modifiedEui64("02:00:00:00:00:0b"))).toBe("fe80::ff:fe00:b");
  });

  it("refuses malformed MACs", () => {
    expect(() => modifiedEui64(new Uint8Array(8))).toThrow("Invalid MAC address: 8 bytes, not 6");
    for (
      const bad of [
        "",
        "02:00:00:00:00",
        "02:00:00:00:00:0g",
        "0200.0000.000b",
        "02:00:00-00:00:0b:",
      ]
    ) {
      expect(() => parseMacAddress(bad), bad).toThrow(MalformedMessageError);
    }
  });
});

describe("stable opaque interface identifiers (RFC 7217 section 5, HMAC-SHA-256)", () => {
  const secret = fromHex("000102030405060708090a0b0c0d0e0f");

  it("section 5: is the leftmost 64 bits of HMAC-SHA-256(secret, Prefix | Net_Iface | Network_ID | DAD_Counter)", async () => {
    const key = await crypto.subtle.importKey(
      "raw",
      secret as Uint8Array<ArrayBuffer>,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const msg = fromHex(
      "20010db800010000" + "05" + hex(new TextEncoder().encode("wlan0")) + "00" + "00",
    );
    const expected = new Uint8Array(
      await crypto.subtle.sign("HMAC", key, msg as Uint8Array<ArrayBuffer>),
    ).slice(0, 8);
    expect(await stableInterfaceId({ secret, prefix: "2001:db8:1::", netIface: "wlan0" })).toEqual(
      expected,
    );
  });

  it("section 5: stable for the same inputs, different per prefix, interface, network and DAD_Counter", async () => {
    const base = { secret, prefix: "2001:db8:1::", netIface: "wlan0" };
    const a = hex(await stableInterfaceId(base));
    expect(hex(await stableInterfaceId(base))).toBe(a);
    // The host part of the prefix text does not matter: only the /64 is used.
    expect(hex(await stableInterfaceId({ ...base, prefix: "2001:db8:1::99" }))).toBe(a);
    const others = await Promise.all([
      stableInterfaceId({ ...base, prefix: "2001:db8:2::" }),
      stableInterfaceId({ ...base, netIface: "wlan1" }),
      stableInterfaceId({ ...base, networkId: "ctn-b" }),
      stableInterfaceId({ ...base, dadCounter: 1 }),
      stableInterfaceId({ ...base, secret: fromHex("ff0102030405060708090a0b0c0d0e0f") }),
    ]);
    expect(new Set([a, ...others.map(hex)]).size).toBe(6);
  });

  it("refuses a short secret and a bad DAD_Counter", async () => {
    await expect(
      stableInterfaceId({ secret: new Uint8Array(15), prefix: "2001:db8::", netIface: "x" }),
    )
      .rejects.toThrow(ConfigError);
    await expect(
      stableInterfaceId({ secret, prefix: "2001:db8::", netIface: "x", dadCounter: 256 }),
    )
      .rejects.toThrow("Invalid RFC 7217 DAD_Counter: 256");
    await expect(stableInterfaceId({ secret, prefix: "bad", netIface: "x" })).rejects.toThrow(
      MalformedMessageError,
    );
  });
});

describe("reserved interface identifiers (RFC 5453 section 3)", () => {
  it("covers the Subnet-Router anycast, IANA Ethernet block and subnet anycast ranges", () => {
    expect(isReservedInterfaceId(fromHex("0000000000000000"))).toBe(true);
    expect(isReservedInterfaceId(fromHex("02005efffe000000"))).toBe(true);
    expect(isReservedInterfaceId(fromHex("02005efffe005213"))).toBe(true);
    expect(isReservedInterfaceId(fromHex("02005efffeffffff"))).toBe(true);
    expect(isReservedInterfaceId(fromHex("fdffffffffffff80"))).toBe(true);
    expect(isReservedInterfaceId(fromHex("fdffffffffffffff"))).toBe(true);
    expect(isReservedInterfaceId(fromHex("fdffffffffffff7f"))).toBe(false);
    expect(isReservedInterfaceId(fromHex("02005efffd000000"))).toBe(false);
    expect(isReservedInterfaceId(IID)).toBe(false);
  });
});

describe("slaacFromRa (RFC 4862 section 5.5.3)", () => {
  it("section 5.5.3 (d): forms prefix + IID with lifetimes from now", () => {
    const cfg = slaacFromRa(ra([pio(), { kind: "mtu", mtu: 1400 }]), IID, 5_000);
    expect(cfg).toEqual({
      addresses: [{
        address: "2001:db8:1::ff:fe00:b",
        prefix: "2001:db8:1::",
        prefixLength: 64,
        onLink: true,
        validUntil: 5_000 + 86_400_000,
        preferredUntil: 5_000 + 14_400_000,
      }],
      ignored: [],
      defaultRouterUntil: 5_000 + 1_800_000,
      mtu: 1400,
      dns: [],
      managed: false,
      other: false,
    });
  });

  it("RFC 4861 section 4.6.2: an infinite lifetime never expires", () => {
    const cfg = slaacFromRa(
      ra([pio({ validLifetime: INFINITE_LIFETIME, preferredLifetime: INFINITE_LIFETIME })]),
      IID,
      0,
    );
    expect(cfg.addresses[0]?.validUntil).toBe(Infinity);
    expect(cfg.addresses[0]?.preferredUntil).toBe(Infinity);
  });

  it("section 5.5.3 (a)-(d): ignores PIOs without A, link-local, preferred > valid, not /64, valid 0", () => {
    const cfg = slaacFromRa(
      ra([
        pio({ autonomous: false }),
        pio({ prefix: "fe80::" }),
        pio({ preferredLifetime: 10, validLifetime: 5 }),
        pio({ prefixLength: 48 }),
        pio({ validLifetime: 0, preferredLifetime: 0 }),
        pio({ prefix: "2001:db8:2::" }),
      ]),
      IID,
      0,
    );
    expect(cfg.addresses.map((a) => a.address)).toEqual(["2001:db8:2::ff:fe00:b"]);
    expect(cfg.ignored.map((i) => i.reason)).toEqual([
      "A flag not set (RFC 4862 section 5.5.3 a)",
      "link-local prefix (RFC 4862 section 5.5.3 b)",
      "preferred lifetime above valid lifetime (RFC 4862 section 5.5.3 c)",
      "prefix length 48 + 64-bit identifier is not 128 (RFC 4862 section 5.5.3 d)",
      "valid lifetime 0 (RFC 4862 section 5.5.3 d)",
    ]);
  });

  it("RFC 8106 section 5.1: collects RDNSS servers with a lifetime, reports M and O and router lifetime 0", () => {
    const cfg = slaacFromRa(
      ra([
        { kind: "rdnss", lifetime: 600, servers: ["2001:db8:1::53"] },
        { kind: "rdnss", lifetime: 0, servers: ["2001:db8:1::99"] },
      ], { routerLifetime: 0, managed: true, other: true }),
      IID,
      7,
    );
    expect(cfg.dns).toEqual(["2001:db8:1::53"]);
    expect(cfg.defaultRouterUntil).toBe(7);
    expect([cfg.managed, cfg.other]).toEqual([true, true]);
    expect(cfg.addresses).toEqual([]);
    expect("mtu" in cfg).toBe(false);
  });

  it("refuses an identifier that is not 64 bits", () => {
    expect(() => slaacFromRa(ra([pio()]), new Uint8Array(6), 0)).toThrow(
      "Invalid interface identifier: 6 bytes, not 8",
    );
  });
});

describe("refreshSlaacAddress (RFC 4862 section 5.5.3 (e))", () => {
  const H = 3_600_000;
  const formed = slaacFromRa(ra([pio()]), IID, 0).addresses[0]!;

  it("rule 1: a valid lifetime over two hours or beyond the remaining one is taken", () => {
    expect(
      refreshSlaacAddress(formed, pio({ validLifetime: 3 * 3600, preferredLifetime: 3600 }), H)
        .validUntil,
    ).toBe(4 * H);
    const short = { ...formed, validUntil: H };
    expect(
      refreshSlaacAddress(short, pio({ validLifetime: 1800, preferredLifetime: 60 }), 0).validUntil,
    ).toBe(H);
    expect(
      refreshSlaacAddress(short, pio({ validLifetime: 5400, preferredLifetime: 60 }), 0).validUntil,
    ).toBe(1.5 * H);
  });

  it("rule 2: a remaining lifetime of two hours or less is kept", () => {
    const short = { ...formed, validUntil: 2 * H };
    const r = refreshSlaacAddress(short, pio({ validLifetime: 60, preferredLifetime: 30 }), 0);
    expect(r.validUntil).toBe(2 * H);
    expect(r.preferredUntil).toBe(30_000);
  });

  it("rule 3: otherwise the valid lifetime becomes two hours", () => {
    const r = refreshSlaacAddress(formed, pio({ validLifetime: 60, preferredLifetime: 30 }), 0);
    expect(r.validUntil).toBe(TWO_HOURS_MS);
  });

  it("leaves an address of another prefix, or a bad PIO, untouched", () => {
    expect(refreshSlaacAddress(formed, pio({ prefix: "2001:db8:2::" }), 0)).toBe(formed);
    expect(refreshSlaacAddress(formed, pio({ preferredLifetime: 10, validLifetime: 5 }), 0)).toBe(
      formed,
    );
  });
});

describe("raConfirmsAddress (RFC 6252 section 7.3.4)", () => {
  it("is true when a PIO with a valid lifetime covers the nCoA", () => {
    expect(raConfirmsAddress(ra([pio()]), "2001:db8:1::ff:fe00:b")).toBe(true);
    expect(
      raConfirmsAddress(ra([pio({ prefix: "2001:db8::", prefixLength: 48 })]), "2001:db8:0:7::1"),
    ).toBe(true);
    expect(
      raConfirmsAddress(ra([pio({ prefix: "2001:db8::", prefixLength: 47 })]), "2001:db8:1::1"),
    ).toBe(true);
    expect(
      raConfirmsAddress(ra([pio({ prefix: "2001:db8::", prefixLength: 48 })]), "2001:db8:1::1"),
    ).toBe(false);
    expect(
      raConfirmsAddress(ra([pio({ prefix: "2001:db8::", prefixLength: 64 })]), "2001:db8:1::1"),
    ).toBe(false);
    expect(
      raConfirmsAddress(ra([pio({ validLifetime: 0, preferredLifetime: 0 })]), "2001:db8:1::1"),
    ).toBe(false);
    expect(raConfirmsAddress(ra([]), "2001:db8:1::1")).toBe(false);
  });
});
