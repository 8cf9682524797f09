import { describe, expect, it } from "npm:vitest@4.1.12";
import { ConfigError } from "../../../lib/errors.ts";
import { decodePana, findAvp, panaMessageName } from "../../../lib/wire/pana.ts";
import { PanaLink } from "./_pana_link.ts";

function names(messages: readonly Uint8Array[]): string[] {
  return messages.map((b) => {
    const m = decodePana(b);
    return panaMessageName(m) + (m.flags.start ? "-S" : "") + (m.flags.complete ? "-C" : "");
  });
}

/** Drops the PAA's datagram number `index` (0: the initial PAR) once. */
function dropPaaOnce(link: PanaLink, index: number): void {
  link.paaFilter = (_bytes, i) => (i === index ? "drop" : "deliver");
}

describe("PaC abort during the authentication phase (RFC 6252 section C.6, RFC 5191 sections 4.1, 4.4)", () => {
  it("completes a session the PAA already holds and terminates it at once: PTR LOGOUT, no done, PAA empty", async () => {
    const link = new PanaLink();
    dropPaaOnce(link, 1); // the first PAR after the initial exchange is lost
    await link.pacDo(link.pac.start());
    await link.settle();
    expect(link.pac.state).toBe("authenticating");
    expect(link.paa.stats.halfOpen).toBe(1);

    await link.pacDo(link.pac.abort());
    expect(link.pac.abandoned).toBe(true);
    await link.runFor(3_000); // the PAA retransmits its PAR after about REQ_IRT

    expect(names(link.fromPac)).toEqual(["PCI", "PAN-S", "PAN", "PAN-C", "PTR"]);
    const ptr = decodePana(link.fromPac.at(-1)!);
    expect(findAvp(ptr, "terminationCause")!.value).toBe(1); // LOGOUT
    expect(findAvp(ptr, "auth")).toBeDefined();
    expect(link.pacEventsOf("done")).toEqual([]);
    expect(link.pacEventsOf("closed")).toEqual([{ kind: "closed", cause: "logout" }]);
    expect(link.paaEventsOf("closed")).toMatchObject([{ cause: "logout" }]);
    expect(link.paa.stats).toMatchObject({ sessions: 0, halfOpen: 0, terminated: 1 });
    expect(link.pac.state).toBe("closed");
    expect(link.timers.size).toBe(0);
  });

  it("answers the retransmitted final PAR after an abort and terminates the session", async () => {
    const link = new PanaLink();
    dropPaaOnce(link, 2); // the final PAR is lost once
    await link.pacDo(link.pac.start());
    await link.settle();
    await link.pacDo(link.pac.abort());
    await link.runFor(3_000);
    expect(names(link.fromPac).slice(-2)).toEqual(["PAN-C", "PTR"]);
    expect(link.paa.stats).toMatchObject({ sessions: 0, authorized: 1, terminated: 1 });
    expect(link.pacEventsOf("closed")).toEqual([{ kind: "closed", cause: "logout" }]);
  });

  it("stops retransmitting the PCI but answers an initial PAR that was already on its way", async () => {
    const link = new PanaLink();
    dropPaaOnce(link, 0); // the initial PAR is lost once: the PAA holds a half-open session
    await link.pacDo(link.pac.start());
    await link.settle();
    expect(link.pac.state).toBe("initiating");
    await link.pacDo(link.pac.abort());
    await link.runFor(3_000);
    expect(names(link.fromPac)).toEqual(["PCI", "PAN-S", "PAN", "PAN-C", "PTR"]);
    expect(link.paa.stats).toMatchObject({ sessions: 0, halfOpen: 0 });
  });

  it("leaves nothing when the PCI never arrived: no retransmission, failed at the deadline", async () => {
    const link = new PanaLink();
    link.pacFilter = () => "drop";
    await link.pacDo(link.pac.start());
    await link.settle();
    const commands = await link.pac.abort({ deadlineMs: 1_500 });
    expect(commands).toEqual([
      { kind: "cancel", timer: "pci" },
      { kind: "arm", timer: "auth", delayMs: 1_500 },
    ]);
    await link.pacDo(Promise.resolve(commands));
    await link.runFor(10_000);
    expect(link.fromPac).toHaveLength(1); // the PCI retransmissions are off
    expect(link.pacEventsOf("failed")).toEqual([
      expect.objectContaining({
        code: "timeout",
        reason: expect.stringContaining("no initial PAR"),
      }),
    ]);
    expect(link.paa.stats.sessions).toBe(0);
    expect(link.timers.size).toBe(0);
  });

  it("falls silent at the deadline; the PAA drops the half-open session at its own deadline", async () => {
    const link = new PanaLink({ paa: { authTimeoutMs: 4_000 } });
    link.paaFilter = (_b, i) => (i >= 1 ? "drop" : "deliver"); // the AA is cut off after PAR-S
    await link.pacDo(link.pac.start());
    await link.settle();
    await link.pacDo(link.pac.abort({ deadlineMs: 1_000 }));
    await link.runFor(1_001);
    expect(link.pacEventsOf("failed")).toEqual([
      expect.objectContaining({
        code: "timeout",
        reason: expect.stringMatching(/^Abandoned .*: session \d+ left to the PAA's timers$/),
      }),
    ]);
    expect(link.paa.stats.halfOpen).toBe(1);
    await link.runFor(4_000);
    expect(link.paa.stats).toMatchObject({ sessions: 0, halfOpen: 0 });
  });

  it("keeps the deadline within the authentication deadline left", async () => {
    const link = new PanaLink({ pac: { authTimeoutMs: 1_000 } });
    link.pacFilter = () => "drop";
    await link.pacDo(link.pac.start());
    await link.runFor(400);
    const commands = await link.pac.abort({ deadlineMs: 5_000 });
    expect(commands).toContainEqual({ kind: "arm", timer: "auth", delayMs: 600 });
  });
});

describe("PaC abort of an open or idle session (RFC 5191 section 4.4)", () => {
  it("terminates an open session with a PTR, as terminate does", async () => {
    const link = new PanaLink();
    await link.pacDo(link.pac.start());
    await link.settle();
    expect(link.pac.state).toBe("open");
    await link.pacDo(link.pac.abort());
    await link.settle();
    expect(names(link.fromPac).at(-1)).toBe("PTR");
    expect(link.pacEventsOf("closed")).toEqual([{ kind: "closed", cause: "logout" }]);
    expect(link.paa.stats).toMatchObject({ sessions: 0, terminated: 1 });
  });

  it("closes an idle machine at once and does nothing after the end", async () => {
    const link = new PanaLink();
    expect(await link.pac.abort()).toEqual([{ kind: "closed", cause: "logout" }]);
    expect(link.pac.state).toBe("closed");
    expect(await link.pac.abort()).toEqual([]);
  });

  it("refuses a deadline that is not a positive number", () => {
    const link = new PanaLink();
    expect(() => link.pac.abort({ deadlineMs: 0 })).toThrow(ConfigError);
    expect(() => link.pac.abort({ deadlineMs: Number.NaN })).toThrow(ConfigError);
  });
});
