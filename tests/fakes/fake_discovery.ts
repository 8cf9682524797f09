/**
 * In-memory {@link Discovery}: a table of CTNs, filtered by position when the CTNs
 * carry cells.
 *
 * @module
 */
import type { Position } from "../../lib/metrics/link_sample.ts";
import type { CtnInfo, Discovery, PortCallOptions } from "../../lib/ports.ts";
import { FakeBehaviour, type FakeBehaviourOptions } from "./_fake_behaviour.ts";

/**
 * A static discovery table. With a position, a CTN is listed when one of its cells
 * covers that position, or when it has no cells (position unknown to the table);
 * CTNs are ordered by the distance to their nearest cell.
 */
export class FakeDiscovery implements Discovery {
  /** Latency, failures and the call log. */
  readonly behaviour: FakeBehaviour;
  #table: readonly CtnInfo[];

  /**
   * @param table the CTNs known
   * @param options latency, scheduler, failures
   */
  constructor(table: readonly CtnInfo[], options: FakeBehaviourOptions = {}) {
    this.#table = table;
    this.behaviour = new FakeBehaviour("Discovery", options);
  }

  /**
   * Replaces the table (a CTN appears or disappears).
   *
   * @param table the new table
   */
  setTable(table: readonly CtnInfo[]): void {
    this.#table = table;
  }

  /**
   * The CTNs near a position.
   *
   * @param position the MN's position; all CTNs when omitted
   * @param options abort signal
   * @returns the matching CTNs, nearest first
   */
  candidates(
    position?: Position,
    options?: PortCallOptions,
  ): Promise<readonly CtnInfo[]> {
    return this.behaviour.run("candidates", [position], options?.signal, () => {
      if (position === undefined) return [...this.#table];
      return this.#table
        .map((ctn) => ({ ctn, d: _nearest(ctn, position) }))
        .filter(({ d }) => d.covered)
        .sort((a, b) => a.d.distance - b.d.distance)
        .map(({ ctn }) => ctn);
    });
  }
}

function _nearest(
  ctn: CtnInfo,
  p: Position,
): { covered: boolean; distance: number } {
  if (ctn.cells === undefined || ctn.cells.length === 0) {
    return { covered: true, distance: Infinity };
  }
  let covered = false;
  let distance = Infinity;
  for (const cell of ctn.cells) {
    const d = Math.hypot(cell.pos.x - p.x, cell.pos.y - p.y);
    covered ||= d <= cell.coverage;
    distance = Math.min(distance, d);
  }
  return { covered, distance };
}
