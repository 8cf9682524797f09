/**
 * The CA's nftables admission gate (RFC 6252 section 7.3.3) in the `mpaca-g-*`
 * namespaces, and gatedKeyDelivery with a fake gate (no root).
 */
import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { InProcessKeyDelivery } from "../../../adapters/aa/key_delivery.ts";
import { gatedKeyDelivery } from "../../../adapters/dhcp/gated_key_delivery.ts";
import { NftGate, NftGateError } from "../../../adapters/dhcp/nft_gate.ts";
import { findExecutable } from "../../fixtures/dhcp/_servers.ts";
import {
  canUseNetns,
  createDhcpTopology,
  type DhcpTopology,
} from "../../fixtures/netns_dhcp/_topology.ts";

const hasNft = findExecutable("nft") !== undefined;
const runnable = canUseNetns() && hasNft;

function sa(sessionId: number, mnAddress: string, expiresAt: number) {
  return {
    sessionId,
    mnAddress,
    identity: "mn@example",
    ctn: "ctn-b",
    keyIds: { msk: 1, mnCa: "ca", mnAr: "ar" },
    mnCa: new Uint8Array(32).fill(1),
    mnAr: new Uint8Array(32).fill(2),
    expiresAt,
  };
}

/** A receiver on 10.0.2.2:67 in the CA namespace that prints each datagram's source. */
function startReceiver(topology: DhcpTopology) {
  const code = `
    import { createSocket } from "node:dgram";
    const s = createSocket("udp4");
    s.on("message", (m, r) => console.log("from " + r.address + " " + new TextDecoder().decode(m)));
    s.bind(67, "10.0.2.2", () => console.log("ready"));
  `;
  const child = new Deno.Command("ip", {
    args: ["netns", "exec", topology.ca, Deno.execPath(), "eval", code],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let text = "";
  const waiters: { pattern: string; resolve: () => void }[] = [];
  (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      for (const w of waiters.splice(0)) {
        if (text.includes(w.pattern)) w.resolve();
        else waiters.push(w);
      }
    }
  })();
  const waitFor = (pattern: string) =>
    new Promise<void>((resolve) => {
      if (text.includes(pattern)) resolve();
      else waiters.push({ pattern, resolve });
    });
  return {
    waitFor,
    text: () => text,
    stop: async () => {
      try {
        child.kill("SIGKILL");
      } catch {
        // exited
      }
      await child.status;
    },
  };
}

/** Sends one unicast UDP datagram from the MN namespace to 10.0.2.2:67 (bash /dev/udp). */
async function sendFromMn(topology: DhcpTopology, payload: string): Promise<void> {
  await topology.exec(topology.mn, ["bash", "-c", `printf '${payload}' > /dev/udp/10.0.2.2/67`]);
}

describe("gatedKeyDelivery (RFC 6252 section 7.3.3 with section 6.3 step 1)", () => {
  it("admits the MN's address for the SA's remaining lifetime and withdraws it on revoke", async () => {
    const calls: string[] = [];
    const gate = {
      allow: (a: string, ttl: number) => Promise.resolve(void calls.push(`allow ${a} ${ttl}`)),
      revoke: (a: string) => Promise.resolve(void calls.push(`revoke ${a}`)),
    };
    const inner = new InProcessKeyDelivery({ now: () => 10_000 });
    const delivery = gatedKeyDelivery(inner, gate, { now: () => 10_000 });
    await delivery.deliver(sa(1, "10.0.1.2", 70_000));
    expect(inner.get(1)?.mnAddress).toBe("10.0.1.2");
    expect(calls).toEqual(["allow 10.0.1.2 60000"]);
    await delivery.revoke!(1);
    expect(calls).toEqual(["allow 10.0.1.2 60000", "revoke 10.0.1.2"]);
    expect(inner.get(1)).toBeUndefined();
  });

  it("admits nothing for an expired SA or an IPv6 address, but still delivers the keys", async () => {
    const calls: string[] = [];
    const gate = {
      allow: (a: string) => Promise.resolve(void calls.push(`allow ${a}`)),
      revoke: (a: string) => Promise.resolve(void calls.push(`revoke ${a}`)),
    };
    const inner = new InProcessKeyDelivery({ now: () => 0 });
    const delivery = gatedKeyDelivery(inner, gate, { now: () => 5_000 });
    await delivery.deliver(sa(1, "10.0.1.2", 5_000));
    await delivery.deliver(sa(2, "2001:db8::2", 60_000));
    expect(calls).toEqual([]);
    expect(inner.size).toBe(2);
    await delivery.revoke!(2);
    expect(calls).toEqual([]);
  });

  it("keeps an address admitted while another SA from it is alive", async () => {
    const admitted = new Set<string>();
    const gate = {
      allow: (a: string) => Promise.resolve(void admitted.add(a)),
      revoke: (a: string) => Promise.resolve(void admitted.delete(a)),
    };
    const delivery = gatedKeyDelivery(new InProcessKeyDelivery(), gate, { now: () => 0 });
    await delivery.deliver(sa(1, "10.0.1.2", 60_000));
    await delivery.deliver(sa(2, "10.0.1.2", 60_000));
    await delivery.revoke!(1);
    expect(admitted.has("10.0.1.2")).toBe(true);
    await delivery.revoke!(2);
    expect(admitted.has("10.0.1.2")).toBe(false);
  });
});

describe("NftGate input validation", () => {
  it("refuses names, addresses and ttls that would reach nft unchecked", async () => {
    await expect(NftGate.install({ table: "t; flush ruleset" })).rejects.toThrow(TypeError);
    await expect(NftGate.install({ netns: "a b" })).rejects.toThrow(TypeError);
    await expect(NftGate.install({ port: 70000 })).rejects.toThrow(TypeError);
  });

  it.skipIf(!runnable)(
    "needs root and nft (runs in CI): an unknown namespace is an NftGateError with stderr",
    async () => {
      const error = await NftGate.install({ netns: "mpaca-nonexistent" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NftGateError);
      expect((error as NftGateError).stderr).toMatch(/mpaca-nonexistent|No such file/);
    },
  );
});

describe.skipIf(!runnable)("NftGate in a namespace (RFC 6252 section 7.3.3)", () => {
  let topology: DhcpTopology;
  beforeAll(async () => {
    topology = await createDhcpTopology("g");
  }, 30_000);
  afterAll(async () => {
    await topology?.destroy();
  });

  it("needs root and nft (runs in CI): allow, list with timeout, revoke, uninstall", async () => {
    const gate = await NftGate.install({ netns: topology.ca });
    try {
      expect(gate.table).toBe("inet mpa_ca");
      expect(await gate.list()).toEqual([]);
      await gate.allow("10.0.1.2", 60_000);
      await gate.allow("10.0.1.3", 600_000);
      await gate.allow("10.0.1.2", 120_000); // new timeout replaces the old one
      const entries = await gate.list();
      expect(entries.map((e) => e.address).sort()).toEqual(["10.0.1.2", "10.0.1.3"]);
      const first = entries.find((e) => e.address === "10.0.1.2")!;
      expect(first.expiresInMs).toBeGreaterThan(60_000);
      expect(first.expiresInMs).toBeLessThanOrEqual(120_000);
      await gate.revoke("10.0.1.2");
      await gate.revoke("10.0.1.2"); // idempotent
      expect((await gate.list()).map((e) => e.address)).toEqual(["10.0.1.3"]);
      await expect(gate.allow("10.0.1.300", 1000)).rejects.toThrow(TypeError);
      await expect(gate.allow("10.0.1.4", 0)).rejects.toThrow(TypeError);
    } finally {
      await gate.uninstall();
    }
    await gate.uninstall(); // idempotent
    const tables = await topology.exec(topology.ca, ["nft", "list", "tables"]);
    expect(tables).not.toContain("mpa_ca");
  });

  it("needs root and nft (runs in CI): changes go through one long-lived nft -i; nft's refusal is an NftGateError and the process goes on", async () => {
    await using gate = await NftGate.install({ netns: topology.ca, table: "mpa_ca_i" });
    expect(gate.persistent).toBe(true);
    await gate.allow("10.0.1.2", 60_000);
    await gate.allow("10.0.1.3", 60_000);
    await gate.revoke("10.0.1.3");
    expect((await gate.list()).map((e) => e.address)).toEqual(["10.0.1.2"]);
    // The table gone behind the gate's back: nft refuses the next change.
    await topology.exec(topology.ca, ["nft", "delete", "table", "inet", "mpa_ca_i"]);
    const error = await gate.allow("10.0.1.4", 60_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NftGateError);
    expect((error as NftGateError).stderr).toMatch(/No such file|does not exist/);
    expect(gate.persistent).toBe(true);
    await topology.exec(topology.ca, [
      "nft",
      "add table inet mpa_ca_i; add set inet mpa_ca_i allowed { type ipv4_addr; flags timeout; }",
    ]);
    await gate.allow("10.0.1.5", 60_000);
    expect((await gate.list()).map((e) => e.address)).toEqual(["10.0.1.5"]);
  });

  it("needs root and nft (runs in CI): inProcess changes the set through libnftables in the gate's namespace only; nft's refusal is an NftGateError", async () => {
    await using gate = await NftGate.install({
      netns: topology.ca,
      table: "mpa_ca_l",
      inProcess: true,
    });
    expect([gate.inProcess, gate.persistent]).toEqual([true, false]);
    await gate.allow("10.0.1.2", 60_000);
    await gate.allow("10.0.1.3", 60_000);
    await gate.allow("10.0.1.3", 120_000); // re-admitted with the new timeout
    await gate.revoke("10.0.1.2");
    const entries = await gate.list();
    expect(entries.map((e) => e.address)).toEqual(["10.0.1.3"]);
    expect(entries[0]?.expiresInMs).toBeGreaterThan(60_000);
    // This process's own namespace is untouched (the table lives in the CA's).
    const here = new Deno.Command("nft", { args: ["list", "tables"] }).outputSync();
    expect(new TextDecoder().decode(here.stdout)).not.toContain("mpa_ca_l");
    await topology.exec(topology.ca, ["nft", "delete", "table", "inet", "mpa_ca_l"]);
    const error = await gate.allow("10.0.1.4", 60_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NftGateError);
    expect((error as NftGateError).stderr).toMatch(/No such file|does not exist/);
    expect(gate.inProcess).toBe(true);
  });

  it("needs root and nft (runs in CI): inProcess falls back to nft -i when libnftables cannot be loaded", async () => {
    await using gate = await NftGate.install({
      netns: topology.ca,
      table: "mpa_ca_m",
      inProcess: true,
      library: "libmpa-no-such-nftables.so",
    });
    expect([gate.inProcess, gate.persistent]).toEqual([false, true]);
    await gate.allow("10.0.1.2", 60_000);
    expect((await gate.list()).map((e) => e.address)).toEqual(["10.0.1.2"]);
  });

  it("needs root and nft (runs in CI): without a working nft -i, each change runs a one-shot nft", async () => {
    const dir = await Deno.makeTempDir({ prefix: "mpaca-nft-" });
    try {
      const wrapper = `${dir}/nft`;
      const nft = findExecutable("nft")!;
      await Deno.writeTextFile(
        wrapper,
        `#!/bin/sh\n[ "$1" = "-i" ] && exit 3\nexec ${nft} "$@"\n`,
        { mode: 0o755 },
      );
      await using gate = await NftGate.install({ netns: topology.ca, nft: wrapper });
      expect(gate.persistent).toBe(false);
      await gate.allow("10.0.1.2", 60_000);
      expect((await gate.list()).map((e) => e.address)).toEqual(["10.0.1.2"]);
      await gate.revoke("10.0.1.2");
      expect(await gate.list()).toEqual([]);
      await using oneShot = await NftGate.install({
        netns: topology.ca,
        table: "mpa_ca_f",
        persistent: false,
      });
      expect(oneShot.persistent).toBe(false);
      await oneShot.allow("10.0.1.7", 60_000);
      expect((await oneShot.list()).map((e) => e.address)).toEqual(["10.0.1.7"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  it("needs root and nft (runs in CI): gatedKeyDelivery fills the real set on deliver and empties it on revoke", async () => {
    await using gate = await NftGate.install({ netns: topology.ca });
    const delivery = gatedKeyDelivery(new InProcessKeyDelivery(), gate);
    await delivery.deliver(sa(9, topology.mnAddress, Date.now() + 60_000));
    const [entry, ...rest] = await gate.list();
    expect(rest).toEqual([]);
    expect(entry?.address).toBe(topology.mnAddress);
    expect(entry?.expiresInMs).toBeGreaterThan(50_000);
    await delivery.revoke!(9);
    expect(await gate.list()).toEqual([]);
  });

  it("needs root and nft (runs in CI): an element expires with its timeout", async () => {
    await using gate = await NftGate.install({ netns: topology.ca });
    await gate.allow("10.0.1.2", 300);
    expect((await gate.list()).length).toBe(1);
    // Wait for the kernel's timeout (the event awaited is the set becoming empty).
    for (let i = 0; i < 50 && (await gate.list()).length > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await gate.list()).toEqual([]);
  });

  it(
    "needs root and nft (runs in CI): unicast to port 67 from an address not in the set is dropped, admitted after allow()",
    async () => {
      const receiver = startReceiver(topology);
      await using gate = await NftGate.install({ netns: topology.ca });
      try {
        await receiver.waitFor("ready");
        await sendFromMn(topology, "blocked");
        // The counter of the drop rule is the event: the datagram reached the CA's input hook.
        for (let i = 0; i < 50 && (await gate.dropped()) === 0; i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
        expect(await gate.dropped()).toBe(1);
        await gate.allow(topology.mnAddress, 60_000);
        await sendFromMn(topology, "admitted");
        await receiver.waitFor("from 10.0.1.2 admitted");
        expect(receiver.text()).not.toContain("blocked");
        expect(await gate.dropped()).toBe(1);
        await gate.revoke(topology.mnAddress);
        await sendFromMn(topology, "again");
        for (let i = 0; i < 50 && (await gate.dropped()) === 1; i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
        expect(await gate.dropped()).toBe(2);
      } finally {
        await receiver.stop();
      }
    },
    30_000,
  );
});
