import { describe, expect, it } from "npm:vitest@4.1.12";
import { MalformedMessageError, ProtocolViolationError } from "../../../lib/errors.ts";
import { fromHex, hex } from "../../../lib/wire/_bytes.ts";
import {
  decodeDhcp,
  type DhcpMessage,
  dhcpMessage,
  encodeDhcp,
  findDhcpOption,
  ipv4Bytes,
} from "../../../lib/wire/dhcp.ts";
import { DHCP_FLAG_BROADCAST, DhcpMessageType, DhcpOp } from "../../../lib/wire/dhcp_constants.ts";

const zeros = (n: number) => "00".repeat(n);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("Expected an error");
}

// A unicast DHCPDISCOVER as the MN sends it in ciaddr mode, laid out by hand from
// RFC 2131 section 2 figure 1 (RFC 6252 section 7.3.3: broadcast flag 0).
const DISCOVER_HEX = `
  01 01 06 00            # op BOOTREQUEST, htype Ethernet, hlen 6, hops 0
  3903f326               # xid
  0000 0000              # secs 0, flags 0 (no broadcast)
  c0000214               # ciaddr 192.0.2.20 (the oCoA)
  00000000 00000000 00000000   # yiaddr, siaddr, giaddr
  020000000001 ${zeros(10)}    # chaddr 02:00:00:00:00:01 + 10 bytes padding
  ${zeros(64)}           # sname
  ${zeros(128)}          # file
  63825363               # magic cookie
  35 01 01               # 53 message type DHCPDISCOVER
  37 03 01 03 06         # 55 parameter request list: 1 3 6
  3d 07 01 020000000001  # 61 client id: type 1 + MAC
  50 00                  # 80 rapid commit
  76 04 0a000200         # 118 subnet selection 10.0.2.0
  ff                     # end
`;

const DISCOVER: DhcpMessage = dhcpMessage({
  xid: 0x3903f326,
  ciaddr: "192.0.2.20",
  chaddr: new Uint8Array([2, 0, 0, 0, 0, 1]),
  options: {
    messageType: DhcpMessageType.Discover,
    parameterRequestList: [1, 3, 6],
    clientId: new Uint8Array([1, 2, 0, 0, 0, 0, 1]),
    rapidCommit: true,
    subnetSelection: "10.0.2.0",
  },
});

// A DHCPACK in the layout dnsmasq sends to a relay (giaddr set, replies to port 67),
// made by hand: options 53, 54, 51, 58, 59, 1, 3, 6, 12, an unknown 43, 82 (echoed).
const ACK_HEX = `
  02 01 06 00  3903f326  0000 0000
  00000000  0a000232  00000000  c0000214     # yiaddr 10.0.2.50, giaddr 192.0.2.20
  020000000001 ${zeros(10)}
  ${zeros(64)} ${zeros(128)}
  63825363
  35 01 05                       # DHCPACK
  01 04 ffffff00                 # mask 255.255.255.0
  03 04 0a000201                 # router 10.0.2.1
  06 08 0a000201 08080808        # DNS 10.0.2.1, 8.8.8.8
  0c 03 6d6e31                   # host name "mn1"
  33 04 00000e10                 # lease 3600 s
  36 04 0a000201                 # server id 10.0.2.1
  3a 04 00000708                 # T1 1800
  3b 04 00000c4e                 # T2 3150
  2b 03 010203                   # 43 vendor specific (unknown here), raw
  52 06 01 02 6162 02 00         # 82 relay info: circuit id "ab", remote id ""
  ff
`;

describe("DHCP codec (RFC 2131 section 2, RFC 2132)", () => {
  it("decodes the hand-made unicast DHCPDISCOVER fixture (RFC 2131 section 2)", () => {
    const m = decodeDhcp(fromHex(DISCOVER_HEX));
    expect(m.op).toBe(DhcpOp.BootRequest);
    expect([m.htype, m.hlen, m.hops, m.xid, m.secs, m.flags]).toEqual([1, 6, 0, 0x3903f326, 0, 0]);
    expect([m.ciaddr, m.yiaddr, m.siaddr, m.giaddr]).toEqual([
      "192.0.2.20",
      "0.0.0.0",
      "0.0.0.0",
      "0.0.0.0",
    ]);
    expect(hex(m.chaddr)).toBe("020000000001");
    expect(m.options).toEqual(DISCOVER.options);
    expect([m.sname, m.file]).toEqual(["", ""]);
  });

  it("encodes the DISCOVER to the fixture bytes exactly (RFC 2131 section 2)", () => {
    expect(hex(encodeDhcp(DISCOVER, { minLength: 0 }))).toBe(hex(fromHex(DISCOVER_HEX)));
  });

  it("pads to 300 bytes by default (RFC 1542 section 2.1) and the padding decodes away", () => {
    const bytes = encodeDhcp(DISCOVER);
    expect(bytes.length).toBe(300);
    expect(bytes.subarray(fromHex(DISCOVER_HEX).length).every((b) => b === 0)).toBe(true);
    expect(decodeDhcp(bytes)).toEqual(DISCOVER);
  });

  it("decodes every typed option of the ACK fixture and keeps the unknown one raw (RFC 2132)", () => {
    const m = decodeDhcp(fromHex(ACK_HEX));
    expect(m.op).toBe(DhcpOp.BootReply);
    expect([m.yiaddr, m.giaddr]).toEqual(["10.0.2.50", "192.0.2.20"]);
    const o = m.options;
    expect(o.messageType).toBe(DhcpMessageType.Ack);
    expect([o.subnetMask, o.routers, o.dns, o.hostname]).toEqual([
      "255.255.255.0",
      ["10.0.2.1"],
      ["10.0.2.1", "8.8.8.8"],
      "mn1",
    ]);
    expect([o.leaseTime, o.serverId, o.renewalTime, o.rebindingTime]).toEqual([
      3600,
      "10.0.2.1",
      1800,
      3150,
    ]);
    expect(o.other?.map((r) => [r.code, hex(r.data)])).toEqual([[43, "010203"]]);
    expect(o.relayAgentInfo?.map((r) => [r.code, hex(r.data)])).toEqual([[1, "6162"], [2, ""]]);
    // Re-encoded in the codec's order: the raw option keeps its bytes.
    expect(decodeDhcp(encodeDhcp(m))).toEqual(m);
  });

  it("round-trips a message with every typed option, the broadcast bit and sname/file", () => {
    const m = dhcpMessage({
      op: DhcpOp.BootReply,
      hops: 3,
      xid: 0xffffffff,
      secs: 65535,
      flags: DHCP_FLAG_BROADCAST,
      yiaddr: "10.0.2.50",
      siaddr: "10.0.2.2",
      giaddr: "192.0.2.20",
      chaddr: new Uint8Array(16).fill(0xab),
      sname: "ca.example",
      file: "boot/pxe",
      options: {
        messageType: DhcpMessageType.Offer,
        subnetMask: "255.255.0.0",
        routers: ["10.0.0.1", "10.0.0.2"],
        dns: ["1.1.1.1"],
        hostname: "mn",
        requestedAddress: "10.0.2.50",
        leaseTime: 0xffffffff,
        serverId: "10.0.2.1",
        parameterRequestList: [1, 3],
        message: "ok",
        renewalTime: 1,
        rebindingTime: 2,
        clientId: new Uint8Array([0, 0x6d]),
        rapidCommit: true,
        relayAgentInfo: [{ code: 1, data: new Uint8Array([9]) }],
        auth: {
          protocol: 1,
          algorithm: 2,
          rdm: 0,
          replay: new Uint8Array(8).fill(7),
          info: new Uint8Array(20).fill(1),
        },
        subnetSelection: "10.0.2.0",
        other: [{ code: 200, data: new Uint8Array([1, 2]) }, { code: 43, data: new Uint8Array() }],
      },
    });
    expect(decodeDhcp(encodeDhcp(m))).toEqual(m);
  });

  it("splits an option longer than 255 bytes and concatenates it back (RFC 3396 section 5)", () => {
    const dns = Array.from({ length: 100 }, (_, i) => `10.0.${i}.1`); // 400 bytes
    const m = dhcpMessage({ options: { messageType: 5, dns } });
    const bytes = encodeDhcp(m);
    const instances = findDhcpOption(bytes, 6);
    expect(instances.map((i) => i.length)).toEqual([255, 145]);
    expect(decodeDhcp(bytes).options.dns).toEqual(dns);
  });

  it("concatenates split instances of a fixed-length option before checking it (RFC 3396 section 7)", () => {
    // Option 54 in two instances of 2 bytes, separated by another option.
    const bytes = fromHex(`
      02 01 06 00 00000001 0000 0000 ${zeros(16)} ${zeros(16)} ${zeros(64)} ${zeros(128)}
      63825363 35 01 02 36 02 0a00 33 04 00000e10 36 02 0201 ff`);
    const m = decodeDhcp(bytes);
    expect(m.options.serverId).toBe("10.0.2.1");
    expect(m.options.leaseTime).toBe(3600);
  });

  it("follows option overload into file then sname (RFC 2132 section 9.3, RFC 3396 section 7)", () => {
    const sname = `0c 02 6d6e ff ${zeros(59)}`; // host name "mn" in sname
    const file = `03 04 0a000201 36 02 0a00 ff ${zeros(117)}`; // router, first half of 54
    const bytes = fromHex(`
      02 01 06 00 00000001 0000 0000 ${zeros(16)} 020000000001 ${zeros(10)}
      ${sname} ${file}
      63825363 35 01 02 34 01 03 36 02 0102 ff`);
    const m = decodeDhcp(bytes);
    expect([m.sname, m.file]).toEqual(["", ""]);
    expect(m.options.hostname).toBe("mn");
    expect(m.options.routers).toEqual(["10.0.2.1"]);
    // options field first (01 02), then file (0a 00): 1.2.10.0
    expect(m.options.serverId).toBe("1.2.10.0");
    expect(m.options.other).toBeUndefined(); // 52 itself is consumed
  });

  it("refuses a bad overload value (RFC 2132 section 9.3)", () => {
    const bytes = fromHex(
      `02 01 06 00 ${zeros(232)} 63825363 35 01 02 34 01 04 ff`,
    );
    expect(thrown(() => decodeDhcp(bytes))).toBeInstanceOf(ProtocolViolationError);
  });

  it("throws MalformedMessageError at every truncation of the DISCOVER (RFC 2131 section 2)", () => {
    const bytes = fromHex(DISCOVER_HEX);
    for (let n = 0; n < bytes.length; n++) {
      const error = thrown(() => decodeDhcp(bytes.subarray(0, n)));
      expect(error, `length ${n}`).toBeInstanceOf(MalformedMessageError);
    }
    expect(decodeDhcp(bytes).xid).toBe(0x3903f326);
  });

  it("rejects a bad magic cookie (RFC 2131 section 3)", () => {
    const bytes = fromHex(DISCOVER_HEX);
    bytes[236] = 0x64;
    const error = thrown(() => decodeDhcp(bytes));
    expect(error).toBeInstanceOf(MalformedMessageError);
    expect((error as Error).message).toBe("Invalid DHCP magic cookie: 0x64825363");
  });

  it("rejects an option whose length runs past the message (RFC 2132 section 2)", () => {
    const bytes = fromHex(`01 01 06 00 ${zeros(232)} 63825363 35 01 01 3d 09 01 02 ff`);
    const error = thrown(() => decodeDhcp(bytes));
    expect(error).toBeInstanceOf(MalformedMessageError);
    expect((error as Error).message).toMatch(/^DHCP option overrun: option 61 at offset 243/);
  });

  it("rejects a relay agent sub-option overrun (RFC 3046 section 2.0)", () => {
    const bytes = fromHex(`01 01 06 00 ${zeros(232)} 63825363 52 03 01 05 aa ff`);
    expect(thrown(() => decodeDhcp(bytes))).toBeInstanceOf(MalformedMessageError);
  });

  it("rejects wrong-length fixed options as protocol violations (RFC 2132)", () => {
    const cases: [string, string][] = [
      ["35 02 01 01", "option 53"],
      ["01 03 ffffff", "option 1"],
      ["03 05 0a00020100", "option 3"],
      ["06 00", "option 6"],
      ["33 02 0001", "option 51"],
      ["36 03 0a0002", "option 54"],
      ["3d 01 01", "option 61"],
      ["50 01 00", "option 80"],
      ["5a 05 0102000000", "option 90"],
      ["76 02 0a00", "option 118"],
      ["37 00", "option 55"],
    ];
    for (const [option, what] of cases) {
      const bytes = fromHex(`01 01 06 00 ${zeros(232)} 63825363 ${option} ff`);
      const error = thrown(() => decodeDhcp(bytes));
      expect(error, what).toBeInstanceOf(ProtocolViolationError);
      expect((error as Error).message, what).toContain(what);
    }
  });

  it("rejects hlen over 16 (RFC 2131 section 2)", () => {
    const bytes = fromHex(DISCOVER_HEX);
    bytes[2] = 17;
    expect(thrown(() => decodeDhcp(bytes))).toBeInstanceOf(ProtocolViolationError);
  });

  it("refuses to encode fields that do not fit", () => {
    const bad: DhcpMessage[] = [
      dhcpMessage({ ciaddr: "192.0.2" }),
      dhcpMessage({ ciaddr: "192.0.2.256" }),
      dhcpMessage({ chaddr: new Uint8Array(17) }),
      dhcpMessage({ xid: -1 }),
      dhcpMessage({ sname: "x".repeat(65) }),
      dhcpMessage({ options: { routers: [] } }),
      dhcpMessage({ options: { clientId: new Uint8Array([1]) } }),
      dhcpMessage({ options: { other: [{ code: 52, data: new Uint8Array([1]) }] } }),
    ];
    for (const m of bad) expect(thrown(() => encodeDhcp(m))).toBeInstanceOf(ProtocolViolationError);
  });

  it("parses dotted IPv4 strictly", () => {
    expect(ipv4Bytes("0.0.0.0")).toEqual(new Uint8Array(4));
    for (const bad of ["01.2.3.4", "1.2.3.4.5", "a.b.c.d", "", "1..2.3"]) {
      expect(thrown(() => ipv4Bytes(bad))).toBeInstanceOf(ProtocolViolationError);
    }
  });
});
