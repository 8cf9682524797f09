/**
 * CI's reduced run of the handover testbed (bench/handover/run.ts --reduced): one
 * CTN, three runs each of MPA with buffering and of the reactive baseline, SIP
 * bindings, non-roaming, 50 packets/s, 100 ms RTT to the correspondent. Real
 * processes in network namespaces (prefix `mpatc`): `mpa ctn`, Kea, the SIP
 * correspondent, the scripted MN. Needs root, /dev/net/tun, kea-dhcp4 and nft;
 * skipped otherwise (runs in CI).
 */
import { describe, expect, it } from "npm:vitest@4.1.12";
import { canUseNetns } from "../../fixtures/netns/netns_lab.ts";
import { findExecutable } from "../../fixtures/_server_process.ts";
import { runTestbed } from "../../../bench/handover/run.ts";
import { goals, renderReport } from "../../../bench/handover/report.ts";

const ok = canUseNetns({ tun: true }) && findExecutable("kea-dhcp4") !== undefined &&
  findExecutable("nft") !== undefined;

describe("handover testbed, reduced (RFC 6252 Appendix C.5)", () => {
  it.skipIf(!ok)(
    "needs root, /dev/net/tun and kea-dhcp4 (runs in CI): MPA with buffering loses nothing and the reactive baseline loses more",
    async () => {
      const results = await runTestbed({
        runs: 3,
        scenarios: ["mpa-buffering", "reactive"],
        protocols: ["sip"],
        aaa: ["local"],
        ctns: 1,
        prefix: "mpatc",
        log: (l) => console.log(l),
      });
      const mpa = results.scenarios.find((s) => s.id === "mpa-buffering")!;
      const reactive = results.scenarios.find((s) => s.id === "reactive")!;
      expect(mpa.failures ?? [], "failed MPA runs").toEqual([]);
      expect(reactive.failures ?? [], "failed reactive runs").toEqual([]);
      expect(mpa.runs).toHaveLength(3);
      expect(reactive.runs).toHaveLength(3);
      for (const r of mpa.runs) {
        expect(r.metrics.lost).toBe(0);
        expect(r.metrics.sent).toBeGreaterThan(50);
      }
      const mpaLost = mpa.runs.reduce((n, r) => n + r.metrics.lost, 0);
      const reactiveLost = reactive.runs.reduce((n, r) => n + r.metrics.lost, 0);
      expect(reactiveLost).toBeGreaterThan(mpaLost);
      const report = renderReport(results);
      expect(report.markdown).toContain("## Figure 7");
      expect(goals(results)[0]).toMatchObject({ status: "met" });
      console.log(report.markdown.split("## Figure 6")[0]);
    },
    85_000,
  );
});
