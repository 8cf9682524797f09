/**
 * The SCRIPTED mobile node of the handover testbed: a JSON-line child in the MN's
 * namespace that performs RFC 6252 section 6.3's steps in order, on the same adapters
 * the agent (`mpa agent`) uses - `PanaPac` (step 1, pre-authentication),
 * `DhcpConfigurator` (step 2, the nCoA by unicast DHCP under the MN-CA key),
 * `PhtTunnelManager` with a TUN holding the nCoA (step 2, the proactive handover
 * tunnel), `SipMobility` / `Mip6Mobility` (step 3, the binding update through the
 * tunnel), the AR's buffering (section 7.6.1) and tunnel deletion (step 4),
 * `NetnsLinkControl` (step 5, the link-layer switch; step 6, the nCoA on the
 * physical interface with a gratuitous ARP) - timestamping each phase.
 *
 * It is the STAND-IN until the agent driver lands (mn_driver.ts): the decision of
 * when and where to move is the caller's script here, not the agent's.
 *
 * Multi-interface copy-and-forward (RFC 6252 section 7.6.2; `startCopy`, then
 * `disconnect`): the MN's second interface eth1 sits in CTN 1's cell and holds only
 * an IPv4 link-local address (RFC 3927; the ARs route 169.254.0.0/16 on their cell)
 * with a policy rule `from LL lookup 7720` / `default dev eth1`, so that only what
 * leaves from that address uses eth1. The CTN is prepared through eth0 as in MPA
 * (the nCoA lives on a TUN, the binding goes through the PHT), and the MN asks the
 * AR to copy every packet for the nCoA to eth1: `PhtTunnelManager.startCopy` with
 * `address` = LL binds a second socket on LL and sends the copy-start from it, so the
 * AR seals each copy into the PHT and sends it to LL:port over the cell (no TUN on
 * the copy's way, no re-addressing), and the MN's dedup window drops whichever copy
 * of a packet comes second. Then eth0 loses its link at once (its peer moves to an
 * empty bridge: no buffer request, no tunnel delete first). The nCoA moves: it is
 * assigned to eth1 (with the default route through the CTN's router and a
 * gratuitous ARP) while its TUN still delivers the copies, then the tunnel is
 * deleted from the copy socket (the tunnel's own socket, bound to the oCoA, can no
 * longer hear the AR), which ends the copying and the AR's host route into its TUN,
 * and only then the MN's TUN state goes. Packets for the nCoA then reach eth1
 * directly.
 *
 * Ping-pong (`reopen`, then `execute` again): RFC 6252 C.1 and C.2 - the contexts at
 * both CTNs are retained (MPA-SA, lease), and before each switch back the MN re-opens
 * the proactive tunnel to the retained target from its CURRENT address, binds
 * through it, has the target AR buffer, deletes the tunnel, switches and flushes,
 * exactly as the first handover did from the oCoA.
 *
 * The reactive variant (`reactive`) does the same protocol work after the switch:
 * post-authentication with the new network's AA and DHCP with its CA from an IPv4
 * link-local address (RFC 3927, no address of the new network yet; its probing is
 * skipped, which favours the reactive case), then the nCoA on the interface and the
 * binding update from it.
 *
 * Times are epoch ms (`performance.timeOrigin + performance.now()`), comparable
 * with the CN's send times on the same machine.
 *
 * @module
 */
import { Mip6Mobility } from "../../adapters/mobility/mip6_mn.ts";
import { RtpReceiver } from "../../adapters/mobility/rtp_stream.ts";
import { SipMobility } from "../../adapters/mobility/sip_ua.ts";
import { NetnsLinkControl } from "../../adapters/link/netns_link.ts";
import { DhcpConfigurator } from "../../adapters/dhcp/configurator.ts";
import { createEapPskPac } from "../../adapters/pana/eap_psk_pac.ts";
import type { PanaMpaSa, PanaPac } from "../../adapters/pana/pac.ts";
import { PhtTunnelManager } from "../../adapters/tunnel/pht_mn.ts";
import { TunDevice } from "../../adapters/tunnel/tun.ts";
import { attachMnTun, type MnTunAttachment } from "../../adapters/tunnel/tun_glue.ts";
import { _ip } from "../../adapters/tunnel/_ip_cmd.ts";
import type { CtnInfo, Lease, MobilityProtocol, TunnelHandle } from "../../lib/ports.ts";
import { fromHex } from "../../lib/wire/_bytes.ts";
import { serveJsonLines } from "../../tests/fixtures/netns/json_line_server.ts";

/** How long the MN lets tunnelled packets land after the AR confirmed buffering, ms. */
const _DRAIN_MS = 5;

/** The empty bridge's PoA id in the MN's link control (a lost link). */
const _VOID = "void";

/** eth1's policy-routing table and rule priority (topology.ts MN_ETH1_TABLE). */
const _ETH1_TABLE = "7720";

/** How long `disconnect` waits for the first packet received directly on eth1, ms. */
const _DIRECT_WAIT_MS = 500;

const now = () => performance.timeOrigin + performance.now();

interface CtnArgs {
  readonly network: string;
  readonly ar: string;
  readonly ca: string;
  readonly subnet: string;
  readonly poa: string;
}

interface Prepared {
  readonly ctn: CtnInfo;
  readonly poa: string;
  readonly pac: PanaPac;
  readonly sa: PanaMpaSa;
  readonly lease: Lease;
  /** Routing table and rule priority of its TUN (7716 + position). */
  readonly table: number;
  handle?: TunnelHandle;
  tun?: TunDevice;
  attachment?: MnTunAttachment;
  /** Whether its tunnel is open now. */
  live?: boolean;
}

interface SecondArgs {
  readonly interface: string;
  readonly peer: string;
  readonly poa: string;
  readonly voidBridge: string;
}

let rx: RtpReceiver | undefined;
let link: NetnsLinkControl | undefined;
let link2: NetnsLinkControl | undefined;
let second: SecondArgs | undefined;
let linkLocal = "";
/** The address on eth0 now (the oCoA, then each nCoA moved to). */
let current = { address: "", prefixLength: 24 };
let mobility: (MobilityProtocol & { close?(): Promise<void> }) | undefined;
let sip: SipMobility | undefined;
let manager: PhtTunnelManager | undefined;
let identity = "";
let psk: Uint8Array = new Uint8Array(16);
let oCoA = "";
let bound = "";
const prepared = new Map<string, Prepared>();
const pacs: PanaPac[] = [];
const attachments = new Map<string, MnTunAttachment>();

function ctnInfo(c: CtnArgs): CtnInfo {
  return {
    network: c.network,
    aa: { address: c.ar, port: 716 },
    ca: { address: c.ca, port: 67 },
    ar: { address: c.ar, port: 7716 },
    poas: [],
    subnet: c.subnet,
  };
}

function newPac(bind: string): PanaPac {
  const pac = createEapPskPac({
    identity,
    psk,
    authTimeoutMs: 10_000,
    bind,
  });
  pacs.push(pac);
  return pac;
}

/** Step 2's tunnel to p's AR from `from` (the oCoA, or the current nCoA in ping-pong). */
async function openTunnel(p: Prepared, from: string): Promise<void> {
  p.handle = await manager!.open(p.ctn.network, {
    oCoA: from,
    nCoA: p.lease.nCoA,
    ar: { address: p.ctn.ar.address, port: 7716 },
  }, p.sa.keys.mnAr);
  p.live = true;
  const old = p.tun;
  p.tun = TunDevice.open({ name: "mpa%d", mtu: 1400 });
  if (old !== undefined) void old.close().catch(() => {});
  p.attachment = await attachMnTun(manager!, p.handle, p.tun, {
    table: p.table,
    rulePriority: p.table,
  });
  attachments.set(p.handle.id, p.attachment);
}

/** First arrival at or after `since` (epoch ms), waiting up to `waitMs`. */
async function firstArrivalSince(since: number, waitMs: number): Promise<number | undefined> {
  const until = now() + waitMs;
  for (;;) {
    const hit = rx!.arrivals().find((r) => r.arrivedAt >= since);
    if (hit !== undefined) return hit.arrivedAt;
    if (now() >= until) return undefined;
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function bind(coa: string, handle?: TunnelHandle): Promise<[number, number]> {
  const start = now();
  await mobility!.bind([coa], handle === undefined ? {} : { tunnel: handle });
  bound = coa;
  return [start, now()];
}

await serveJsonLines({
  /**
   * {protocol, oCoA, cn, sipPort, home, keyHex, mediaPort, identity, pskHex, air,
   * peer, poas, associationDelayMs}: receiver, link control, call or first binding.
   */
  async setup(a) {
    oCoA = String(a.oCoA);
    current = { address: oCoA, prefixLength: 24 };
    identity = String(a.identity);
    psk = fromHex(String(a.pskHex));
    rx = await RtpReceiver.listen({ address: "0.0.0.0", port: Number(a.mediaPort) });
    second = a.second === undefined ? undefined : a.second as SecondArgs;
    link = new NetnsLinkControl({
      air: String(a.air),
      peer: String(a.peer),
      poas: {
        ...a.poas as Record<string, string>,
        ...(second === undefined ? {} : { [_VOID]: second.voidBridge }),
      },
      interface: "eth0",
      associationDelayMs: Number(a.associationDelayMs ?? 0),
    });
    // The ip -batch process starts with the first switch: start it now (the MN is on
    // cellP already; re-mastering to the same bridge changes nothing).
    await link.switchTo("cellP");
    if (second !== undefined) {
      link2 = new NetnsLinkControl({
        air: String(a.air),
        peer: second.peer,
        poas: { [second.poa]: second.poa },
        interface: second.interface,
      });
      await link2.switchTo(second.poa); // same bridge: warms its ip and ARP helpers
    }
    manager = new PhtTunnelManager({
      sessionId: (network) => prepared.get(network)?.sa.sessionId,
      onPacket: (h, packet) => attachments.get(h.id)?.onPacket(packet),
    });
    if (a.protocol === "sip") {
      sip = new SipMobility({
        aor: "sip:mn@home.example",
        localAddress: oCoA,
        mediaPort: Number(a.mediaPort),
        correspondent: {
          address: String(a.cn),
          port: Number(a.sipPort),
          uri: `sip:cn@${String(a.cn)}:${Number(a.sipPort)}`,
        },
      });
      mobility = sip;
      await sip.start();
    } else {
      const mip = new Mip6Mobility({
        home: String(a.home),
        homeAgent: { address: String(a.cn), port: 4191 },
        key: fromHex(String(a.keyHex)),
        initialTimeoutMs: 1000,
      });
      mobility = mip;
      await mip.bind([oCoA]);
    }
    bound = oCoA;
    return { at: now() };
  },
  /** Steps 1-2 for each CTN: {ctns: CtnArgs[]}; returns the phase times per CTN. */
  async prepare(a) {
    const out: Record<string, unknown>[] = [];
    for (const c of a.ctns as CtnArgs[]) {
      const ctn = ctnInfo(c);
      const pac = newPac(oCoA);
      const t0 = now();
      const sa = await pac.preAuthenticate(ctn);
      const t1 = now();
      const lease = await new DhcpConfigurator({ source: oCoA, mode: "ciaddr", timeoutMs: 10_000 })
        .acquire(ctn, sa);
      const t2 = now();
      const p: Prepared = { ctn, poa: c.poa, pac, sa, lease, table: 7716 + prepared.size };
      prepared.set(c.network, p);
      await openTunnel(p, oCoA);
      const t3 = now();
      out.push({
        network: c.network,
        nCoA: lease.nCoA,
        // Tauth from the first PCI sent to the final PAN sent (the PaC's own phase
        // timings): the socket bind before the PCI is not authentication.
        auth: [t1 - sa.timings.total, t1],
        authCall: [t0, t1],
        pana: sa.timings,
        conf: [t1, t2],
        tunnel: [t2, t3],
      });
    }
    return out;
  },
  /** Step 3 through the tunnel of {network}. */
  async bindProactive(a) {
    const p = prepared.get(String(a.network))!;
    return { bu: await bind(p.lease.nCoA, p.handle) };
  },
  /**
   * Steps 4-6 towards {network}; {buffering}: buffer at its AR first; a binding
   * update after the switch when the CoA bound is not its nCoA. Every open tunnel is
   * deleted; the address eth0 held before goes after layer 3 is done.
   */
  async execute(a) {
    const p = prepared.get(String(a.network))!;
    const t: Record<string, number | [number, number] | undefined> = { start: now() };
    if (a.buffering === true) {
      await manager!.buffer(p.handle!);
      t.buffered = now();
      // Packets the AR tunnelled before it started buffering are still on their way
      // up the MN's stack (UDP socket, decryption, TUN write, the kernel's input):
      // let them land before the tunnel and its TUN go, or the first of them is lost.
      await new Promise((resolve) => setTimeout(resolve, _DRAIN_MS));
    }
    // Step 4: the tunnels are deleted (the AR keeps buffering); the TUNs' kernel
    // state goes meanwhile, in parallel with the switch (it must be gone before the
    // nCoA moves to the physical interface, not before the move).
    const live = [...prepared.values()].filter((q) => q.live === true);
    const detached = Promise.all(live.map((q) => q.attachment?.detach()));
    await Promise.all(live.map((q) => {
      q.live = false;
      return manager!.close(q.handle!);
    }));
    t.tunnelDeleted = now();
    await link!.switchTo(p.poa);
    t.linkUp = now();
    await detached;
    t.detached = now();
    await link!.assign(p.lease.nCoA, p.lease.prefixLength, {
      ...(p.lease.router === undefined ? {} : { router: p.lease.router }),
    });
    t.assigned = now();
    let flushed: number | undefined;
    if (a.buffering === true) {
      flushed = await manager!.flush(p.handle!).catch(() => undefined);
      t.flushed = now();
    }
    if (bound !== p.lease.nCoA) t.bu = await bind(p.lease.nCoA);
    t.l3Done = now();
    const previous = current;
    current = { address: p.lease.nCoA, prefixLength: p.lease.prefixLength };
    if (previous.address !== current.address) {
      void _ip(["addr", "del", `${previous.address}/${previous.prefixLength}`, "dev", "eth0"])
        .catch(() => {});
    }
    return { t, flushed, nCoA: p.lease.nCoA };
  },
  /**
   * Ping-pong (RFC 6252 C.1, C.2): re-opens the proactive tunnel to {network}, whose
   * context was retained (MPA-SA at its AA, the lease, the authorization), from the
   * CURRENT address, and binds through it (steps 2-3 without pre-authentication or
   * DHCP); `execute` follows.
   */
  async reopen(a) {
    const p = prepared.get(String(a.network))!;
    const t0 = now();
    await openTunnel(p, current.address);
    const t1 = now();
    return { tunnel: [t0, t1], bu: await bind(p.lease.nCoA, p.handle) };
  },
  /**
   * Section 7.6.2, first half: brings eth1 up in CTN 1's cell with an IPv4
   * link-local address (and the policy rule that keeps what leaves from it on eth1)
   * and asks the AR of {network} to copy the nCoA's packets there.
   */
  async startCopy(a) {
    const p = prepared.get(String(a.network))!;
    const eth1 = second!.interface;
    const t0 = now();
    linkLocal = `169.254.${1 + Math.floor(Math.random() * 253)}.${
      1 + Math.floor(Math.random() * 253)
    }`;
    await _ip(["link", "set", eth1, "up"]);
    await _ip(["addr", "add", `${linkLocal}/16`, "dev", eth1]);
    await _ip(["route", "replace", "default", "dev", eth1, "table", _ETH1_TABLE]);
    await _ip(["rule", "add", "from", linkLocal, "lookup", _ETH1_TABLE, "pref", _ETH1_TABLE]);
    const t1 = now();
    await manager!.startCopy(p.handle!, { address: linkLocal });
    const t2 = now();
    return { iface: [t0, t1], copy: [t1, t2], linkLocal };
  },
  /**
   * Section 7.6.2, second half: eth0 loses its link suddenly (its peer moves to the
   * empty bridge; no buffer request, no delete first); the nCoA goes to eth1 (the
   * TUN still delivers the copies), the tunnel is deleted from the copy socket
   * (copying ends, the AR routes the nCoA onto its cell), the TUN state goes, and the
   * first packet received directly at the nCoA on eth1 ends layer 3.
   */
  async disconnect(a) {
    const p = prepared.get(String(a.network))!;
    const t: Record<string, number | [number, number] | undefined> = { start: now() };
    await link!.switchTo(_VOID);
    t.linkDown = now();
    await link2!.assign(p.lease.nCoA, p.lease.prefixLength, {
      ...(p.lease.router === undefined ? {} : { router: p.lease.router }),
    });
    t.assigned = now();
    p.live = false;
    await manager!.close(p.handle!, { via: "copy" });
    t.tunnelDeleted = now();
    await p.attachment?.detach();
    t.detached = now();
    const direct = await firstArrivalSince(t.tunnelDeleted, _DIRECT_WAIT_MS);
    t.direct = direct;
    t.l3Done = direct ?? now();
    void _ip(["addr", "del", `${oCoA}/24`, "dev", "eth0"]).catch(() => {});
    const stats = manager!.stats();
    return { t, dedupDropped: stats.duplicates, nCoA: p.lease.nCoA };
  },
  /**
   * A switch back or forth to {network}, prepared earlier and RETAINED (RFC 6252
   * C.1, C.2: MPA-SA, lease and authorization kept at its AA/AR/CA): no new
   * pre-authentication or DHCP; the link switch, the retained nCoA on the interface
   * (the previous network's address goes, its context stays) and the binding update
   * after the switch (no tunnel from the current network: the scripted MN does not
   * re-open one, so nothing is bound or buffered proactively). The testbed's
   * `ping-pong` uses `reopen` + `execute` instead; this is its no-tunnel variant.
   */
  async switchRetained(a) {
    const p = prepared.get(String(a.network))!;
    const previous = bound;
    const t: Record<string, number | [number, number] | undefined> = { start: now() };
    await link!.switchTo(p.poa);
    t.linkUp = now();
    await link!.assign(p.lease.nCoA, p.lease.prefixLength, {
      ...(p.lease.router === undefined ? {} : { router: p.lease.router }),
    });
    t.assigned = now();
    if (previous !== p.lease.nCoA) {
      await _ip(["addr", "del", `${current.address}/${current.prefixLength}`, "dev", "eth0"])
        .catch(() => "");
      t.bu = await bind(p.lease.nCoA);
    }
    current = { address: p.lease.nCoA, prefixLength: p.lease.prefixLength };
    t.l3Done = now();
    return { t, nCoA: p.lease.nCoA };
  },
  /** The reactive handover to {ctn: CtnArgs}: switch, then authenticate, configure, bind. */
  async reactive(a) {
    const c = a.ctn as CtnArgs;
    const ctn = ctnInfo(c);
    const t: Record<string, number | [number, number] | undefined> = { start: now() };
    await link!.switchTo(c.poa);
    t.linkUp = now();
    const ll = `169.254.${1 + Math.floor(Math.random() * 253)}.${
      1 + Math.floor(Math.random() * 253)
    }`;
    await _ip(["addr", "flush", "dev", "eth0"]);
    await _ip(["addr", "add", `${ll}/16`, "dev", "eth0"]);
    await _ip(["route", "replace", c.subnet, "dev", "eth0", "src", ll]);
    const t0 = now();
    const pac = newPac(ll);
    const sa = await pac.preAuthenticate(ctn);
    const t1 = now();
    const lease = await new DhcpConfigurator({ source: ll, mode: "ciaddr", timeoutMs: 10_000 })
      .acquire(ctn, sa);
    const t2 = now();
    t.auth = [t1 - sa.timings.total, t1]; // first PCI to final PAN, as in prepare
    t.authCall = [t0, t1];
    t.conf = [t1, t2];
    prepared.set(c.network, { ctn, poa: c.poa, pac, sa, lease, table: 7716 + prepared.size });
    await link!.assign(lease.nCoA, lease.prefixLength, {
      ...(lease.router === undefined ? {} : { router: lease.router }),
    });
    t.assigned = now();
    await _ip(["addr", "del", `${ll}/16`, "dev", "eth0"]).catch(() => "");
    t.llRemoved = now();
    t.bu = await bind(lease.nCoA);
    t.l3Done = now();
    return { t, nCoA: lease.nCoA };
  },
  /** Every RTP arrival: [sequence, arrivedAt, duplicate 0|1]. */
  arrivals() {
    return (rx?.arrivals() ?? []).map((r) => [r.sequence, r.arrivedAt, r.duplicate ? 1 : 0]);
  },
}, async () => {
  const quick = <T>(p: Promise<T> | undefined) =>
    Promise.race([p?.catch(() => {}), new Promise((r) => setTimeout(r, 800))]);
  await quick(sip?.stop());
  await quick((mobility as { close?(): Promise<void> } | undefined)?.close?.());
  for (const p of prepared.values()) {
    await quick(p.attachment?.detach());
    await quick(p.tun?.close());
    await quick(p.pac.terminate(p.sa.sessionId));
  }
  await quick(manager?.[Symbol.asyncDispose]());
  for (const pac of pacs) await quick(pac.close());
  await quick(rx?.close());
  await quick(link?.close());
  await quick(link2?.close());
});
