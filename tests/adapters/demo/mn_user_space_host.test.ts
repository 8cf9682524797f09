import { describe, expect, it } from "npm:vitest@4.1.12";
import { UserSpaceMnHost } from "../../../adapters/demo/mn_user_space_host.ts";
import { UdpDatagramTransport } from "../../../adapters/mobility/datagram_transport.ts";

function until(check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => check() ? resolve() : setTimeout(poll, 2);
    poll();
  });
}

describe("UserSpaceMnHost (RFC 6252 section 6.3 steps 5-6)", () => {
  it("receives on its address while attached and drops what reaches the old link after it left", async () => {
    const media: string[] = [];
    const announced: string[] = [];
    const host = await UserSpaceMnHost.start({
      network: "A",
      poa: "a1",
      address: "127.89.1.10",
      mediaPort: 40000,
      networkOfPoa: (poa) => ({ a1: "A", b1: "B" } as Record<string, string>)[poa],
      arLink: () => ({ announce: (a) => (announced.push(a), Promise.resolve(true)) }),
      associationDelayMs: 5,
      onMedia: (bytes) => media.push(new TextDecoder().decode(bytes)),
    });
    const cn = await UdpDatagramTransport.bind({ address: "127.89.9.1", port: 0 });
    try {
      await cn.send(new TextEncoder().encode("1"), { address: "127.89.1.10", port: 40000 });
      await until(() => media.length === 1);
      await host.switchTo("b1");
      expect(host.attached).toBe("B");
      await cn.send(new TextEncoder().encode("2"), { address: "127.89.1.10", port: 40000 });
      await until(() => host.stats().droppedOffLink === 1);
      // Reactive case: no tunnel, assign opens the media socket, then announces.
      await host.assign("127.89.2.100", 24);
      expect(announced).toEqual(["127.89.2.100"]);
      await cn.send(new TextEncoder().encode("3"), { address: "127.89.2.100", port: 40000 });
      await until(() => media.length === 2);
      expect(media).toEqual(["1", "3"]);
      await expect(host.switchTo("zz")).rejects.toThrow("Unknown PoA: zz");
      await expect(host.transport({ address: "127.89.3.1", port: 0 })).rejects.toThrow(
        "EADDRNOTAVAIL",
      );
    } finally {
      await cn.close();
      await host.close();
    }
    expect(host.stats().sockets).toBe(0);
  });

  it("refuses to assign while between links", async () => {
    const host = await UserSpaceMnHost.start({
      network: "A",
      poa: "a1",
      address: "127.89.1.11",
      mediaPort: 40000,
      networkOfPoa: () => "B",
      arLink: () => undefined,
      associationDelayMs: 50,
      onMedia: () => {},
    });
    const switching = host.switchTo("b1");
    await expect(host.assign("127.89.2.101", 24)).rejects.toThrow("Not attached to any link");
    await switching;
    await host.close();
  });
});
