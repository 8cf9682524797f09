/**
 * The embedded demo (`mpa demo`, RFC 6252 sections 6.3, 7.2-7.6, C.5): one process
 * runs two candidate target networks of two domains, a correspondent streaming RTP at
 * 50 packets/s, and the mobile node's MPA sessions driven by a simulated drive across
 * the cells. The protocols are the real ones on real loopback sockets: PANA with
 * EAP-PSK to each CTN's authentication agent (step 1, both CTNs in parallel),
 * proactive unicast DHCP signed with the MN-CA key to the embedded CA (step 2), the
 * proactive handover tunnel under the MN-AR key carrying real IPv4/UDP packets (step
 * 2, section 7.4), the SIP re-INVITE from the nCoA through the tunnel (step 3, section
 * 7.5), AR buffering across the link switch (steps 4-6, section 7.6.1), and the
 * release of the CTN not chosen (section C.4).
 *
 * The network is user space on 127/8 (see `demo_drive.ts` for the plan):
 *
 * ```
 *  CN 127.0.9.1 (SipCorrespondent, RTP 50/s)
 *     │  UDP to the MN's media address (oCoA, then the nCoA after the re-INVITE)
 *     ▼
 *  AR link B (UserSpaceArLink: sockets on the nCoA = proxy ARP) ── PhtAr.deliver ──┐
 *     ▲  inner packets from the MN sent on as UDP from nCoA:port                   │ PHT
 *     │                                                                            ▼ (UDP, AES-GCM)
 *  MN (UserSpaceMnHost): oCoA sockets real; nCoA sockets through the tunnel
 *     (PhtDatagramStack) until assign() re-binds them on the link
 * ```
 *
 * The MN's sessions are {@link runSessions} over `decide` (the agent's pipeline),
 * with the ports of this process: {@link PanaPac}, {@link DhcpConfigurator}, the
 * {@link PhtTunnelManager} behind {@link UserSpaceMnHost.tunnels}, {@link SipMobility}
 * and the host as link control. At the end every session is released, the PANA
 * sessions are terminated, every socket is closed, and the summary checks it.
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { Observable, share, Subject, takeUntil } from "npm:rxjs@^7.8.2";
import { decide } from "../../lib/decision/decide.ts";
import type { Decision } from "../../lib/decision/decision.ts";
import type { LinkSample } from "../../lib/metrics/link_sample.ts";
import type { MpaState } from "../../lib/mpa/orchestrator.ts";
import type { MpaCommand, SessionEvent } from "../../lib/mpa/session.ts";
import type { CtnInfo } from "../../lib/ports.ts";
import { type MpaLogEntry, runSessions, type SessionRunner } from "../agent/run_sessions.ts";
import { type CtnServices, startCtnServices } from "../ctn/ctn_services.ts";
import { DhcpConfigurator } from "../dhcp/configurator.ts";
import { RtpReceiver } from "../mobility/rtp_stream.ts";
import { SipCorrespondent } from "../mobility/sip_cn.ts";
import { SipMobility } from "../mobility/sip_ua.ts";
import { createEapPskPac } from "../pana/eap_psk_pac.ts";
import type { PanaPac } from "../pana/pac.ts";
import { PhtTunnelManager } from "../tunnel/pht_mn.ts";
import { type ArLinkEvent, UserSpaceArLink } from "./ar_user_space_link.ts";
import { type DemoAddressPlan, demoAddressPlan, type DemoDrive, demoDrive } from "./demo_drive.ts";
import { type MnHostEvent, UserSpaceMnHost } from "./mn_user_space_host.ts";

const _logger = getLogger(["mpa", "demo"]);

/** The MN's SIP port at every address. */
const _SIP_PORT = 5060;
/** The MN's RTP port at every address. */
const _MEDIA_PORT = 40000;

/** Options of {@link runEmbeddedDemo}. */
export interface EmbeddedDemoOptions {
  /** Simulation seed. Default 3. */
  readonly seed?: number;
  /** Drive time compression: 2 replays 1 s of drive in 0.5 s. Default 2. */
  readonly speed?: number;
  /** AR buffering across the link switch (RFC 6252 section 7.6.1). Default true. */
  readonly buffering?: boolean;
  /** Link-layer association time of the switch, ms. Default 40. */
  readonly associationDelayMs?: number;
  /** How long the stream runs after the handover before the end, ms. Default 1000. */
  readonly settleMs?: number;
  /** Second octet of the 127/8 address plan. Default 0. */
  readonly net?: number;
  /** Every timeline event, as it happens. */
  readonly onEvent?: (event: DemoEvent) => void;
  /** Progress of the drive: simulated ms done of the total. */
  readonly onProgress?: (doneMs: number, totalMs: number) => void;
}

/** One line of the timeline. */
export interface DemoEvent {
  /** Wall time since the start of the drive, ms. */
  readonly at: number;
  /** Drive (simulated) time, ms, at that moment. */
  readonly driveMs: number;
  /** What kind of event: a decision kind, an operation, `link`, `stream`, `ar`, ... */
  readonly kind: string;
  /** The CTN or network concerned, `""` for none. */
  readonly ctn: string;
  /** What happened, in words with the numbers. */
  readonly text: string;
  /** Whether it is a failure or a loss. */
  readonly warn?: boolean;
}

/** Timings of the MPA phases towards one CTN, ms (RFC 6252 section C.6). */
export interface DemoPhaseTimes {
  /** Pre-authentication, PANA with EAP-PSK (Tauth). */
  readonly tauthMs?: number;
  /** Proactive DHCP (Tconf). */
  readonly tconfMs?: number;
  /** Proactive handover tunnel set-up. */
  readonly tunnelMs?: number;
  /** Proactive binding update through the tunnel (SIP re-INVITE to its 200). */
  readonly buMs?: number;
  /** Switch: buffer, link switch, assign, delete the tunnel, flush. */
  readonly switchMs?: number;
}

/** The stream as the MN received it. */
export interface DemoPackets {
  /** RTP packets the correspondent sent. */
  readonly sent: number;
  /** Distinct packets the MN received. */
  readonly received: number;
  /** `sent - received`. */
  readonly lost: number;
  /** Copies of packets received already. */
  readonly duplicated: number;
  /** Packets that arrived after a later one. */
  readonly reordered: number;
  /** Packets the AR held across the switch. */
  readonly buffered: number;
  /** Packets the AR released after the switch. */
  readonly flushed: number;
  /** Packets and frames that reached the MN's old link after it left. */
  readonly droppedOffLink: number;
}

/** What was left at the end (all zero after a clean release). */
export interface DemoRelease {
  /** MN sessions not in phase `released`. */
  readonly mnSessions: number;
  /** PANA sessions still open at the AAs. */
  readonly aaSessions: number;
  /** Tunnels still up at the ARs. */
  readonly arTunnels: number;
  /** Leases the MN still holds. */
  readonly leases: number;
  /** Sockets still open in the MN host and AR links. */
  readonly sockets: number;
  /** Whether all of the above are zero. */
  readonly allReleased: boolean;
}

/** The summary of a demo run. */
export interface DemoSummary {
  /** Seed, speed, buffering. */
  readonly seed: number;
  /** Drive time compression. */
  readonly speed: number;
  /** Whether the AR buffered across the switch. */
  readonly buffering: boolean;
  /** Simulated drive length, ms. */
  readonly driveMs: number;
  /** Wall time of the whole run, ms. */
  readonly wallMs: number;
  /** Decisions by kind. */
  readonly decisions: Readonly<Record<string, number>>;
  /** The CTN switched to, if any. */
  readonly chosen: string | undefined;
  /** CTNs pre-authenticated with and released without a switch. */
  readonly released: readonly string[];
  /** Phase timings per CTN. */
  readonly phases: Readonly<Record<string, DemoPhaseTimes>>;
  /** The stream. */
  readonly packets: DemoPackets;
  /** The largest gap between two arrivals, ms (the interruption). */
  readonly interruptionMs: number;
  /** Interarrival jitter (RFC 3550 appendix A.8), ms. */
  readonly jitterMs: number;
  /** Failed operations and other warnings. */
  readonly warnings: readonly string[];
  /** What was left at the end. */
  readonly release: DemoRelease;
}

const _COMMAND_LABEL: Readonly<Record<string, string>> = {
  discover: "discover",
  preauthenticate: "preauth",
  acquire: "dhcp",
  "open-tunnel": "tunnel",
  bind: "bu",
  buffer: "buffer",
  "switch-link": "switch",
  assign: "assign",
  "close-tunnel": "untunnel",
  flush: "flush",
  renew: "renew",
  "release-lease": "release",
};

function _message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
}

/**
 * Paces samples by their `t`, `speed` times faster than real time. After the samples
 * of an instant, the drive clock waits for `settled` (the MPA operations in flight):
 * compression shortens the drive, never an operation, so a switch decided 100 ms of
 * drive after a commit does not cut the binding update short.
 */
function _paced(
  samples: readonly LinkSample[],
  speed: number,
  settled: () => Promise<void>,
  onProgress: (doneMs: number) => void,
): Observable<LinkSample> {
  return new Observable<LinkSample>((subscriber) => {
    const t0 = samples[0]?.t ?? 0;
    const start = performance.now();
    let paused = 0;
    let i = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const driveNow = () => (performance.now() - start - paused) * speed;
    const tick = async () => {
      const now = driveNow();
      while (i < samples.length && samples[i]!.t - t0 <= now) subscriber.next(samples[i++]!);
      const waitFrom = performance.now();
      await settled();
      paused += performance.now() - waitFrom;
      if (stopped) return;
      onProgress(Math.min(driveNow(), (samples.at(-1)?.t ?? t0) - t0));
      if (i >= samples.length) {
        subscriber.complete();
        return;
      }
      const due = (samples[i]!.t - t0) / speed - (performance.now() - start - paused);
      timer = setTimeout(() => void tick(), Math.max(0, due));
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  });
}

function _sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for the first state that satisfies `done`, at most `ms`. */
function _until(
  runner: SessionRunner,
  done: (s: MpaState) => boolean,
  ms: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    let finished = false;
    const finish = (ok: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      queueMicrotask(() => sub.unsubscribe());
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), ms);
    const sub = runner.state$.subscribe({
      next: (s) => {
        if (done(s)) finish(true);
      },
      complete: () => finish(false),
    });
  });
}

/**
 * Runs the embedded demo to the end and gives everything back.
 *
 * @param options seed, speed, buffering, association delay, timeline sink
 * @returns the summary
 * @throws {Error} when a service cannot start (an address in use: another run on the
 *   same `net`)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const summary = await runEmbeddedDemo({ speed: 20, settleMs: 300, net: 41 });
 * assertEquals(summary.chosen, "domainB");
 * assertEquals(summary.packets.lost, 0);
 * assertEquals(summary.release.allReleased, true);
 * ```
 */
export async function runEmbeddedDemo(options: EmbeddedDemoOptions = {}): Promise<DemoSummary> {
  const seed = options.seed ?? 3;
  const speed = options.speed ?? 2;
  const buffering = options.buffering ?? true;
  const plan: DemoAddressPlan = demoAddressPlan(options.net ?? 0);
  const drive: DemoDrive = await demoDrive(seed);
  const t0 = drive.samples[0]?.t ?? 0;
  const totalDriveMs = (drive.samples.at(-1)?.t ?? t0) - t0;
  const started = performance.now();
  let driveStarted: number | undefined;
  let drivePausedMs = 0;
  const driveNow = () =>
    driveStarted === undefined
      ? 0
      : Math.min(totalDriveMs, (performance.now() - driveStarted - drivePausedMs) * speed);
  const warnings: string[] = [];
  const emit = (kind: string, ctn: string, text: string, warn = false) => {
    if (warn) warnings.push(`${ctn === "" ? "" : `${ctn}: `}${text}`);
    const event: DemoEvent = {
      at: performance.now() - started,
      driveMs: driveNow(),
      kind,
      ctn,
      text,
      ...(warn ? { warn } : {}),
    };
    try {
      options.onEvent?.(event);
    } catch (error) {
      _logger.warn("Demo event handler failed: {error}", { error: _message(error) });
    }
  };

  const psk = crypto.getRandomValues(new Uint8Array(16));
  const identity = "mn@mpa.demo";
  const services = new Map<string, CtnServices>();
  const links = new Map<string, UserSpaceArLink>();
  const ctnInfos: CtnInfo[] = [];
  let cn: SipCorrespondent | undefined;
  let host: UserSpaceMnHost | undefined;
  let pac: PanaPac | undefined;
  let pht: PhtTunnelManager | undefined;
  let sip: SipMobility | undefined;
  let runner: SessionRunner | undefined;
  const receiver = new RtpReceiver();
  const configurator = new DhcpConfigurator({
    source: plan.home.oCoA,
    mode: "ciaddr",
    ports: { client: 0 },
    timeoutMs: 2000,
    retransmitMs: 250,
  });
  const stop$ = new Subject<void>();

  const onLinkEvent = (e: ArLinkEvent) => {
    if (e.kind === "proxy-up") {
      emit("ar", e.ctn, `AR captures ${e.nCoA} on its link (proxy ARP stand-in)`);
    } else if (e.kind === "proxy-down") {
      emit("ar", e.ctn, `AR stops capturing ${e.nCoA} (${e.why})`);
      if (e.why === "announced") void _admitOnLink(e.ctn, e.sessionId, e.nCoA);
    } else emit("ar", e.ctn, `AR releases ${e.count} buffered packet(s) to ${e.nCoA} on the link`);
  };
  const onHostEvent = (e: MnHostEvent) => {
    switch (e.kind) {
      case "link-down":
        return emit("link", "", `MN leaves ${e.poa ?? "its link"}`);
      case "link-up":
        return emit("link", e.network, `MN associated with ${e.poa}`);
      case "assigned":
        return emit(
          "link",
          "",
          `MN assigns ${e.address}${e.announced ? ", gratuitous ARP heard by the AR" : ""}`,
        );
      case "tunnel-up":
        return emit("link", e.ctn, `MN sockets on ${e.nCoA} go through the PHT`);
      case "tunnel-down":
        return;
    }
  };

  // The MN is on the CTN's link now: the CA's gate, which keeps off-link unicast DHCP
  // from MNs that are not pre-authenticated (RFC 6252 section 7.3.3), admits its new
  // address, so that the lease is extended from the nCoA. The AA's key delivery only
  // admits the address the MN pre-authenticated from; here the CTN re-delivers the SA
  // with the nCoA when its AR hears the MN on the link.
  const _admitOnLink = async (ctn: string, sessionId: number, nCoA: string) => {
    const s = services.get(ctn);
    const sa = s?.keys.get(sessionId);
    if (s === undefined || sa === undefined) return;
    try {
      await s.keyDelivery.deliver({ ...sa, mnAddress: nCoA });
      emit("ca", ctn, `CA admits ${nCoA}, on its link now`);
    } catch (error) {
      emit("ca", ctn, `CA cannot admit ${nCoA}: ${_message(error)}`, true);
    } finally {
      sa.mnCa.fill(0);
      sa.mnAr.fill(0);
    }
  };

  const teardown = async (): Promise<void> => {
    const step = async (what: string, run: () => Promise<unknown> | undefined) => {
      try {
        await run();
      } catch (error) {
        warnings.push(`Cannot ${what}: ${_message(error)}`);
      }
    };
    stop$.next();
    await step("stop the stream", () => Promise.resolve(cn?.stream()?.stop()));
    await step("shut the sessions down", () => runner?.shutdown());
    // BYE; after a failed move its answer may go to an address the MN left.
    await step("end the call", () => sip?.stop({ signal: AbortSignal.timeout(2000) }));
    await step("end the PANA sessions", async () => {
      if (pac === undefined) return;
      await Promise.all(pac.sessions.map((id) => pac!.terminate(id)));
    });
    await step("close the PaC", () => pac?.close());
    await step("close the tunnels", () => pht?.[Symbol.asyncDispose]());
    await step("close the MN host", () => host?.close());
    await step("close the receiver", () => receiver.close());
    await step("close the correspondent", () => cn?.close());
  };

  let summary: DemoSummary | undefined;
  try {
    // The CTNs: AA, CA, AR each on its own loopback address, keys delivered in process.
    for (const c of plan.ctns) {
      const link = await UserSpaceArLink.open({
        ctn: c.network,
        address: c.ar,
        ports: [_MEDIA_PORT, _SIP_PORT],
        onEvent: onLinkEvent,
      });
      links.set(c.network, link);
      const s = await startCtnServices({
        ctn: c.network,
        aa: {
          host: c.aa,
          port: 0,
          backend: { kind: "local", credentials: new Map([[identity, psk.slice()]]) },
        },
        ar: { listen: c.ar, port: 0, ...link.hooks() },
        embeddedCa: { address: c.ca, port: 0, subnet: c.subnet, range: c.range, router: c.ar },
      });
      services.set(c.network, s);
      link.attach(s.ar!);
      ctnInfos.push({
        network: c.network,
        aa: { address: c.aa, port: s.aa!.address.port },
        ca: { address: c.ca, port: s.ca!.local.port },
        ar: { address: c.ar, port: s.ar!.address.port },
        poas: [c.poa],
        subnet: c.subnet,
        cells: drive.scenario.cells.filter((cell) => cell.network === c.network),
      });
      emit(
        "ctn",
        c.network,
        `CTN up: AA ${c.aa}:${s.aa!.address.port}, CA ${c.ca}:${s.ca!.local.port}, AR ${c.ar}:${
          s.ar!.address.port
        }, subnet ${c.subnet}`,
      );
    }

    // The correspondent and the MN's call from its current address.
    cn = await SipCorrespondent.listen({
      listen: { address: plan.cn, port: _SIP_PORT },
      onEvent: (e) => {
        if (e.type === "redirected") {
          emit("stream", "", `CN redirects the stream to ${e.to.address}:${e.to.port}`);
        }
      },
    });
    const networkOfPoa = (poa: string) =>
      drive.scenario.cells.find((cell) => cell.poa === poa)?.network;
    host = await UserSpaceMnHost.start({
      network: plan.home.network,
      poa: plan.home.poa,
      address: plan.home.oCoA,
      mediaPort: _MEDIA_PORT,
      networkOfPoa,
      arLink: (network) => links.get(network),
      ...(options.associationDelayMs === undefined
        ? {}
        : { associationDelayMs: options.associationDelayMs }),
      onMedia: (bytes, from) => receiver.record(bytes, from),
      onEvent: onHostEvent,
    });
    const h = host;
    sip = new SipMobility({
      aor: identity.replace(/^/, "sip:"),
      localAddress: plan.home.oCoA,
      sipPort: _SIP_PORT,
      mediaPort: _MEDIA_PORT,
      correspondent: { address: plan.cn, port: _SIP_PORT, uri: `sip:cn@${plan.cn}:${_SIP_PORT}` },
      transport: h.transport,
    });
    await sip.start();
    await receiver.waitFor((s) => s.received >= 3);
    emit(
      "stream",
      "",
      `Call up: CN ${plan.cn} streams RTP (50 packets/s) to ${plan.home.oCoA}:${_MEDIA_PORT}`,
    );

    pac = createEapPskPac({
      identity,
      psk,
      bind: plan.home.oCoA,
      authTimeoutMs: 3000,
    });
    const sessionIds = new Map<string, number>();
    pht = new PhtTunnelManager({
      sessionId: (ctn) => sessionIds.get(ctn),
      onPacket: (handle, packet) => h.onTunnelPacket(handle, packet),
      timeoutMs: 500,
    });
    const p = pac;
    const preauth = {
      preAuthenticate: async (ctn: CtnInfo, o?: { signal?: AbortSignal }) => {
        const sa = await p.preAuthenticate(
          ctn,
          o?.signal === undefined ? {} : { signal: o.signal },
        );
        sessionIds.set(ctn.network, sa.sessionId);
        return sa;
      },
    };

    // The drive: paced samples, the decision pipeline, the sessions.
    const settled = async () => {
      const from = performance.now();
      await runner?.idle();
      drivePausedMs += performance.now() - from;
    };
    const samples$ = _paced(
      drive.samples,
      speed,
      settled,
      (done) => options.onProgress?.(done, totalDriveMs),
    );
    const decisions$ = decide(samples$, {
      cells: drive.scenario.cells,
      ctns: drive.scenario.ctns,
    }).pipe(takeUntil(stop$), share());
    const decisionCounts: Record<string, number> = {};
    const prepared = new Set<string>();
    let driveDone!: () => void;
    const driveOver = new Promise<void>((resolve) => (driveDone = resolve));
    decisions$.subscribe({
      next: (d: Decision) => {
        decisionCounts[d.kind] = (decisionCounts[d.kind] ?? 0) + 1;
        if (d.kind === "prepare") d.ctns.forEach((c) => prepared.add(c));
        const target = "ctn" in d ? d.ctn : d.ctns.join(", ");
        emit(d.kind, target, `decision at ${(d.t / 1000).toFixed(1)} s (${d.poa}): ${d.reason}`);
      },
      complete: () => driveDone(),
      error: () => driveDone(),
    });

    const commands = new Map<string, { kind: string; start: number; tunnelled: boolean }>();
    const phases: Record<string, Record<string, number>> = {};
    const setPhase = (ctn: string, key: string, ms: number, keepFirst = true) => {
      const p = phases[ctn] ??= {};
      if (keepFirst && p[key] !== undefined) return;
      p[key] = ms;
    };
    let switchStart: number | undefined;
    let switchCtn: string | undefined;
    const onLog = (entry: MpaLogEntry) => {
      if (entry.kind === "command") {
        _onCommand(entry.command);
        return;
      }
      if (entry.kind === "notice") {
        if (entry.level !== "info") emit("note", entry.ctn, entry.message, true);
        return;
      }
      const event = entry.event;
      if (event.kind !== "session") return;
      _onResult(event.ctn, event.event);
    };
    const _onCommand = (c: MpaCommand) => {
      if (c.kind === "forget-sa" || c.kind === "cancel") return;
      const label = _COMMAND_LABEL[c.kind] ?? c.kind;
      const tunnelled = c.kind === "bind" && c.tunnel !== undefined;
      commands.set(`${c.ctn}#${c.seq}`, { kind: c.kind, start: performance.now(), tunnelled });
      if ((c.kind === "buffer" || c.kind === "switch-link") && switchStart === undefined) {
        switchStart = performance.now();
        switchCtn = c.ctn;
      }
      const info = ctnInfos.find((i) => i.network === c.ctn);
      const what = c.kind === "preauthenticate"
        ? `PANA/EAP-PSK with the AA ${info?.aa.address}:${info?.aa.port}`
        : c.kind === "acquire"
        ? `DHCPREQUEST from ${plan.home.oCoA} to the CA ${info?.ca.address}:${info?.ca.port}, signed with the MN-CA key`
        : c.kind === "open-tunnel"
        ? `PHT create ${c.endpoints.oCoA} -> AR ${c.endpoints.ar.address}:${c.endpoints.ar.port} for ${c.endpoints.nCoA}`
        : c.kind === "bind"
        ? `SIP re-INVITE for ${c.coas.join(", ")}${
          tunnelled ? " through the PHT" : " on the new link"
        }`
        : c.kind === "buffer"
        ? "ask the AR to buffer"
        : c.kind === "switch-link"
        ? `link switch to ${c.poa}`
        : c.kind === "assign"
        ? `assign ${c.address}/${c.prefixLength}`
        : c.kind === "close-tunnel"
        ? "delete the PHT"
        : c.kind === "flush"
        ? "ask the AR to flush"
        : c.kind === "renew"
        ? `extend the lease of ${c.lease.nCoA}`
        : c.kind === "release-lease"
        ? `release the lease of ${c.lease.nCoA}`
        : c.kind;
      emit(label, c.ctn, what);
    };
    const _onResult = (ctn: string, e: SessionEvent) => {
      if (!("seq" in e)) return;
      const key = `${ctn}#${e.seq}`;
      const c = commands.get(key);
      if (c === undefined) return;
      commands.delete(key);
      const ms = performance.now() - c.start;
      const took = `${ms.toFixed(1)} ms`;
      const label = _COMMAND_LABEL[c.kind] ?? c.kind;
      switch (e.kind) {
        case "op-failed":
          return emit(label, ctn, `${e.op} failed (${e.code}) after ${took}: ${e.message}`, true);
        case "preauth-ok":
          setPhase(ctn, "tauthMs", ms);
          return emit(label, ctn, `MPA-SA, PANA session ${e.sa.sessionId} (Tauth ${took})`);
        case "lease-ok":
          setPhase(ctn, "tconfMs", ms);
          return emit(label, ctn, `nCoA ${e.lease.nCoA}/${e.lease.prefixLength} (Tconf ${took})`);
        case "tunnel-ok":
          setPhase(ctn, "tunnelMs", ms);
          return emit(label, ctn, `PHT up, ${e.tunnel.id} (${took})`);
        case "bind-ok":
          if (c.tunnelled) setPhase(ctn, "buMs", ms);
          return emit(label, ctn, `bound ${e.result.bound.join(", ")} (${took})`);
        case "buffer-ok":
          return emit(label, ctn, `AR buffers (${took})`);
        case "link-switched":
          return emit(label, ctn, `on the new link (${took})`);
        case "assigned":
          return emit(label, ctn, `address assigned (${took})`);
        case "tunnel-closed":
          if (!buffering && ctn === switchCtn && switchStart !== undefined) {
            setPhase(ctn, "switchMs", performance.now() - switchStart);
          }
          return emit(label, ctn, `PHT deleted (${took})`);
        case "flushed":
          if (ctn === switchCtn && switchStart !== undefined) {
            setPhase(ctn, "switchMs", performance.now() - switchStart);
          }
          return emit(label, ctn, `AR flushed ${e.count} packet(s) (${took})`);
        case "renewed":
          return emit(label, ctn, `lease extended to ${e.lease.lifetimeMs / 1000} s (${took})`);
        case "lease-released":
          return emit(label, ctn, `lease released (${took})`);
        default:
          return;
      }
    };

    const tunnels = h.tunnels(pht, buffering);
    driveStarted = performance.now();
    emit(
      "drive",
      "",
      `Drive: ${drive.scenario.description}; ${
        (totalDriveMs / 1000).toFixed(1)
      } s at ${speed}x, buffering ${buffering ? "on" : "off"}`,
    );
    runner = runSessions({
      ports: {
        preauth,
        configurator,
        tunnels,
        mobility: sip,
        link: h,
      },
      decisions: decisions$,
      serving: {
        network: plan.home.network,
        poa: plan.home.poa,
        coa: plan.home.oCoA,
        prefixLength: 24,
      },
      ctns: ctnInfos,
      timeouts: { preauthMs: 3000, configureMs: 2500, tunnelMs: 2000, bindMs: 3000 },
    });
    runner.events$.subscribe(onLog);

    await driveOver;
    const chosen = drive.handover?.ctn;
    if (chosen !== undefined) {
      const attached = await _until(
        runner,
        (s) => s.sessions.get(chosen)?.phase === "attached" && s.switching === undefined,
        10_000,
      );
      if (!attached) emit("switch", chosen, "The switch did not complete in 10 s", true);
    }
    await _sleep(options.settleMs ?? 1000);
    // The end: stop the stream, let the last packets arrive, count.
    cn.stream()?.stop();
    await _sleep(100);
    const sender = cn.stream()?.stats();
    const rx = receiver.stats();
    const sent = sender?.packetsSent ?? 0;
    const chosenAr = chosen === undefined ? undefined : services.get(chosen)?.ar?.stats();
    const hostStats = h.stats();
    const packets: DemoPackets = {
      sent,
      received: rx.received,
      lost: sent - rx.received,
      duplicated: rx.duplicates,
      reordered: rx.reordered,
      buffered: chosenAr?.buffered ?? 0,
      flushed: chosenAr?.flushed ?? 0,
      droppedOffLink: hostStats.droppedOffLink,
    };
    emit(
      "stream",
      "",
      `Stream stopped: ${sent} sent, ${rx.received} received, ${packets.lost} lost, ${rx.duplicates} duplicated`,
      packets.lost > 0,
    );
    const snapshotBefore = runner.snapshot();
    const released = [...prepared].filter((c) => c !== chosen);
    for (const c of released) {
      const phase = snapshotBefore.sessions.get(c)?.phase;
      emit("release", c, `Not chosen: session ${phase ?? "gone"}, its lease and tunnel given back`);
    }

    await teardown();
    const state = runner.snapshot();
    const mnSessions = [...state.sessions.values()].filter((s) => s.phase !== "released").length;
    let aaSessions = 0;
    let arTunnels = 0;
    for (const s of services.values()) {
      aaSessions += s.aa?.stats.paa.sessions ?? 0;
      arTunnels += s.ar?.tunnels().length ?? 0;
    }
    let sockets = h.stats().sockets;
    for (const l of links.values()) sockets += l.stats().sockets;
    const leases = configurator.leases.length;
    const release: DemoRelease = {
      mnSessions,
      aaSessions,
      arTunnels,
      leases,
      sockets,
      allReleased: mnSessions + aaSessions + arTunnels + leases + sockets === 0,
    };
    emit(
      "end",
      "",
      release.allReleased
        ? "All sessions released: MPA sessions, PANA sessions, leases, tunnels, sockets"
        : `Not all released: ${JSON.stringify(release)}`,
      !release.allReleased,
    );
    summary = {
      seed,
      speed,
      buffering,
      driveMs: totalDriveMs,
      wallMs: performance.now() - started,
      decisions: decisionCounts,
      chosen,
      released,
      phases,
      packets,
      interruptionMs: rx.largestGap?.ms ?? 0,
      jitterMs: rx.jitterMs,
      warnings,
      release,
    };
  } finally {
    if (summary === undefined) await teardown();
    for (const l of links.values()) {
      await l.close().catch(() => {});
    }
    for (const s of services.values()) {
      await s.close().catch((error) => warnings.push(`Cannot close a CTN: ${_message(error)}`));
    }
    psk.fill(0);
  }
  return summary;
}
