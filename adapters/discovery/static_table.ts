/**
 * Discovery from a static table of candidate target networks (RFC 6252 section 7.1,
 * section 6.3 step 1): the MN, or an information server on its behalf
 * (adapters/discovery/info_server.ts), knows the CTNs with the addresses of their
 * authentication agent, configuration agent and access router, and the cells of
 * their points of attachment; given a position, it lists them nearest first.
 *
 * @module
 */
import { ConfigError, MalformedMessageError } from "../../lib/errors.ts";
import type { Position } from "../../lib/metrics/link_sample.ts";
import { type CtnInfo, type Discovery, type PortCallOptions, PortError } from "../../lib/ports.ts";
import { parseCtnInfo } from "../../lib/wire/info_query.ts";

/** Options of {@link StaticDiscovery}. */
export interface StaticDiscoveryOptions {
  /**
   * With a position, leave out CTNs whose nearest cell's coverage edge is farther
   * than this, metres. CTNs without cells are always listed (last). Default: no limit.
   */
  readonly maxDistance?: number;
}

/** A CTN and how far it is from a position. */
export interface RankedCtn {
  /** The CTN. */
  readonly ctn: CtnInfo;
  /**
   * Distance from the position to the coverage edge of the CTN's nearest cell,
   * metres: 0 inside coverage, `Infinity` for a CTN without cells.
   */
  readonly distance: number;
}

/**
 * A {@link Discovery} over a fixed list of CTNs. With a position, CTNs are ordered by
 * the distance from the position to the coverage edge of their nearest cell (0 when
 * inside coverage; ties by the distance to the cell's antenna, then by table order);
 * CTNs without cells come last in table order, since where they are is unknown.
 * Without a position, the whole table in its order.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const ctn = (network: string, x: number) => ({
 *   network, aa: { address: "10.0.0.1" }, ca: { address: "10.0.0.2" }, ar: { address: "10.0.0.3" },
 *   poas: [`ap${network}`], cells: [{ poa: `ap${network}`, network, pos: { x, y: 0 }, coverage: 50 }],
 * });
 * const discovery = new StaticDiscovery([ctn("far", 500), ctn("near", 100)], { maxDistance: 300 });
 * const list = await discovery.candidates({ x: 0, y: 0 });
 * assertEquals(list.map((c) => c.network), ["near"]);
 * ```
 */
export class StaticDiscovery implements Discovery {
  readonly #table: readonly CtnInfo[];
  readonly #maxDistance: number;

  /**
   * Validates the table (each entry as `parseCtnInfo` does, network ids unique).
   *
   * @param table the CTNs known
   * @param options maximum distance
   * @throws {ConfigError} naming the offending entry (`table[2]`) or option
   */
  constructor(table: readonly CtnInfo[], options: StaticDiscoveryOptions = {}) {
    const seen = new Set<string>();
    this.#table = table.map((entry, i) => {
      let ctn: CtnInfo;
      try {
        ctn = parseCtnInfo(entry, `table[${i}]`);
      } catch (e) {
        if (e instanceof MalformedMessageError) throw new ConfigError(`table[${i}]`, e.message);
        throw e;
      }
      if (seen.has(ctn.network)) {
        throw new ConfigError(
          `table[${i}].network`,
          `Invalid CTN info: table[${i}].network: duplicate ${ctn.network}`,
        );
      }
      seen.add(ctn.network);
      return ctn;
    });
    const max = options.maxDistance ?? Infinity;
    if (typeof max !== "number" || Number.isNaN(max) || max < 0) {
      throw new ConfigError(
        "maxDistance",
        `Invalid maxDistance: expected a number at least 0, got ${max}`,
      );
    }
    this.#maxDistance = max;
  }

  /** The validated table, in its order. */
  get table(): readonly CtnInfo[] {
    return this.#table;
  }

  /**
   * Ranks the table synchronously (what {@link StaticDiscovery.candidates} and the
   * information server answer with).
   *
   * @param position the MN's position; omitted: the whole table, distance `Infinity`
   * @param maxDistance a tighter limit than the configured one, metres (the query's
   *   radius); the smaller of the two applies
   * @returns the CTNs with their distance, nearest first
   * @throws {PortError} `protocol` for a position with a non-finite coordinate
   *
   * @example
   * ```ts
   * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
   * const d = new StaticDiscovery([{
   *   network: "A", aa: { address: "10.0.0.1" }, ca: { address: "10.0.0.1" }, ar: { address: "10.0.0.1" },
   *   poas: ["a1"], cells: [{ poa: "a1", network: "A", pos: { x: 100, y: 0 }, coverage: 40 }],
   * }]);
   * assertEquals(d.rank({ x: 0, y: 0 })[0]?.distance, 60);
   * assertEquals(d.rank({ x: 0, y: 0 }, 50), []);
   * ```
   */
  rank(position?: Position, maxDistance: number = Infinity): readonly RankedCtn[] {
    if (position === undefined) return this.#table.map((ctn) => ({ ctn, distance: Infinity }));
    if (!Number.isFinite(position.x) || !Number.isFinite(position.y)) {
      throw new PortError(
        "Discovery",
        "protocol",
        `Invalid position: expected finite x and y, got ${position.x}, ${position.y}`,
      );
    }
    const limit = Math.min(maxDistance, this.#maxDistance);
    return this.#table
      .map((ctn, index) => ({ ctn, index, ..._nearest(ctn, position) }))
      .filter((r) => r.distance === Infinity || r.distance <= limit)
      .sort((a, b) =>
        _compare(a.distance, b.distance) || _compare(a.centre, b.centre) || a.index - b.index
      )
      .map(({ ctn, distance }) => ({ ctn, distance }));
  }

  /**
   * The CTNs near a position, nearest first (RFC 6252 section 7.1).
   *
   * @param position the MN's position; omitted: every CTN, in table order
   * @param options abort signal
   * @returns the candidates; may be empty
   * @throws {PortError} `aborted` when the signal has fired, `protocol` for a
   *   position with a non-finite coordinate
   */
  candidates(position?: Position, options: PortCallOptions = {}): Promise<readonly CtnInfo[]> {
    if (options.signal?.aborted === true) {
      return Promise.reject(
        new PortError("Discovery", "aborted", "Discovery aborted: before the table lookup", {
          cause: options.signal.reason,
        }),
      );
    }
    try {
      return Promise.resolve(this.rank(position).map((r) => r.ctn));
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

function _compare(a: number, b: number): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

function _nearest(ctn: CtnInfo, p: Position): { distance: number; centre: number } {
  let distance = Infinity;
  let centre = Infinity;
  for (const cell of ctn.cells ?? []) {
    const d = Math.hypot(cell.pos.x - p.x, cell.pos.y - p.y);
    const edge = Math.max(0, d - cell.coverage);
    if (edge < distance || (edge === distance && d < centre)) {
      distance = edge;
      centre = d;
    }
  }
  return { distance, centre };
}
