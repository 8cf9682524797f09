import { afterEach, describe, expect, it } from "npm:vitest@4.1.12";
import { type AaService, type AaServiceOptions, startAa } from "../../../adapters/aa/aa_service.ts";
import { type DeliveredSa, InProcessKeyDelivery } from "../../../adapters/aa/key_delivery.ts";
import { PanaPac } from "../../../adapters/pana/pac.ts";
import { KvSaStore } from "../../../adapters/store/kv_sa_store.ts";
import { createEapPskPeer } from "../../../lib/eap/eap_psk_peer.ts";
import { ConfigError } from "../../../lib/errors.ts";
import { keyFingerprint } from "../../../lib/keys/key_fingerprint.ts";
import { type CtnInfo, PortError, type SaRecord } from "../../../lib/ports.ts";

const LOOPBACK = "127.0.0.1";
const CTN = "ctn-b.example";
const IDENTITY = "mn@example";
const PSK = Uint8Array.from({ length: 16 }, (_, i) => i);
const STORE_KEY = new Uint8Array(32).fill(9);
const closers: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function tempDb(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mpa-aa-" });
  closers.push(() => Deno.remove(dir, { recursive: true }).catch(() => {}));
  return `${dir}/sa.sqlite`;
}

async function openStore(path: string): Promise<KvSaStore> {
  const store = await KvSaStore.open(path, STORE_KEY);
  closers.push(() => store.close());
  return store;
}

async function aa(options: Partial<AaServiceOptions> = {}): Promise<AaService> {
  const service = await startAa({
    ctn: CTN,
    host: LOOPBACK,
    port: 0,
    backend: { kind: "local", credentials: new Map([[IDENTITY, PSK]]) },
    ...options,
  });
  closers.push(() => service.close());
  return service;
}

function pac(psk: Uint8Array = PSK): PanaPac {
  const client = new PanaPac({
    identity: IDENTITY,
    eap: () =>
      createEapPskPeer({
        identity: IDENTITY,
        psk,
        random: (n) => crypto.getRandomValues(new Uint8Array(n)),
      }),
    bind: LOOPBACK,
    authTimeoutMs: 2_000,
  });
  closers.push(() => client.close());
  return client;
}

function ctnOf(service: AaService, network = CTN): CtnInfo {
  const at = { address: LOOPBACK, port: service.address.port };
  return { network, aa: at, ca: at, ar: at, poas: [] };
}

async function until(condition: () => boolean | Promise<boolean>, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error("Condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function rawFingerprint(key: CryptoKey): Promise<string> {
  return await keyFingerprint(new Uint8Array(await crypto.subtle.exportKey("raw", key)));
}

describe("startAa: the authentication agent (RFC 6252 section 6.3 step 1)", () => {
  it("delivers the same MN-CA and MN-AR keys in process before the MN's pre-authentication ends", async () => {
    const service = await aa();
    const delivery = service.keyDelivery as InProcessKeyDelivery;
    const sa = await pac().preAuthenticate(ctnOf(service));
    // No wait: the final PAR, which ends the MN's side, left after the delivery.
    const delivered = delivery.get(sa.sessionId)!;
    expect(delivered).toBeDefined();
    expect(service.stats.delivered).toBe(1);
    await until(() => service.stats.paa.authorized === 1);

    expect(delivered).toMatchObject({
      sessionId: sa.sessionId,
      identity: IDENTITY,
      ctn: CTN,
      mnAddress: LOOPBACK,
      expiresAt: expect.any(Number),
    });
    expect(delivered.keyIds).toEqual(sa.keyIds);
    expect(await keyFingerprint(delivered.mnCa)).toBe(sa.fingerprints.mnCa);
    expect(await keyFingerprint(delivered.mnAr)).toBe(sa.fingerprints.mnAr);
    expect(Math.abs(delivered.expiresAt - sa.expiresAt)).toBeLessThan(1_000);
    expect(service.stats).toMatchObject({ delivered: 1, deliveryErrors: 0, revoked: 0, stored: 0 });
    expect(service.stats.paa).toMatchObject({ authorized: 1, sessions: 1 });
  });

  it("refuses a wrong PSK: PortError rejected, nothing delivered or stored", async () => {
    const store = await openStore(await tempDb());
    const service = await aa({ store });
    const wrong = new Uint8Array(16).fill(0xff);
    const error = await pac(wrong).preAuthenticate(ctnOf(service)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortError);
    expect((error as PortError).code).toBe("rejected");
    await until(() => service.stats.paa.rejected === 1);
    expect(service.stats).toMatchObject({ delivered: 0, stored: 0 });
    expect((service.keyDelivery as InProcessKeyDelivery).size).toBe(0);
    expect(await store.list()).toEqual([]);
  });

  it("hands the keys to a custom KeyDelivery", async () => {
    const seen: DeliveredSa[] = [];
    const service = await aa({
      keyDelivery: {
        deliver: (sa) => {
          seen.push({ ...sa, mnCa: sa.mnCa.slice(), mnAr: sa.mnAr.slice() });
          return Promise.resolve();
        },
      },
    });
    const sa = await pac().preAuthenticate(ctnOf(service));
    expect(seen).toHaveLength(1);
    expect(await keyFingerprint(seen[0]!.mnAr)).toBe(sa.fingerprints.mnAr);
  });

  it("revokes the delivered keys when the MN vanishes before its final PAN", async () => {
    const store = await openStore(await tempDb());
    const inner = new InProcessKeyDelivery();
    const client = pac();
    const delivered: number[] = [];
    const service = await aa({
      store,
      paa: { requestRetransmission: { mrc: 1, irt: 100 }, authTimeoutMs: 1_000 },
      keyDelivery: {
        deliver: async (sa) => {
          await inner.deliver(sa);
          delivered.push(sa.sessionId);
          await client.close(); // the MN goes away: the final PAR finds nobody
        },
        revoke: (sessionId) => inner.revoke(sessionId),
      },
    });
    const outcome = await client.preAuthenticate(ctnOf(service)).catch((e: unknown) => e);
    expect(outcome).toBeInstanceOf(PortError);
    expect(delivered).toHaveLength(1);
    await until(() => service.stats.revoked === 1, 3_000);
    expect(inner.get(delivered[0]!)).toBeUndefined();
    expect(service.stats).toMatchObject({ delivered: 1, revoked: 1, stored: 0, deliveryErrors: 0 });
    expect(service.stats.paa).toMatchObject({ keysReady: 1, authorized: 0, failed: 1 });
    expect(await store.list()).toEqual([]);
  });

  it("revokes after a slow delivery that the session's failure overtook, never before it", async () => {
    const calls: string[] = [];
    let release = () => {};
    const held = new Promise<void>((resolve) => release = resolve);
    const service = await aa({
      paa: { authTimeoutMs: 300, keysReadyTimeoutMs: 10_000 },
      keyDelivery: {
        deliver: async (sa) => {
          calls.push(`deliver ${sa.sessionId}`);
          await held;
          calls.push(`delivered ${sa.sessionId}`);
        },
        revoke: (sessionId) => {
          calls.push(`revoke ${sessionId}`);
          return Promise.resolve();
        },
      },
    });
    const outcome = pac().preAuthenticate(ctnOf(service)).catch((e: unknown) => e);
    await until(() => service.stats.paa.failed === 1);
    expect(calls).toHaveLength(1); // the failure is known, the delivery still runs
    release();
    const error = await outcome;
    expect(error).toBeInstanceOf(PortError);
    expect((error as PortError).code).toBe("timeout"); // no final PAR for a dead session
    await until(() => service.stats.revoked === 1);
    const id = calls[0]!.split(" ")[1];
    expect(calls).toEqual([`deliver ${id}`, `delivered ${id}`, `revoke ${id}`]);
    expect(service.stats).toMatchObject({ delivered: 1, revoked: 1, stored: 0 });
  });

  it("counts a failing delivery and still records the SA", async () => {
    const store = await openStore(await tempDb());
    const service = await aa({
      store,
      keyDelivery: { deliver: () => Promise.reject(new Error("AR down")) },
    });
    const sa = await pac().preAuthenticate(ctnOf(service));
    await until(() => service.stats.stored === 1);
    expect(service.stats).toMatchObject({ delivered: 0, deliveryErrors: 1 });
    expect((await store.get({ sessionId: sa.sessionId }))?.state).toBe("unauthorized");
  });
});

describe("startAa with Deno KV (RFC 6252 section C.2)", () => {
  it("stores the SA unauthorized, and authorized after a re-authorization ping", async () => {
    const store = await openStore(await tempDb());
    const service = await aa({ store });
    const client = pac();
    const sa = await client.preAuthenticate(ctnOf(service));
    await until(() => service.stats.stored === 1);

    const stored = (await store.get({ sessionId: sa.sessionId }))!;
    expect(stored).toMatchObject({
      ctn: CTN,
      mnId: IDENTITY,
      sessionId: sa.sessionId,
      lifetimeMs: sa.lifetimeMs,
      keyIds: sa.keyIds,
      state: "unauthorized",
    });
    expect(await rawFingerprint(stored.keys.mnCa)).toBe(sa.fingerprints.mnCa);
    expect(await rawFingerprint(stored.keys.mnAr)).toBe(sa.fingerprints.mnAr);

    await client.reauthorize(sa.sessionId);
    await until(() => service.stats.storeAuthorized === 1);
    expect((await store.get({ sessionId: sa.sessionId }))?.state).toBe("authorized");
    expect(service.stats.paa.reauthorized).toBe(1);
  });

  it("a re-authorization straight after the pre-authentication is applied after the write", async () => {
    const store = await openStore(await tempDb());
    const service = await aa({ store });
    const client = pac();
    const sa = await client.preAuthenticate(ctnOf(service));
    await client.reauthorize(sa.sessionId); // no wait for the SA's write
    await until(() => service.stats.storeAuthorized === 1);
    expect((await store.get({ sessionId: sa.sessionId }))?.state).toBe("authorized");
  });

  it("deletes the SA and revokes its keys when the MN terminates the session", async () => {
    const store = await openStore(await tempDb());
    const service = await aa({ store });
    const client = pac();
    const sa = await client.preAuthenticate(ctnOf(service));
    await until(() => service.stats.stored === 1);
    await client.terminate(sa.sessionId);
    await until(() => service.stats.released === 1);
    expect(await store.get({ sessionId: sa.sessionId })).toBeUndefined();
    expect((service.keyDelivery as InProcessKeyDelivery).get(sa.sessionId)).toBeUndefined();
  });

  it("deletes the SA when its Session-Lifetime elapses", async () => {
    const store = await openStore(await tempDb());
    const service = await aa({ store, sessionLifetimeMs: 1_000 });
    const sa = await pac().preAuthenticate(ctnOf(service));
    await until(() => service.stats.stored === 1);
    await until(() => service.stats.released === 1, 3_000);
    expect(service.stats.paa.expired).toBe(1);
    expect(await store.list()).toEqual([]);
    expect((service.keyDelivery as InProcessKeyDelivery).get(sa.sessionId)).toBeUndefined();
  });

  it("keeps SAs across a restart (kv option) and deletes expired ones at start", async () => {
    const path = await tempDb();
    const first = await startAa({
      ctn: CTN,
      host: LOOPBACK,
      port: 0,
      backend: { kind: "local", credentials: new Map([[IDENTITY, PSK]]) },
      kv: { path, storeKey: STORE_KEY },
    });
    let sa;
    try {
      sa = await pac().preAuthenticate(ctnOf(first));
      await until(() => first.stats.stored === 1);
    } finally {
      await first.close();
    }
    // An SA that expired while the AA was down.
    const store = await openStore(path);
    const old = (await store.get({ sessionId: sa.sessionId }))!;
    const expired: SaRecord = { ...old, sessionId: 1, expiresAt: Date.now() - 1 };
    await store.put(expired);

    const second = await aa({ kv: { path, storeKey: STORE_KEY } });
    expect(second.stats.released).toBe(1);
    expect((await store.list()).map((r) => r.sessionId)).toEqual([sa.sessionId]);

    // Another store key cannot open the SAs: refused at start, not later.
    await expect(aa({ kv: { path, storeKey: new Uint8Array(32).fill(1) } })).rejects.toThrow(
      "Cannot read the SA store",
    );
  });
});

describe("startAa configuration", () => {
  it("refuses bad options with ConfigError and leaves nothing open", async () => {
    await expect(aa({ ctn: "" })).rejects.toThrow(ConfigError);
    const store = await openStore(await tempDb());
    await expect(aa({ store, kv: { path: "x", storeKey: STORE_KEY } })).rejects.toThrow(
      "both store and kv",
    );
    const running = await aa();
    const error = await aa({ port: running.address.port }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain("Cannot bind the PAA");
    await expect(
      aa({ kv: { path: await tempDb(), storeKey: new Uint8Array(16) } }),
    ).rejects.toThrow("Invalid store key");
    await expect(
      aa({ backend: { kind: "radius", server: { host: "localhost" }, secret: "s" } }),
    ).rejects.toThrow(ConfigError);
  });
});

describe("InProcessKeyDelivery", () => {
  const sa = (sessionId: number, expiresAt: number): DeliveredSa => ({
    sessionId,
    mnAddress: "192.0.2.10",
    identity: IDENTITY,
    ctn: CTN,
    keyIds: { msk: 1, mnCa: `mn-ca-${sessionId}`, mnAr: `mn-ar-${sessionId}` },
    mnCa: new Uint8Array(32).fill(1),
    mnAr: new Uint8Array(32).fill(2),
    expiresAt,
  });

  it("keeps copies, honours expiry and wipes revoked keys", async () => {
    let now = 0;
    const delivery = new InProcessKeyDelivery({ now: () => now });
    const given = sa(1, 100);
    await delivery.deliver(given);
    await delivery.deliver(sa(2, 200));
    given.mnCa.fill(0); // the caller wipes its arrays
    expect(delivery.get(1)?.mnCa[0]).toBe(1);

    const copy = delivery.get(2)!;
    copy.mnAr.fill(0);
    expect(delivery.get(2)?.mnAr[0]).toBe(2);

    now = 100;
    expect(delivery.get(1)).toBeUndefined();
    expect(delivery.size).toBe(1);
    await delivery.revoke(2);
    expect(delivery.get(2)).toBeUndefined();
    expect(delivery.size).toBe(0);
  });
});
