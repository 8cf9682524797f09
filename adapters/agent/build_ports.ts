/**
 * Builds the mobile node's ports from its configuration file (`mpa agent --config`,
 * RFC 6252 sections 6.3, 7.1-7.5): the metrics source (mobility simulator or trace
 * replay), discovery (static CTN table or information server), pre-authentication
 * (PANA PaC with EAP-PSK), proactive DHCP (unicast, per-CTN `ciaddr` or `relay`
 * mode), the proactive handover tunnels (PHT over UDP, with a TUN device each when
 * `tunnel.tun`), the mobility protocol (SIP, Mobile IPv6, or none) and the link
 * control (simulated, or ip(8)). Every piece can be given instead (the embedded demo
 * passes user-space ones); only what is built here is closed on dispose.
 *
 * @module
 */
import { defer, from, mergeMap, type Observable, type SchedulerLike } from "npm:rxjs@^7.8.2";
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import type { AgentConfig } from "../../lib/config/agent_config.ts";
import { ConfigError } from "../../lib/errors.ts";
import type { LinkSample } from "../../lib/metrics/link_sample.ts";
import {
  type Configurator,
  type Discovery,
  type LinkControl,
  type MetricsSource,
  type MobilityProtocol,
  type MpaSa,
  PortError,
  type PreAuthenticator,
  type TunnelManager,
} from "../../lib/ports.ts";
import { DhcpConfigurator } from "../dhcp/configurator.ts";
import { IpLinkControl } from "../link/ip_link.ts";
import { NetnsLinkControl } from "../link/netns_link.ts";
import { scenario as findScenario } from "../metrics/scenarios.ts";
import { simulatorSource } from "../metrics/simulator.ts";
import { replayTrace } from "../metrics/trace_replay.ts";
import { Mip6Mobility } from "../mobility/mip6_mn.ts";
import { SipMobility } from "../mobility/sip_ua.ts";
import { createEapPskPac } from "../pana/eap_psk_pac.ts";
import type { PanaPac } from "../pana/pac.ts";
import { PhtTunnelManager } from "../tunnel/pht_mn.ts";
import type { MnTunAttachment } from "../tunnel/tun_glue.ts";
import type { SessionPorts } from "./run_sessions.ts";
import { _currentAddress } from "./_current_address.ts";
import { _discoveryOf } from "./_discovery_of.ts";
import { type _DhcpMode, _ModeConfigurator } from "./_mode_configurator.ts";
import { _NoMobility } from "./_no_mobility.ts";
import { _SimulatedLink } from "./_simulated_link.ts";
import { _TunTunnels } from "./_tun_tunnels.ts";

const _logger = getLogger(["mpa", "agent"]);

/** An address on the MN's interface with its prefix length. */
export interface InterfaceAddress {
  /** IPv4 or IPv6 address literal. */
  readonly address: string;
  /** Prefix length (0-32 for IPv4, 0-128 for IPv6). */
  readonly prefixLength: number;
  /** The default router towards the CTNs there, when known (the route of a switch back). */
  readonly router?: string;
}

/**
 * Everything the agent drives: the ports of the MPA sessions, the link metrics,
 * discovery, and where the MN starts.
 */
export interface AgentPorts extends SessionPorts {
  /** Link measurements (RFC 6252 sections 7.1, C.6). */
  readonly metrics: MetricsSource;
  /** CTNs and their AA, CA and AR (section 7.1). */
  readonly discovery: Discovery;
  /**
   * The MN's care-of address when the agent starts: the serving network's CoA, the
   * outer address of the tunnels and the source of unicast DHCP (section 7.3.3).
   *
   * @returns the address and its prefix length
   */
  readonly currentAddress: () => Promise<InterfaceAddress>;
}

/** Options of {@link buildAgentPorts} besides the overrides. */
export interface BuildAgentPortsOptions {
  /** Clock and timers of the metrics pacing; default rxjs' `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * Creates the real adapters a configuration asks for, except those given in
 * `overrides`. Nothing is sent yet: sockets open on first use (the SIP call starts
 * in the background when `mobility.kind` is `sip`).
 *
 * @param config the validated agent configuration
 * @param overrides pieces to use instead of building them (not closed on dispose)
 * @param options the scheduler of the metrics pacing
 * @returns the ports; `await using` (or `[Symbol.asyncDispose]()`) closes what was
 *   built here: the PaC's sockets, the tunnels' TUN devices, the SIP call (BYE), the
 *   Mobile IPv6 sockets; the PSK copy is wiped
 * @throws {ConfigError} for an unreadable or malformed PSK or binding key file, an
 *   unknown scenario, or an option an adapter refuses
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { parseAgentConfig } from "../../lib/config/agent_config.ts";
 * const config = parseAgentConfig({
 *   mn: { identity: "mn1", pskFile: "/nonexistent/mn1.psk" },
 *   link: { kind: "simulated" },
 *   metrics: { source: "simulate", scenario: "demo", seed: 1, pace: "fast", durationS: 1 },
 *   discovery: { kind: "static", ctns: [{
 *     network: "domainB", aa: { address: "127.0.0.1", port: 9 }, ca: { address: "127.0.0.1" },
 *     ar: { address: "127.0.0.1" }, poas: ["b1"],
 *   }] },
 * }, "mn.jsonc");
 * const unused = () => Promise.reject(new Error("Not used"));
 * // The PaC is given, so the PSK file is never read.
 * await using ports = await buildAgentPorts(config, { preauth: { preAuthenticate: unused } });
 * assertEquals((await ports.discovery.candidates()).map((c) => c.network), ["domainB"]);
 * assertEquals(ports.mobility.multipleCoAs, false);
 * ```
 */
export async function buildAgentPorts(
  config: AgentConfig,
  overrides: Partial<AgentPorts> = {},
  options: BuildAgentPortsOptions = {},
): Promise<AgentPorts & AsyncDisposable> {
  const closers: Array<[string, () => Promise<void>]> = [];
  const dispose = async (): Promise<void> => {
    for (const [what, close] of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        _logger.warn("Cannot close the {what}: {error}", { what, error: String(error) });
      }
    }
  };
  try {
    let address: Promise<InterfaceAddress> | undefined;
    const currentAddress = overrides.currentAddress ??
      (() => address ??= _currentAddress(config));
    const metrics = overrides.metrics ?? _metricsOf(config, options.scheduler);
    const discovery = overrides.discovery ?? _discoveryOf(config);

    // The PHT needs the PANA session id of each CTN's MPA-SA (RFC 6252 section 7.4):
    // recorded from whichever pre-authenticator runs.
    const sessions = new Map<string, number>();
    let basePreauth = overrides.preauth;
    if (basePreauth === undefined) {
      const pac = await _pac(config);
      closers.push(["PANA client", pac.close]);
      basePreauth = pac.pac;
    }
    const preauth = _recording(basePreauth, sessions);

    const configurator = overrides.configurator ?? _configurator(config);

    let tunnels: TunnelManager;
    if (overrides.tunnels !== undefined) tunnels = overrides.tunnels;
    else {
      const attachments = new Map<string, MnTunAttachment>();
      if (config.tunnel.port !== 0) {
        _logger.warn(
          "tunnel.port {port} is not supported yet: each tunnel uses an ephemeral UDP port",
          { port: config.tunnel.port },
        );
      }
      const manager = new PhtTunnelManager({
        // Bound to the wildcard, not to the oCoA: the switch sequence deletes the
        // tunnel and asks for the flush AFTER the move (RFC 6252 section 6.3 step 6,
        // lib/mpa/session.ts), when the oCoA is no longer reachable; from the wildcard
        // those messages leave from the nCoA on the new link.
        ...(config.link.kind === "simulated" ? {} : { bindAny: true }),
        sessionId: (ctn) => sessions.get(ctn),
        onPacket: (handle, packet) => attachments.get(handle.id)?.onPacket(packet),
        ...(config.tunnel.lifetimeMs === undefined ? {} : { lifetimeMs: config.tunnel.lifetimeMs }),
      });
      closers.push(["tunnel manager", () => manager[Symbol.asyncDispose]()]);
      if (config.tunnel.tun) {
        const withTun = new _TunTunnels(manager, attachments);
        closers.push(["TUN devices", () => withTun[Symbol.asyncDispose]()]);
        tunnels = withTun;
      } else tunnels = manager;
      if (!config.buffering) {
        // Without buffer/flush the sessions skip AR buffering (section 7.6.1).
        const t = tunnels;
        tunnels = { open: (...a) => t.open(...a), close: (h) => t.close(h) };
      }
    }

    let mobility = overrides.mobility;
    if (mobility === undefined) {
      const built = await _mobility(config, currentAddress);
      if (built.close !== undefined) closers.push(["mobility protocol", built.close]);
      mobility = built.mobility;
    }

    let link = overrides.link;
    if (link === undefined) {
      const built = _link(config);
      if (built.close !== undefined) closers.push(["link control", built.close]);
      link = built.link;
    }

    const ports: AgentPorts = {
      metrics,
      discovery,
      currentAddress,
      preauth,
      configurator,
      tunnels,
      mobility,
      link,
      ...(overrides.buffering === undefined ? {} : { buffering: overrides.buffering }),
    };
    return { ...ports, [Symbol.asyncDispose]: dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** The metrics source of the configuration. */
function _metricsOf(config: AgentConfig, scheduler: SchedulerLike | undefined): MetricsSource {
  const m = config.metrics;
  const sched = scheduler === undefined ? {} : { scheduler };
  if (m.source === "simulate") {
    const scenario = findScenario(m.scenario);
    return {
      samples: () =>
        simulatorSource(scenario, {
          seed: m.seed,
          pace: m.pace,
          ...(m.durationS === undefined ? {} : { durationS: m.durationS }),
          ...(m.periodMs === undefined ? {} : { periodMs: m.periodMs }),
          ...sched,
        }),
    };
  }
  return {
    samples: (): Observable<LinkSample> =>
      defer(() =>
        from(
          Deno.readTextFile(m.file).catch((error: unknown) => {
            throw new PortError(
              "MetricsSource",
              "unreachable",
              `Cannot read the trace ${m.file}: ${
                error instanceof Error ? error.message : String(error)
              }`,
              { cause: error },
            );
          }),
        ).pipe(mergeMap((text) => replayTrace(text, { pace: m.pace, source: m.file, ...sched })))
      ),
  };
}

/** Reads a hex key file: whitespace ignored, `min`..`max` bytes. */
async function _readHexFile(
  path: string,
  field: string,
  min: number,
  max: number,
): Promise<Uint8Array> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Error
      ? error.message.split("\n")[0]!
      : String(error);
    throw new ConfigError(field, `Cannot read ${field} ${path}: ${reason}`);
  }
  const hex = text.replace(/\s+/g, "");
  const bytes = hex.length / 2;
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex) || bytes < min || bytes > max) {
    const want = min === max ? `${2 * min} hex digits` : `${2 * min} or more hex digits`;
    throw new ConfigError(field, `Invalid ${field} ${path}: expected ${want}`);
  }
  const key = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) key[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return key;
}

/** The PANA PaC with EAP-PSK (RFC 6252 section 6.3 step 1). */
async function _pac(
  config: AgentConfig,
): Promise<{ readonly pac: PanaPac; readonly close: () => Promise<void> }> {
  const psk = await _readHexFile(config.mn.pskFile, "mn.pskFile", 16, 16);
  const identity = config.mn.identity;
  const pac = createEapPskPac({
    identity,
    psk,
    ...(config.timeouts.preauthMs === undefined
      ? {}
      : { authTimeoutMs: config.timeouts.preauthMs }),
  });
  return {
    pac,
    close: async () => {
      psk.fill(0);
      await pac.close();
    },
  };
}

/** Records the PANA session id of every SA by CTN. */
function _recording(preauth: PreAuthenticator, sessions: Map<string, number>): PreAuthenticator {
  return {
    async preAuthenticate(ctn, options): Promise<MpaSa> {
      const sa = await preauth.preAuthenticate(ctn, options);
      sessions.set(ctn.network, sa.sessionId);
      return sa;
    },
  };
}

/** Unicast DHCP per CTN mode (RFC 6252 section 7.3.3). */
function _configurator(config: AgentConfig): Configurator {
  const modes = new Map<string, _DhcpMode>();
  if (config.discovery.kind === "static") {
    for (const c of config.discovery.ctns) modes.set(c.network, c.ca.mode);
  }
  const byMode = new Map<_DhcpMode, DhcpConfigurator>();
  const mnId = config.mn.mnId;
  const clientId = mnId === config.mn.identity
    ? {}
    : { clientId: (_sa: MpaSa) => Uint8Array.of(0, ...new TextEncoder().encode(mnId)) };
  return new _ModeConfigurator(
    (mode) => {
      let c = byMode.get(mode);
      if (c === undefined) {
        c = new DhcpConfigurator({
          mode,
          rapidCommit: config.dhcp.rapidCommit,
          authenticate: config.dhcp.authenticate,
          ...clientId,
          ...(config.dhcp.clientPort === undefined
            ? {}
            : { ports: { client: config.dhcp.clientPort } }),
          ...(config.timeouts.configureMs === undefined
            ? {}
            : { timeoutMs: config.timeouts.configureMs }),
        });
        byMode.set(mode, c);
      }
      return c;
    },
    (ctn) => modes.get(ctn) ?? "ciaddr",
  );
}

/** The mobility protocol (RFC 6252 section 7.5). */
async function _mobility(
  config: AgentConfig,
  currentAddress: () => Promise<InterfaceAddress>,
): Promise<{ readonly mobility: MobilityProtocol; readonly close?: () => Promise<void> }> {
  const m = config.mobility;
  if (m.kind === "none") {
    _logger.info(
      "Mobility protocol: none (no binding updates; the correspondent is reached through the tunnel)",
    );
    return { mobility: new _NoMobility() };
  }
  if (m.kind === "mip6") {
    const key = await _readHexFile(m.keyFile, "mobility.keyFile", 16, 1024);
    const mip6 = new Mip6Mobility({
      home: m.home,
      homeAgent: m.homeAgent,
      key,
      homeRegistration: m.homeRegistration,
      ...(m.lifetimeMs === undefined ? {} : { lifetimeMs: m.lifetimeMs }),
    });
    key.fill(0);
    // The MN registers where it is when the agent starts (RFC 6275 section 11.7.1:
    // a mobile node away from home sends a BU for its current care-of address), in
    // the background like the SIP call: a home agent that does not answer leaves
    // later binding updates to fail and be logged, not the agent.
    const local = await currentAddress();
    mip6.bind([local.address]).then(
      () =>
        _logger.info("Mobile IPv6 binding of {home} to {coa} at start acknowledged", {
          home: m.home,
          coa: local.address,
        }),
      (error: unknown) =>
        _logger.warn("Mobile IPv6 binding at start not acknowledged: {error}", {
          error: error instanceof Error ? error.message : String(error),
        }),
    );
    return { mobility: mip6, close: () => mip6.close() };
  }
  const local = await currentAddress();
  const sip = new SipMobility({
    aor: m.aor,
    localAddress: local.address,
    mediaPort: m.mediaPort,
    correspondent: m.correspondent,
    ...(m.sipPort === undefined ? {} : { sipPort: m.sipPort }),
    ...(m.registrar === undefined ? {} : { registrar: m.registrar }),
    ...(m.registerExpiresS === undefined ? {} : { registerExpiresS: m.registerExpiresS }),
  });
  // The call to the correspondent starts in the background: a correspondent that
  // does not answer leaves binding updates to fail (and be logged), not the agent.
  const starting = new AbortController();
  sip.start({ signal: starting.signal }).then(
    (dialog) =>
      _logger.info("SIP call to {uri} established: {callId}", {
        uri: m.correspondent.uri,
        callId: dialog.callId,
      }),
    (error: unknown) =>
      _logger.warn("SIP call to {uri} not established: {error}", {
        uri: m.correspondent.uri,
        error: error instanceof Error ? error.message : String(error),
      }),
  );
  return {
    mobility: sip,
    close: async () => {
      starting.abort();
      await sip.stop({ signal: AbortSignal.timeout(2000) });
    },
  };
}

/** The link control (RFC 6252 section 6.3 steps 5, 6). */
function _link(
  config: AgentConfig,
): { readonly link: LinkControl; readonly close?: () => Promise<void> } {
  const l = config.link;
  if (l.kind === "simulated") return { link: new _SimulatedLink() };
  if (l.kind === "netns") {
    const lab = new NetnsLinkControl({
      air: l.air,
      peer: l.peer,
      poas: l.poas,
      interface: l.interface,
      ...(l.netns === undefined ? {} : { netns: l.netns }),
      associationDelayMs: l.associationDelayMs,
    });
    lab.warm().catch((error: unknown) =>
      _logger.warn("Link control not warmed up: {error}", {
        error: error instanceof Error ? error.message : String(error),
      })
    );
    return { link: lab, close: () => lab.close() };
  }
  const ip = new IpLinkControl({
    interface: l.interface,
    ...(l.netns === undefined ? {} : { netns: l.netns }),
  });
  // The configuration names no switch command per PoA: the link layer (the Wi-Fi
  // supplicant) roams by itself, and the agent assigns the address after it.
  const link: LinkControl = {
    switchTo: (poa, options) => {
      if (options?.signal?.aborted) {
        return Promise.reject(new PortError("LinkControl", "aborted", "Link switch aborted"));
      }
      _logger.info("Link switch to {poa} on {interface} is left to the link layer", {
        poa,
        interface: l.interface,
      });
      return Promise.resolve();
    },
    assign: (address, prefixLength, options) => ip.assign(address, prefixLength, options),
  };
  return { link, close: () => ip.close() };
}
