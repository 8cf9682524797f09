/**
 * The handover testbed's network (RFC 6252 Appendix C.5, Figures 6-10) in network
 * namespaces on one machine, with real processes: a correspondent node (CN, also the
 * Mobile IPv6 home agent) and a home AAA server far away behind a `wan` router that
 * adds their round-trip time in user space (delay_relay.ts: no netem on this kernel),
 * a core router, the current network's access router (pAR), two candidate target
 * networks (CTN 1 and 2, of two domains), each with an access router running
 * `mpa ctn --aa --ar --ar-tun --ca-gate` (AA and AR in one process) and a CA (Kea)
 * on the cell, and the MN, whose one interface's veth peer sits in the `air`
 * namespace where each cell is a bridge; `NetnsLinkControl` moves it between them.
 *
 * Addresses (every prefix under 10.0.0.0/8, IPv6 off):
 *
 * | namespace | interface       | address         | role / routes                           |
 * |-----------|-----------------|-----------------|-----------------------------------------|
 * | cn        | eth0            | 10.9.0.2/24     | CN: SIP UAS + RTP source, MIP6 HA; gw .1 |
 * | aaa       | eth0            | 10.9.1.2/24     | home AAA (hostapd RADIUS, roaming); gw .1|
 * | wan       | cn / aaa / core | 10.9.0.1, 10.9.1.1, 10.8.0.2/30 | delay TUN dly0; 10/8 via core |
 * | core      | wan             | 10.8.0.1/30     | default via wan                          |
 * | core      | par / ar1 / ar2 | 10.8.1.1, 10.8.2.1, 10.8.3.1 /30 | 10.0.N.0/24 via each AR     |
 * | par       | core, cell      | 10.8.1.2/30, 10.0.1.1/24 | pAR, bridge cellP                |
 * | ar1       | core, cell      | 10.8.2.2/30, 10.0.2.1/24 | nAR1: AA :716, AR :7716, bridge cell1 |
 * | ca1       | eth0            | 10.0.2.2/24     | CA 1: Kea (pool .100-.199) + nft gate    |
 * | ar2 / ca2 | as 1            | 10.0.3.1, 10.0.3.2 | nAR2 and CA 2, bridge cell2           |
 * | mn        | eth0            | 10.0.1.2/24 (oCoA) | peer `mnp` in air on cellP; gw 10.0.1.1 |
 * | mn        | eth1 (optional) | 169.254.x.y/16 (IPv4 link-local, set by the MN) | peer `mnp1` in air on cell1 |
 * | air       | cellP/cell1/cell2, void | -       | the cells (bridges); `void` has no AP    |
 *
 * The MN's optional second interface ({@link TopologyOptions.secondInterface}, the
 * multi-interface scenario, RFC 6252 section 7.6.2) sits in CTN 1's cell from the
 * start and stays down until the scenario brings it up; `void` is an empty bridge: a
 * peer moved there has no link (a sudden loss of the cell).
 *
 * ARs and CAs also route 169.254.0.0/16 on their cell: the reactive baseline runs its
 * post-authentication and DHCP from an IPv4 link-local address (RFC 3927) before it
 * has an address of the new network.
 *
 * {@link HandoverTopology.dispose} stops every process and deletes every namespace;
 * `buildHandoverTopology` disposes on a failure, and run.ts disposes on SIGINT and
 * SIGTERM too.
 *
 * @module
 */
import { NetnsLab } from "../../tests/fixtures/netns/netns_lab.ts";
import type { JsonLineChild } from "../../tests/fixtures/netns/json_line_child.ts";
import { CliProcess } from "../../tests/fixtures/preconfig/_cli_process.ts";
import type { DelayRule } from "./delay_relay.ts";
import type { ServerProcess } from "../../tests/fixtures/_server_process.ts";
import { startKea } from "../../tests/fixtures/dhcp/_servers.ts";
import { startHostapdRadius } from "../../tests/fixtures/radius/_hostapd.ts";

/** Fixed addresses of the testbed (see the module table). */
export const ADDR = {
  cn: "10.9.0.2",
  aaa: "10.9.1.2",
  par: "10.0.1.1",
  oCoA: "10.0.1.2",
  home: "10.99.0.1",
} as const;

/** One candidate target network. */
export interface CtnSpec {
  /** Network id (`ctn-1.example`). */
  readonly network: string;
  /** Short name, `ar1`. */
  readonly name: string;
  /** The /24's first three octets, `10.0.2`. */
  readonly net24: string;
  /** The AR's and AA's address on the cell. */
  readonly ar: string;
  /** The CA's address on the cell. */
  readonly ca: string;
  /** The subnet, `10.0.2.0/24`. */
  readonly subnet: string;
  /** The cell's PoA id (as the link control knows it). */
  readonly poa: string;
}

/** The two CTNs (two domains). */
export const CTNS: readonly CtnSpec[] = [1, 2].map((i) => ({
  network: `ctn-${i}.example`,
  name: `ar${i}`,
  net24: `10.0.${i + 1}`,
  ar: `10.0.${i + 1}.1`,
  ca: `10.0.${i + 1}.2`,
  subnet: `10.0.${i + 1}.0/24`,
  poa: `cell${i}`,
}));

/** The MN's EAP-PSK identity and key (test values). */
export const MN_IDENTITY = "mn@home.example";
/** 16-byte PSK, hex. */
export const MN_PSK_HEX = "00112233445566778899aabbccddeeff";

/** Options of {@link buildHandoverTopology}. */
export interface TopologyOptions {
  /** Namespace prefix (default `mpatb`). */
  readonly prefix?: string;
  /** RTT added between the access networks and the CN / home agent, ms (default 100). */
  readonly cnRttMs?: number;
  /** RTT added to the home AAA server (roaming), ms (default 100). */
  readonly aaaRttMs?: number;
  /**
   * How the CTNs' AAs authenticate: `local` (credentials file: the AA is the home
   * AAA server, non-roaming) or `roaming` (RADIUS to hostapd in the home domain,
   * across the wan delay). Default `local`.
   */
  readonly aaa?: "local" | "roaming";
  /** How many CTNs to bring up (1 or 2; default 2). */
  readonly ctns?: 1 | 2;
  /** Random loss on the wan router (nftables numgen), percent; default 0. */
  readonly lossPercent?: number;
  /**
   * Give the MN a second interface `eth1` whose peer `mnp1` sits in CTN 1's cell
   * (the multi-interface scenario, RFC 6252 section 7.6.2). Default false.
   */
  readonly secondInterface?: boolean;
}

/** The MN's second interface (see {@link TopologyOptions.secondInterface}). */
export interface SecondInterface {
  /** The MN's interface, `eth1`. */
  readonly interface: string;
  /** Its veth peer in the air namespace, `mnp1`. */
  readonly peer: string;
  /** The cell (PoA id) the peer sits in: CTN 1's. */
  readonly poa: string;
  /** A bridge without access point: a peer moved there has lost its link. */
  readonly voidBridge: string;
}

/** The running testbed. */
export interface HandoverTopology {
  /** The lab (namespaces). */
  readonly lab: NetnsLab;
  /** Full namespace names. */
  readonly ns: Readonly<Record<string, string>>;
  /** The CTNs up. */
  readonly ctns: readonly CtnSpec[];
  /** Parameters in effect (for the report). */
  readonly parameters: Readonly<Record<string, string | number>>;
  /** The MN's cells: PoA id to bridge. */
  readonly poas: Readonly<Record<string, string>>;
  /** The MN's second interface, when asked for. */
  readonly secondInterface?: SecondInterface;
  /** Puts the MN back on cellP with only the oCoA (between runs); `eth1` down, no address. */
  resetMn(): Promise<void>;
  /** Stops everything and deletes every namespace. Idempotent. */
  dispose(): Promise<void>;
}

const RADIUS_SECRET = "mpa-testbed-radius";

/**
 * The MN's routing table (and rule priority) for what leaves from eth1's link-local
 * address (the multi-interface scenario): `default dev eth1`.
 */
export const MN_ETH1_TABLE = 7720;

/**
 * Builds the testbed and starts its servers.
 *
 * @param options prefix, delays, AAA mode, CTN count
 * @returns the running testbed
 */
export async function buildHandoverTopology(
  options: TopologyOptions = {},
): Promise<HandoverTopology> {
  const prefix = options.prefix ?? "mpatb";
  const cnRttMs = options.cnRttMs ?? 100;
  const aaaRttMs = options.aaaRttMs ?? 100;
  const aaa = options.aaa ?? "local";
  const ctns = CTNS.slice(0, options.ctns ?? 2);
  const lab = new NetnsLab(prefix);
  const servers: ServerProcess[] = [];
  const clis: CliProcess[] = [];
  let delay: JsonLineChild | undefined;
  let dir: string | undefined;
  let disposed = false;
  const dispose = async () => {
    if (disposed) return;
    disposed = true;
    await Promise.allSettled(clis.map((c) => c.stop()));
    await Promise.allSettled(servers.map((s) => s.stop()));
    await delay?.stop().catch(() => {});
    await lab.dispose();
    if (dir !== undefined) await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    const o = { ipv6: false };
    const ns: Record<string, string> = {};
    for (const n of ["air", "cn", "aaa", "wan", "core", "par", "mn"]) {
      ns[n] = await lab.namespace(n, o);
    }
    for (const c of ctns) {
      ns[c.name] = await lab.namespace(c.name, o);
      ns[`ca${c.name.slice(2)}`] = await lab.namespace(`ca${c.name.slice(2)}`, o);
    }
    const poas: Record<string, string> = { cellP: "cellP" };
    await lab.bridge(ns.air!, "cellP");
    for (const c of ctns) {
      await lab.bridge(ns.air!, c.poa);
      poas[c.poa] = c.poa;
    }
    // Far side: CN and home AAA behind the wan router.
    await lab.veth({ ns: ns.cn!, name: "eth0", cidr: `${ADDR.cn}/24` }, {
      ns: ns.wan!,
      name: "cn",
      cidr: "10.9.0.1/24",
    });
    await lab.veth({ ns: ns.aaa!, name: "eth0", cidr: `${ADDR.aaa}/24` }, {
      ns: ns.wan!,
      name: "aaa",
      cidr: "10.9.1.1/24",
    });
    await lab.veth({ ns: ns.wan!, name: "core", cidr: "10.8.0.2/30" }, {
      ns: ns.core!,
      name: "wan",
      cidr: "10.8.0.1/30",
    });
    await lab.route(ns.cn!, ["default", "via", "10.9.0.1"]);
    await lab.route(ns.aaa!, ["default", "via", "10.9.1.1"]);
    await lab.route(ns.wan!, ["10.0.0.0/8", "via", "10.8.0.1"]);
    await lab.route(ns.core!, ["default", "via", "10.8.0.2"]);
    // Access networks.
    const access = [
      { name: "par", net24: "10.0.1", core: 1, bridge: "cellP" },
      ...ctns.map((
        c,
        i,
      ) => ({ name: c.name, net24: c.net24, core: i + 2, bridge: c.poa })),
    ];
    for (const a of access) {
      const r = ns[a.name]!;
      await lab.veth({ ns: ns.core!, name: a.name, cidr: `10.8.${a.core}.1/30` }, {
        ns: r,
        name: "core",
        cidr: `10.8.${a.core}.2/30`,
      });
      await lab.veth({ ns: r, name: "cell", cidr: `${a.net24}.1/24` }, {
        ns: ns.air!,
        name: `${a.name}p`,
        master: a.bridge,
      });
      await lab.route(r, ["default", "via", `10.8.${a.core}.1`]);
      await lab.route(ns.core!, [`${a.net24}.0/24`, "via", `10.8.${a.core}.2`]);
      await lab.route(r, ["169.254.0.0/16", "dev", "cell"]);
      await lab.sysctl(r, { "net.ipv4.ip_forward": 1 });
    }
    for (const c of ctns) {
      const ca = ns[`ca${c.name.slice(2)}`]!;
      await lab.veth({ ns: ca, name: "eth0", cidr: `${c.ca}/24` }, {
        ns: ns.air!,
        name: `ca${c.name.slice(2)}p`,
        master: c.poa,
      });
      await lab.route(ca, ["default", "via", c.ar]);
      await lab.route(ca, ["169.254.0.0/16", "dev", "eth0"]);
    }
    await lab.veth({ ns: ns.mn!, name: "eth0", cidr: `${ADDR.oCoA}/24` }, {
      ns: ns.air!,
      name: "mnp",
      master: "cellP",
    });
    await lab.route(ns.mn!, ["default", "via", ADDR.par]);
    await lab.bridge(ns.air!, "void");
    let second: SecondInterface | undefined;
    if (options.secondInterface === true) {
      second = { interface: "eth1", peer: "mnp1", poa: ctns[0]!.poa, voidBridge: "void" };
      await lab.veth({ ns: ns.mn!, name: second.interface }, {
        ns: ns.air!,
        name: second.peer,
        master: ctns[0]!.poa,
      });
      await lab.ip(ns.mn!, ["link", "set", second.interface, "down"]);
      // Copies arrive on eth1 from the AR while the default route is still eth0's, and,
      // once the nCoA moved there, packets for it while its TUN rule still exists:
      // loose reverse-path filtering (the MN's policy rules pick eth1's routes).
      await lab.sysctl(ns.mn!, { [`net.ipv4.conf.${second.interface}.rp_filter`]: 2 });
    }
    await lab.sysctl(ns.core!, { "net.ipv4.ip_forward": 1 });
    // The wan router's delay: policy-route what arrives on a link into dly0.
    await lab.sysctl(ns.wan!, {
      "net.ipv4.ip_forward": 1,
      "net.ipv4.conf.all.rp_filter": 0,
      "net.ipv4.conf.default.rp_filter": 0,
    });
    const rules: DelayRule[] = [
      { cidr: "10.9.0.0/24", rttMs: cnRttMs },
      { cidr: "10.9.1.0/24", rttMs: aaaRttMs },
    ];
    delay = await lab.spawnDeno(ns.wan!, new URL("./_delay_child.ts", import.meta.url));
    await delay.request("start", { rules, name: "dly0" });
    await lab.ip(ns.wan!, ["addr", "add", "169.254.77.1/32", "dev", "dly0"]);
    await lab.ip(ns.wan!, ["link", "set", "dly0", "up"]);
    await lab.sysctl(ns.wan!, { "net.ipv4.conf.dly0.rp_filter": 0 });
    await lab.ip(ns.wan!, ["route", "add", "default", "dev", "dly0", "table", "100"]);
    for (const link of ["cn", "aaa", "core"]) {
      await lab.ip(ns.wan!, ["rule", "add", "iif", link, "lookup", "100", "pref", "100"]);
    }
    if ((options.lossPercent ?? 0) > 0) {
      const per10k = Math.round((options.lossPercent ?? 0) * 100);
      await lab.exec(ns.wan!, ["nft", "add", "table", "inet", "mpatb_loss"]);
      await lab.exec(ns.wan!, [
        "nft",
        "add chain inet mpatb_loss fwd { type filter hook forward priority 0 ; }",
      ]);
      await lab.exec(ns.wan!, [
        "nft",
        `add rule inet mpatb_loss fwd numgen random mod 10000 < ${per10k} drop`,
      ]);
    }
    // Servers: home AAA (roaming), CAs, CTN services.
    dir = await Deno.makeTempDir({ prefix: "mpatb-" });
    await Deno.writeTextFile(`${dir}/credentials`, `${MN_IDENTITY} ${MN_PSK_HEX}\n`, {
      mode: 0o600,
    });
    await Deno.writeTextFile(`${dir}/secret`, `${RADIUS_SECRET}\n`, { mode: 0o600 });
    if (aaa === "roaming") {
      servers.push(
        await startHostapdRadius({
          netns: ns.aaa!,
          identity: MN_IDENTITY,
          pskHex: MN_PSK_HEX,
          secret: RADIUS_SECRET,
          clients: "10.0.0.0/8",
          port: 1812,
        }),
      );
    }
    for (const c of ctns) {
      const ca = ns[`ca${c.name.slice(2)}`]!;
      servers.push(
        await startKea({ netns: ca, interface: "eth0", net24: c.net24, debugLog: false }),
      );
      const auth = aaa === "roaming"
        ? ["--radius", `${ADDR.aaa}:1812`, "--radius-secret-file", `${dir}/secret`]
        : ["--credentials", `${dir}/credentials`];
      const cli = CliProcess.spawn(ns[c.name]!, [
        "ctn",
        "--aa",
        "--ctn",
        c.network,
        "--listen",
        `${c.ar}:716`,
        ...auth,
        "--ar",
        "--ar-listen",
        `${c.ar}:7716`,
        "--ar-tun",
        "--ctn-interface",
        "cell",
        "--ca-gate",
        "--ca-netns",
        ca,
      ], `mpa ctn ${c.name}`);
      clis.push(cli);
      await cli.firstLine(30_000);
    }
    const resetMn = async () => {
      await lab.ip(ns.air!, ["link", "set", "mnp", "master", "cellP"]);
      await lab.ip(ns.mn!, ["addr", "flush", "dev", "eth0"]);
      await lab.ip(ns.mn!, ["addr", "add", `${ADDR.oCoA}/24`, "dev", "eth0"]);
      await lab.ip(ns.mn!, ["route", "replace", "default", "via", ADDR.par, "dev", "eth0"]);
      if (second !== undefined) {
        const eth1 = second.interface;
        await lab.ip(ns.mn!, ["link", "set", eth1, "down"]);
        await lab.ip(ns.mn!, ["addr", "flush", "dev", eth1]);
        await lab.ip(ns.mn!, ["rule", "del", "pref", `${MN_ETH1_TABLE}`]).catch(() => "");
        await lab.ip(ns.mn!, ["route", "flush", "table", `${MN_ETH1_TABLE}`]).catch(() => "");
      }
      await lab.ip(ns.mn!, ["neigh", "flush", "all"]).catch(() => "");
    };
    return {
      lab,
      ns,
      ctns,
      poas,
      ...(second === undefined ? {} : { secondInterface: second }),
      parameters: {
        cnRttMs,
        aaaRttMs,
        aaa: aaa === "roaming"
          ? `RADIUS (RFC 3579) to hostapd in the home domain, ${aaaRttMs} ms RTT`
          : "local credentials at the AA (non-roaming)",
        ca: "Kea (kea-dhcp4 defaults, udp sockets; no server-side duplicate probe by default)",
        lossPercent: options.lossPercent ?? 0,
        ctns: ctns.length,
      },
      resetMn,
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}
