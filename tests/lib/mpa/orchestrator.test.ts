import { describe, expect, it } from "npm:vitest@4.1.12";
import type { Decision } from "../../../lib/decision/decision.ts";
import {
  initialMpaState,
  type MpaConfig,
  mpaConfig,
  type MpaEvent,
  type MpaOutput,
  mpaReducer,
  type MpaState,
  nextMpaTimer,
} from "../../../lib/mpa/orchestrator.ts";
import type { MpaCommand } from "../../../lib/mpa/session.ts";
import type { CtnInfo, Lease, MpaSa, TunnelHandle } from "../../../lib/ports.ts";

const info = (n: string, i: number): CtnInfo => ({
  network: n,
  aa: { address: `10.0.${i}.1` },
  ca: { address: `10.0.${i}.1` },
  ar: { address: `10.0.${i}.1` },
  poas: [`${n.toLowerCase()}1`],
});
const IDX: Record<string, number> = { B: 2, C: 3, D: 4 };
const sa = (n: string): MpaSa => ({
  ctn: n,
  mnId: "mn",
  sessionId: IDX[n]!,
  establishedAt: 0,
  lifetimeMs: 1e9,
  expiresAt: 1e9,
  keyIds: { msk: 1, mnCa: "c", mnAr: "r" },
  keys: {} as MpaSa["keys"],
});
const lease = (n: string, at = 0): Lease => ({
  ctn: n,
  nCoA: `10.0.${IDX[n]}.10`,
  prefixLength: 24,
  dns: [],
  obtainedAt: at,
  lifetimeMs: 10_000,
  expiresAt: at + 10_000,
  method: "dhcp-unicast",
});
const tunnel = (n: string): TunnelHandle => ({
  id: `pht-${n}`,
  ctn: n,
  endpoints: { oCoA: "10.0.1.5", nCoA: `10.0.${IDX[n]}.10`, ar: { address: "x" } },
  openedAt: 0,
  expiresAt: 1e9,
});

/**
 * Drives the orchestrator like the shell does, answering every command at once
 * with success (or `fail(cmd)`), and records the commands.
 */
function drive(
  config: MpaConfig,
  decisions: readonly Decision[],
  options: {
    state?: MpaState;
    fail?: (c: MpaCommand) => string | undefined;
    multiple?: boolean;
    /** Commands left unanswered (in flight), returned in `held`. */
    hold?: (c: MpaCommand) => boolean;
    /** Events fed before the decisions (late port results). */
    events?: readonly MpaEvent[];
  } = {},
): { state: MpaState; commands: MpaCommand[]; notices: string[]; held: MpaCommand[] } {
  let state = options.state ??
    initialMpaState({ network: "A", poa: "a1", coa: "10.0.1.5", prefixLength: 24 }, 0);
  const commands: MpaCommand[] = [];
  const notices: string[] = [];
  const held: MpaCommand[] = [];
  const pending: MpaEvent[] = decisions.map((decision) => ({ kind: "decision", at: 0, decision }));
  // Port results are answered before the next decision, as with fast ports.
  const queue: MpaEvent[] = [...(options.events ?? [])];
  const handle = (outs: readonly MpaOutput[]) => {
    for (const o of outs) {
      if (o.kind === "notice") {
        notices.push(o.message);
        continue;
      }
      commands.push(o);
      if (o.kind === "forget-sa" || o.kind === "cancel") continue;
      if (options.hold?.(o)) {
        held.push(o);
        continue;
      }
      const at = 1;
      const seq = o.seq;
      const code = options.fail?.(o);
      if (code !== undefined) {
        queue.unshift({
          kind: "session",
          ctn: o.ctn,
          event: {
            kind: "op-failed",
            at,
            seq,
            op: _op(o),
            code: code as "rejected",
            message: "no",
          },
        });
        continue;
      }
      const ev = ((): MpaEvent["kind"] extends never ? never : Parameters<typeof mpaReducer>[1] => {
        const e = (event: unknown) => ({ kind: "session", ctn: o.ctn, event }) as MpaEvent;
        switch (o.kind) {
          case "discover":
            return e({ kind: "discovered", at, seq, info: info(o.ctn, IDX[o.ctn] ?? 9) });
          case "preauthenticate":
            return e({ kind: "preauth-ok", at, seq, sa: sa(o.ctn) });
          case "acquire":
            return e({ kind: "lease-ok", at, seq, lease: lease(o.ctn) });
          case "open-tunnel":
            return e({ kind: "tunnel-ok", at, seq, tunnel: tunnel(o.ctn) });
          case "bind": {
            const bound = options.multiple ? o.coas : o.coas.slice(0, 1);
            return e({
              kind: "bind-ok",
              at,
              seq,
              result: { bound, lifetimeMs: o.lifetimeMs ?? 1000 },
            });
          }
          case "buffer":
            return e({ kind: "buffer-ok", at, seq });
          case "switch-link":
            return e({ kind: "link-switched", at, seq });
          case "assign":
            return e({ kind: "assigned", at, seq });
          case "close-tunnel":
            return e({ kind: "tunnel-closed", at, seq });
          case "flush":
            return e({ kind: "flushed", at, seq, count: 0 });
          case "renew":
            return e({ kind: "renewed", at, seq, lease: lease(o.ctn, 1) });
          case "release-lease":
            return e({ kind: "lease-released", at, seq });
        }
      })();
      queue.push(ev);
    }
  };
  for (let i = 0; i < 1000 && (queue.length > 0 || pending.length > 0); i++) {
    const [next, outs] = mpaReducer(state, queue.shift() ?? pending.shift()!, config);
    state = next;
    handle(outs);
  }
  return { state, commands, notices, held };
}

function _op(c: MpaCommand) {
  const map = {
    "discover": "discover",
    "preauthenticate": "preauth",
    "acquire": "acquire",
    "open-tunnel": "tunnel",
    "bind": "bind",
    "buffer": "buffer",
    "switch-link": "switch-link",
    "assign": "assign",
    "close-tunnel": "close-tunnel",
    "flush": "flush",
    "renew": "renew",
    "release-lease": "release-lease",
  } as const;
  return map[c.kind as keyof typeof map];
}

const t = 0;
const prepare = (...ctns: string[]): Decision => ({
  kind: "prepare",
  t,
  ctns,
  poa: "a1",
  budgets: {},
  reason: "",
});
const budget = { leadMs: null, authMs: 0, confMs: 0, bindMs: 0, phases: [] };
const preconfigure = (c: string): Decision => ({
  kind: "preconfigure",
  t,
  ctn: c,
  poa: `${c.toLowerCase()}1`,
  budget,
  reason: "",
});
const commit = (c: string): Decision => ({
  kind: "commit",
  t,
  ctn: c,
  poa: `${c.toLowerCase()}1`,
  budget,
  reason: "",
});
const switchTo = (c: string, from = "A"): Decision => ({
  kind: "switch",
  t,
  ctn: c,
  poa: `${c.toLowerCase()}1`,
  from: `${from.toLowerCase()}1`,
  fromNetwork: from,
  prepared: [],
  reactive: false,
  reason: "",
});
const release = (c: string, retainMs: number): Decision => ({
  kind: "release",
  t,
  ctn: c,
  poa: "x",
  phases: ["preauth", "preconfigure"],
  retainMs,
  reason: "",
});
const count = (cs: readonly MpaCommand[], kind: MpaCommand["kind"]) =>
  cs.filter((c) => c.kind === kind).length;

describe("mpaReducer: limits (RFC 6252 section C.4)", () => {
  it("queues CTNs beyond maxPreauthenticated and starts them when a slot frees", () => {
    const config = mpaConfig({ limits: { maxPreauthenticated: 1 } });
    const first = drive(config, [prepare("B", "C")]);
    expect(first.commands.filter((c) => c.kind === "preauthenticate").map((c) => c.ctn)).toEqual([
      "B",
    ]);
    expect(first.state.sessions.get("C")?.waiting?.slot).toBe("preauth");
    expect(first.notices.some((n) => n.startsWith("Queued"))).toBe(true);
    const second = drive(config, [release("B", 0)], { state: first.state });
    expect(second.commands.filter((c) => c.kind === "preauthenticate").map((c) => c.ctn)).toEqual([
      "C",
    ]);
  });

  it("keeps configured CTNs within maxConfigured", () => {
    const config = mpaConfig({ limits: { maxConfigured: 1 } });
    const r = drive(config, [prepare("B", "C"), preconfigure("B"), preconfigure("C")]);
    expect(count(r.commands, "acquire")).toBe(1);
    expect(r.state.sessions.get("C")?.waiting?.slot).toBe("configure");
  });
});

describe("mpaReducer: simultaneous bindings (RFC 6252 sections 7.2, C.4)", () => {
  it("binds every tunnelled nCoA at once with a multiple-CoA protocol, capped by maxBound", () => {
    const config = mpaConfig({ multipleCoAs: true, limits: { maxConfigured: 3, maxBound: 2 } });
    const r = drive(config, [
      prepare("B", "C", "D"),
      preconfigure("B"),
      preconfigure("C"),
      preconfigure("D"),
      commit("B"),
    ], { multiple: true });
    expect(r.state.bound).toEqual(["10.0.2.10", "10.0.3.10"]);
    expect(r.state.sessions.get("D")?.phase).toBe("tunnelled");
  });

  it("binds only the likeliest with a single-CoA protocol", () => {
    const config = mpaConfig({ multipleCoAs: false });
    const r = drive(config, [prepare("B", "C"), preconfigure("B"), preconfigure("C"), commit("B")]);
    expect(r.commands.filter((c) => c.kind === "bind").map((c) => c.kind === "bind" && c.coas))
      .toEqual([["10.0.2.10"]]);
    expect([r.state.sessions.get("B")?.phase, r.state.sessions.get("C")?.phase]).toEqual([
      "bound",
      "tunnelled",
    ]);
  });

  it("abort rolls the binding back to the serving CoA", () => {
    const config = mpaConfig();
    const r = drive(config, [prepare("B"), preconfigure("B"), commit("B"), {
      kind: "abort",
      t,
      ctn: "B",
      poa: "b1",
      reason: "",
    }]);
    expect(r.state.bound).toEqual(["10.0.1.5"]);
    expect(r.state.sessions.get("B")?.phase).toBe("tunnelled");
  });
});

describe("mpaReducer: switches (RFC 6252 section 6.3 steps 4-6, C.1)", () => {
  it("multi-CTN preparation, the MN ends in the CTN not chosen; the chosen one is released", () => {
    const config = mpaConfig({ multipleCoAs: true, buffering: true });
    const r = drive(config, [
      prepare("B", "C"),
      preconfigure("B"),
      preconfigure("C"),
      commit("B"),
      switchTo("C"),
      release("B", 0),
      release("A", 0),
    ], { multiple: true });
    expect(r.state.serving).toEqual({ network: "C", poa: "c1" });
    expect(r.state.sessions.get("B")?.phase).toBe("released");
    expect(r.state.bound).toEqual(["10.0.3.10"]);
    expect(r.commands.filter((c) => c.ctn === "B").map((c) => c.kind)).toContain("release-lease");
    expect(r.commands.filter((c) => c.ctn === "C" && c.kind === "preauthenticate").length).toBe(1);
  });

  it("reactive fallback when the target is unprepared", () => {
    const r = drive(mpaConfig(), [switchTo("D")]);
    const d = r.commands.filter((c) => c.ctn === "D").map((c) => c.kind);
    expect(d).toEqual(["discover", "switch-link", "preauthenticate", "acquire", "assign", "bind"]);
    expect(r.state.serving.network).toBe("D");
  });

  it("a failed reactive authentication switches back and restores the context left (C.1)", () => {
    const r = drive(mpaConfig({ retries: 0 }), [switchTo("D"), release("A", 30000)], {
      fail: (c) => (c.kind === "preauthenticate" ? "rejected" : undefined),
    });
    expect(r.state.serving.network).toBe("A");
    expect(r.state.sessions.get("A")?.phase).toBe("attached");
    expect(r.commands.filter((c) => c.ctn === "A").map((c) => c.kind)).toEqual([
      "switch-link",
      "assign",
      "bind",
    ]);
    expect(r.state.sessions.get("D")?.phase).toBe("failed");
  });

  it("ping-pong: a switch back within the TTL restores instead of pre-authenticating again", () => {
    const config = mpaConfig();
    const a = drive(config, [prepare("B"), preconfigure("B"), switchTo("B"), release("A", 30000)]);
    const b = drive(config, [
      { kind: "restore", t, ctn: "A", poa: "a1", reason: "" },
      switchTo("A", "B"),
      release("B", 30000),
    ], { state: a.state });
    const c = drive(config, [
      { kind: "restore", t, ctn: "B", poa: "b1", reason: "" },
      switchTo("B", "A"),
      release("A", 30000),
    ], { state: b.state });
    expect(c.state.serving.network).toBe("B");
    expect(count([...b.commands, ...c.commands], "preauthenticate")).toBe(0);
    expect(count([...b.commands, ...c.commands], "acquire")).toBe(0);
    expect(c.commands.filter((x) => x.ctn === "B").map((x) => x.kind)).toEqual([
      "switch-link",
      "assign",
      "bind",
      "renew",
    ]);
  });
});

describe("mpaReducer: lifetimes, bicast and shutdown", () => {
  it("nextMpaTimer: retained context expiry, then lease extension of the serving network", () => {
    const config = mpaConfig();
    const a = drive(config, [prepare("B"), preconfigure("B"), switchTo("B"), release("A", 500)]);
    expect(nextMpaTimer(a.state, config)).toEqual({
      at: 500,
      event: { kind: "session", ctn: "A", event: { kind: "retain-expired", at: 500 } },
    });
    const b = drive(config, [], {
      state: mpaReducer(a.state, nextMpaTimer(a.state, config)!.event, config)[0],
    });
    expect(b.state.sessions.get("A")?.phase).toBe("released");
    const next = nextMpaTimer(b.state, config)!;
    expect(next.event).toMatchObject({ ctn: "B", event: { kind: "renew-due" } });
    expect(next.at).toBe(1 + 5000);
  });

  it("bicast binds both CoAs for a bounded time with a multiple-CoA protocol (C.1)", () => {
    const config = mpaConfig({ multipleCoAs: true });
    const a = drive(config, [prepare("B"), preconfigure("B"), {
      kind: "bicast",
      t,
      ctns: ["A", "B"],
      poa: "a1",
      durationMs: 2000,
      reason: "",
    }], { multiple: true });
    expect(a.state.bound).toEqual(["10.0.1.5", "10.0.2.10"]);
    expect(nextMpaTimer(a.state, config)).toMatchObject({
      at: 2000,
      event: { kind: "bicast-ended" },
    });
    const b = drive(config, [], {
      state: mpaReducer(a.state, { kind: "bicast-ended", at: 2000 }, config)[0],
      multiple: true,
    });
    expect(b.state.bicastUntil).toBeUndefined();
  });

  it("shutdown closes tunnels, releases leases, forgets SAs and deregisters", () => {
    const config = mpaConfig({ multipleCoAs: true });
    const a = drive(
      config,
      [prepare("B", "C"), preconfigure("B"), preconfigure("C"), commit("B")],
      { multiple: true },
    );
    const [s, outs] = mpaReducer(a.state, { kind: "shutdown", at: 5 }, config);
    const kinds = outs.filter((o) => o.kind !== "notice").map((o) => `${o.kind}:${o.ctn}`);
    expect(kinds).toEqual([
      "close-tunnel:B",
      "release-lease:B",
      "forget-sa:B",
      "close-tunnel:C",
      "release-lease:C",
      "forget-sa:C",
      "bind:A",
    ]);
    expect(outs.find((o) => o.kind === "bind")).toMatchObject({
      coas: ["10.0.1.5"],
      lifetimeMs: 0,
    });
    expect([...s.sessions.values()].every((x) => x.phase === "released")).toBe(true);
    const [, after] = mpaReducer(s, { kind: "decision", at: 6, decision: prepare("B") }, config);
    expect(after).toEqual([expect.objectContaining({ kind: "notice", level: "warn" })]);
  });
});

describe("mpaReducer: decisions during a proactive binding update (RFC 6252 section 6.3 steps 3-6)", () => {
  const holdBind = (ctn: string) => (c: MpaCommand) =>
    c.kind === "bind" && c.ctn === ctn && c.tunnel !== undefined;
  const bindOk = (c: MpaCommand): MpaEvent => ({
    kind: "session",
    ctn: c.ctn,
    event: {
      kind: "bind-ok",
      at: 2,
      seq: c.seq,
      result: { bound: c.kind === "bind" ? c.coas.slice(0, 1) : [], lifetimeMs: 1000 },
    },
  });

  it("a switch to the CTN whose bind is in flight does not cancel it; its result completes the switch", () => {
    const config = mpaConfig({ buffering: true });
    const a = drive(config, [prepare("B"), preconfigure("B"), commit("B")], {
      hold: holdBind("B"),
    });
    expect(a.held.map((c) => c.kind)).toEqual(["bind"]);
    const b = drive(config, [switchTo("B"), release("A", 30000)], {
      state: a.state,
      hold: holdBind("B"),
    });
    expect(count(b.commands, "cancel")).toBe(0);
    expect(b.commands.filter((c) => c.ctn === "B").map((c) => c.kind)).toEqual([
      "buffer",
      "switch-link",
      "assign",
      "close-tunnel",
      "flush",
    ]);
    expect(b.state.switching?.to).toBe("B");
    expect(b.state.sessions.get("B")?.pending).toMatchObject({ op: "bind", seq: a.held[0]!.seq });
    // The bind through the deleted tunnel completes: renew, attached, A retained.
    const done = drive(config, [], { state: b.state, events: [bindOk(a.held[0]!)] });
    expect(done.commands.map((c) => `${c.kind}:${c.ctn}`)).toEqual(["renew:B"]);
    expect(done.state.bound).toEqual(["10.0.2.10"]);
    expect(done.state.serving).toEqual({ network: "B", poa: "b1" });
    expect(done.state.switching).toBeUndefined();
    expect(done.state.sessions.get("B")?.phase).toBe("attached");
    expect(done.state.sessions.get("A")?.phase).toBe("retained");
    expect(count([...a.commands, ...b.commands, ...done.commands], "bind")).toBe(1);
  });

  it("a switch to another CTN cancels the first CTN's bind in flight, without a rollback", () => {
    const config = mpaConfig();
    const a = drive(
      config,
      [prepare("B", "C"), preconfigure("B"), preconfigure("C"), commit("B")],
      {
        hold: holdBind("B"),
      },
    );
    const bindB = a.held[0]!;
    const b = drive(config, [switchTo("C")], { state: a.state });
    expect(b.commands[0]).toEqual({ kind: "cancel", ctn: "B", seq: bindB.seq });
    expect(b.notices).toContain("Binding update to B cancelled: switching to C instead");
    expect(b.commands.filter((c) => c.kind === "bind").map((c) => c.ctn)).toEqual(["C"]);
    expect(b.state.sessions.get("B")).toMatchObject({
      phase: "tunnelled",
      goal: "preconfigure",
      pending: undefined,
    });
    expect(b.state.committed).toBeUndefined();
    expect(b.state.serving.network).toBe("C");
    // The cancelled call reports `aborted` late: stale, nothing changes.
    const [late, outs] = mpaReducer(b.state, {
      kind: "session",
      ctn: "B",
      event: {
        kind: "op-failed",
        at: 3,
        seq: bindB.seq,
        op: "bind",
        code: "aborted",
        message: "x",
      },
    }, config);
    expect(outs).toEqual([]);
    expect(late.sessions.get("B")?.phase).toBe("tunnelled");
  });

  it("abort of a commit whose bind is in flight cancels it and binds the serving CoA again", () => {
    const config = mpaConfig();
    const a = drive(config, [prepare("B"), preconfigure("B"), commit("B")], {
      hold: holdBind("B"),
    });
    const b = drive(config, [{ kind: "abort", t, ctn: "B", poa: "b1", reason: "" }], {
      state: a.state,
    });
    expect(b.commands.map((c) => `${c.kind}:${c.ctn}`)).toEqual(["cancel:B", "bind:A"]);
    expect(b.state.bound).toEqual(["10.0.1.5"]);
    expect(b.state.sessions.get("B")?.phase).toBe("tunnelled");
  });

  it("a commit to another CTN cancels the bind in flight; a commit to the same one does not", () => {
    const config = mpaConfig();
    const a = drive(
      config,
      [prepare("B", "C"), preconfigure("B"), preconfigure("C"), commit("B")],
      {
        hold: holdBind("B"),
      },
    );
    const same = drive(config, [commit("B")], { state: a.state, hold: holdBind("B") });
    expect(same.commands).toEqual([]);
    const other = drive(config, [commit("C")], { state: a.state });
    expect(other.commands.map((c) => `${c.kind}:${c.ctn}`)).toEqual(["cancel:B", "bind:C"]);
    expect(other.state.committed).toBe("C");
    expect(other.state.bound).toEqual(["10.0.3.10"]);
  });
});
