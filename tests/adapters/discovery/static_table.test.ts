import { describe, expect, it } from "npm:vitest@4.1.12";
import { StaticDiscovery } from "../../../adapters/discovery/static_table.ts";
import { ConfigError } from "../../../lib/errors.ts";
import type { CtnInfo } from "../../../lib/ports.ts";

/** A CTN with one cell per given antenna position (coverage 50 m), or none. */
function ctn(network: string, cells: readonly [number, number][] = []): CtnInfo {
  const poas = cells.length === 0 ? [`${network}-ap`] : cells.map((_, i) => `${network}-ap${i}`);
  return {
    network,
    aa: { address: "10.0.0.1", port: 7160 },
    ca: { address: "10.0.0.2" },
    ar: { address: "10.0.0.3" },
    poas,
    ...(cells.length === 0 ? {} : {
      cells: cells.map(([x, y], i) => ({
        poa: `${network}-ap${i}`,
        network,
        pos: { x, y },
        coverage: 50,
      })),
    }),
  };
}

const names = (list: readonly CtnInfo[]) => list.map((c) => c.network);

describe("StaticDiscovery (RFC 6252 section 7.1)", () => {
  const table = [
    ctn("unlocated1"),
    ctn("far", [[1000, 0]]),
    ctn("twoCells", [[-400, 0], [0, 150]]), // nearest cell edge: 100 m
    ctn("covering", [[30, 0]]), // inside coverage: 0 m
    ctn("nearer", [[0, 80]]), // 30 m
    ctn("unlocated2"),
  ];

  it("section 7.1 - orders by distance to the coverage edge of each CTN's nearest cell, unlocated CTNs last", async () => {
    const d = new StaticDiscovery(table);
    expect(names(await d.candidates({ x: 0, y: 0 }))).toEqual([
      "covering",
      "nearer",
      "twoCells",
      "far",
      "unlocated1",
      "unlocated2",
    ]);
    expect(d.rank({ x: 0, y: 0 }).map((r) => r.distance)).toEqual([
      0,
      30,
      100,
      950,
      Infinity,
      Infinity,
    ]);
  });

  it("without a position lists the whole table in its order", async () => {
    expect(names(await new StaticDiscovery(table).candidates())).toEqual(names(table));
  });

  it("ties inside coverage are broken by the distance to the antenna, then by table order", async () => {
    const d = new StaticDiscovery([ctn("a", [[40, 0]]), ctn("b", [[10, 0]]), ctn("c", [[0, 10]])]);
    expect(names(await d.candidates({ x: 0, y: 0 }))).toEqual(["b", "c", "a"]);
  });

  it("maxDistance leaves out CTNs farther away but keeps unlocated ones", async () => {
    const d = new StaticDiscovery(table, { maxDistance: 100 });
    expect(names(await d.candidates({ x: 0, y: 0 }))).toEqual([
      "covering",
      "nearer",
      "twoCells",
      "unlocated1",
      "unlocated2",
    ]);
    // A query radius tighter than the configured limit wins.
    expect(names(d.rank({ x: 0, y: 0 }, 0).map((r) => r.ctn))).toEqual([
      "covering",
      "unlocated1",
      "unlocated2",
    ]);
  });

  it("moves with the MN: the order changes with the position", async () => {
    const d = new StaticDiscovery(table);
    expect(names(await d.candidates({ x: 1000, y: 0 }))[0]).toBe("far");
  });

  it("validates the table and the options with ConfigError naming the entry", () => {
    const bad = { ...ctn("x"), aa: { address: "not-an-ip" } };
    const e = (() => {
      try {
        new StaticDiscovery([ctn("ok"), bad]);
      } catch (error) {
        return error;
      }
    })();
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).option).toBe("table[1]");
    expect((e as ConfigError).message).toContain("table[1].aa.address");
    expect(() => new StaticDiscovery([ctn("a"), ctn("a")])).toThrow("duplicate a");
    expect(() => new StaticDiscovery([], { maxDistance: -1 })).toThrow(ConfigError);
  });

  it("rejects an aborted call and a non-finite position with PortError", async () => {
    const d = new StaticDiscovery(table);
    await expect(d.candidates(undefined, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: "PortError",
      port: "Discovery",
      code: "aborted",
    });
    await expect(d.candidates({ x: NaN, y: 0 })).rejects.toMatchObject({ code: "protocol" });
  });
});
