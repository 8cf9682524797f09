/**
 * Connects {@link TunDevice}s to the proactive handover tunnel's endpoints and
 * installs the kernel state each side needs (RFC 6252 sections 6.3 steps 2 and 4-6,
 * 7.4, 7.6.1, Appendix B). Everything runs in the caller's network namespace.
 *
 * MN ({@link attachMnTun}): the nCoA is assigned to the TUN device as a /32 (never
 * to the physical interface while the MN is still in the previous network, section
 * 7.3.3, and without a prefix route, so that the PHT's own UDP frames to the AR keep
 * using the physical interface); a policy rule `from nCoA lookup T` with `default dev
 * TUN` in table T sends everything sourced from the nCoA - the proactive binding
 * update and the data after it (section 6.3 step 3) - into the tunnel, while traffic
 * from the oCoA is untouched. Packets read from the TUN go to `send`; the packets the
 * tunnel delivers are written into the TUN, where the kernel delivers them locally.
 *
 * AR ({@link attachArTun}): on tunnel up, a host route `nCoA/32 dev TUN` captures
 * packets for the nCoA and a proxy neighbour entry on the CTN interface answers ARP
 * for it on the MN's behalf (section 7.4, Appendix B). Packets read from the TUN go
 * to `deliver` (tunnelled, buffered or copied by the PHT, section 7.6); packets the
 * tunnel delivers from the MN are written into the TUN and forwarded by the kernel.
 * When the MN deletes the tunnel ({@link ArTunGlue.hooks} `onTunnelDeleted`, also
 * while the AR still buffers) the proxy entry goes at once: the MN is about to answer
 * ARP for the nCoA itself on the CTN link. The host route stays while the AR may still be buffering for the nCoA, so
 * that packets keep reaching the buffer instead of an unresolved neighbour, and goes
 * when the MN is heard on the CTN link - by {@link ArTunGlue.heardOnLink}, or by the
 * neighbour monitor that watches the CTN interface for the nCoA's ARP (Appendix B's
 * "integration of attachment detection and address resolution mapping update") - or
 * after `awaitAttachmentMs`. Then the buffered packets are flushed: `deliverDirect`
 * writes them into the TUN, and with the host route gone the kernel sends them on the
 * CTN link. A packet to be written while the route's removal is still in progress
 * (the MN heard on the link races its own flush request) is held until it is done:
 * the kernel would otherwise route it straight back into the TUN until its TTL ran
 * out.
 *
 * The ip(8) commands on the handover's path (the MN's detach, the AR's proxy entry,
 * host route and neighbour entry) go through long-lived `ip -batch` processes
 * (`_ip_cmd.ts`): one netlink request each instead of a process start.
 *
 * IPv6 nCoAs (RFC 6252 section 7.3.4, `ipv6_autoconf_glue.ts`) get a `/128` host route
 * and a proxy entry for Neighbor Discovery; the first IPv6 tunnel sets
 * `net.ipv6.conf.all.forwarding=1` and, on the CTN interface, `proxy_ndp=1`,
 * `forwarding=1` (Linux answers Neighbor Solicitations for a proxied address only on
 * an interface in router mode) and `neigh.proxy_delay=0`.
 *
 * Address resolution learned in advance (Appendix B): when the tunnel names the MN's
 * link-layer address ({@link ArTunnelLike.linkLayerAddress}, from the PHT's Link-Layer
 * Address TLV), the switch installs `ip neigh replace nCoA lladdr MAC dev CTN nud
 * STATE` on the CTN interface, so that the first packets for the MN there need no
 * ARP / NS round trip: at the delete when the AR does not buffer, else when the
 * buffer is flushed at the MN's request, just before the flushed packets are written.
 * Not at a delete while buffering: the neighbour monitor would take the new entry for
 * the MN's first ARP and flush while the MN is still between links. The state is
 * `stale` by default (RFC 4861 section 7.3.3: learned without reachability
 * confirmation; used at once, verified by a unicast probe after
 * `delay_first_probe_time`), `reachable` on request ({@link ArTunOptions.neighbourState}).
 *
 * Kernel settings: `ip_forward=1` on the AR; a link-local /32 on the AR's TUN
 * (reverse-path filtering drops packets arriving on an address-less interface whose
 * source routes elsewhere - the flushed packets); reverse-path filtering loose (2) on the
 * TUN and CTN interfaces of the AR and on the MN's TUN (the effective value is the
 * larger of `all` and the interface's, so 2 turns a strict host into loose there and
 * leaves an unfiltered one alone). Strict filtering would drop the flushed packets
 * (written into the TUN with the correspondent's source, whose route is not the TUN)
 * and, while the host route still points into the TUN, the MN's first ARP request
 * and packets on the CTN link. `accept_local=1` on the AR's TUN: a packet the AR
 * itself sent to the nCoA while buffering (an echo reply, a router advertisement)
 * is flushed back out of the TUN with the AR's own source address, which the kernel
 * otherwise drops as a martian. `proxy_delay=0` on the CTN interface: the kernel
 * otherwise delays proxied ARP replies to broadcast requests by up to 0.8 s.
 * `proxy_arp` itself stays off: an explicit proxy entry is answered whenever
 * forwarding is on, and `proxy_arp=1` would make the AR answer ARP for every address
 * it routes elsewhere, not only for the MN.
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import type { TunnelHandle } from "../../lib/ports.ts";
import { type TunDevice, TunError } from "./tun.ts";
import { _ip, _sysctl } from "./_ip_cmd.ts";
import { _canonicalIp } from "./_pht_udp.ts";

const log = getLogger(["mpa", "tunnel", "tun"]);

/** The MN-side tunnel endpoint as the glue uses it (`PhtTunnelManager` fits). */
export interface TunPacketSender {
  /**
   * Seals and sends one inner packet through the tunnel.
   *
   * @param handle the tunnel
   * @param packet an IP packet from the nCoA
   */
  send(handle: TunnelHandle, packet: Uint8Array): Promise<void>;
}

/** Options of {@link attachMnTun}. */
export interface MnTunOptions {
  /** Routing table of the tunnel's default route. Default 7716 (the PHT port). */
  readonly table?: number;
  /** Priority of the `from nCoA` rule. Default 7716 (before `main` at 32766). */
  readonly rulePriority?: number;
}

/** Counters of a TUN attachment. */
export interface TunGlueStats {
  /** Packets read from the TUN and handed to the tunnel. */
  readonly fromKernel: number;
  /** Packets from the tunnel written into the TUN. */
  readonly toKernel: number;
  /** Packets dropped: a TUN write refused (EINVAL) or a send that failed. */
  readonly dropped: number;
  /** Result counts of the AR's `deliver` (AR side only). */
  readonly deliver: Readonly<Record<string, number>>;
}

/** An MN-side TUN attached to one tunnel. */
export interface MnTunAttachment {
  /** The TUN device. */
  readonly tun: TunDevice;
  /** The tunnel. */
  readonly handle: TunnelHandle;
  /**
   * Writes a packet the tunnel delivered into the TUN: call it from the manager's
   * `onPacket` for this tunnel.
   *
   * @param packet the inner IP packet
   */
  onPacket(packet: Uint8Array): void;
  /** Packet counters. */
  stats(): TunGlueStats;
  /**
   * Removes the rule, the table's route and the nCoA from the TUN (section 6.3
   * step 4: the inner address is about to move to the physical interface) and stops
   * forwarding packets from the TUN. Does not close the TUN. Idempotent.
   *
   * @returns when the kernel state is gone
   */
  detach(): Promise<void>;
  /** Same as `detach` (`await using`). */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Attaches a TUN device to an open MN-side tunnel (RFC 6252 sections 6.3 step 2,
 * 7.4): assigns the nCoA to the TUN, brings it up, adds `ip rule from nCoA lookup T`
 * and `default dev TUN table T`, and forwards every packet the kernel routes into
 * the TUN to `sender.send`.
 *
 * @param sender the tunnel endpoint (a `PhtTunnelManager`)
 * @param handle the open tunnel; its `endpoints.nCoA` is the inner address
 * @param tun an open TUN device in this namespace
 * @param options routing table and rule priority
 * @returns the attachment; wire its `onPacket` to the manager's `onPacket`
 * @throws {Error} when an `ip` command fails (the state added so far is removed)
 *
 * @example
 * ```ts ignore
 * // Needs root: see tests/fixtures/tunnel/_mn.ts.
 * const attachments = new Map<string, MnTunAttachment>();
 * const manager = new PhtTunnelManager({ sessionId, onPacket: (t, p) => attachments.get(t.id)?.onPacket(p) });
 * const handle = await manager.open("ctn-b", endpoints, key);
 * attachments.set(handle.id, await attachMnTun(manager, handle, TunDevice.open({ mtu: 1400 })));
 * ```
 */
export async function attachMnTun(
  sender: TunPacketSender,
  handle: TunnelHandle,
  tun: TunDevice,
  options: MnTunOptions = {},
): Promise<MnTunAttachment> {
  const nCoA = handle.endpoints.nCoA;
  const table = `${options.table ?? 7716}`;
  const priority = `${options.rulePriority ?? 7716}`;
  const v6 = nCoA.includes(":");
  const family = v6 ? ["-6"] : ["-4"];
  const host = `${nCoA}/${v6 ? 128 : 32}`;
  let detached = false;
  let fromKernel = 0;
  let toKernel = 0;
  let dropped = 0;

  const removeState = async () => {
    const gone = /No such|Cannot find|does not exist|not found|Cannot assign/i;
    // Issued together: each is one line to a long-lived `ip -batch` process (the rule
    // and the route in order on the IPv4/IPv6 one, the address on the other), so the
    // detach costs one round trip, not three (it is on the handover's path).
    await Promise.all([
      _ip([...family, "rule", "del", "from", host, "lookup", table, "priority", priority], {
        ignore: gone,
      }),
      _ip([...family, "route", "flush", "table", table], { ignore: gone }),
      tun.closed ? undefined : _ip(["addr", "del", host, "dev", tun.name], { ignore: gone }),
    ]);
  };

  try {
    await _ip(["link", "set", tun.name, "up"]);
    await _ip(["addr", "add", host, "dev", tun.name, ...(v6 ? ["nodad"] : [])]);
    if (!v6) await _sysctl(`net.ipv4.conf.${tun.name}.rp_filter`, 2);
    await _ip([...family, "route", "replace", "default", "dev", tun.name, "table", table]);
    await _ip([...family, "rule", "del", "from", host, "lookup", table, "priority", priority], {
      ignore: /./,
    });
    await _ip([...family, "rule", "add", "from", host, "lookup", table, "priority", priority]);
  } catch (error) {
    await removeState().catch(() => {});
    throw error;
  }

  const stop = new AbortController();
  const onSendError = (error: unknown) => {
    dropped++;
    log.debug("PHT send failed: {error}", { error });
  };
  // Packets are handed on synchronously; the send's completion only counts failures.
  tun.pump((packet) => {
    fromKernel++;
    sender.send(handle, packet).catch(onSendError);
  }, { signal: stop.signal }).catch((error: unknown) => {
    log.error("TUN read failed: {error}", { error });
  });
  log.info("TUN {tun} attached to tunnel {id}: from {nCoA} lookup {table}", {
    tun: tun.name,
    id: handle.id,
    nCoA,
    table,
  });

  const attachment: MnTunAttachment = {
    tun,
    handle,
    onPacket(packet) {
      if (detached || tun.closed) {
        dropped++;
        return;
      }
      try {
        tun.write(packet);
        toKernel++;
      } catch (error) {
        dropped++;
        if (!(error instanceof TunError)) throw error;
        log.debug("TUN write refused: {error}", { error: error.message });
      }
    },
    stats: () => ({ fromKernel, toKernel, dropped, deliver: {} }),
    async detach() {
      if (detached) return;
      detached = true;
      stop.abort();
      await removeState();
    },
    [Symbol.asyncDispose]() {
      return attachment.detach();
    },
  };
  return attachment;
}

/** What the AR's `deliver` did with a packet (as `PhtAr.deliver` returns it). */
export type ArDeliverResult = "tunnelled" | "buffered" | "copied" | "no-tunnel" | "dropped";

/** The part of an AR-side tunnel the glue reads (`PhtArTunnel` fits). */
export interface ArTunnelLike {
  /** The MN's inner address. */
  readonly nCoA: string;
  /** Whether the AR holds packets for the nCoA (section 7.6.1). */
  readonly buffering?: boolean;
  /** Whether the MN deleted the tunnel and the AR only holds its buffer. */
  readonly deleted?: boolean;
  /**
   * The MN's link-layer address on the CTN link (`02:00:00:00:00:0b`), when it told
   * the AR (RFC 6252 Appendix B).
   */
  readonly linkLayerAddress?: string;
}

/** The AR-side tunnel endpoint as the glue uses it (`PhtAr` fits). */
export interface TunPacketDeliverer {
  /**
   * Hands a packet routed to an MN's nCoA to the tunnel layer.
   *
   * @param packet the IP packet
   * @returns what happened to it
   */
  deliver(packet: Uint8Array): ArDeliverResult;
  /**
   * Tells the AR the MN with this nCoA was heard on the CTN link: flush its buffer.
   *
   * @param nCoA the MN's new address
   * @returns packets flushed
   */
  heardOnLink(nCoA: string): number;
  /** The tunnels now (used to tell whether an nCoA is buffering). */
  tunnels?(): readonly ArTunnelLike[];
}

/** Options of {@link attachArTun}. */
export interface ArTunOptions {
  /** The interface of the CTN link the MN attaches to (proxy ARP, flushed packets). */
  readonly ctnInterface: string;
  /**
   * Watch the CTN interface's neighbour table (`ip monitor neigh`) and treat a
   * neighbour entry for a buffering nCoA (the MN's first ARP on the link) as the
   * MN's attachment. Default true.
   */
  readonly detectAttachment?: boolean;
  /**
   * An address for the AR's TUN, with prefix length. Default `169.254.77.16/32`
   * (link-local, routed nowhere). Reverse-path filtering refuses every packet that
   * arrives on an interface without an address unless the route back to its source
   * uses that interface (fib_validate_source, "last resort"), which would drop the
   * flushed packets.
   */
  readonly tunAddress?: string;
  /**
   * NUD state of the neighbour entry installed from the MN's announced link-layer
   * address at the switch (RFC 6252 Appendix B): `stale` (default) or `reachable`.
   */
  readonly neighbourState?: "stale" | "reachable";
}

/** The AR's TUN glue: pass {@link ArTunGlue.hooks} to `PhtAr.listen`, then {@link ArTunGlue.start}. */
export interface ArTunGlue {
  /** The TUN device. */
  readonly tun: TunDevice;
  /** Callbacks to pass to `PhtAr.listen` (spread them into its options). */
  readonly hooks: {
    /** Writes a packet from the MN into the TUN: the kernel forwards it. */
    readonly onPacket: (tunnel: ArTunnelLike, packet: Uint8Array) => void;
    /** Installs the host route and the proxy neighbour entry for the nCoA. */
    readonly onTunnelUp: (tunnel: ArTunnelLike) => Promise<void>;
    /**
     * The MN deleted its tunnel: removes the proxy neighbour entry at once (the MN
     * answers ARP for the nCoA on the CTN link from now on), keeps the host route
     * while the AR may still buffer (RFC 6252 section 7.6.1).
     */
    readonly onTunnelDeleted: (tunnel: ArTunnelLike) => Promise<void>;
    /** Removes the host route and the proxy neighbour entry. */
    readonly onTunnelDown: (tunnel: ArTunnelLike, reason?: string) => Promise<void>;
    /**
     * Writes a flushed packet into the TUN once the host route is gone. A copy
     * (section 7.6.2) for another address cannot go this way (the kernel routes it by
     * its destination, the nCoA, back into the tunnel): it is dropped and counted;
     * copies reach the MN tunnelled instead (`PhtTunnelManager.startCopy` with the
     * prepared interface's address).
     */
    readonly deliverDirect: (nCoA: string, packet: Uint8Array) => void;
  };
  /**
   * Starts reading the TUN into `ar.deliver` and, when enabled, the neighbour monitor.
   *
   * @param ar the listening AR
   */
  start(ar: TunPacketDeliverer): void;
  /**
   * The MN with this nCoA is on the CTN link: removes the host route, hands the
   * packets still queued in the TUN to the AR, then flushes the AR's buffer.
   *
   * @param nCoA the MN's address
   * @returns packets flushed
   */
  heardOnLink(nCoA: string): Promise<number>;
  /** Packet counters. */
  stats(): TunGlueStats;
  /**
   * Stops the monitor and removes every route and proxy entry still installed.
   * Does not close the TUN.
   */
  close(): Promise<void>;
  /** Same as `close` (`await using`). */
  [Symbol.asyncDispose](): Promise<void>;
}

function ipDestination(packet: Uint8Array): string | undefined {
  if (packet.length >= 20 && packet[0]! >> 4 === 4) {
    return `${packet[16]}.${packet[17]}.${packet[18]}.${packet[19]}`;
  }
  if (packet.length >= 40 && packet[0]! >> 4 === 6) {
    return _canonicalIp(
      Array.from(
        { length: 8 },
        (_, i) => ((packet[24 + 2 * i]! << 8) | packet[25 + 2 * i]!).toString(16),
      ).join(":"),
    );
  }
  return undefined;
}

function isV6(address: string): boolean {
  return address.includes(":");
}

function hostRoute(nCoA: string): string {
  return `${nCoA}/${isV6(nCoA) ? 128 : 32}`;
}

/**
 * Prepares the AR-side glue between a TUN device and a PHT access router (RFC 6252
 * sections 7.4, 7.6.1, Appendix B): brings the TUN up and sets `ip_forward`, loose
 * reverse-path filtering and `proxy_delay=0`. Pass `glue.hooks` to `PhtAr.listen`
 * (the AR takes its callbacks at construction), then call `glue.start(ar)`.
 *
 * @param tun an open TUN device in this namespace
 * @param options the CTN interface, attachment detection
 * @returns the glue
 *
 * @example
 * ```ts ignore
 * // Needs root: see tests/fixtures/tunnel/_ar.ts.
 * const glue = await attachArTun(TunDevice.open({ mtu: 1400 }), { ctnInterface: "cellb" });
 * const ar = await PhtAr.listen({ listen: { address: "0.0.0.0" }, keys, ...glue.hooks });
 * glue.start(ar);
 * ```
 */
export async function attachArTun(tun: TunDevice, options: ArTunOptions): Promise<ArTunGlue> {
  const ctn = options.ctnInterface;
  /** nCoAs with a host route into the TUN. */
  const routed = new Set<string>();
  /** nCoAs the AR answers ARP for on the CTN link. */
  const proxied = new Set<string>();
  /** nCoAs whose MN is on the link: late packets from the TUN go back to the kernel. */
  const direct = new Set<string>();
  /** Flushed packets waiting for their host route to go (see `deliverDirect`). */
  const held = new Map<string, Uint8Array[]>();
  const deliverCounts: Record<string, number> = {};
  /** The MNs' link-layer addresses on the CTN link, by nCoA (Appendix B). */
  const macs = new Map<string, string>();
  let ipv6Ready = false;
  let fromKernel = 0;
  let toKernel = 0;
  let dropped = 0;
  let ar: TunPacketDeliverer | undefined;
  let monitor: Deno.ChildProcess | undefined;
  let closed = false;
  const gone = /No such|Cannot find|does not exist|not found/i;

  await _ip(["link", "set", tun.name, "up"]);
  await _ip(["addr", "replace", options.tunAddress ?? "169.254.77.16/32", "dev", tun.name]);
  await _sysctl("net.ipv4.ip_forward", 1);
  await _sysctl(`net.ipv4.conf.${tun.name}.rp_filter`, 2);
  // Flushed packets the AR itself sent to the nCoA (an echo reply, a router
  // advertisement) come back out of the TUN with a local source address.
  await _sysctl(`net.ipv4.conf.${tun.name}.accept_local`, 1);
  await _sysctl(`net.ipv4.conf.${ctn}.rp_filter`, 2);
  await _sysctl(`net.ipv4.neigh.${ctn}.proxy_delay`, 0);

  const write = (packet: Uint8Array) => {
    try {
      tun.write(packet);
      toKernel++;
    } catch (error) {
      dropped++;
      if (!(error instanceof TunError)) throw error;
      log.debug("TUN write refused: {error}", { error: error.message });
    }
  };

  const removeProxy = async (nCoA: string) => {
    if (!proxied.delete(nCoA)) return;
    await _ip(["neigh", "del", "proxy", nCoA, "dev", ctn], { ignore: gone });
  };

  /** Host-route removals in progress: a second caller waits for the same one. */
  const unrouting = new Map<string, Promise<void>>();
  const removeRoute = (nCoA: string): Promise<void> => {
    const pending = unrouting.get(nCoA);
    if (pending !== undefined) return pending;
    if (!routed.delete(nCoA)) return Promise.resolve();
    const removal = _ip(["route", "del", hostRoute(nCoA), "dev", tun.name], { ignore: gone })
      .then(() => {})
      .finally(() => unrouting.delete(nCoA));
    unrouting.set(nCoA, removal);
    return removal;
  };

  const prepareIpv6 = async () => {
    if (ipv6Ready) return;
    await _sysctl("net.ipv6.conf.all.forwarding", 1);
    await _sysctl(`net.ipv6.conf.${ctn}.forwarding`, 1);
    await _sysctl(`net.ipv6.conf.${ctn}.proxy_ndp`, 1);
    await _sysctl(`net.ipv6.neigh.${ctn}.proxy_delay`, 0);
    ipv6Ready = true;
  };

  /** Appendix B: the MN's announced link-layer address becomes the nCoA's neighbour entry. */
  const installNeighbour = async (nCoA: string, mac = macs.get(nCoA)) => {
    if (mac === undefined) return;
    const state = options.neighbourState ?? "stale";
    try {
      await _ip(["neigh", "replace", nCoA, "lladdr", mac, "dev", ctn, "nud", state]);
      log.info("Neighbour entry for {nCoA} on {ctn}: {mac} ({state}, RFC 6252 Appendix B)", {
        nCoA,
        ctn,
        mac,
        state,
      });
    } catch (error) {
      log.warn("Cannot install the neighbour entry for {nCoA}: {error}", {
        nCoA,
        error: String(error),
      });
    }
  };

  const rememberMac = (tunnel: ArTunnelLike) => {
    if (tunnel.linkLayerAddress !== undefined) macs.set(tunnel.nCoA, tunnel.linkLayerAddress);
  };

  /** Writes the packets held for the nCoA, in order, and stops holding. */
  const releaseHeld = (nCoA: string) => {
    for (const p of held.get(nCoA) ?? []) write(p);
    held.delete(nCoA);
  };

  /**
   * Writes a packet for an nCoA whose MN is on the CTN link into the TUN, for the
   * kernel to send on that link - once the host route into the TUN is gone: while its
   * removal is in progress (the MN heard on the link and its flush request race) the
   * kernel would route the packet straight back into the TUN, round after round
   * until its TTL ran out. Packets held meanwhile keep their order.
   */
  const writeDirect = (nCoA: string, packet: Uint8Array) => {
    const queue = held.get(nCoA);
    if (queue !== undefined) {
      queue.push(packet);
      return;
    }
    const removal = unrouting.get(nCoA);
    if (removal === undefined) {
      write(packet);
      return;
    }
    held.set(nCoA, [packet]);
    void removal.catch(() => {}).finally(() => releaseHeld(nCoA));
  };

  const deliver = (packet: Uint8Array) => {
    fromKernel++;
    if (ar === undefined) {
      dropped++;
      return;
    }
    const result = ar.deliver(packet);
    deliverCounts[result] = (deliverCounts[result] ?? 0) + 1;
    if (result === "no-tunnel") {
      // Queued in the TUN when the MN was heard on the link: the host route is gone,
      // so the kernel now sends it on the CTN link.
      const dst = ipDestination(packet);
      if (dst !== undefined && (held.has(dst) || direct.has(dst))) writeDirect(dst, packet);
      else dropped++;
    }
  };

  const heardOnLink = async (nCoA: string): Promise<number> => {
    direct.add(nCoA);
    await removeRoute(nCoA);
    // Packets routed into the TUN before the route went join the buffer first.
    for (let p = tun.tryRead(); p !== undefined && p !== null; p = tun.tryRead()) deliver(p);
    const flushed = ar?.heardOnLink(nCoA) ?? 0;
    log.info("MN {nCoA} heard on {ctn}: host route removed, {flushed} packets flushed", {
      nCoA,
      ctn,
      flushed,
    });
    return flushed;
  };

  const onNeighbour = (nCoA: string) => {
    if (!routed.has(nCoA)) return;
    const tunnel = ar?.tunnels?.().find((t) => t.nCoA === nCoA);
    // Without tunnels(), any routed nCoA heard on the CTN link counts.
    if (tunnel !== undefined && tunnel.buffering !== true && tunnel.deleted !== true) return;
    void heardOnLink(nCoA);
  };

  const startMonitor = () => {
    const child = new Deno.Command("ip", {
      args: ["monitor", "neigh"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    monitor = child;
    void (async () => {
      let rest = "";
      const decoder = new TextDecoder();
      try {
        for await (const chunk of child.stdout) {
          rest += decoder.decode(chunk, { stream: true });
          let nl: number;
          while ((nl = rest.indexOf("\n")) >= 0) {
            const line = rest.slice(0, nl);
            rest = rest.slice(nl + 1);
            // "10.0.2.50 dev cellb lladdr 02:..:.. STALE": the MN's own ARP on the link.
            // ("Deleted ..." and "miss" lines do not match.)
            const m = /^(\S+) dev (\S+) lladdr \S+/.exec(line);
            if (m !== null && m[2] === ctn) onNeighbour(m[1]!);
          }
        }
      } catch {
        // monitor stopped
      }
    })();
  };

  const glue: ArTunGlue = {
    tun,
    hooks: {
      onPacket: (_tunnel, packet) => write(packet),
      onTunnelUp: async (tunnel) => {
        const nCoA = tunnel.nCoA;
        direct.delete(nCoA);
        rememberMac(tunnel);
        if (isV6(nCoA)) await prepareIpv6();
        await _ip(["route", "replace", hostRoute(nCoA), "dev", tun.name]);
        routed.add(nCoA);
        await _ip(["neigh", "replace", "proxy", nCoA, "dev", ctn]);
        proxied.add(nCoA);
        log.info("Tunnel up for {nCoA}: host route via {tun}, proxy ARP on {ctn}", {
          nCoA,
          tun: tun.name,
          ctn,
        });
      },
      onTunnelDeleted: async (tunnel) => {
        rememberMac(tunnel);
        await removeProxy(tunnel.nCoA);
        // Appendix B. While buffering, the entry waits for the flush (see the module doc).
        if (tunnel.buffering !== true) await installNeighbour(tunnel.nCoA);
      },
      onTunnelDown: async (tunnel, reason) => {
        const nCoA = tunnel.nCoA;
        // The MN deleted it (it is on, or moving to, the CTN link): packets the kernel
        // routes into the TUN until the host route is gone go out on the link once it
        // is (writeDirect holds them meanwhile) instead of being dropped as tunnel-less.
        if (reason === "deleted" || tunnel.deleted === true) direct.add(nCoA);
        await removeProxy(nCoA);
        await removeRoute(nCoA);
        macs.delete(nCoA);
      },
      deliverDirect: (nCoA, packet) => {
        const dst = ipDestination(packet);
        if (dst !== undefined && dst !== nCoA) {
          // Copy-and-forward to another address (section 7.6.2) would need the packet
          // re-addressed or encapsulated; the kernel routes by destination only.
          dropped++;
          log.debug("Cannot deliver a copy for {dst} to {to} through the TUN", { dst, to: nCoA });
          return;
        }
        if (!routed.has(nCoA) || held.has(nCoA)) {
          writeDirect(nCoA, packet);
          return;
        }
        // The AR flushes (the MN asked for it) while the host route still points
        // into the TUN, where the packet would loop: hold it until the route is gone.
        held.set(nCoA, [packet]);
        direct.add(nCoA);
        const mac = macs.get(nCoA); // onTunnelDown forgets it meanwhile
        // Both go to the same `ip -batch` process, which runs them in this order.
        void Promise.allSettled([removeRoute(nCoA), installNeighbour(nCoA, mac)]).finally(() =>
          releaseHeld(nCoA)
        );
      },
    },
    start(deliverer) {
      ar = deliverer;
      tun.pump(deliver).catch((error: unknown) => {
        log.error("TUN read failed: {error}", { error });
      });
      if (options.detectAttachment !== false) startMonitor();
    },
    heardOnLink,
    stats: () => ({ fromKernel, toKernel, dropped, deliver: { ...deliverCounts } }),
    async close() {
      if (closed) return;
      closed = true;
      try {
        monitor?.kill("SIGTERM");
      } catch {
        // already gone
      }
      await monitor?.status.catch(() => {});
      for (const nCoA of [...proxied]) await removeProxy(nCoA);
      for (const nCoA of [...routed]) await removeRoute(nCoA);
    },
    [Symbol.asyncDispose]() {
      return glue.close();
    },
  };
  return glue;
}
