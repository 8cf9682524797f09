import { describe, expect, it } from "npm:vitest@4.1.12";
import {
  demoSummaryJson,
  formatDemoEvent,
  formatDemoSummary,
  formatProgress,
} from "../../../adapters/demo/demo_report.ts";
import type { DemoSummary } from "../../../adapters/demo/embedded_demo.ts";

const SUMMARY: DemoSummary = {
  seed: 3,
  speed: 2,
  buffering: false,
  driveMs: 10000,
  wallMs: 6200,
  decisions: { prepare: 2, switch: 1 },
  chosen: "domainB",
  released: ["domainC"],
  phases: {
    domainC: { tauthMs: 7.04 },
    domainB: { tauthMs: 15.46, tconfMs: 8.31, tunnelMs: 5.9, buMs: 8.94, switchMs: 51.66 },
  },
  packets: {
    sent: 155,
    received: 153,
    lost: 2,
    duplicated: 0,
    reordered: 0,
    buffered: 0,
    flushed: 0,
    droppedOffLink: 2,
  },
  interruptionMs: 58.3449,
  jitterMs: 0.84,
  warnings: [],
  release: {
    mnSessions: 0,
    aaSessions: 1,
    arTunnels: 0,
    leases: 0,
    sockets: 0,
    allReleased: false,
  },
};

describe("demo report", () => {
  it("formats a timeline line, marking warnings", () => {
    expect(formatDemoEvent({ at: 3.25, driveMs: 0, kind: "ctn", ctn: "domainB", text: "up" }))
      .toBe("    3.3 ms   0.0 s  ctn         domainB  up");
    expect(formatDemoEvent({ at: 1, driveMs: 0, kind: "x", ctn: "", text: "lost", warn: true }))
      .toContain("! lost");
  });

  it("draws the progress bar within bounds", () => {
    expect(formatProgress(0, 10000, 4)).toBe("drive [....]  0.0 / 10.0 s");
    expect(formatProgress(-5, 0, 2)).toBe("drive [##]  0.0 / 0.0 s");
  });

  it("prints the chosen CTN first, the phases, the packets and what was left", () => {
    const lines = formatDemoSummary(SUMMARY);
    expect(lines[0]).toMatch(/^CTN +Tauth +Tconf +tunnel +BU +switch$/);
    expect(lines[1]).toMatch(/^domainB \(chosen\) +15\.5 ms +8\.3 ms +5\.9 ms +8\.9 ms +51\.7 ms$/);
    expect(lines[2]).toMatch(/^domainC \(released\) +7\.0 ms +- +- +- +-$/);
    expect(lines).toContain(
      "packets: 155 sent, 153 received, 2 lost, 0 duplicated, 0 reordered, 0 buffered at the AR (0 flushed), 2 dropped off the old link",
    );
    expect(lines.join("\n")).toContain(
      "release: NOT all released: 0 MPA sessions, 1 PANA sessions",
    );
  });

  it("round-trips the summary through one JSON line, times rounded", () => {
    const json = demoSummaryJson(SUMMARY);
    expect(json).not.toContain("\n");
    const back = JSON.parse(json) as DemoSummary;
    expect(back.interruptionMs).toBe(58.345);
    expect(back.packets).toEqual(SUMMARY.packets);
  });
});
