import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import {
  addOptimisticAddress,
  removeAddress,
} from "../../../adapters/autoconf/optimistic_address.ts";
import { canUseNetns, NetnsLab } from "../../fixtures/netns/netns_lab.ts";

const root = canUseNetns();

interface AddrJson {
  addr_info: { local: string; optimistic?: boolean; tentative?: boolean; nodad?: boolean }[];
}

/** MN (`wlan0`) just attached to the CTN link of the AR (`ctn0`, 2001:db8:6::1). */
describe.skipIf(!root)(
  "optimistic nCoA on the MN after the move (RFC 6252 Appendix A, RFC 4429)",
  () => {
    let lab: NetnsLab;
    let mn = "";
    let ar = "";

    const flagsOf = async (address: string) => {
      const json = JSON.parse(
        await lab.ip(mn, ["-6", "-j", "addr", "show", "dev", "wlan0"]),
      ) as AddrJson[];
      return json[0]?.addr_info.find((a) => a.local === address);
    };

    beforeAll(async () => {
      lab = new NetnsLab(`mpa6opt${Deno.pid}`);
      try {
        mn = await lab.namespace("mn");
        ar = await lab.namespace("ar");
        await lab.veth({ ns: mn, name: "wlan0" }, { ns: ar, name: "ctn0" });
        await lab.ip(ar, ["-6", "addr", "add", "2001:db8:6::1/64", "dev", "ctn0", "nodad"]);
      } catch (e) {
        await lab.dispose();
        throw e;
      }
    });

    afterAll(async () => {
      await lab?.dispose();
    });

    it("needs root (runs in CI): the address is optimistic and usable at once, then DAD completes", async () => {
      const r = await addOptimisticAddress({
        address: "2001:db8:6::b",
        device: "wlan0",
        netns: mn,
      });
      expect(r).toEqual({ address: "2001:db8:6::b", mode: "optimistic", unsolicitedNa: false });
      // RFC 4429 section 3: usable while DAD runs.
      expect(await flagsOf("2001:db8:6::b")).toMatchObject({ optimistic: true, tentative: true });
      const ping = await lab.exec(mn, [
        "ping",
        "-c1",
        "-W3",
        "-I",
        "2001:db8:6::b",
        "2001:db8:6::1",
      ], {
        check: false,
      });
      expect(ping.code).toBe(0);
      expect(ping.stdout).toContain("from 2001:db8:6::b");
      // The AR learnt the MN's address from the exchange.
      expect(await lab.ip(ar, ["-6", "neigh", "show", "2001:db8:6::b"])).toContain("lladdr");
      // DAD finishes in about a second: poll the flags rather than sleep a fixed time.
      let flags = await flagsOf("2001:db8:6::b");
      for (let i = 0; i < 100 && flags?.tentative === true; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        flags = await flagsOf("2001:db8:6::b");
      }
      expect(flags?.tentative).toBeUndefined();
      expect(flags?.optimistic).toBeUndefined();
    });

    it("needs root (runs in CI): an address already there is rejected; removeAddress is idempotent", async () => {
      await expect(addOptimisticAddress({ address: "2001:db8:6::b", device: "wlan0", netns: mn }))
        .rejects.toMatchObject({ port: "Configurator", code: "rejected" });
      expect(await removeAddress({ address: "2001:db8:6::b", device: "wlan0", netns: mn })).toBe(
        true,
      );
      expect(await flagsOf("2001:db8:6::b")).toBeUndefined();
      expect(await removeAddress({ address: "2001:db8:6::b", device: "wlan0", netns: mn })).toBe(
        false,
      );
    });

    it("needs root (runs in CI): a missing device is unreachable", async () => {
      await expect(addOptimisticAddress({ address: "2001:db8:6::c", device: "nope0", netns: mn }))
        .rejects.toMatchObject({ code: "unreachable" });
    });
  },
);
