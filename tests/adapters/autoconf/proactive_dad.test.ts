import { afterAll, beforeAll, describe, expect, it } from "npm:vitest@4.1.12";
import { PortError } from "../../../lib/ports.ts";
import {
  installProxy,
  listProxies,
  proactiveDad,
  removeProxy,
} from "../../../adapters/autoconf/proactive_dad.ts";
import { canUseNetns, NetnsLab } from "../../fixtures/netns/netns_lab.ts";

const root = canUseNetns();

/** AR (`ctn0`) and another node already on the CTN link (`eth0`, holding 2001:db8:6::99). */
describe.skipIf(!root)("proactive DAD by the AR (RFC 6252 Appendix A, Appendix B)", () => {
  let lab: NetnsLab;
  let ar = "";
  let host = "";
  let arMac = "";

  beforeAll(async () => {
    lab = new NetnsLab(`mpa6dad${Deno.pid}`);
    try {
      ar = await lab.namespace("ar");
      host = await lab.namespace("host");
      await lab.veth({ ns: ar, name: "ctn0" }, { ns: host, name: "eth0" });
      await lab.ip(ar, ["-6", "addr", "add", "2001:db8:6::1/64", "dev", "ctn0", "nodad"]);
      await lab.ip(host, ["-6", "addr", "add", "2001:db8:6::99/64", "dev", "eth0", "nodad"]);
      const link = JSON.parse(await lab.ip(ar, ["-j", "link", "show", "dev", "ctn0"])) as {
        address: string;
      }[];
      arMac = link[0]!.address;
    } catch (e) {
      await lab.dispose();
      throw e;
    }
  });

  afterAll(async () => {
    await lab?.dispose();
  });

  it("needs root (runs in CI): a free address is unique, removed from the AR, and proxied", async () => {
    const r = await proactiveDad({ address: "2001:db8:6::b", device: "ctn0", netns: ar });
    expect(r.status).toBe("unique");
    expect(r.status === "unique" && r.proxied).toBe(true);
    expect(r.durationMs).toBeGreaterThan(0);
    console.log(`proactive DAD (unique) took ${Math.round(r.durationMs)} ms`);
    // The AR only borrowed the address.
    expect(await lab.ip(ar, ["-6", "addr", "show", "dev", "ctn0"])).not.toContain("2001:db8:6::b/");
    expect(await listProxies({ device: "ctn0", netns: ar })).toEqual(["2001:db8:6::b"]);
    // Appendix B: the AR now answers Neighbor Solicitations for the nCoA.
    await lab.exec(host, ["ping", "-c1", "-W3", "2001:db8:6::b"], { check: false });
    const neigh = await lab.ip(host, ["-6", "neigh", "show", "2001:db8:6::b", "dev", "eth0"]);
    expect(neigh).toContain(`lladdr ${arMac}`);
  });

  it("needs root (runs in CI): removeProxy removes the entry once, then reports nothing to remove", async () => {
    await installProxy({ address: "2001:db8:6::c", device: "ctn0", netns: ar });
    expect(await listProxies({ device: "ctn0", netns: ar })).toContain("2001:db8:6::c");
    expect(await removeProxy({ address: "2001:db8:6::c", device: "ctn0", netns: ar })).toBe(true);
    expect(await listProxies({ device: "ctn0", netns: ar })).not.toContain("2001:db8:6::c");
    expect(await removeProxy({ address: "2001:db8:6::c", device: "ctn0", netns: ar })).toBe(false);
  });

  it("needs root (runs in CI): an address held by another node is a duplicate, not proxied", async () => {
    const r = await proactiveDad({ address: "2001:db8:6:0::0099", device: "ctn0", netns: ar });
    expect(r).toMatchObject({ status: "duplicate", address: "2001:db8:6::99" });
    console.log(`proactive DAD (duplicate) took ${Math.round(r.durationMs)} ms`);
    expect(await listProxies({ device: "ctn0", netns: ar })).not.toContain("2001:db8:6::99");
    expect(await lab.ip(ar, ["-6", "addr", "show", "dev", "ctn0"])).not.toContain(
      "2001:db8:6::99/",
    );
  });

  it("needs root (runs in CI): an address the AR itself holds is a duplicate at once", async () => {
    await lab.ip(ar, ["-6", "addr", "add", "2001:db8:6::5/128", "dev", "ctn0", "nodad"]);
    const r = await proactiveDad({ address: "2001:db8:6::5", device: "ctn0", netns: ar });
    expect(r).toEqual({ status: "duplicate", address: "2001:db8:6::5", durationMs: 0 });
    // Its own address is left alone.
    expect(await lab.ip(ar, ["-6", "addr", "show", "dev", "ctn0"])).toContain("2001:db8:6::5/128");
  });

  it("needs root (runs in CI): refuses when DAD is disabled, and a missing device", async () => {
    await lab.sysctl(ar, { "net.ipv6.conf.ctn0.accept_dad": 0 });
    try {
      const e = await proactiveDad({ address: "2001:db8:6::d", device: "ctn0", netns: ar })
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(PortError);
      expect(e).toMatchObject({ port: "Configurator", code: "protocol" });
      expect((e as Error).message).toContain("DAD disabled on ctn0");
    } finally {
      await lab.sysctl(ar, { "net.ipv6.conf.ctn0.accept_dad": 1 });
    }
    await expect(proactiveDad({ address: "2001:db8:6::d", device: "nope0", netns: ar }))
      .rejects.toMatchObject({ code: "unreachable" });
  });

  it("needs root (runs in CI): an aborted check leaves nothing behind", async () => {
    const ac = new AbortController();
    const p = proactiveDad({
      address: "2001:db8:6::e",
      device: "ctn0",
      netns: ar,
      signal: ac.signal,
    });
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: "aborted" });
    expect(await lab.ip(ar, ["-6", "addr", "show", "dev", "ctn0"])).not.toContain("2001:db8:6::e/");
    expect(await listProxies({ device: "ctn0", netns: ar })).not.toContain("2001:db8:6::e");
  });
});
