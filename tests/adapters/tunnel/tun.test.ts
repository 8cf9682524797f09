/**
 * TunDevice (adapters/tunnel/tun.ts) against the Linux kernel, in a network
 * namespace: the TUN data path of the proactive handover tunnel (RFC 6252 section
 * 7.4). Needs root and /dev/net/tun; skipped otherwise (runs in CI). The device is
 * held by a child process in the namespace (tests/fixtures/tunnel/_tun_child.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { canUseNetns, NetnsLab } from "../../fixtures/netns/netns_lab.ts";
import type { JsonLineChild } from "../../fixtures/netns/json_line_child.ts";
import { fromHex, hex } from "../../../lib/wire/_bytes.ts";
import { buildIcmpEcho, internetChecksum, parseIcmpEcho } from "../../../lib/wire/ip_packet.ts";

const ok = canUseNetns({ tun: true });
const SKIP = "needs root and /dev/net/tun (runs in CI)";

const request = (source: string, destination: string, sequence: number, data: Uint8Array) =>
  buildIcmpEcho({ source, destination, kind: "request", identifier: 0x4d50, sequence, data });

describe("TunDevice in a network namespace (RFC 6252 section 7.4 data path)", () => {
  let lab: NetnsLab;
  let child: JsonLineChild;

  beforeAll(async () => {
    if (!ok) return;
    lab = new NetnsLab("mpatn-t");
    const ns = await lab.namespace("tun", { ipv6: false });
    child = await lab.spawnDeno(
      ns,
      new URL("../../fixtures/tunnel/_tun_child.ts", import.meta.url),
    );
  }, 30_000);

  afterAll(async () => {
    await lab?.dispose();
  }, 20_000);

  it.skipIf(!ok)(
    `${SKIP}: an ICMP echo request written to the device gets the kernel's echo reply back`,
    async () => {
      const opened = await child.request<{ ok: boolean; name: string }>("open", {
        name: "pht%d",
        mtu: 1400,
      });
      expect(opened).toMatchObject({ ok: true });
      expect(opened.name).toMatch(/^pht\d+$/);
      const shown = await child.request<
        { ifname: string; mtu: number; addr_info: { local: string; prefixlen: number }[] }[]
      >("up", { name: opened.name, cidr: "10.77.0.1/24" });
      expect(shown[0]).toMatchObject({ ifname: opened.name, mtu: 1400 });
      expect(shown[0]!.addr_info[0]).toMatchObject({ local: "10.77.0.1", prefixlen: 24 });

      const data = new TextEncoder().encode("mpa proactive handover tunnel");
      const echo = request("10.77.0.2", "10.77.0.1", 7, data);
      // Reading first, then writing: the read must be waiting in poll(2) when the reply arrives.
      const reply = child.request<{ packet: string }>("read", { name: opened.name });
      expect(await child.request("write", { name: opened.name, hex: hex(echo) })).toEqual({
        ok: true,
      });
      const packet = fromHex((await reply).packet);
      expect(internetChecksum(packet.subarray(0, 20))).toBe(0);
      expect(internetChecksum(packet.subarray(20))).toBe(0);
      expect(parseIcmpEcho(packet)).toMatchObject({
        version: 4,
        source: "10.77.0.1",
        destination: "10.77.0.2",
        kind: "reply",
        identifier: 0x4d50,
        sequence: 7,
        data,
      });

      const stats = await child.request<Record<string, number>>("stats", { name: opened.name });
      expect(stats.txPackets).toBe(1);
      expect(stats.rxPackets).toBeGreaterThanOrEqual(1);
    },
    30_000,
  );

  it.skipIf(!ok)(
    `${SKIP}: a second open of an attached name fails with TunError EBUSY`,
    async () => {
      const first = await child.request<{ ok: boolean; name: string }>("open", {
        name: "mpatnbusy",
      });
      expect(first).toEqual({ ok: true, name: "mpatnbusy" });
      const second = await child.request("open", { name: "mpatnbusy" });
      expect(second).toMatchObject({ ok: false, name: "TunError", code: "EBUSY", errno: 16 });
      expect((second as { error: string }).error).toMatch(
        /^Cannot attach TUN device mpatnbusy: EBUSY \(Device or resource busy\)$/,
      );
      await child.request("close", { name: "mpatnbusy" });
    },
  );

  it.skipIf(!ok)(
    `${SKIP}: open errors are typed: ENOENT for a missing clone device, EINVAL for a long name`,
    async () => {
      expect(await child.request("open", { path: "/nonexistent/tun" })).toMatchObject({
        ok: false,
        name: "TunError",
        code: "ENOENT",
      });
      expect(await child.request("open", { name: "a-name-longer-than-15" })).toMatchObject({
        ok: false,
        name: "TunError",
        code: "EINVAL",
      });
    },
  );

  it.skipIf(!ok)(
    `${SKIP}: a frame that is not an IP packet is refused with EINVAL, the device stays usable`,
    async () => {
      const opened = await child.request<{ name: string }>("open", { name: "mpatnbad" });
      await child.request("up", { name: opened.name, cidr: "10.78.0.1/24" });
      expect(await child.request("write", { name: opened.name, hex: "00112233" })).toMatchObject({
        ok: false,
        name: "TunError",
        code: "EINVAL",
      });
      const echo = request("10.78.0.2", "10.78.0.1", 1, new Uint8Array(4));
      const reply = child.request<{ packet: string }>("read", { name: opened.name });
      await child.request("write", { name: opened.name, hex: hex(echo) });
      expect(parseIcmpEcho(fromHex((await reply).packet)).kind).toBe("reply");
      await child.request("close", { name: opened.name });
    },
  );

  it.skipIf(!ok)(
    `${SKIP}: close wakes a read waiting in poll(2), which returns null, and removes the interface`,
    async () => {
      const opened = await child.request<{ name: string }>("open", { name: "mpatnclose" });
      const waiting = await child.request<{ timeout?: boolean }>("read", {
        name: opened.name,
        timeoutMs: 200,
      });
      expect(waiting).toEqual({ timeout: true });
      expect(await child.request("close", { name: opened.name })).toEqual({ pendingRead: "null" });
      const links = await lab.exec(lab.namespaces[0]!, ["ip", "-j", "link", "show"]);
      expect(links.stdout).not.toContain("mpatnclose");
    },
  );
});
