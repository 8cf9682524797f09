/**
 * The CTN services joined on loopback (RFC 6252 sections 6.3 steps 1-2, 7.3.3, 7.4),
 * no root: the AA delivers the MPA-SA's keys in process, the embedded CA admits only
 * the pre-authenticated MN's address and verifies option 90 under the delivered MN-CA
 * key, and the AR opens the MN's tunnel with the delivered MN-AR key; packets go
 * through the tunnel in user space (PhtAr.deliver / onPacket). A fake `nft` stands in
 * for nftables to check what the CA gate is told, and a failing one for a part that
 * cannot close.
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { createSocket } from "node:dgram";
import { type CtnServices, startCtnServices } from "../../../adapters/ctn/ctn_services.ts";
import { dhcpAcquire, DhcpError, dhcpInform } from "../../../adapters/dhcp/client.ts";
import { DhcpConfigurator } from "../../../adapters/dhcp/configurator.ts";
import { type PanaMpaSa, PanaPac } from "../../../adapters/pana/pac.ts";
import { PhtTunnelManager } from "../../../adapters/tunnel/pht_mn.ts";
import { createEapPskPeer } from "../../../lib/eap/eap_psk_peer.ts";
import { ConfigError } from "../../../lib/errors.ts";
import { type CtnInfo, PortError } from "../../../lib/ports.ts";
import { buildUdpPacket, parseUdpPacket } from "../../../lib/wire/ip_packet.ts";

const CTN = "ctn-b.example";
const IDENTITY = "mn@example";
const PSK = new Uint8Array(16).map((_, i) => i);
const LO = "127.0.0.1";
const SUBNET = "10.0.2.0/24";
const TIMEOUT = 30_000;

function credentials(): Map<string, Uint8Array> {
  return new Map([[IDENTITY, PSK.slice()]]);
}

function pac(): PanaPac {
  return new PanaPac({
    identity: IDENTITY,
    eap: () =>
      createEapPskPeer({
        identity: IDENTITY,
        psk: PSK.slice(),
        random: (n) => crypto.getRandomValues(new Uint8Array(n)),
      }),
    bind: LO,
    authTimeoutMs: 5_000,
  });
}

function ctnInfo(services: CtnServices): CtnInfo {
  return {
    network: CTN,
    aa: { address: LO, port: services.aa!.address.port },
    ca: { address: LO, port: services.ca?.local.port ?? 67 },
    ar: { address: LO, port: services.ar?.address.port ?? 7716 },
    poas: [],
    subnet: SUBNET,
  };
}

/** Resolves once `check` holds (the AA delivers keys after the MN holds its SA). */
async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Whether a UDP port on loopback can be bound (i.e. nobody holds it). */
async function free(port: number): Promise<boolean> {
  const socket = createSocket("udp4");
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(port, LO, () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

/** A fake `nft`: logs each invocation's stdin; fails while `fail` exists. */
async function fakeNft(dir: string): Promise<{ path: string; log: string; fail: string }> {
  const path = `${dir}/nft`;
  const log = `${dir}/nft.log`;
  const fail = `${dir}/nft.fail`;
  await Deno.writeTextFile(
    path,
    `#!/bin/sh\nif [ -e "${fail}" ]; then echo "Error: Could not process rule: Operation not permitted" >&2; exit 1; fi\ncat >> "${log}"\nexit 0\n`,
  );
  await Deno.chmod(path, 0o755);
  return { path, log, fail };
}

describe("CTN services on loopback: AA, embedded CA and AR joined by key delivery", () => {
  let services: CtnServices;
  const fromMn: { nCoA: string; packet: Uint8Array }[] = [];
  let mnPac: PanaPac;
  let sa: PanaMpaSa;

  beforeAll(async () => {
    services = await startCtnServices({
      ctn: CTN,
      aa: { host: LO, port: 0, backend: { kind: "local", credentials: credentials() } },
      ar: {
        listen: LO,
        port: 0,
        tun: false,
        onPacket: (tunnel, packet) => fromMn.push({ nCoA: tunnel.nCoA, packet }),
      },
      embeddedCa: {
        address: LO,
        port: 0,
        subnet: SUBNET,
        range: ["10.0.2.100", "10.0.2.199"],
        router: "10.0.2.1",
        dns: ["10.0.2.2"],
      },
    });
    mnPac = pac();
  }, TIMEOUT);

  afterAll(async () => {
    await mnPac?.close();
    await services?.close();
  }, TIMEOUT);

  it("RFC 6252 7.3.3: before pre-authentication the CA answers nobody (the gate)", async () => {
    const error = await dhcpAcquire({
      server: { address: LO, port: services.ca!.local.port },
      subnet: SUBNET,
      mode: "ciaddr",
      source: LO,
      sourcePort: 0,
      clientId: new Uint8Array([0, ...new TextEncoder().encode(IDENTITY)]),
      timeoutMs: 600,
      retransmitMs: 200,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DhcpError);
    expect((error as DhcpError).code).toBe("timeout");
    expect(services.ca!.stats.droppedGated).toBeGreaterThanOrEqual(1);
    expect(services.ca!.stats.offers).toBe(0);
  }, TIMEOUT);

  it(
    "RFC 6252 6.3 steps 1-2: pre-authentication delivers the keys, DHCP under the MN-CA key gives the nCoA, the PHT opens with the MN-AR key",
    async () => {
      sa = await mnPac.preAuthenticate(ctnInfo(services));
      await until(() => services.keys.get(sa.sessionId) !== undefined, "the key delivery");
      expect(services.stats().sas).toBe(1);
      expect(services.stats().aa?.delivered).toBe(1);

      const configurator = new DhcpConfigurator({ source: LO, ports: { client: 0 } });
      const lease = await configurator.acquire(ctnInfo(services), sa);
      expect(lease.nCoA).toMatch(/^10\.0\.2\.1\d\d$/);
      expect(lease).toMatchObject({ prefixLength: 24, router: "10.0.2.1", dns: ["10.0.2.2"] });
      expect(services.ca!.stats.acks).toBe(1);
      expect(services.ca!.stats.droppedBadAuth).toBe(0);
      expect(services.ca!.leases()).toMatchObject([{ address: lease.nCoA, state: "bound" }]);

      const toMn: Uint8Array[] = [];
      let arrived: () => void = () => {};
      const got = new Promise<void>((resolve) => arrived = resolve);
      await using mn = new PhtTunnelManager({
        sessionId: (ctn) => ctn === CTN ? sa.sessionId : undefined,
        onPacket: (_t, packet) => {
          toMn.push(packet);
          arrived();
        },
      });
      const handle = await mn.open(CTN, {
        oCoA: LO,
        nCoA: lease.nCoA,
        ar: { address: LO, port: services.ar!.address.port },
      }, sa.keys.mnAr);
      expect(services.ar!.tunnels()).toMatchObject([{ nCoA: lease.nCoA, sessionId: sa.sessionId }]);

      // CN -> nCoA: the AR tunnels it to the MN.
      const down = buildUdpPacket({
        source: "10.9.0.2",
        destination: lease.nCoA,
        sourcePort: 5004,
        destinationPort: 5004,
        payload: new TextEncoder().encode("to the MN"),
      });
      expect(services.ar!.deliver(down)).toBe("tunnelled");
      await got;
      expect(new TextDecoder().decode(parseUdpPacket(toMn[0]!).payload)).toBe("to the MN");

      // MN (from the nCoA) -> CN: the AR hands it to onPacket.
      const up = buildUdpPacket({
        source: lease.nCoA,
        destination: "10.9.0.2",
        sourcePort: 5004,
        destinationPort: 5004,
        payload: new TextEncoder().encode("from the MN"),
      });
      await mn.send(handle, up);
      await until(() => fromMn.length === 1, "the MN's packet at the AR");
      expect(fromMn[0]!.nCoA).toBe(lease.nCoA);
      expect(new TextDecoder().decode(parseUdpPacket(fromMn[0]!.packet).payload)).toBe(
        "from the MN",
      );

      await mn.close(handle);
      await until(() => services.ar!.tunnels().length === 0, "the tunnel's deletion");
      await configurator.release(lease);
      await until(() => services.ca!.stats.releases === 1, "the release at the CA");
      expect(services.ca!.leases()).toEqual([]);
    },
    TIMEOUT,
  );

  it("RFC 6252 7.4: a session the AA never delivered cannot open a tunnel", async () => {
    await using mn = new PhtTunnelManager({ sessionId: () => sa.sessionId + 1, retries: 0 });
    const error = await mn.open(CTN, {
      oCoA: LO,
      nCoA: "10.0.2.150",
      ar: { address: LO, port: services.ar!.address.port },
    }, sa.keys.mnAr).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortError);
    expect((error as PortError).code).toBe("rejected");
    expect(services.ar!.stats().unknownSession).toBe(1);
  }, TIMEOUT);

  it(
    "RFC 6252 7.2: a terminated session's keys are revoked: the CA and the AR refuse it",
    async () => {
      const configurator = new DhcpConfigurator({
        source: LO,
        ports: { client: 0 },
        timeoutMs: 600,
        retransmitMs: 200,
      });
      const lease = await configurator.acquire(ctnInfo(services), sa);
      await mnPac.terminate(sa.sessionId);
      await until(() => services.stats().sas === 0, "the revocation");
      const gatedBefore = services.ca!.stats.droppedGated;
      const error = await configurator.renew(lease).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PortError);
      expect((error as PortError).code).toBe("timeout");
      expect(services.ca!.stats.droppedGated).toBeGreaterThan(gatedBefore);

      await using mn = new PhtTunnelManager({ sessionId: () => sa.sessionId, retries: 0 });
      const refused = await mn.open(CTN, {
        oCoA: LO,
        nCoA: lease.nCoA,
        ar: { address: LO, port: services.ar!.address.port },
      }, sa.keys.mnAr).catch((e: unknown) => e);
      expect((refused as PortError).code).toBe("rejected");
    },
    TIMEOUT,
  );
});

describe("CTN services with an nftables CA gate (fake nft, no root)", () => {
  let dir = "";

  beforeAll(async () => {
    dir = await Deno.makeTempDir({ prefix: "mpapc-ctn-" });
  });

  afterAll(async () => {
    if (dir !== "") await Deno.remove(dir, { recursive: true });
  });

  it(
    "RFC 6252 7.3.3: the gate admits the MN's current address for the SA's lifetime; close() closes every part even when the gate fails",
    async () => {
      const nft = await fakeNft(dir);
      const services = await startCtnServices({
        ctn: CTN,
        aa: { host: LO, port: 0, backend: { kind: "local", credentials: credentials() } },
        ar: { listen: LO, port: 0 },
        caGate: { nft: nft.path, table: "mpapc_ca" },
      });
      const aaPort = services.aa!.address.port;
      const arPort = services.ar!.address.port;
      await using mnPac = pac();
      try {
        const installed = await Deno.readTextFile(nft.log);
        expect(installed).toContain(
          "add set inet mpapc_ca allowed { type ipv4_addr; flags timeout; }",
        );
        const sa = await mnPac.preAuthenticate(ctnInfo(services));
        await until(() => (services.stats().caGate?.admitted ?? 0) === 1, "the admission");
        const log = await Deno.readTextFile(nft.log);
        const timeout = /add element inet mpapc_ca allowed \{ 127\.0\.0\.1 timeout (\d+)ms \}/
          .exec(log);
        expect(timeout, log).not.toBeNull();
        // The SA's lifetime (one hour by default), less the time since it was granted.
        expect(Number(timeout![1])).toBeGreaterThan(sa.lifetimeMs - 60_000);
        expect(Number(timeout![1])).toBeLessThanOrEqual(sa.lifetimeMs);
      } finally {
        await Deno.writeTextFile(nft.fail, "");
      }
      const error = await services.close().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AggregateError);
      expect((error as Error).message).toMatch(/^Cannot close the CTN services cleanly: ca gate: /);
      expect(await free(aaPort)).toBe(true);
      expect(await free(arPort)).toBe(true);
      expect(services.stats().sas).toBe(0);
      await Deno.remove(nft.fail);
    },
    TIMEOUT,
  );

  it("a part that cannot start closes what started: the gate is uninstalled again", async () => {
    const nft = await fakeNft(dir);
    const holder = createSocket("udp4");
    await new Promise<void>((resolve) => holder.bind(0, LO, () => resolve()));
    const busy = holder.address().port;
    try {
      const error = await startCtnServices({
        ctn: CTN,
        aa: { host: LO, port: 0, backend: { kind: "local", credentials: credentials() } },
        ar: { listen: LO, port: busy },
        caGate: { nft: nft.path, table: "mpapc_ca2" },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain(`Cannot bind the AR to ${LO}:${busy}`);
      const log = await Deno.readTextFile(nft.log);
      expect(log.trimEnd().split("\n").slice(-2)).toEqual([
        "add table inet mpapc_ca2",
        "delete table inet mpapc_ca2",
      ]);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  }, TIMEOUT);

  it("refuses an empty CTN id", async () => {
    await expect(startCtnServices({ ctn: "" })).rejects.toThrow(ConfigError);
  });
});

describe("CTN services: the nCoA is admitted at the CA once its tunnel is up", () => {
  it(
    "RFC 6252 7.3.3: after the move the MN asks the CA from its nCoA; the gate admits it only once the MN-AR-authenticated tunnel for it exists",
    async () => {
      // A subnet on loopback, so that the MN can send from its nCoA without root.
      const subnet = "127.0.77.0/24";
      await using services = await startCtnServices({
        ctn: CTN,
        aa: { host: LO, port: 0, backend: { kind: "local", credentials: credentials() } },
        ar: { listen: LO, port: 0, tun: false },
        embeddedCa: {
          address: LO,
          port: 0,
          subnet,
          range: ["127.0.77.100", "127.0.77.199"],
        },
      });
      const info = { ...ctnInfo(services), subnet };
      const mnPac = pac();
      try {
        const sa = await mnPac.preAuthenticate(info);
        const configurator = new DhcpConfigurator({ source: LO, ports: { client: 0 } });
        const lease = await configurator.acquire(info, sa);
        const inform = () =>
          dhcpInform({
            server: { address: LO, port: services.ca!.local.port },
            address: lease.nCoA,
            source: lease.nCoA,
            sourcePort: 0,
            subnet,
            clientId: new TextEncoder().encode(lease.clientId ?? ""),
            auth: { key: sa.keys.mnCa, sessionId: sa.sessionId },
            timeoutMs: 600,
            retransmitMs: 200,
          });
        const before = await inform().catch((e: unknown) => e);
        expect(before).toBeInstanceOf(DhcpError);
        expect((before as DhcpError).code).toBe("timeout");

        await using mn = new PhtTunnelManager({ sessionId: () => sa.sessionId });
        await mn.open(CTN, {
          oCoA: LO,
          nCoA: lease.nCoA,
          ar: { address: LO, port: services.ar!.address.port },
        }, sa.keys.mnAr);
        const after = await inform();
        expect(after.serverId).toBe(services.ca!.serverId);
      } finally {
        await mnPac.close();
      }
    },
    TIMEOUT,
  );
});
