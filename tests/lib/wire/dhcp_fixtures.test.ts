/**
 * The DHCPv4 codec on exchanges captured from real servers (Kea 2.2, dnsmasq 2.90) by
 * `tests/fixtures/dhcp/capture.ts`: the proactive DHCP of RFC 6252 section 7.3.3 in
 * ciaddr mode and MN-as-relay mode.
 */
import { describe, expect, it } from "npm:vitest@4.1.12";
import { MalformedMessageError } from "../../../lib/errors.ts";
import { fromHex, hex } from "../../../lib/wire/_bytes.ts";
import { decodeDhcp, type DhcpMessage, encodeDhcp } from "../../../lib/wire/dhcp.ts";
import { DhcpMessageType as T, DhcpOp } from "../../../lib/wire/dhcp_constants.ts";

interface Fixture {
  readonly description: string;
  readonly messages: readonly {
    readonly description: string;
    readonly src: string;
    readonly dst: string;
    readonly srcPort: number;
    readonly dstPort: number;
    readonly hex: string;
  }[];
}

function load(name: string): Fixture {
  return JSON.parse(
    Deno.readTextFileSync(new URL(`../../fixtures/dhcp/${name}.json`, import.meta.url)),
  );
}

function decoded(
  name: string,
): { msg: DhcpMessage; bytes: Uint8Array; dstPort: number; dst: string }[] {
  return load(name).messages.map((m) => {
    const bytes = fromHex(m.hex);
    return { msg: decodeDhcp(bytes), bytes, dstPort: m.dstPort, dst: m.dst };
  });
}

/** Replies carry what the MN needs: yiaddr in the CTN subnet and options 1, 3, 6, 51, 54. */
function expectLeaseReply(msg: DhcpMessage, type: number): void {
  expect(msg.op).toBe(DhcpOp.BootReply);
  expect(msg.options.messageType).toBe(type);
  expect(msg.yiaddr).toMatch(/^10\.0\.2\.1\d\d$/);
  expect(msg.options.subnetMask).toBe("255.255.255.0");
  expect(msg.options.routers).toEqual(["10.0.2.1"]);
  expect(msg.options.dns).toEqual(["10.0.2.2"]);
  expect(msg.options.leaseTime).toBe(600);
  expect(msg.options.renewalTime).toBe(300);
  expect(msg.options.rebindingTime).toBe(525);
  expect(msg.options.serverId).toBe("10.0.2.2");
  // RFC 3011 section 3: the server returns option 118 as the client sent it.
  expect(msg.options.subnetSelection).toBe("10.0.2.0");
  expect(msg.options.relayAgentInfo).toBeUndefined();
  expect(msg.flags).toBe(0);
}

describe("DHCP codec on captures of real servers (RFC 2131, RFC 6252 section 7.3.3)", () => {
  it("Kea, ciaddr mode: requests carry ciaddr = oCoA and option 118; OFFER/ACK go to ciaddr:68", () => {
    const [discover, offer, request, ack] = decoded("kea_ciaddr");
    for (const r of [discover!, request!]) {
      expect(r.msg.op).toBe(DhcpOp.BootRequest);
      expect(r.msg.ciaddr).toBe("10.0.1.2");
      expect(r.msg.giaddr).toBe("0.0.0.0");
      expect(r.msg.flags).toBe(0);
      expect(r.msg.options.subnetSelection).toBe("10.0.2.0");
    }
    expect(discover!.msg.options.messageType).toBe(T.Discover);
    expect(request!.msg.options.messageType).toBe(T.Request);
    expect(request!.msg.options.requestedAddress).toBe(offer!.msg.yiaddr);
    expect(request!.msg.options.serverId).toBe("10.0.2.2");
    expectLeaseReply(offer!.msg, T.Offer);
    expectLeaseReply(ack!.msg, T.Ack);
    expect([offer!.dst, offer!.dstPort, ack!.dst, ack!.dstPort]).toEqual([
      "10.0.1.2",
      68,
      "10.0.1.2",
      68,
    ]);
    // RFC 2131 table 3: ciaddr 0 in an OFFER, the client's in an ACK.
    expect(offer!.msg.ciaddr).toBe("0.0.0.0");
    expect(ack!.msg.ciaddr).toBe("10.0.1.2");
    // Kea echoes the client identifier (RFC 6842).
    expect(hex(ack!.msg.options.clientId!)).toBe(hex(discover!.msg.options.clientId!));
    expect(ack!.msg.xid).toBe(discover!.msg.xid);
  });

  it("Kea, relay mode: giaddr = oCoA from port 67; replies go to giaddr:67 with giaddr kept", () => {
    const [discover, offer, request, ack] = decoded("kea_relay");
    expect(discover!.msg.giaddr).toBe("10.0.1.2");
    expect(discover!.msg.ciaddr).toBe("0.0.0.0");
    expect(request!.msg.giaddr).toBe("10.0.1.2");
    expectLeaseReply(offer!.msg, T.Offer);
    expectLeaseReply(ack!.msg, T.Ack);
    expect(ack!.msg.giaddr).toBe("10.0.1.2");
    expect([ack!.dst, ack!.dstPort]).toEqual(["10.0.1.2", 67]);
  });

  it("dnsmasq, relay mode with rapid commit (RFC 4039): one ACK with option 80, option 28, no client id echo", () => {
    const [discover, ack, ...rest] = decoded("dnsmasq_relay_rapid_commit");
    expect(rest).toEqual([]);
    expect(discover!.msg.options.rapidCommit).toBe(true);
    expectLeaseReply(ack!.msg, T.Ack);
    expect(ack!.msg.options.rapidCommit).toBe(true);
    expect(ack!.msg.giaddr).toBe("10.0.1.2");
    expect(ack!.msg.siaddr).toBe("10.0.2.2");
    expect(ack!.msg.options.clientId).toBeUndefined();
    // Option 28 (broadcast address) is not a typed field: kept raw.
    expect(ack!.msg.options.other?.map((o) => [o.code, hex(o.data)])).toEqual([[28, "0a0002ff"]]);
  });

  it("dnsmasq, relay mode: OFFER and ACK to giaddr:67 for the same address", () => {
    const [, offer, request, ack] = decoded("dnsmasq_relay");
    expectLeaseReply(offer!.msg, T.Offer);
    expectLeaseReply(ack!.msg, T.Ack);
    expect(request!.msg.options.requestedAddress).toBe(offer!.msg.yiaddr);
    expect(ack!.msg.yiaddr).toBe(offer!.msg.yiaddr);
    expect([offer!.dst, offer!.dstPort]).toEqual(["10.0.1.2", 67]);
  });

  it("round trips: every captured message decodes to the same fields after re-encoding; Kea's and ours byte for byte", () => {
    for (const name of ["kea_ciaddr", "kea_relay", "dnsmasq_relay_rapid_commit", "dnsmasq_relay"]) {
      for (const { msg, bytes } of decoded(name)) {
        const again = encodeDhcp(msg, { minLength: bytes.length });
        expect(again.length).toBe(bytes.length);
        expect(decodeDhcp(again)).toEqual(msg);
        // Our requests and Kea's replies put options in the encoder's order; dnsmasq
        // orders them differently, so only the fields are compared for it.
        if (name.startsWith("kea") || msg.op === DhcpOp.BootRequest) {
          expect(hex(again)).toBe(hex(bytes));
        }
      }
    }
  });

  it("truncated captures are MalformedMessageError, never a crash", () => {
    const { bytes } = decoded("kea_ciaddr")[3]!;
    expect(() => decodeDhcp(bytes.subarray(0, 239))).toThrow(MalformedMessageError);
    // Cut inside the options: an option runs past the end, or no End option.
    expect(() => decodeDhcp(bytes.subarray(0, 250))).toThrow(MalformedMessageError);
  });
});
