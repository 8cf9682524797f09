/**
 * In-memory {@link SaStore}: the authentication agent's MPA-SAs in a map
 * (RFC 6252 section C.2).
 *
 * @module
 */
import type { SaKey, SaRecord, SaStore } from "../../lib/ports.ts";
import { FakeBehaviour, type FakeBehaviourOptions } from "./_fake_behaviour.ts";

/** A fake SA store; records are kept as given (they are readonly). */
export class FakeSaStore implements SaStore {
  /** Latency, failures and the call log. */
  readonly behaviour: FakeBehaviour;
  readonly #bySession = new Map<number, SaRecord>();

  /**
   * @param records records present at the start
   * @param options latency, failures
   */
  constructor(
    records: readonly SaRecord[] = [],
    options: FakeBehaviourOptions = {},
  ) {
    this.behaviour = new FakeBehaviour("SaStore", options);
    for (const r of records) this.#bySession.set(r.sessionId, r);
  }

  /** How many records are held. */
  get size(): number {
    return this.#bySession.size;
  }

  /**
   * Reads one SA.
   *
   * @param key session id, or MN id for the MN's newest SA
   * @returns the record or `undefined`
   */
  get(key: SaKey): Promise<SaRecord | undefined> {
    return this.behaviour.run("get", [key], undefined, () => {
      if ("sessionId" in key) return this.#bySession.get(key.sessionId);
      return this.#sorted().filter((r) => r.mnId === key.mnId).sort((a, b) =>
        b.establishedAt - a.establishedAt || b.sessionId - a.sessionId
      )[0];
    });
  }

  /**
   * Stores an SA, replacing one with the same session id.
   *
   * @param record the SA
   * @returns when stored
   */
  put(record: SaRecord): Promise<void> {
    return this.behaviour.run("put", [record], undefined, () => {
      this.#bySession.set(record.sessionId, record);
    });
  }

  /**
   * Deletes by session id (one) or MN id (all of the MN's).
   *
   * @param key the selector
   * @returns how many were deleted
   */
  delete(key: SaKey): Promise<number> {
    return this.behaviour.run("delete", [key], undefined, () => {
      if ("sessionId" in key) {
        return this.#bySession.delete(key.sessionId) ? 1 : 0;
      }
      let n = 0;
      for (const r of this.#sorted()) {
        if (r.mnId === key.mnId && this.#bySession.delete(r.sessionId)) n++;
      }
      return n;
    });
  }

  /**
   * Lists SAs by session id.
   *
   * @param filter optional MN id
   * @returns the records
   */
  list(filter?: { readonly mnId?: string }): Promise<readonly SaRecord[]> {
    return this.behaviour.run("list", [filter], undefined, () => {
      const mnId = filter?.mnId;
      return mnId === undefined ? this.#sorted() : this.#sorted().filter((r) => r.mnId === mnId);
    });
  }

  #sorted(): SaRecord[] {
    return [...this.#bySession.values()].sort((a, b) => a.sessionId - b.sessionId);
  }
}
