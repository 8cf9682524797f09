import { describe, expect, it } from "npm:vitest@4.1.12";
import {
  demoAddressPlan,
  demoDrive,
  embeddedDemoScenario,
} from "../../../adapters/demo/demo_drive.ts";

describe("demoAddressPlan", () => {
  it("puts every element on its own 127/8 address, per CTN subnet", () => {
    const plan = demoAddressPlan(0);
    expect(plan.home).toEqual({ network: "domainA", poa: "a1", oCoA: "127.0.1.10" });
    expect(plan.ctns.map((c) => [c.network, c.ar, c.ca, c.aa, c.subnet])).toEqual([
      ["domainB", "127.0.2.1", "127.0.2.2", "127.0.2.3", "127.0.2.0/24"],
      ["domainC", "127.0.3.1", "127.0.3.2", "127.0.3.3", "127.0.3.0/24"],
    ]);
    expect(demoAddressPlan(9).ctns[1]!.range).toEqual(["127.9.3.100", "127.9.3.199"]);
  });

  it("refuses an octet outside 0-255", () => {
    expect(() => demoAddressPlan(256)).toThrow("Invalid demo network octet: 256");
    expect(() => demoAddressPlan(1.5)).toThrow(RangeError);
  });
});

describe("demoDrive (RFC 6252 sections 7.2, C.4)", () => {
  it("seed 3 pre-authenticates with both CTNs, binds and switches to domainB, releases domainC", async () => {
    const drive = await demoDrive(3);
    const kinds = drive.decisions.map((d) => `${d.kind}:${"ctn" in d ? d.ctn : d.ctns.join("+")}`);
    expect(kinds).toContain("prepare:domainB");
    expect(kinds).toContain("prepare:domainC");
    expect(kinds).toContain("commit:domainB");
    expect(kinds).toContain("release:domainC");
    expect(drive.handover?.ctn).toBe("domainB");
    expect(drive.handover?.prepared).toEqual(["preauth", "preconfigure", "bind"]);
    // Cut at the handover: the demo shows one MPA handover.
    expect(drive.samples.at(-1)!.t).toBe(drive.handover!.t);
  });

  it("is deterministic per seed and every seed of 1-8 has one handover between domains", async () => {
    for (let seed = 1; seed <= 8; seed++) {
      const [a, b] = await Promise.all([demoDrive(seed), demoDrive(seed)]);
      expect(a.decisions).toEqual(b.decisions);
      expect(a.handover?.fromNetwork, `seed ${seed}`).toBe("domainA");
    }
  });

  it("has one cell per network", () => {
    const s = embeddedDemoScenario();
    expect(new Set(s.cells.map((c) => c.network)).size).toBe(3);
    expect(s.ctns.map((c) => c.network)).toEqual(["domainA", "domainB", "domainC"]);
  });
});
