/**
 * IpLinkControl (RFC 6252 section 6.3 steps 5 and 6): configured switch commands per
 * PoA, and assign through ip(8) in a namespace (needs root, runs in CI).
 */
import { describe, expect, it } from "npm:vitest@4.1.12";
import { IpLinkControl } from "../../../adapters/link/ip_link.ts";
import { ConfigError } from "../../../lib/errors.ts";
import { canUseNetns, NetnsLab } from "../../fixtures/netns/netns_lab.ts";

const ok = canUseNetns();

describe("IpLinkControl (RFC 6252 section 6.3 step 5)", () => {
  it("runs the PoA's command and refuses a PoA without one", async () => {
    const dir = await Deno.makeTempDir();
    try {
      const link = new IpLinkControl({
        interface: "wlan0",
        switchCommands: { ap1: ["sh", "-c", `echo roamed > ${dir}/ap1`] },
      });
      await link.switchTo("ap1");
      expect(await Deno.readTextFile(`${dir}/ap1`)).toBe("roamed\n");
      await expect(link.switchTo("ap2")).rejects.toMatchObject({
        name: "PortError",
        port: "LinkControl",
        code: "rejected",
        message: "Link switch not possible: no switch command configured for PoA ap2",
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  it("a failing command is a refused association with its stderr; a missing program unreachable", async () => {
    const link = new IpLinkControl({
      interface: "wlan0",
      switchCommands: {
        fail: ["sh", "-c", "echo 'FAIL: no such BSS' >&2; exit 1"],
        missing: ["/nonexistent/wpa_cli", "roam"],
      },
    });
    await expect(link.switchTo("fail")).rejects.toMatchObject({
      code: "rejected",
      message: "Link control failed: switch to fail: FAIL: no such BSS",
    });
    await expect(link.switchTo("missing")).rejects.toMatchObject({ code: "unreachable" });
  });

  it("kills a command that does not exit in time, and one whose call is aborted", async () => {
    const link = new IpLinkControl({
      interface: "wlan0",
      switchCommands: { slow: ["sleep", "30"] },
      switchTimeoutMs: 50,
    });
    await expect(link.switchTo("slow")).rejects.toMatchObject({ code: "timeout" });
    const patient = new IpLinkControl({
      interface: "wlan0",
      switchCommands: { slow: ["sleep", "30"] },
    });
    const controller = new AbortController();
    const pending = patient.switchTo("slow", { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: "aborted" });
  });

  it("refuses malformed addresses, prefix lengths and routers before running anything", async () => {
    const link = new IpLinkControl({ interface: "wlan0" });
    await expect(link.assign("10.0.0.256", 24)).rejects.toMatchObject({ code: "protocol" });
    await expect(link.assign("10.0.0.5", -1)).rejects.toMatchObject({ code: "protocol" });
    await expect(link.assign("2001:db8::5", 129)).rejects.toMatchObject({ code: "protocol" });
    await expect(link.assign("2001:db8::5", 64, { router: "10.0.0.1" })).rejects.toMatchObject({
      code: "protocol",
    });
  });

  it("validates its options", () => {
    expect(() => new IpLinkControl({ interface: "wlan0; reboot" })).toThrow(ConfigError);
    expect(() => new IpLinkControl({ interface: "wlan0", switchCommands: { a: [] } })).toThrow(
      "switchCommands.a",
    );
  });

  it.skipIf(!ok)(
    "needs root (runs in CI): assign adds IPv4 and IPv6 addresses and default routes in a namespace",
    async () => {
      await using lab = new NetnsLab("mpalk");
      const a = await lab.namespace("ipa");
      const b = await lab.namespace("ipb");
      await lab.veth({ ns: a, name: "eth0" }, { ns: b, name: "eth0", cidr: "10.78.0.1/24" });
      await lab.ip(b, ["addr", "add", "2001:db8:78::1/64", "dev", "eth0", "nodad"]);
      const link = new IpLinkControl({ interface: "eth0", netns: a });
      await link.assign("10.78.0.20", 24, { router: "10.78.0.1" });
      await link.assign("2001:db8:78::20", 64, { router: "2001:db8:78::1" });
      const addrs = await lab.ip(a, ["addr", "show", "dev", "eth0"]);
      expect(addrs).toContain("inet 10.78.0.20/24");
      expect(addrs).toContain("inet6 2001:db8:78::20/64");
      // nodad: the nCoA is usable at once (its uniqueness was checked proactively).
      expect(addrs.split("\n").find((l) => l.includes("2001:db8:78::20"))).not.toContain(
        "tentative",
      );
      expect(await lab.ip(a, ["-4", "route", "show", "default"])).toContain("via 10.78.0.1");
      expect(await lab.ip(a, ["-6", "route", "show", "default"])).toContain("via 2001:db8:78::1");
      expect(
        (await lab.exec(a, ["ping", "-c", "1", "-W", "1", "-q", "2001:db8:78::1"], {
          check: false,
        })).code,
      ).toBe(0);
      await link.close();
    },
    30_000,
  );
});
