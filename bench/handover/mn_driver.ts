/**
 * The MN side of the handover testbed behind one seam: an {@link MnDriver} runs one
 * handover of a scenario in the MN's namespace and returns the phase timestamps and
 * the RTP arrivals that measure.ts turns into metrics.
 *
 * `scripted` ({@link ScriptedMnDriver}, bench/handover/_mn_scripted.ts) is the
 * MN whose script says when and where to move: the steps of RFC 6252 section 6.3 in
 * a fixed order on the agent's adapters. `agent` ({@link AgentMnDriver},
 * bench/handover/_mn_agent.ts) is the real `mpa agent --config FILE` in the MN's
 * namespace, deciding by itself from a trace that crosses the cells; its events
 * (`--events`) become the same {@link HandoverTrace}. It runs the scenarios it has a
 * trace for (MPA with and without buffering); run.ts runs the others with the
 * scripted MN ({@link agentDriverRefusal} says why).
 *
 * @module
 */
import type { JsonLineChild } from "../../tests/fixtures/netns/json_line_child.ts";
import { AgentMnDriver } from "./_mn_agent.ts";
import { ADDR, type CtnSpec, type HandoverTopology, MN_IDENTITY, MN_PSK_HEX } from "./topology.ts";

/** Mobility protocol of a run (RFC 6252 section 7.5 / Figures 6 and 7). */
export type BindingProtocol = "sip" | "mip6";

/** What one run asks of the MN. */
export interface HandoverPlan {
  /** SIP or Mobile IPv6 binding. */
  readonly protocol: BindingProtocol;
  /** `reactive`: no MPA; `mpa`: prepare, bind through the tunnel, then switch. */
  readonly mode: "reactive" | "mpa";
  /** Buffer at the AR across the switch (section 7.6.1). */
  readonly buffering: boolean;
  /** CTNs prepared (MPA), in order; the binding goes through the first one's tunnel. */
  readonly prepare: readonly CtnSpec[];
  /** The CTN the MN ends in. */
  readonly target: CtnSpec;
  /** Layer-2 association delay modelled by the link control, ms. */
  readonly associationDelayMs: number;
  /** The RTP media port at the MN. */
  readonly mediaPort: number;
  /**
   * Ping-pong (RFC 6252 C.1): after the handover to `target`, switch to each of these
   * prepared networks in turn, `dwellMs` apart, on the retained contexts.
   */
  readonly pingPong?: {
    readonly legs: readonly CtnSpec[];
    readonly dwellMs: number;
    /**
     * Re-open the proactive tunnel to each leg's target from the current network, bind
     * through it and buffer at the target AR before the switch (RFC 6252 C.1, C.2;
     * default true); `false`: switch on the retained contexts with the binding update
     * after the switch.
     */
    readonly reopen?: boolean;
  };
  /**
   * Multi-interface copy-and-forward (RFC 6252 section 7.6.2): after the binding
   * through the tunnel, the AR copies to the MN's second interface (in the target's
   * cell), then the first interface loses its link suddenly and the nCoA moves to the
   * second. Needs the topology's second interface; `buffering` is ignored.
   */
  readonly copyForward?: boolean;
}

/** A phase, [start, end] epoch ms. */
export type Span = readonly [number, number];

/** What the driver observed in one run; times are epoch ms. */
export interface HandoverTrace {
  /**
   * Pre-authentication (Tauth), per prepared CTN or post-switch in reactive: from the
   * first PCI sent to the final PAN sent (the PaC's phase timings).
   */
  readonly auth?: Span;
  /** The whole `preAuthenticate` call (socket bind before the PCI included). */
  readonly authCall?: Span;
  /** The PaC's phase timings of `auth`, ms (RFC 5191 phases). */
  readonly authPhases?: Readonly<Record<string, number>>;
  /** Address acquisition (Tconf). */
  readonly conf?: Span;
  /** Tunnel set-up (MPA). */
  readonly tunnel?: Span;
  /** Binding update (proactive in MPA when it went through the tunnel). */
  readonly bu?: Span;
  /** Whether the binding update was sent through the tunnel before the switch. */
  readonly buProactive: boolean;
  /** Handover execution start (buffer request or switch). */
  readonly executeStart: number;
  /** The AR confirmed buffering. */
  readonly buffered?: number;
  /** Tunnel(s) deleted. */
  readonly tunnelDeleted?: number;
  /** The link-layer switch (start, link up). */
  readonly link: Span;
  /** nCoA on the interface. */
  readonly assigned: number;
  /** Flush answered. */
  readonly flushed?: number;
  /** Packets the AR said it flushed. */
  readonly flushCount?: number;
  /** The MN can receive at the new address on the new link (layer 3 done). */
  readonly l3Done: number;
  /** Ping-pong: the switches after this one, in order (see {@link HandoverPlan.pingPong}). */
  readonly legs?: readonly HandoverTrace[];
  /**
   * When the MN started preparing this handover (ping-pong: the tunnel re-opened
   * from the current network); measure.ts cuts the stream before it.
   */
  readonly prepareStart?: number;
  /** Copy-and-forward requested until the AR confirmed (section 7.6.2). */
  readonly copy?: Span;
  /** Copy-and-forward stopped: the tunnel deleted from the prepared interface. */
  readonly copyStopped?: number;
  /** Duplicates the MN's PHT dedup window dropped (section 7.6.2). */
  readonly dedupDropped?: number;
  /** The first packet received directly at the nCoA on the prepared interface. */
  readonly direct?: number;
}

/** An MN driver: one handover per run. */
export interface MnDriver {
  /** Which driver. */
  readonly kind: "scripted" | "agent";
  /**
   * Runs the MN's part of one handover while the CN streams: set-up (call or first
   * binding), wait `settleMs`, preparation, handover, wait `afterMs`.
   *
   * @param plan what to do
   * @param hooks `streamUp` is awaited after the call or first binding exists
   *   (the MIP6 stream starts there)
   * @returns the trace
   */
  run(
    plan: HandoverPlan,
    hooks: { readonly streamUp: () => Promise<void>; readonly settleMs: number },
  ): Promise<HandoverTrace>;
  /** RTP arrivals at the MN: [sequence, arrivedAt, duplicate]. */
  arrivals(): Promise<readonly (readonly [number, number, number])[]>;
  /** Stops the MN (call ended, sessions terminated, tunnels gone). */
  stop(): Promise<void>;
}

type _Times = Record<string, number | [number, number] | undefined>;

/** The scripted stand-in (see the module notes). */
export class ScriptedMnDriver implements MnDriver {
  /** Always `scripted`. */
  readonly kind = "scripted" as const;
  readonly #topo: HandoverTopology;
  #child: JsonLineChild | undefined;

  /** @param topo the running testbed */
  constructor(topo: HandoverTopology) {
    this.#topo = topo;
  }

  /**
   * Runs one handover (see {@link MnDriver.run}).
   *
   * @param plan what to do
   * @param hooks stream start and settle time
   * @returns the trace
   */
  async run(
    plan: HandoverPlan,
    hooks: { readonly streamUp: () => Promise<void>; readonly settleMs: number },
  ): Promise<HandoverTrace> {
    const topo = this.#topo;
    const child = await topo.lab.spawnDeno(
      topo.ns.mn!,
      new URL("./_mn_scripted.ts", import.meta.url),
    );
    this.#child = child;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await child.request("setup", {
      protocol: plan.protocol,
      oCoA: ADDR.oCoA,
      cn: ADDR.cn,
      sipPort: 5060,
      home: ADDR.home,
      keyHex: MIP_KEY_HEX,
      mediaPort: plan.mediaPort,
      identity: MN_IDENTITY,
      pskHex: MN_PSK_HEX,
      air: topo.ns.air,
      peer: "mnp",
      poas: topo.poas,
      associationDelayMs: plan.associationDelayMs,
      ...(plan.copyForward === true && topo.secondInterface !== undefined
        ? { second: topo.secondInterface }
        : {}),
    }, 30_000);
    await hooks.streamUp();
    await sleep(hooks.settleMs);
    const ctnArgs = (c: CtnSpec) => ({
      network: c.network,
      ar: c.ar,
      ca: c.ca,
      subnet: c.subnet,
      poa: c.poa,
    });
    if (plan.mode === "reactive") {
      const r = await child.request<{ t: _Times }>(
        "reactive",
        { ctn: ctnArgs(plan.target) },
        30_000,
      );
      return {
        auth: r.t.auth as Span,
        ...(r.t.authCall === undefined ? {} : { authCall: r.t.authCall as Span }),
        conf: r.t.conf as Span,
        bu: r.t.bu as Span,
        buProactive: false,
        executeStart: r.t.start as number,
        link: [r.t.start as number, r.t.linkUp as number],
        assigned: r.t.assigned as number,
        l3Done: r.t.l3Done as number,
      };
    }
    const prep = await child.request<
      {
        auth: Span;
        authCall: Span;
        pana: Readonly<Record<string, number>>;
        conf: Span;
        tunnel: Span;
      }[]
    >("prepare", { ctns: plan.prepare.map(ctnArgs) }, 30_000);
    const first = plan.prepare[0]!;
    const bu = await child.request<{ bu: Span }>(
      "bindProactive",
      { network: first.network },
      30_000,
    );
    if (plan.copyForward === true) {
      if (topo.secondInterface === undefined) {
        throw new Error("Copy-and-forward needs the topology's second interface (secondInterface)");
      }
      const c = await child.request<{ copy: Span }>(
        "startCopy",
        { network: first.network },
        30_000,
      );
      await sleep(hooks.settleMs / 2);
      const d = await child.request<{ t: _Times; dedupDropped: number }>(
        "disconnect",
        { network: first.network },
        30_000,
      );
      const p0 = prep[0]!;
      return {
        auth: p0.auth,
        authCall: p0.authCall,
        authPhases: p0.pana,
        conf: p0.conf,
        tunnel: p0.tunnel,
        bu: bu.bu,
        buProactive: true,
        copy: c.copy,
        executeStart: d.t.start as number,
        link: [d.t.start as number, d.t.assigned as number],
        assigned: d.t.assigned as number,
        tunnelDeleted: d.t.tunnelDeleted as number,
        copyStopped: d.t.tunnelDeleted as number,
        dedupDropped: d.dedupDropped,
        ...(d.t.direct === undefined ? {} : { direct: d.t.direct as number }),
        l3Done: d.t.l3Done as number,
      };
    }
    await sleep(hooks.settleMs / 2);
    const x = await child.request<{ t: _Times; flushed?: number }>("execute", {
      network: plan.target.network,
      buffering: plan.buffering,
    }, 30_000);
    const t = x.t;
    const p = prep[plan.prepare.findIndex((c) => c.network === plan.target.network)] ?? prep[0]!;
    const post = t.bu as Span | undefined;
    const legs: HandoverTrace[] = [];
    const reopen = plan.pingPong?.reopen !== false;
    for (const leg of plan.pingPong?.legs ?? []) {
      if (!reopen) {
        await sleep(plan.pingPong!.dwellMs);
        const r = await child.request<{ t: _Times }>(
          "switchRetained",
          { network: leg.network },
          30_000,
        );
        legs.push({
          ...(r.t.bu === undefined ? {} : { bu: r.t.bu as Span }),
          buProactive: false,
          executeStart: r.t.start as number,
          link: [r.t.start as number, r.t.linkUp as number],
          assigned: r.t.assigned as number,
          l3Done: r.t.l3Done as number,
        });
        continue;
      }
      // RFC 6252 C.1, C.2: half the dwell in the network, then the tunnel to the
      // retained target from here, the binding through it, and the switch with
      // buffering once the dwell is over (at least a quarter of it after the binding).
      const dwell = plan.pingPong!.dwellMs;
      const arrived = Date.now();
      await sleep(dwell / 2);
      const o = await child.request<{ tunnel: Span; bu: Span }>(
        "reopen",
        { network: leg.network },
        30_000,
      );
      await sleep(Math.max(dwell / 4, dwell - (Date.now() - arrived)));
      const r = await child.request<{ t: _Times; flushed?: number }>("execute", {
        network: leg.network,
        buffering: true,
      }, 30_000);
      legs.push({
        prepareStart: o.tunnel[0],
        tunnel: o.tunnel,
        bu: r.t.bu === undefined ? o.bu : r.t.bu as Span,
        buProactive: r.t.bu === undefined,
        executeStart: r.t.start as number,
        ...(r.t.buffered === undefined ? {} : { buffered: r.t.buffered as number }),
        tunnelDeleted: r.t.tunnelDeleted as number,
        link: [r.t.tunnelDeleted as number, r.t.linkUp as number],
        assigned: r.t.assigned as number,
        ...(r.t.flushed === undefined ? {} : { flushed: r.t.flushed as number }),
        ...(r.flushed === undefined ? {} : { flushCount: r.flushed }),
        l3Done: r.t.l3Done as number,
      });
    }
    return {
      ...(legs.length === 0 ? {} : { legs }),
      auth: p.auth,
      authCall: p.authCall,
      authPhases: p.pana,
      conf: p.conf,
      tunnel: p.tunnel,
      bu: post ?? bu.bu,
      buProactive: post === undefined,
      executeStart: t.start as number,
      ...(t.buffered === undefined ? {} : { buffered: t.buffered as number }),
      tunnelDeleted: t.tunnelDeleted as number,
      link: [t.tunnelDeleted as number, t.linkUp as number],
      assigned: t.assigned as number,
      ...(t.flushed === undefined ? {} : { flushed: t.flushed as number }),
      ...(x.flushed === undefined ? {} : { flushCount: x.flushed }),
      l3Done: t.l3Done as number,
    };
  }

  /**
   * RTP arrivals at the MN.
   *
   * @returns [sequence, arrivedAt, duplicate] per datagram
   */
  async arrivals(): Promise<readonly (readonly [number, number, number])[]> {
    return await this.#child!.request<[number, number, number][]>("arrivals");
  }

  /** Stops the MN child. */
  async stop(): Promise<void> {
    await this.#child?.stop();
    this.#child = undefined;
  }
}

/** The Mobile IPv6 key shared by the MN and the home agent (test value). */
export const MIP_KEY_HEX = "6d6970362d62696e64696e672d6b65792d666f722d7468652d746573746265642e";

/**
 * The MN driver of a kind.
 *
 * @param kind `scripted` or `agent`
 * @param topo the running testbed
 * @returns the driver
 */
export function createMnDriver(kind: "scripted" | "agent", topo: HandoverTopology): MnDriver {
  return kind === "agent" ? new AgentMnDriver(topo) : new ScriptedMnDriver(topo);
}
