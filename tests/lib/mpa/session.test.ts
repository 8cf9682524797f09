import { describe, expect, it } from "npm:vitest@4.1.12";
import {
  createSession,
  type MpaCommand,
  type Session,
  type SessionContext,
  type SessionEvent,
  type SessionOutput,
  sessionReducer,
} from "../../../lib/mpa/session.ts";
import type { CtnInfo, Lease, MpaSa, TunnelHandle } from "../../../lib/ports.ts";

const INFO: CtnInfo = {
  network: "B",
  aa: { address: "10.0.2.1" },
  ca: { address: "10.0.2.1" },
  ar: { address: "10.0.2.1" },
  poas: ["b1"],
};
const SA = {
  ctn: "B",
  mnId: "mn",
  sessionId: 7,
  establishedAt: 0,
  lifetimeMs: 10_000,
  expiresAt: 10_000,
  keyIds: { msk: 1, mnCa: "c", mnAr: "r" },
  keys: {} as MpaSa["keys"],
} satisfies MpaSa;
const LEASE: Lease = {
  ctn: "B",
  nCoA: "10.0.2.10",
  prefixLength: 24,
  dns: [],
  obtainedAt: 0,
  lifetimeMs: 8000,
  expiresAt: 8000,
  method: "dhcp-unicast",
};
const TUNNEL: TunnelHandle = {
  id: "pht-1",
  ctn: "B",
  endpoints: { oCoA: "10.0.1.5", nCoA: "10.0.2.10", ar: { address: "10.0.2.1" } },
  openedAt: 0,
  expiresAt: 60_000,
};
const CTX: SessionContext = {
  oCoA: "10.0.1.5",
  maxAttempts: 2,
  buffering: true,
  slots: { preauth: true, configure: true },
};
const FROM = { poa: "a1", network: "A" };

/** Feeds events one by one; returns the session and every output. */
function run(s: Session, events: readonly SessionEvent[], ctx = CTX): [Session, SessionOutput[]] {
  const out: SessionOutput[] = [];
  for (const e of events) {
    const [n, o] = sessionReducer(s, e, ctx);
    s = n;
    out.push(...o);
  }
  return [s, out];
}

const kinds = (out: readonly SessionOutput[]) =>
  out.filter((o) => o.kind !== "notice").map((o) => o.kind);
const seqOf = (s: Session) => s.pending!.seq;

/** A session brought to `bound` through every preparation step. */
function bound(): Session {
  let s = createSession("B", 0, INFO);
  s = run(s, [{ kind: "commit", at: 0, poa: "b1" }])[0];
  s = run(s, [{ kind: "preauth-ok", at: 1, seq: seqOf(s), sa: SA }])[0];
  s = run(s, [{ kind: "lease-ok", at: 2, seq: seqOf(s), lease: LEASE }])[0];
  s = run(s, [{ kind: "tunnel-ok", at: 3, seq: seqOf(s), tunnel: TUNNEL }])[0];
  const result = { bound: ["10.0.2.10"], lifetimeMs: 1000 };
  return run(s, [{ kind: "bind-ok", at: 4, seq: seqOf(s), result }])[0];
}

describe("sessionReducer: RFC 6252 section 6.3 transitions", () => {
  it("discovered -> pre-authenticating -> pre-authenticated (step 1)", () => {
    let [s, out] = run(createSession("B", 0), [{ kind: "prepare", at: 0, poa: "b1" }]);
    expect([s.phase, kinds(out)]).toEqual(["discovered", ["discover"]]);
    [s, out] = run(s, [{ kind: "discovered", at: 1, seq: seqOf(s), info: INFO }]);
    expect([s.phase, kinds(out)]).toEqual(["pre-authenticating", ["preauthenticate"]]);
    [s, out] = run(s, [{ kind: "preauth-ok", at: 5, seq: seqOf(s), sa: SA }]);
    expect([s.phase, out]).toEqual(["pre-authenticated", []]);
    expect(s.operations.preauth).toEqual({ start: 1, end: 5, ok: true, attempts: 1 });
  });

  it("pre-authenticated -> pre-configuring -> tunnelled -> bound (steps 2, 3)", () => {
    let s = run(createSession("B", 0, INFO), [{ kind: "prepare", at: 0, poa: "b1" }])[0];
    s = run(s, [{ kind: "preauth-ok", at: 1, seq: seqOf(s), sa: SA }])[0];
    let out: SessionOutput[];
    [s, out] = run(s, [{ kind: "preconfigure", at: 2, poa: "b1" }]);
    expect([s.phase, kinds(out)]).toEqual(["pre-configuring", ["acquire"]]);
    [s, out] = run(s, [{ kind: "lease-ok", at: 3, seq: seqOf(s), lease: LEASE }]);
    expect(out[0]).toMatchObject({
      kind: "open-tunnel",
      endpoints: { oCoA: "10.0.1.5", nCoA: "10.0.2.10", ar: INFO.ar },
    });
    [s, out] = run(s, [{ kind: "tunnel-ok", at: 4, seq: seqOf(s), tunnel: TUNNEL }]);
    expect([s.phase, out]).toEqual(["tunnelled", []]);
    [s, out] = run(s, [{ kind: "commit", at: 5, poa: "b1" }]);
    expect(out[0]).toMatchObject({ kind: "bind", coas: ["10.0.2.10"], tunnel: TUNNEL });
    [s] = run(s, [{
      kind: "bind-ok",
      at: 6,
      seq: seqOf(s),
      result: { bound: ["10.0.2.10"], lifetimeMs: 1 },
    }]);
    expect(s.phase).toBe("bound");
  });

  it("bound -> switching -> attached: buffer, switch, assign, delete PHT, flush, rebind, renew (steps 4-6)", () => {
    let [s, out] = run(bound(), [{ kind: "switch", at: 10, poa: "b1", from: FROM }]);
    const ops: string[] = [];
    const answers: Record<string, (seq: number) => SessionEvent> = {
      "buffer": (seq) => ({ kind: "buffer-ok", at: 11, seq }),
      "switch-link": (seq) => ({ kind: "link-switched", at: 12, seq }),
      "assign": (seq) => ({ kind: "assigned", at: 13, seq }),
      "close-tunnel": (seq) => ({ kind: "tunnel-closed", at: 14, seq }),
      "flush": (seq) => ({ kind: "flushed", at: 15, seq, count: 2 }),
      "bind": (seq) => ({
        kind: "bind-ok",
        at: 16,
        seq,
        result: { bound: ["10.0.2.10"], lifetimeMs: 1 },
      }),
      "renew": (seq) => ({
        kind: "renewed",
        at: 17,
        seq,
        lease: { ...LEASE, obtainedAt: 17, expiresAt: 8017 },
      }),
    };
    for (let i = 0; i < 10 && s.phase === "switching"; i++) {
      const cmd = out.find((o): o is MpaCommand =>
        o.kind !== "notice" && o.kind !== "attached" && o.kind !== "switch-failed"
      )!;
      ops.push(cmd.kind);
      expect(s.phase).toBe("switching");
      [s, out] = run(s, [answers[cmd.kind]!(cmd.seq)]);
    }
    expect(ops).toEqual([
      "buffer",
      "switch-link",
      "assign",
      "close-tunnel",
      "flush",
      "bind",
      "renew",
    ]);
    expect(s.phase).toBe("attached");
    expect(out.some((o) => o.kind === "attached")).toBe(true);
    expect(s.tunnel).toBeUndefined();
    expect(s.renewAt).toBe(17 + 4000);
  });

  it("the assign command names the lease's router (the default route after the move, step 6)", () => {
    let [s] = run(createSession("B", 0, INFO), [{ kind: "prepare", at: 0, poa: "b1" }]);
    [s] = run(s, [{ kind: "preauth-ok", at: 1, seq: seqOf(s), sa: SA }]);
    let out;
    [s, out] = run(s, [{ kind: "preconfigure", at: 2, poa: "b1" }]);
    [s, out] = run(s, [{
      kind: "lease-ok",
      at: 3,
      seq: seqOf(s),
      lease: { ...LEASE, router: "10.0.2.1" },
    }]);
    expect(s.address).toEqual({ address: "10.0.2.10", prefixLength: 24, router: "10.0.2.1" });
    [s, out] = run(s, [{ kind: "tunnel-ok", at: 4, seq: seqOf(s), tunnel: TUNNEL }]);
    [s, out] = run(s, [{ kind: "switch", at: 10, poa: "b1", from: FROM }]);
    for (let i = 0; i < 4 && !out.some((o) => o.kind === "assign"); i++) {
      const cmd = out.find((o) => o.kind === "buffer" || o.kind === "switch-link")!;
      [s, out] = run(s, [
        cmd.kind === "buffer"
          ? { kind: "buffer-ok", at: 11, seq: seqOf(s) }
          : { kind: "link-switched", at: 12, seq: seqOf(s) },
      ]);
    }
    expect(out.find((o) => o.kind === "assign")).toMatchObject({
      kind: "assign",
      address: "10.0.2.10",
      prefixLength: 24,
      router: "10.0.2.1",
    });
  });

  it("reactive switch: link first, then authenticate, acquire, assign, bind", () => {
    const [s, out] = run(createSession("C", 0, INFO), [{
      kind: "switch",
      at: 0,
      poa: "c1",
      from: FROM,
    }]);
    expect(s.plan).toEqual(["switch-link", "preauth", "acquire", "assign", "bind"]);
    expect(s.reactive).toBe(true);
    expect(kinds(out)).toEqual(["switch-link"]);
  });

  it("attached -> retained -> restored without re-authentication (C.1, C.2)", () => {
    const attached: Session = {
      ...bound(),
      phase: "attached",
      tunnel: undefined,
      binding: undefined,
    };
    let [s, out] = run(attached, [{
      kind: "release",
      at: 20,
      phases: ["preauth"],
      retainMs: 5000,
    }]);
    expect([s.phase, s.retainUntil, kinds(out)]).toEqual(["retained", 5020, []]);
    [s, out] = run(s, [{ kind: "restore", at: 30, poa: "b1" }]);
    expect([s.phase, s.sa?.sessionId, s.address?.address, kinds(out)]).toEqual([
      "pre-authenticated",
      7,
      "10.0.2.10",
      [],
    ]);
  });

  it("retained -> released when the TTL ends: the lease is given back and the SA forgotten", () => {
    const retained =
      run(bound(), [{ kind: "release", at: 20, phases: ["preauth"], retainMs: 100 }])[0];
    const early = run(retained, [{ kind: "retain-expired", at: 50 }]);
    expect(early[0].phase).toBe("retained");
    const [s, out] = run(retained, [{ kind: "retain-expired", at: 120 }]);
    expect([s.phase, kinds(out)]).toEqual(["released", ["release-lease", "forget-sa"]]);
  });

  it("release of the pre-configuration only keeps the MPA-SA", () => {
    const [s, out] = run(bound(), [{
      kind: "release",
      at: 20,
      phases: ["preconfigure"],
      retainMs: 0,
    }]);
    expect([s.phase, s.sa?.sessionId, s.lease, kinds(out)]).toEqual([
      "pre-authenticated",
      7,
      undefined,
      ["close-tunnel", "release-lease"],
    ]);
  });

  it("a final failure leaves the session failed with its error; a retryable one is retried first", () => {
    let s = run(createSession("B", 0, INFO), [{ kind: "prepare", at: 0, poa: "b1" }])[0];
    let out: SessionOutput[];
    [s, out] = run(s, [{
      kind: "op-failed",
      at: 1,
      seq: seqOf(s),
      op: "preauth",
      code: "timeout",
      message: "x",
    }]);
    expect([s.phase, kinds(out), s.operations.preauth?.attempts]).toEqual(["pre-authenticating", [
      "preauthenticate",
    ], 2]);
    [s] = run(s, [{
      kind: "op-failed",
      at: 2,
      seq: seqOf(s),
      op: "preauth",
      code: "timeout",
      message: "x",
    }]);
    expect(s.phase).toBe("failed");
    expect(s.lastError).toMatchObject({ op: "preauth", code: "timeout" });
    // A later decision starts over from where it is.
    [s, out] = run(s, [{ kind: "prepare", at: 3, poa: "b1" }]);
    expect([s.phase, kinds(out)]).toEqual(["pre-authenticating", ["preauthenticate"]]);
  });

  it("a rejected switch before the link moved goes back to the prepared phase and flushes", () => {
    let [s] = run(bound(), [{ kind: "switch", at: 10, poa: "b1", from: FROM }]);
    [s] = run(s, [{ kind: "buffer-ok", at: 11, seq: seqOf(s) }]);
    const [after, out] = run(s, [{
      kind: "op-failed",
      at: 12,
      seq: seqOf(s),
      op: "switch-link",
      code: "rejected",
      message: "no",
    }]);
    expect(after.phase).toBe("bound");
    expect(out.find((o) => o.kind === "switch-failed")).toMatchObject({ linkMoved: false });
    expect(kinds(out)).toEqual(["switch-failed", "flush"]);
  });

  it("late results are stale: their resources are given back", () => {
    const s = run(createSession("B", 0, INFO), [{ kind: "prepare", at: 0, poa: "b1" }])[0];
    const released = run(s, [{ kind: "release", at: 1, phases: ["preauth"], retainMs: 0 }]);
    expect(kinds(released[1])).toEqual(["cancel"]);
    const [, out] = run(released[0], [
      { kind: "preauth-ok", at: 2, seq: 1, sa: SA },
      { kind: "lease-ok", at: 3, seq: 1, lease: LEASE },
      { kind: "tunnel-ok", at: 4, seq: 1, tunnel: TUNNEL },
    ]);
    expect(kinds(out)).toEqual(["forget-sa", "release-lease", "close-tunnel"]);
  });

  it("queues when no slot is free and resumes when one is (section C.4)", () => {
    const ctx = { ...CTX, slots: { preauth: false, configure: true } };
    let [s, out] = run(createSession("B", 0, INFO), [{ kind: "prepare", at: 0, poa: "b1" }], ctx);
    expect([s.waiting?.slot, kinds(out)]).toEqual(["preauth", []]);
    expect(out[0]).toMatchObject({ kind: "notice", message: expect.stringContaining("Queued") });
    [s, out] = run(s, [{ kind: "resume", at: 5 }]);
    expect([s.phase, kinds(out)]).toEqual(["pre-authenticating", ["preauthenticate"]]);
  });

  it("ignores illegal events with a reason", () => {
    const attached: Session = { ...bound(), phase: "attached" };
    for (
      const [s, e] of [
        [attached, { kind: "commit", at: 0, poa: "b1" }],
        [createSession("B", 0), { kind: "release", at: 0, phases: ["preauth"], retainMs: 0 }],
        [createSession("B", 0), { kind: "abort", at: 0 }],
      ] as const
    ) {
      const released = e.kind === "release" ? run(s, [e])[0] : s;
      const [n, out] = run(released, [e]);
      expect(n).toBe(released);
      expect(out).toEqual([
        expect.objectContaining({ level: "warn", message: expect.stringMatching(/^Ignored: /) }),
      ]);
    }
    // A result for another call than the pending one changes nothing.
    const s = run(createSession("B", 0, INFO), [{ kind: "prepare", at: 0, poa: "b1" }])[0];
    expect(run(s, [{ kind: "assigned", at: 1, seq: 99 }])[0]).toBe(s);
  });

  it("SA expiry while prepared gives everything back and pre-authenticates again (section 7.2)", () => {
    const [s, out] = run(bound(), [{ kind: "sa-expired", at: 10_000 }]);
    expect(kinds(out)).toEqual(["close-tunnel", "release-lease", "forget-sa", "preauthenticate"]);
    expect(s.lastError).toMatchObject({ code: "expired", op: "preauth" });
  });
});

describe("sessionReducer: a switch during the proactive binding update (RFC 6252 section 6.3 steps 3-6)", () => {
  /** A session whose proactive bind through the tunnel is in flight. */
  function binding(): Session {
    let s = createSession("B", 0, INFO);
    s = run(s, [{ kind: "commit", at: 0, poa: "b1" }])[0];
    s = run(s, [{ kind: "preauth-ok", at: 1, seq: seqOf(s), sa: SA }])[0];
    s = run(s, [{ kind: "lease-ok", at: 2, seq: seqOf(s), lease: LEASE }])[0];
    s = run(s, [{ kind: "tunnel-ok", at: 3, seq: seqOf(s), tunnel: TUNNEL }])[0];
    expect([s.phase, s.pending?.op]).toEqual(["tunnelled", "bind"]);
    return s;
  }
  const commandsOf = (out: readonly SessionOutput[]) =>
    out.filter((o): o is MpaCommand =>
      o.kind !== "notice" && o.kind !== "attached" && o.kind !== "switch-failed"
    );
  const bindOk = (at: number, seq: number, bound = ["10.0.2.10"]): SessionEvent => ({
    kind: "bind-ok",
    at,
    seq,
    result: { bound, lifetimeMs: 1000 },
  });
  /** Answers every command of the switch at once, except `hold`; returns the ops seen. */
  function answer(
    s: Session,
    out: readonly SessionOutput[],
    hold: (c: MpaCommand) => boolean = () => false,
  ): [Session, string[], SessionOutput[]] {
    const ops: string[] = [];
    const all: SessionOutput[] = [...out];
    for (let i = 0; i < 12; i++) {
      const cmd = commandsOf(out).find((c) => c.seq !== 0 && !hold(c));
      if (cmd === undefined) break;
      ops.push(cmd.kind);
      const e: SessionEvent = cmd.kind === "buffer"
        ? { kind: "buffer-ok", at: 11, seq: cmd.seq }
        : cmd.kind === "switch-link"
        ? { kind: "link-switched", at: 12, seq: cmd.seq }
        : cmd.kind === "assign"
        ? { kind: "assigned", at: 13, seq: cmd.seq }
        : cmd.kind === "close-tunnel"
        ? { kind: "tunnel-closed", at: 14, seq: cmd.seq }
        : cmd.kind === "flush"
        ? { kind: "flushed", at: 15, seq: cmd.seq, count: 1 }
        : cmd.kind === "bind"
        ? bindOk(16, cmd.seq)
        : { kind: "renewed", at: 17, seq: cmd.seq, lease: { ...LEASE, obtainedAt: 17 } };
      [s, out] = run(s, [e]);
      all.push(...out);
    }
    return [s, ops, all];
  }

  it("a switch to the same CTN does not cancel the bind: the switch runs, its bind step uses the result", () => {
    const start = binding();
    const bindSeq = seqOf(start);
    let [s, out] = run(start, [{ kind: "switch", at: 10, poa: "b1", from: FROM }]);
    expect(kinds(out)).toEqual(["buffer"]);
    expect(s.foldedBind).toEqual({ seq: bindSeq, since: 3, state: "in-flight" });
    expect(s.plan).toEqual([
      "buffer",
      "switch-link",
      "assign",
      "close-tunnel",
      "flush",
      "bind",
      "renew",
    ]);
    // Buffer, link switch, assign, tunnel deletion and flush go ahead; at the bind step
    // the session waits for the bind in flight instead of sending another one.
    let ops: string[];
    [s, ops, out] = answer(s, out);
    expect(ops).toEqual(["buffer", "switch-link", "assign", "close-tunnel", "flush"]);
    expect([s.phase, s.pending, s.tunnel]).toEqual([
      "switching",
      { op: "bind", seq: bindSeq, since: 3 },
      undefined,
    ]);
    expect(out.some((o) => o.kind === "notice" && o.message.startsWith("Waiting for"))).toBe(true);
    // The bind through the (now deleted) tunnel completes: it is the switch's binding.
    [s, out] = run(s, [bindOk(20, bindSeq)]);
    expect(kinds(out)).toEqual(["renew"]);
    [s, ops, out] = answer(s, out);
    expect(ops).toEqual(["renew"]);
    expect(s.phase).toBe("attached");
    expect(out.some((o) => o.kind === "attached")).toBe(true);
    expect(s.binding).toEqual({ coas: ["10.0.2.10"], lifetimeMs: 1000, at: 20 });
    expect(s.operations.bind).toMatchObject({ start: 3, end: 20, ok: true });
    expect(s.foldedBind).toBeUndefined();
  });

  it("a folded bind that completes before the bind step makes the step unnecessary", () => {
    const start = binding();
    const bindSeq = seqOf(start);
    let [s, out] = run(start, [{ kind: "switch", at: 10, poa: "b1", from: FROM }]);
    // The result arrives while the AR is asked to buffer.
    let extra: SessionOutput[];
    [s, extra] = run(s, [bindOk(10.5, bindSeq)]);
    expect(kinds(extra)).toEqual([]);
    expect(s.foldedBind?.state).toBe("bound");
    expect(s.pending?.op).toBe("buffer");
    const [after, ops] = answer(s, out);
    expect(ops).toEqual(["buffer", "switch-link", "assign", "close-tunnel", "flush", "renew"]);
    expect(after.phase).toBe("attached");
    expect(after.binding?.coas).toEqual(["10.0.2.10"]);
  });

  it("a folded bind that fails (or binds several CoAs) is replaced by a bind after the switch", () => {
    for (
      const result of [
        { kind: "fail" },
        { kind: "several", bound: ["10.0.2.10", "10.0.3.10"] },
      ] as const
    ) {
      const start = binding();
      const bindSeq = seqOf(start);
      let [s, out] = run(start, [{ kind: "switch", at: 10, poa: "b1", from: FROM }]);
      [s] = answer(s, out, () => false);
      expect(s.pending?.seq).toBe(bindSeq);
      [s, out] = run(s, [
        result.kind === "fail"
          ? { kind: "op-failed", at: 20, seq: bindSeq, op: "bind", code: "timeout", message: "x" }
          : bindOk(20, bindSeq, [...result.bound]),
      ]);
      const fresh = commandsOf(out);
      expect(fresh).toEqual([
        {
          kind: "bind",
          ctn: "B",
          seq: bindSeq + 6,
          coas: ["10.0.2.10"],
          tunnel: undefined,
          lifetimeMs: undefined,
        },
      ]);
      const [after, ops] = answer(s, out);
      expect(ops).toEqual(["bind", "renew"]);
      expect(after.phase).toBe("attached");
    }
  });

  it("shutdown during the switch cancels the folded bind as well", () => {
    const start = binding();
    const bindSeq = seqOf(start);
    const [s] = run(start, [{ kind: "switch", at: 10, poa: "b1", from: FROM }]);
    const [after, out] = run(s, [{ kind: "shutdown", at: 11 }]);
    expect(commandsOf(out).filter((c) => c.kind === "cancel").map((c) => c.seq).sort()).toEqual([
      bindSeq,
      seqOf(s),
    ].sort());
    expect(after.phase).toBe("released");
  });

  it("a switch that fails before the link moved hands the bind in flight back to the session (C.1)", () => {
    const start = binding();
    const bindSeq = seqOf(start);
    let [s] = run(start, [{ kind: "switch", at: 10, poa: "b1", from: FROM }]);
    [s] = run(s, [{ kind: "buffer-ok", at: 11, seq: seqOf(s) }]);
    let out: SessionOutput[];
    [s, out] = run(s, [{
      kind: "op-failed",
      at: 12,
      seq: seqOf(s),
      op: "switch-link",
      code: "rejected",
      message: "no",
    }]);
    expect(kinds(out)).toEqual(["switch-failed", "flush"]);
    expect(commandsOf(out)[0]).toMatchObject({ kind: "flush", seq: 0, tunnel: TUNNEL });
    expect([s.phase, s.foldedBind, s.buffered, s.pending?.seq]).toEqual([
      "tunnelled",
      undefined,
      undefined,
      bindSeq,
    ]);
    [s, out] = run(s, [bindOk(14, bindSeq)]);
    expect([s.phase, s.binding?.coas, kinds(out)]).toEqual(["bound", ["10.0.2.10"], []]);
  });

  it("a commit to the same CTN while its bind is in flight changes nothing", () => {
    const s = binding();
    const [after, out] = run(s, [{ kind: "commit", at: 5, poa: "b1" }]);
    expect(kinds(out)).toEqual([]);
    expect(after.pending).toEqual(s.pending);
  });

  it("abort (the target changed) cancels the proactive bind in flight; its late result is stale", () => {
    const s = binding();
    const bindSeq = seqOf(s);
    let [after, out] = run(s, [{ kind: "abort", at: 5 }]);
    expect(commandsOf(out)).toEqual([{ kind: "cancel", ctn: "B", seq: bindSeq }]);
    expect([after.phase, after.goal, after.pending]).toEqual([
      "tunnelled",
      "preconfigure",
      undefined,
    ]);
    [after, out] = run(after, [{
      kind: "op-failed",
      at: 6,
      seq: bindSeq,
      op: "bind",
      code: "aborted",
      message: "x",
    }]);
    expect([after.phase, out]).toEqual(["tunnelled", []]);
  });
});
