/**
 * The authentication agent's MPA-SA store on Deno KV (RFC 6252 section C.2: SAs
 * survive an AA restart, and stay held, unauthorized, after the MN leaves). Needs
 * `--unstable-kv`.
 *
 * Key material is never stored in the clear: the MN-CA and MN-AR keys of each SA
 * are sealed with AES-256-GCM under the store's own key (from a key file the
 * operator keeps, 32 bytes), with the session id as associated data so a sealed
 * blob cannot be moved to another record. `put` therefore needs extractable keys;
 * `get` returns extractable keys of the same algorithms (HMAC-SHA-256 for MN-CA,
 * AES-GCM-256 for MN-AR), since the AA must be able to store them again.
 *
 * @module
 */
import type { MpaSaKeyIds, SaAuthorization, SaKey, SaRecord, SaStore } from "../../lib/ports.ts";
import { PortError } from "../../lib/ports.ts";

/** What is stored per SA: everything but the keys, plus the sealed keys. */
interface _Stored {
  readonly ctn: string;
  readonly mnId: string;
  readonly sessionId: number;
  readonly establishedAt: number;
  readonly lifetimeMs: number;
  readonly expiresAt: number;
  readonly keyIds: MpaSaKeyIds;
  readonly state: SaAuthorization;
  readonly iv: Uint8Array;
  readonly sealed: Uint8Array;
}

const _SA = "sa";
const _BY_MN = "by-mn";

/** An {@link SaStore} on Deno KV with keys sealed under a store key. */
export class KvSaStore implements SaStore, AsyncDisposable {
  readonly #kv: Deno.Kv;
  readonly #sealKey: CryptoKey;

  private constructor(kv: Deno.Kv, sealKey: CryptoKey) {
    this.#kv = kv;
    this.#sealKey = sealKey;
  }

  /**
   * Opens (or creates) a store.
   *
   * @param path the KV database file; undefined for Deno's default
   * @param storeKey 32 bytes that seal the SAs' keys at rest
   * @returns the store
   * @throws {RangeError} when the store key is not 32 bytes
   */
  static async open(path: string | undefined, storeKey: Uint8Array): Promise<KvSaStore> {
    if (storeKey.length !== 32) {
      throw new RangeError(`Invalid store key: expected 32 bytes, got ${storeKey.length}`);
    }
    const sealKey = await crypto.subtle.importKey(
      "raw",
      Uint8Array.from(storeKey),
      { name: "AES-GCM" },
      false,
      ["encrypt", "decrypt"],
    );
    const kv = await Deno.openKv(path);
    return new KvSaStore(kv, sealKey);
  }

  /** Reads one SA by session id, or an MN's newest SA. */
  async get(key: SaKey): Promise<SaRecord | undefined> {
    if ("sessionId" in key) {
      const entry = await this.#kv.get<_Stored>([_SA, key.sessionId]);
      return entry.value === null ? undefined : await this.#open(entry.value);
    }
    let best: _Stored | undefined;
    for await (const e of this.#kv.list<number>({ prefix: [_BY_MN, key.mnId] })) {
      const s = await this.#kv.get<_Stored>([_SA, e.value]);
      const v = s.value;
      if (v === null) continue;
      if (
        best === undefined || v.establishedAt > best.establishedAt ||
        (v.establishedAt === best.establishedAt && v.sessionId > best.sessionId)
      ) best = v;
    }
    return best === undefined ? undefined : await this.#open(best);
  }

  /** Stores an SA (its keys must be extractable), replacing one with the same session id. */
  async put(record: SaRecord): Promise<void> {
    let mnCa: ArrayBuffer;
    let mnAr: ArrayBuffer;
    try {
      mnCa = await crypto.subtle.exportKey("raw", record.keys.mnCa);
      mnAr = await crypto.subtle.exportKey("raw", record.keys.mnAr);
    } catch (error) {
      throw new PortError(
        "SaStore",
        "protocol",
        `Cannot store SA ${record.sessionId}: its keys are not extractable`,
        { cause: error },
      );
    }
    const plain = new Uint8Array(mnCa.byteLength + mnAr.byteLength + 1);
    plain[0] = mnCa.byteLength;
    plain.set(new Uint8Array(mnCa), 1);
    plain.set(new Uint8Array(mnAr), 1 + mnCa.byteLength);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: _aad(record.sessionId) },
        this.#sealKey,
        plain,
      ),
    );
    plain.fill(0);
    const stored: _Stored = {
      ctn: record.ctn,
      mnId: record.mnId,
      sessionId: record.sessionId,
      establishedAt: record.establishedAt,
      lifetimeMs: record.lifetimeMs,
      expiresAt: record.expiresAt,
      keyIds: record.keyIds,
      state: record.state,
      iv,
      sealed,
    };
    const previous = await this.#kv.get<_Stored>([_SA, record.sessionId]);
    const op = this.#kv.atomic().check(previous).set([_SA, record.sessionId], stored).set(
      [_BY_MN, record.mnId, record.sessionId],
      record.sessionId,
    );
    if (previous.value !== null && previous.value.mnId !== record.mnId) {
      op.delete([_BY_MN, previous.value.mnId, record.sessionId]);
    }
    const result = await op.commit();
    if (!result.ok) {
      throw new PortError("SaStore", "protocol", `SA ${record.sessionId} changed while stored`);
    }
  }

  /** Deletes one SA by session id, or all of an MN's SAs. */
  async delete(key: SaKey): Promise<number> {
    const ids: number[] = [];
    if ("sessionId" in key) ids.push(key.sessionId);
    else {
      for await (const e of this.#kv.list<number>({ prefix: [_BY_MN, key.mnId] })) {
        ids.push(e.value);
      }
    }
    let deleted = 0;
    for (const id of ids) {
      const s = await this.#kv.get<_Stored>([_SA, id]);
      if (s.value === null) continue;
      await this.#kv.atomic().delete([_SA, id]).delete([_BY_MN, s.value.mnId, id]).commit();
      deleted++;
    }
    return deleted;
  }

  /** Lists SAs ordered by session id, optionally one MN's only. */
  async list(filter: { readonly mnId?: string } = {}): Promise<readonly SaRecord[]> {
    const out: SaRecord[] = [];
    for await (const e of this.#kv.list<_Stored>({ prefix: [_SA] })) {
      if (filter.mnId !== undefined && e.value.mnId !== filter.mnId) continue;
      out.push(await this.#open(e.value));
    }
    return out.sort((a, b) => a.sessionId - b.sessionId);
  }

  /** Closes the database. */
  close(): void {
    this.#kv.close();
  }

  /** Closes the database. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  async #open(s: _Stored): Promise<SaRecord> {
    let plain: Uint8Array;
    try {
      plain = new Uint8Array(
        await crypto.subtle.decrypt(
          { name: "AES-GCM", iv: Uint8Array.from(s.iv), additionalData: _aad(s.sessionId) },
          this.#sealKey,
          Uint8Array.from(s.sealed),
        ),
      );
    } catch (error) {
      throw new PortError(
        "SaStore",
        "protocol",
        `Cannot open SA ${s.sessionId}: wrong store key or tampered record`,
        { cause: error },
      );
    }
    const caLength = plain[0]!;
    const mnCa = await crypto.subtle.importKey(
      "raw",
      plain.slice(1, 1 + caLength),
      { name: "HMAC", hash: "SHA-256" },
      true,
      ["sign", "verify"],
    );
    const mnAr = await crypto.subtle.importKey(
      "raw",
      plain.slice(1 + caLength),
      { name: "AES-GCM" },
      true,
      ["encrypt", "decrypt"],
    );
    plain.fill(0);
    return {
      ctn: s.ctn,
      mnId: s.mnId,
      sessionId: s.sessionId,
      establishedAt: s.establishedAt,
      lifetimeMs: s.lifetimeMs,
      expiresAt: s.expiresAt,
      keyIds: s.keyIds,
      state: s.state,
      keys: { mnCa, mnAr },
    };
  }
}

function _aad(sessionId: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, sessionId >>> 0);
  return b;
}
