/**
 * The AGENT driver of the handover testbed: the MN is the real `mpa agent --config
 * FILE` process in the MN's namespace, deciding by itself from a link-metrics trace
 * that crosses from the pAR's cell into a CTN's cell (RFC 6252 section 6.3, C.6). The
 * driver writes the agent's configuration (the CTN table of topology.ts, the netns
 * link control of the `air` namespace, SIP or Mobile IPv6, buffering on or off), the
 * trace and the key files into a temporary directory, runs the agent with
 * `--events FILE`, and turns the agent's events (decision, each port command and its
 * result, with sub-millisecond epoch times) into the {@link HandoverTrace} measure.ts
 * reads. The RTP stream is received by a separate child (_mn_rtp_child.ts) bound to
 * the media port on every address, so the measurement is not done by the process
 * being measured.
 *
 * What it can run: MPA with and without buffering into one prepared CTN (the
 * `mpa-buffering` and `mpa-no-buffering` scenarios). The other scenarios need
 * another trace or behaviour the agent does not have here: `reactive` (the agent
 * prepares whenever a CTN comes near; a reactive agent would be an agent with MPA
 * switched off, which it has no option for), `not-chosen` and `ping-pong` (traces
 * crossing two CTNs, not written yet). {@link agentDriverRefusal} says why for each;
 * run.ts runs those with the scripted driver and the report names the driver of each
 * scenario.
 *
 * Timing resolution: the phase times come from the events file's `t` (performance
 * clock, epoch ms); the agent's own `at` fields (its scheduler's clock) are 1 ms.
 *
 * @module
 */
import type { JsonLineChild } from "../../tests/fixtures/netns/json_line_child.ts";
import { CliProcess } from "../../tests/fixtures/preconfig/_cli_process.ts";
import type { LinkSample } from "../../lib/metrics/link_sample.ts";
// MIP_KEY_HEX is read only when a run starts: the import cycle with mn_driver.ts
// (which builds this driver) is settled by then.
import {
  type HandoverPlan,
  type HandoverTrace,
  MIP_KEY_HEX,
  type MnDriver,
  type Span,
} from "./mn_driver.ts";
import { ADDR, type CtnSpec, type HandoverTopology, MN_IDENTITY, MN_PSK_HEX } from "./topology.ts";

/** The network id of the pAR's cell in the trace (not a CTN: never prepared). */
export const SERVING_NETWORK = "par.example";

/** Sample period of the trace, ms. */
const _PERIOD_MS = 100;

/** Length of the trace, ms: the agent ends (and releases) only after this. */
const _TRACE_MS = 12_000;

/**
 * Why the agent driver cannot run a plan, or undefined when it can.
 *
 * @param plan the run's plan
 * @returns the reason, or undefined
 */
export function agentDriverRefusal(plan: HandoverPlan): string | undefined {
  if (plan.mode === "reactive") {
    return "the agent always pre-authenticates a CTN that comes near (it has no MPA-off switch): the reactive baseline is the scripted MN's";
  }
  if (plan.copyForward === true) {
    return "the agent has no second interface and no copy-and-forward step";
  }
  if (plan.pingPong !== undefined) {
    return "no ping-pong trace for the agent yet";
  }
  if (plan.prepare.length !== 1 || plan.prepare[0]!.network !== plan.target.network) {
    return "no trace crossing two CTNs for the agent yet (one prepared CTN, which is the target)";
  }
  return undefined;
}

/**
 * The link-metrics trace of one crossing (RFC 6252 section 7.1): the pAR's cell
 * fades and the target's cell rises at 2 dB/s each, equal at 4 s; the pAR's fades
 * fast from 5 s (the MN leaves its coverage). With `decide`'s defaults the agent
 * prepares at about 2.4 s (within the prepare margin for its dwell), commits at
 * about 4.9 s and switches at about 5.2 s (the A3 margin held for the
 * time-to-trigger), with no decision after it.
 *
 * @param target the CTN whose cell the MN enters
 * @returns the samples, one per PoA per 100 ms, t from 0
 */
export function crossingTrace(target: CtnSpec): LinkSample[] {
  const out: LinkSample[] = [];
  for (let t = 0; t <= _TRACE_MS; t += _PERIOD_MS) {
    const d = (t - 4000) / 1000;
    let serving = 25 - 2 * d;
    if (t > 5000) serving -= 30 * (t - 5000) / 1000;
    out.push({ t, poa: "cellP", network: SERVING_NETWORK, snr: Math.max(0, serving) });
    out.push({ t, poa: target.poa, network: target.network, snr: Math.min(40, 25 + 2 * d) });
  }
  return out;
}

/**
 * The agent's configuration for a plan (the JSON of `mpa agent --config`).
 *
 * @param plan the run's plan
 * @param topo the running testbed
 * @param files where the PSK, the key and the trace are
 * @returns the configuration object
 */
export function agentConfig(
  plan: HandoverPlan,
  topo: HandoverTopology,
  files: { readonly psk: string; readonly mipKey: string; readonly trace: string },
): Record<string, unknown> {
  const mobility = plan.protocol === "sip"
    ? {
      kind: "sip",
      aor: "sip:mn@home.example",
      mediaPort: plan.mediaPort,
      correspondent: { address: ADDR.cn, port: 5060, uri: `sip:cn@${ADDR.cn}:5060` },
    }
    : {
      kind: "mip6",
      home: ADDR.home,
      homeAgent: { address: ADDR.cn, port: 4191 },
      keyFile: files.mipKey,
      homeRegistration: true,
    };
  return {
    mn: { identity: MN_IDENTITY, pskFile: files.psk },
    link: {
      kind: "netns",
      interface: "eth0",
      air: topo.ns.air,
      peer: "mnp",
      poas: topo.poas,
      associationDelayMs: plan.associationDelayMs,
      oCoA: ADDR.oCoA,
    },
    metrics: { source: "replay", file: files.trace, pace: "realtime" },
    discovery: {
      kind: "static",
      ctns: topo.ctns.map((c) => ({
        network: c.network,
        aa: { address: c.ar, port: 716 },
        ca: { address: c.ca, port: 67, mode: "ciaddr", subnet: c.subnet },
        ar: { address: c.ar, port: 7716 },
        poas: [c.poa],
      })),
    },
    mobility,
    tunnel: { tun: true },
    buffering: plan.buffering,
    log: { level: Deno.env.get("MPA_TESTBED_AGENT_LOG") ?? "info" },
  };
}

/** A record of the agent's events file (adapters/agent/event_record.ts). */
export interface EventLine {
  readonly t: number;
  readonly type: string;
  readonly kind: string;
  readonly ctn?: string;
  readonly seq?: number;
  readonly count?: number;
  readonly viaTunnel?: boolean;
  readonly timings?: Readonly<Record<string, number>>;
  readonly coas?: readonly string[];
  readonly nCoA?: string;
  readonly code?: string;
  readonly message?: string;
}

/**
 * Whether the agent's handover into `network` is over: after the switch decision,
 * the session announced it is attached there (the notice `Attached to POA with
 * ADDRESS` that ends the switch sequence: every step answered, renewal included).
 *
 * @param events the events so far
 * @param network the target CTN
 * @returns true once done
 */
export function handoverDone(events: readonly EventLine[], network: string): boolean {
  const i = events.findIndex((e) => e.type === "decision" && e.kind === "switch");
  if (i < 0) return false;
  return events.slice(i).some((e) =>
    e.type === "notice" && e.ctn === network && (e.message ?? "").startsWith("Attached to")
  );
}

/**
 * The trace of one handover from the agent's events.
 *
 * @param events the events file's records, in order
 * @param network the target CTN
 * @returns the trace
 * @throws {Error} when a phase is missing (names it, with the failures seen)
 */
export function traceFromEvents(events: readonly EventLine[], network: string): HandoverTrace {
  const mine = events.filter((e) => e.ctn === network);
  const failures = mine.filter((e) => e.kind === "op-failed")
    .map((e) => `${e.code ?? "?"}: ${e.message ?? ""}`);
  const need = (what: string, e: EventLine | undefined): EventLine => {
    if (e === undefined) {
      throw new Error(
        `The agent's events show no ${what} for ${network}` +
          (failures.length === 0 ? "" : ` (failures: ${failures.join("; ")})`),
      );
    }
    return e;
  };
  const cmd = (kind: string, from = 0) =>
    mine.find((e, i) => i >= from && e.type === "command" && e.kind === kind);
  const res = (kind: string, seq?: number) =>
    mine.find((e) =>
      e.type === "result" && e.kind === kind && (seq === undefined || e.seq === seq)
    );
  const span = (command: string, result: string): Span | undefined => {
    const c = cmd(command);
    const r = c === undefined ? undefined : res(result, c.seq);
    return c === undefined || r === undefined ? undefined : [c.t, r.t];
  };
  const switchDecision = need(
    "switch decision",
    events.find((e) => e.type === "decision" && e.kind === "switch"),
  );
  const preauth = need("pre-authentication", res("preauth-ok"));
  const total = preauth.timings?.total;
  const authCall = span("preauthenticate", "preauth-ok");
  const linkCmd = need("switch-link command", cmd("switch-link"));
  const linkUp = need("link switch", res("link-switched", linkCmd.seq));
  const firstAfter = mine.find((e) =>
    e.type === "command" && e.t >= switchDecision.t &&
    ["buffer", "close-tunnel", "switch-link"].includes(e.kind)
  );
  const binds = mine.filter((e) => e.type === "command" && e.kind === "bind");
  const proactive = [...binds].reverse().find((b) => b.viaTunnel === true && b.t < linkCmd.t);
  const post = binds.find((b) => b.t > linkCmd.t);
  const nCoA = res("lease-ok")?.nCoA;
  // The agent binds again after the switch, from the physical interface; when the
  // proactive update already bound exactly the nCoA, the correspondent sends there
  // already and that update is not part of the layer-3 handover.
  const coveredBefore = proactive !== undefined && nCoA !== undefined &&
    proactive.coas?.length === 1 && proactive.coas[0] === nCoA &&
    res("bind-ok", proactive.seq) !== undefined;
  const bindSpan = (b: EventLine | undefined): Span | undefined => {
    const r = b === undefined ? undefined : res("bind-ok", b.seq);
    return b === undefined || r === undefined ? undefined : [b.t, r.t];
  };
  const buffered = res("buffer-ok");
  const closed = mine.find((e) =>
    e.type === "result" && e.kind === "tunnel-closed" && e.t >= switchDecision.t
  );
  const assigned = need("address assignment", res("assigned"));
  const flushed = res("flushed");
  const postBu = coveredBefore ? undefined : bindSpan(post);
  const conf = span("acquire", "lease-ok");
  const tunnel = span("open-tunnel", "tunnel-ok");
  // A flush that released nothing (the AR had already delivered its buffer on hearing
  // the MN's gratuitous ARP, or held nothing) is not what made the MN reachable.
  const flushedSome = flushed !== undefined && (flushed.count ?? 0) > 0;
  const l3Done = Math.max(assigned.t, flushedSome ? flushed.t : 0, postBu?.[1] ?? 0);
  return {
    ...(total === undefined ? {} : { auth: [preauth.t - total, preauth.t] as Span }),
    ...(authCall === undefined ? {} : { authCall }),
    ...(preauth.timings === undefined ? {} : { authPhases: preauth.timings }),
    ...(conf === undefined ? {} : { conf }),
    ...(tunnel === undefined ? {} : { tunnel }),
    ...(postBu !== undefined
      ? { bu: postBu }
      : bindSpan(proactive) === undefined
      ? {}
      : { bu: bindSpan(proactive)! }),
    buProactive: postBu === undefined && proactive !== undefined,
    executeStart: (firstAfter ?? linkCmd).t,
    ...(buffered === undefined ? {} : { buffered: buffered.t }),
    ...(closed === undefined ? {} : { tunnelDeleted: closed.t }),
    link: [linkCmd.t, linkUp.t],
    assigned: assigned.t,
    ...(flushed === undefined ? {} : { flushed: flushed.t }),
    ...(flushed?.count === undefined ? {} : { flushCount: flushed.count }),
    l3Done,
  };
}

/** The agent driver (see the module notes). */
export class AgentMnDriver implements MnDriver {
  /** Always `agent`. */
  readonly kind = "agent" as const;
  readonly #topo: HandoverTopology;
  #rx: JsonLineChild | undefined;
  #agent: CliProcess | undefined;
  #dir: string | undefined;
  #events: readonly EventLine[] = [];

  /** The agent's events of the last run (raw, for the results and for debugging). */
  get events(): readonly EventLine[] {
    return this.#events;
  }

  /** @param topo the running testbed */
  constructor(topo: HandoverTopology) {
    this.#topo = topo;
  }

  /** What the agent printed on stderr so far (its log, JSON lines). */
  get agentLog(): string {
    return this.#agent?.stderr ?? "";
  }

  /**
   * Runs one handover (see {@link MnDriver.run}): starts the receiver and the agent,
   * starts the stream once the call or first binding exists, waits until the agent
   * finished its handover into the plan's target, and maps its events.
   *
   * @param plan what to do (see {@link agentDriverRefusal})
   * @param hooks stream start; `settleMs` is the trace's (the agent prepares ~2.4 s in)
   * @returns the trace
   * @throws {Error} for a plan the agent cannot run, or an agent that fails
   */
  async run(
    plan: HandoverPlan,
    hooks: { readonly streamUp: () => Promise<void>; readonly settleMs: number },
  ): Promise<HandoverTrace> {
    const refusal = agentDriverRefusal(plan);
    if (refusal !== undefined) throw new Error(`The agent driver cannot run this plan: ${refusal}`);
    const topo = this.#topo;
    const dir = await Deno.makeTempDir({ prefix: "mpatb-agent-" });
    this.#dir = dir;
    const files = { psk: `${dir}/mn.psk`, mipKey: `${dir}/mip6.key`, trace: `${dir}/trace.jsonl` };
    await Deno.writeTextFile(files.psk, `${MN_PSK_HEX}\n`);
    await Deno.writeTextFile(files.mipKey, `${MIP_KEY_HEX}\n`);
    await Deno.writeTextFile(
      files.trace,
      crossingTrace(plan.target).map((s) => JSON.stringify(s)).join("\n") + "\n",
    );
    const configPath = `${dir}/mn.json`;
    await Deno.writeTextFile(configPath, JSON.stringify(agentConfig(plan, topo, files), null, 2));
    const eventsPath = `${dir}/events.jsonl`;

    this.#rx = await topo.lab.spawnDeno(
      topo.ns.mn!,
      new URL("./_mn_rtp_child.ts", import.meta.url),
    );
    await this.#rx.request("listen", { port: plan.mediaPort });
    const agent = CliProcess.spawn(topo.ns.mn!, [
      "agent",
      "--config",
      configPath,
      "--events",
      eventsPath,
      "--no-status",
    ], "mpa agent");
    this.#agent = agent;
    await agent.firstLine(30_000);
    const ready = plan.protocol === "sip"
      ? /SIP call to .* established/
      : /Mobile IPv6 binding of .* acknowledged/;
    await _until(
      () => ready.test(agent.stderr),
      10_000,
      () =>
        `The agent did not set up its ${plan.protocol} binding in 10 s:\n${
          agent.stderr.slice(-4000)
        }`,
    );
    await hooks.streamUp();
    const tail = new _EventsTail(eventsPath);
    let events: EventLine[] = [];
    await _until(
      async () => {
        events = await tail.read();
        return handoverDone(events, plan.target.network);
      },
      30_000,
      () =>
        `The agent did not complete a handover into ${plan.target.network} in 30 s; events:\n${
          events.slice(-20).map((e) => JSON.stringify(e)).join("\n")
        }\nstderr:\n${agent.stderr.slice(-3000)}`,
    );
    this.#events = events;
    return traceFromEvents(events, plan.target.network);
  }

  /**
   * RTP arrivals at the MN.
   *
   * @returns [sequence, arrivedAt, duplicate] per datagram
   */
  async arrivals(): Promise<readonly (readonly [number, number, number])[]> {
    return await this.#rx!.request<[number, number, number][]>("arrivals");
  }

  /** Stops the agent (SIGTERM: it releases everything), the receiver, the files. */
  async stop(): Promise<void> {
    if (this.#agent !== undefined) {
      this.#agent.kill("SIGTERM");
      await this.#agent.status(8_000).catch(() => {});
      this.#agent = undefined;
    }
    await this.#rx?.stop().catch(() => {});
    this.#rx = undefined;
    if (this.#dir !== undefined) {
      await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
      this.#dir = undefined;
    }
  }
}

/**
 * Reads the agent's events file as it grows: each call parses only the bytes added
 * since the last one (a line still being written waits for its newline).
 */
class _EventsTail {
  readonly #path: string;
  readonly #events: EventLine[] = [];
  readonly #decoder = new TextDecoder();
  #offset = 0;
  #rest = "";

  constructor(path: string) {
    this.#path = path;
  }

  async read(): Promise<EventLine[]> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.#path, { read: true });
    } catch {
      return this.#events; // not created yet
    }
    try {
      await file.seek(this.#offset, Deno.SeekMode.Start);
      const buffer = new Uint8Array(65_536);
      for (let n = await file.read(buffer); n !== null; n = await file.read(buffer)) {
        this.#rest += this.#decoder.decode(buffer.subarray(0, n), { stream: true });
        this.#offset += n;
      }
    } finally {
      file.close();
    }
    const lines = this.#rest.split("\n");
    this.#rest = lines.pop() ?? "";
    for (const line of lines) {
      if (line.trim() !== "") this.#events.push(JSON.parse(line) as EventLine);
    }
    return this.#events;
  }
}

async function _until(
  ok: () => boolean | Promise<boolean>,
  timeoutMs: number,
  why: () => string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await ok())) {
    if (performance.now() > deadline) throw new Error(why());
    await new Promise((r) => setTimeout(r, 20));
  }
}
