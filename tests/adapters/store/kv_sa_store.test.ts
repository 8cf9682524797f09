import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { KvSaStore } from "../../../adapters/store/kv_sa_store.ts";
import type { SaRecord } from "../../../lib/ports.ts";

const storeKey = new Uint8Array(32).fill(7);
const dirs: string[] = [];

afterEach(async () => {
  for (const d of dirs.splice(0)) await Deno.remove(d, { recursive: true }).catch(() => {});
});

async function tempDb(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mpa-kv-" });
  dirs.push(dir);
  return `${dir}/sa.sqlite`;
}

async function record(sessionId: number, mnId: string, establishedAt: number): Promise<SaRecord> {
  const raw = (n: number) => new Uint8Array(32).fill(n);
  return {
    ctn: "domainB",
    mnId,
    sessionId,
    establishedAt,
    lifetimeMs: 3600_000,
    expiresAt: establishedAt + 3600_000,
    keyIds: { msk: 1, mnCa: `ca-${sessionId}`, mnAr: `ar-${sessionId}` },
    state: "unauthorized",
    keys: {
      mnCa: await crypto.subtle.importKey(
        "raw",
        raw(sessionId),
        { name: "HMAC", hash: "SHA-256" },
        true,
        [
          "sign",
          "verify",
        ],
      ),
      mnAr: await crypto.subtle.importKey("raw", raw(sessionId + 1), { name: "AES-GCM" }, true, [
        "encrypt",
        "decrypt",
      ]),
    },
  };
}

async function rawOf(key: CryptoKey): Promise<number[]> {
  return [...new Uint8Array(await crypto.subtle.exportKey("raw", key))];
}

describe("KvSaStore (RFC 6252 section C.2)", () => {
  it("keeps SAs and their keys across a restart of the AA", async () => {
    const path = await tempDb();
    const a = await KvSaStore.open(path, storeKey);
    await a.put(await record(10, "alice", 1000));
    a.close();
    const b = await KvSaStore.open(path, storeKey);
    const got = await b.get({ sessionId: 10 });
    expect(got).toMatchObject({ mnId: "alice", sessionId: 10, state: "unauthorized" });
    expect(await rawOf(got!.keys.mnCa)).toEqual(new Array(32).fill(10));
    expect(await rawOf(got!.keys.mnAr)).toEqual(new Array(32).fill(11));
    b.close();
  });

  it("never writes key bytes in the clear", async () => {
    const path = await tempDb();
    const s = await KvSaStore.open(path, storeKey);
    await s.put(await record(0x41, "alice", 1));
    s.close();
    const file = await Deno.readFile(path);
    const needle = new Uint8Array(32).fill(0x41);
    const text = Array.from(file).join(",");
    expect(text.includes(Array.from(needle).join(","))).toBe(false);
  });

  it("refuses to open records with the wrong store key", async () => {
    const path = await tempDb();
    const s = await KvSaStore.open(path, storeKey);
    await s.put(await record(1, "alice", 1));
    s.close();
    const wrong = await KvSaStore.open(path, new Uint8Array(32).fill(8));
    await expect(wrong.get({ sessionId: 1 })).rejects.toMatchObject({
      name: "PortError",
      code: "protocol",
    });
    wrong.close();
  });

  it("finds an MN's newest SA, lists by session id, and deletes per MN", async () => {
    const s = await KvSaStore.open(await tempDb(), storeKey);
    await s.put(await record(5, "alice", 2000));
    await s.put(await record(3, "alice", 3000));
    await s.put(await record(4, "bob", 1000));
    expect((await s.get({ mnId: "alice" }))?.sessionId).toBe(3);
    expect((await s.list()).map((r) => r.sessionId)).toEqual([3, 4, 5]);
    expect((await s.list({ mnId: "bob" })).map((r) => r.sessionId)).toEqual([4]);
    await s.put({ ...(await record(3, "alice", 3000)), state: "authorized" });
    expect((await s.get({ sessionId: 3 }))?.state).toBe("authorized");
    expect(await s.delete({ mnId: "alice" })).toBe(2);
    expect(await s.delete({ sessionId: 99 })).toBe(0);
    expect((await s.list()).map((r) => r.sessionId)).toEqual([4]);
    s.close();
  });

  it("refuses non-extractable keys with a typed error and a bad store key at open", async () => {
    const s = await KvSaStore.open(await tempDb(), storeKey);
    const r = await record(1, "alice", 1);
    const locked = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    await expect(s.put({ ...r, keys: { ...r.keys, mnCa: locked } })).rejects.toMatchObject({
      name: "PortError",
    });
    s.close();
    await expect(KvSaStore.open(undefined, new Uint8Array(16))).rejects.toBeInstanceOf(RangeError);
  });
});
