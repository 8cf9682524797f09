/**
 * The mobile node's configuration file (`mpa agent --config mn.jsonc`): who the MN
 * is, its link, where link metrics come from, how it decides (RFC 6252 section C.6),
 * how it discovers candidate target networks and their AA, CA and AR (sections 6.1,
 * 7.1), how many CTNs it may prepare at once and how long each MPA step may take
 * (sections 6.3, 7.2, C.4), the mobility protocol of the binding update (section
 * 7.5), the proactive handover tunnel (section 7.4), buffering (section 7.6.1), the
 * status endpoint and logging.
 *
 * Validated in one pass: every problem is reported (file, field path, expected form,
 * line:column), unknown fields are refused with a "did you mean". Pure: file paths
 * are resolved by a function the caller gives.
 *
 * @module
 */
import type { CtnInfo, ServiceAddress } from "../ports.ts";
import type { Cell, CtnProfile } from "../metrics/cell.ts";
import type { DecideOptions } from "../decision/decide.ts";
import { parseDecideConfig } from "../decision/config.ts";
import { ConfigError } from "../errors.ts";
import type { ListenAddress } from "./listen_address.ts";
import { _logCheck, DEFAULT_LOG_CONFIG, type LogConfig } from "./log_config.ts";
import { jsoncPath } from "./jsonc.ts";
import type { JsoncPosition } from "./jsonc.ts";
import { _run, _runText } from "./_run.ts";
import {
  _array,
  _bool,
  type _Check,
  _check,
  _cidr4,
  _def,
  _describe,
  _dict,
  _either,
  _file,
  _hostPort,
  _int,
  _INVALID,
  _ip,
  _issue,
  _literal,
  _map,
  _number,
  _object,
  _opt,
  _pattern,
  _refine,
  _req,
  _string,
  _variants,
} from "./_schema.ts";
import { PANA_UDP_PORT } from "../wire/pana_constants.ts";
import { DHCP_SERVER_PORT } from "../wire/dhcp_constants.ts";
import { PHT_UDP_PORT } from "../wire/pht_constants.ts";
import { MIP6_UDP_PORT } from "../wire/mobility_constants.ts";

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------

/** `mn`: the mobile node's identity and its EAP-PSK key (RFC 6252 section 6.3 step 1). */
export interface MnConfig {
  /** EAP-PSK peer identity ID_P (RFC 4764), as in each AA's credentials file. */
  readonly identity: string;
  /** File holding the 16-byte PSK as 32 hex digits; resolved against the config's directory. */
  readonly pskFile: string;
  /** The MN's id in MPA-SAs, logs and the DHCP client identifier; default `identity`. */
  readonly mnId: string;
}

/** `link`: the in-process simulated link of the demo. */
export interface SimulatedLinkConfig {
  /** Discriminant. */
  readonly kind: "simulated";
}

/** `link`: a real interface driven with ip(8) (RFC 6252 section 6.3 steps 5, 6). */
export interface IpLinkConfig {
  /** Discriminant. */
  readonly kind: "ip";
  /** The physical interface that switches PoA and gets the nCoA (`wlan0`, `veth-mn`). */
  readonly interface: string;
  /** Network namespace of the interface (`ip netns` name); default the current one. */
  readonly netns?: string;
  /**
   * The current care-of address (the PHT's outer address and the unicast DHCP
   * source, section 7.3.3): `auto` asks the kernel (route towards the CA), or a
   * fixed IP literal. Default `auto`.
   */
  readonly oCoA: string;
}

/**
 * `link`: a lab link in network namespaces (the handover testbed, bench/handover/):
 * the MN's interface is one end of a veth pair whose other end sits in an `air`
 * namespace where each PoA is a bridge; a switch re-masters that peer (RFC 6252
 * section 6.3 step 5), the address goes on the interface as with `ip` (step 6).
 */
export interface NetnsLinkConfig {
  /** Discriminant. */
  readonly kind: "netns";
  /** The MN's interface (the veth end on the MN's side). */
  readonly interface: string;
  /** Network namespace of the interface; default the current one. */
  readonly netns?: string;
  /** The namespace holding the PoA bridges and the MN's veth peer. */
  readonly air: string;
  /** Name of the MN's veth peer in `air`. */
  readonly peer: string;
  /** PoA id (as in the link samples) to the bridge in `air`; at least one. */
  readonly poas: Readonly<Record<string, string>>;
  /** Layer-2 association time to model, ms; default 0. */
  readonly associationDelayMs: number;
  /** The current care-of address, `auto` or an IP literal (as for `ip`); default `auto`. */
  readonly oCoA: string;
}

/** `link`: how the MN switches its link. */
export type LinkConfig = SimulatedLinkConfig | IpLinkConfig | NetnsLinkConfig;

/** Pacing of simulated or replayed samples: wall-clock time, or as fast as possible. */
export type MetricsPace = "realtime" | "fast";

/** `metrics`: samples from the mobility simulator (the metrics adapter's simulator). */
export interface SimulateMetricsConfig {
  /** Discriminant. */
  readonly source: "simulate";
  /** Scenario name (`walk`, `drive`, `waypoint`, `manhattan`, `border`, `demo`). */
  readonly scenario: string;
  /** Seed of all randomness, a safe integer >= 0. */
  readonly seed: number;
  /** Pacing; default `realtime`. */
  readonly pace: MetricsPace;
  /** Trace length, s; default the scenario's. */
  readonly durationS?: number;
  /** Time between instants, ms; default 100. */
  readonly periodMs?: number;
}

/** `metrics`: samples replayed from a JSONL trace (the metrics adapter's trace replay). */
export interface ReplayMetricsConfig {
  /** Discriminant. */
  readonly source: "replay";
  /** The JSONL trace; resolved against the config's directory. */
  readonly file: string;
  /** Pacing; default `realtime`. */
  readonly pace: MetricsPace;
}

/** `metrics`: where link samples come from (RFC 6252 sections 7.1, C.6). */
export type MetricsConfig = SimulateMetricsConfig | ReplayMetricsConfig;

/**
 * `decision`: the options of `decide` (lib/decision/decide.ts) except `cells` and
 * `ctns`, which come from the discovery table.
 */
export type DecisionConfig = Omit<DecideOptions, "cells" | "ctns">;

/** How the MN's unicast DHCP reaches a CA (RFC 6252 section 7.3.3). */
export type DhcpModeConfig = "ciaddr" | "relay";

/** A CTN's configuration agent in the static table. */
export interface CaAddressConfig extends ServiceAddress {
  /** The CTN subnet, CIDR: DHCP option 118; required with `relay`. */
  readonly subnet?: string;
  /** `ciaddr` (Kea, ISC dhcpd) or `relay` (giaddr, dnsmasq). Default `ciaddr`. */
  readonly mode: DhcpModeConfig;
}

/** One CTN of the static discovery table (RFC 6252 sections 6.1, 7.1). */
export interface StaticCtnConfig {
  /** Network id; equals the CTN's `ctn` and the `network` of its link samples. */
  readonly network: string;
  /** Authentication agent (PANA PAA); port default 716. */
  readonly aa: ServiceAddress;
  /** Configuration agent (DHCP); port default 67. */
  readonly ca: CaAddressConfig;
  /** Access router (PHT endpoint); port default 7716. */
  readonly ar: ServiceAddress;
  /** The CTN's PoA ids. */
  readonly poas: readonly string[];
  /** Positions and coverage of PoAs (lead-time geometry, section C.6); `network` filled in. */
  readonly cells?: readonly Cell[];
  /** Phase timings towards this CTN (section C.6); `network` filled in. */
  readonly profile?: CtnProfile;
}

/** `discovery`: a table of CTNs in the file. */
export interface StaticDiscoveryConfig {
  /** Discriminant. */
  readonly kind: "static";
  /** The CTNs, at least one. */
  readonly ctns: readonly StaticCtnConfig[];
}

/** `discovery`: an information server queried by location (802.21-style). */
export interface InformationServerDiscoveryConfig {
  /** Discriminant. */
  readonly kind: "information-server";
  /** The server. */
  readonly server: { readonly address: string; readonly port: number };
  /** Wait before the first retransmission, ms (doubles); default the adapter's (250). */
  readonly timeoutMs?: number;
  /** Retransmissions after the first transmission, 0-10; default the adapter's (2). */
  readonly retries?: number;
  /** Only CTNs this near the MN's position, metres; default the server's limit. */
  readonly radius?: number;
}

/** `discovery`: how CTNs are found (RFC 6252 section 7.1). */
export type DiscoveryConfig = StaticDiscoveryConfig | InformationServerDiscoveryConfig;

/**
 * `limits`: how many CTNs may be in each state at once (RFC 6252 sections 7.2, C.4:
 * every prepared CTN holds resources). Omitted: the orchestrator's defaults.
 */
export interface LimitsConfig {
  /** CTNs holding an MPA-SA at once. */
  readonly maxPreauthenticated?: number;
  /** CTNs holding an nCoA (and a PHT) at once. */
  readonly maxConfigured?: number;
  /** nCoAs bound at the correspondent / home agent at once (multiple CoAs, RFC 5648). */
  readonly maxBound?: number;
}

/** `timeouts`: deadline of each MPA step, ms (RFC 6252 section 6.3). Omitted: the orchestrator's. */
export interface TimeoutsConfig {
  /** Step 1, pre-authentication. */
  readonly preauthMs?: number;
  /** Step 2, address pre-configuration. */
  readonly configureMs?: number;
  /** Step 2, PHT establishment. */
  readonly tunnelMs?: number;
  /** Step 3, proactive binding update. */
  readonly bindMs?: number;
  /** Steps 5-6, link switch and address assignment. */
  readonly switchMs?: number;
}

/** `retries`: attempts after the first failure, per step. Omitted: the orchestrator's. */
export interface RetriesConfig {
  /** Pre-authentication. */
  readonly preauth?: number;
  /** Address pre-configuration. */
  readonly configure?: number;
  /** PHT establishment. */
  readonly tunnel?: number;
  /** Binding update. */
  readonly bind?: number;
}

/** `mobility`: no binding update (the demo's correspondent follows the PHT). */
export interface NoMobilityConfig {
  /** Discriminant. */
  readonly kind: "none";
}

/** A SIP peer: where to send and the Request-URI. */
export interface SipPeerConfig {
  /** IP address literal. */
  readonly address: string;
  /** UDP port. */
  readonly port: number;
  /** Request-URI (`sip:cn@192.0.2.9`). */
  readonly uri: string;
}

/** `mobility`: SIP re-INVITE / REGISTER (RFC 6252 section 7.5, RFC 3261). */
export interface SipMobilityConfig {
  /** Discriminant. */
  readonly kind: "sip";
  /** Address-of-record (`sip:mn@example.org`). */
  readonly aor: string;
  /** Local SIP port at every CoA; default 0 (ephemeral). */
  readonly sipPort?: number;
  /** RTP port offered in the SDP. */
  readonly mediaPort: number;
  /** The correspondent of the call. */
  readonly correspondent: SipPeerConfig;
  /** Registrar to REGISTER each new contact at; none by default. */
  readonly registrar?: {
    readonly address: string;
    readonly port: number;
    readonly uri?: string;
  };
  /** Requested registration lifetime, s; default 3600. */
  readonly registerExpiresS?: number;
}

/** `mobility`: Mobile IPv6 binding updates with multiple CoAs (RFC 6275, RFC 5648). */
export interface Mip6MobilityConfig {
  /** Discriminant. */
  readonly kind: "mip6";
  /** The MN's home address. */
  readonly home: string;
  /** Home agent (or correspondent); port default the MIPv6-over-UDP port. */
  readonly homeAgent: ServiceAddress;
  /** File with the key shared with the home agent, hex, 16 bytes or more; resolved. */
  readonly keyFile: string;
  /** Binding lifetime asked for, ms; default the adapter's. */
  readonly lifetimeMs?: number;
  /** H flag; default true (false for a correspondent). */
  readonly homeRegistration: boolean;
}

/** `mobility`: the binding-update protocol (RFC 6252 sections 6.3 step 3, 7.5). */
export type MobilityConfig = NoMobilityConfig | SipMobilityConfig | Mip6MobilityConfig;

/** `tunnel`: the MN's end of the proactive handover tunnel (RFC 6252 section 7.4). */
export interface TunnelConfig {
  /** Requested PHT lifetime, ms; default the adapter's (60000). */
  readonly lifetimeMs?: number;
  /** Carry the MN's own traffic through a TUN device (needs root); default false. */
  readonly tun: boolean;
  /** Local UDP port of the MN's PHT endpoint; default 0 (ephemeral). */
  readonly port: number;
}

/** `dhcp`: the MN's proactive DHCP client (RFC 6252 section 7.3.3). */
export interface DhcpClientConfig {
  /** Local UDP port; default the mode's (68 ciaddr, 67 relay); 0 = ephemeral. */
  readonly clientPort?: number;
  /** Ask for Rapid Commit (RFC 4039); default false. */
  readonly rapidCommit: boolean;
  /** Sign with option 90 under the MN-CA key; default true. */
  readonly authenticate: boolean;
}

/** `status`: the local status endpoint of `mpa status`. */
export interface StatusConfig {
  /** Address to listen on; default `127.0.0.1:9716`. */
  readonly listen: ListenAddress;
}

/** A validated agent configuration file. */
export interface AgentConfig {
  /** The MN. */
  readonly mn: MnConfig;
  /** The link. */
  readonly link: LinkConfig;
  /** Link metrics. */
  readonly metrics: MetricsConfig;
  /** Decision tuning; default `{}` (every `decide` default). */
  readonly decision: DecisionConfig;
  /** CTN discovery. */
  readonly discovery: DiscoveryConfig;
  /** Concurrency limits; default `{}`. */
  readonly limits: LimitsConfig;
  /** Step deadlines; default `{}`. */
  readonly timeouts: TimeoutsConfig;
  /** Step retries; default `{}`. */
  readonly retries: RetriesConfig;
  /** Binding updates; default `{ kind: "none" }`. */
  readonly mobility: MobilityConfig;
  /** The PHT; default `{ tun: false, port: 0 }`. */
  readonly tunnel: TunnelConfig;
  /** The DHCP client; default `{ rapidCommit: false, authenticate: true }`. */
  readonly dhcp: DhcpClientConfig;
  /** Ask the AR to buffer during the switch (RFC 6252 section 7.6.1); default true. */
  readonly buffering: boolean;
  /** The status endpoint. */
  readonly status: StatusConfig;
  /** Logging. */
  readonly log: LogConfig;
}

/** Options of {@link parseAgentConfig} and {@link parseAgentConfigText}. */
export interface AgentConfigParseOptions {
  /** Value positions by path (from `parseJsonc`), for line:column in messages. */
  readonly positions?: ReadonlyMap<string, JsoncPosition>;
  /** Key positions by path (from `parseJsonc`), for unknown fields. */
  readonly keyPositions?: ReadonlyMap<string, JsoncPosition>;
  /** Resolves the file paths of the config (psk, trace, key files); default unchanged. */
  readonly resolvePath?: (path: string) => string;
  /** Known simulator scenarios; when given, `metrics.scenario` must be one of them. */
  readonly scenarios?: readonly string[];
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

/** PANA (716), DHCP server (67), PHT (7716): the default ports of a CTN's services. */
const _PORTS = { aa: PANA_UDP_PORT, ca: DHCP_SERVER_PORT, ar: PHT_UDP_PORT } as const;

const _port = _int(1, 65535);
const _anyPort = _int(0, 65535);
const _ms = _int(1, 3_600_000);
const _id = _string("a non-empty string");
const _ifName = _pattern(
  /^[A-Za-z0-9_.:-]{1,15}$/,
  "an interface name (1-15 characters: letters, digits, _ . : -)",
);
const _netns = _pattern(
  /^[A-Za-z0-9_.-]{1,64}$/,
  "a network namespace name (1-64 characters: letters, digits, _ . -)",
);

function _service(defaultPort: number): _Check<ServiceAddress> {
  return _object(
    { address: _req(_ip()), port: _opt(_port) },
    `an object { "address": IP, "port"?: 1-65535 (default ${defaultPort}) }`,
  );
}

const _endpoint = _object({ address: _req(_ip()), port: _req(_port) });

const _mn: _Check<MnConfig> = _check("an object", (v, path, ctx) => {
  const r = _object({
    identity: _req(_id),
    pskFile: _req(_file()),
    mnId: _opt(_id),
  })(v, path, ctx);
  return r === _INVALID ? _INVALID : { ...r, mnId: r.mnId ?? r.identity };
});

const _link: _Check<LinkConfig> = _variants("kind", {
  simulated: {},
  ip: {
    interface: _req(_ifName),
    netns: _opt(_netns),
    oCoA: _def(
      _either(_literal("auto"), (v) => v === "auto", _ip()),
      "auto" as string,
    ),
  },
  netns: {
    interface: _req(_ifName),
    netns: _opt(_netns),
    air: _req(_netns),
    peer: _req(_ifName),
    poas: _req(_dict(_ifName, 1)),
    associationDelayMs: _def(_int(0, 60_000), 0),
    oCoA: _def(
      _either(_literal("auto"), (v) => v === "auto", _ip()),
      "auto" as string,
    ),
  },
});

const _pace = _def(_literal("realtime", "fast"), "realtime");

function _metrics(scenarios: readonly string[] | undefined): _Check<MetricsConfig> {
  return _variants("source", {
    simulate: {
      scenario: _req(scenarios === undefined ? _id : _literal(...scenarios)),
      seed: _req(_int(0)),
      pace: _pace,
      durationS: _opt(_number(Number.MIN_VALUE, 86_400)),
      periodMs: _opt(_int(1, 60_000)),
    },
    replay: { file: _req(_file()), pace: _pace },
  });
}

const _NUMERIC_DECISION = [
  "k",
  "margin",
  "leave",
  "timeToTrigger",
  "prepareMargin",
  "prepareLeave",
  "prepareDwell",
  "releaseDwell",
  "topK",
  "maxPreconfigured",
  "outageSnr",
  "safety",
  "maxAgeMs",
  "trendWindowMs",
] as const;

const _RECOVERY = [
  "retainMs",
  "returnPenaltyDb",
  "pingPongWindowMs",
  "holdDownMs",
  "bicastMs",
] as const;

/**
 * The fields of the `decision` section, and of `decision.recovery`, that this schema
 * accepts: the numeric options of `decide` (lib/decision/decide.ts) and `recovery`.
 * A test checks the list against `parseDecideConfig`.
 *
 * @example
 * ```ts
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 * assert(DECISION_FIELDS.decision.includes("topK"));
 * assert(DECISION_FIELDS.recovery.includes("retainMs"));
 * ```
 */
export const DECISION_FIELDS: {
  readonly decision: readonly string[];
  readonly recovery: readonly string[];
} = { decision: [..._NUMERIC_DECISION, "recovery"], recovery: _RECOVERY };

const _recovery = _either(
  _literal("off"),
  (v) => typeof v === "string",
  _object(Object.fromEntries(_RECOVERY.map((k) => [k, _opt(_number())]))),
);

const _decisionShape = _object({
  ...Object.fromEntries(_NUMERIC_DECISION.map((k) => [k, _opt(_number())])),
  recovery: _opt(_recovery),
});

/**
 * The decision section: shapes and names checked here (all problems, with "did you
 * mean"), ranges by `parseDecideConfig` (resolveDecideOptions) - the same rules as
 * the replay config. Range errors are collected by dropping each offending option
 * and validating again.
 */
const _decision: _Check<DecisionConfig> = _check(_decisionShape.expected, (v, path, ctx) => {
  const shaped = _decisionShape(v, path, ctx);
  if (shaped === _INVALID) return _INVALID;
  const candidate: Record<string, unknown> = { ...shaped };
  if (typeof candidate.recovery === "object") {
    candidate.recovery = { ...candidate.recovery as Record<string, unknown> };
  }
  let ok = true;
  for (let round = 0; round < 32; round++) {
    try {
      parseDecideConfig({ decide: candidate });
      break;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const option = error.option.replace(/^decide\./, "");
      const field = jsoncPath(path, option.split(".")[0]!);
      const sub = option.split(".")[1];
      const detail = /: expected (.*), got (.*)$/.exec(error.message);
      _issue(
        ctx,
        sub === undefined ? field : jsoncPath(field, sub),
        detail === null ? "a valid decision option" : detail[1]!,
        detail === null ? error.message : detail[2]!,
      );
      ok = false;
      if (sub === undefined) delete candidate[option];
      else delete (candidate.recovery as Record<string, unknown>)[sub];
    }
  }
  return ok ? shaped as DecisionConfig : _INVALID;
});

const _profile = _object({
  rttMs: _opt(_number(0)),
  tpskMs: _opt(_number(0)),
  tconfMs: _opt(_number(0)),
  tbuMs: _opt(_number(0)),
});

const _cell = _object({
  poa: _req(_id),
  pos: _req(_object({ x: _req(_number()), y: _req(_number()) })),
  coverage: _req(_number(Number.MIN_VALUE)),
  txPower: _opt(_number(-50, 60)),
});

const _ca = _object({
  address: _req(_ip()),
  port: _opt(_port),
  subnet: _opt(_cidr4()),
  mode: _def(_literal("ciaddr", "relay"), "ciaddr" as DhcpModeConfig),
});

const _staticCtn: _Check<StaticCtnConfig> = _refine(
  _map(
    _object({
      network: _req(_id),
      aa: _req(_service(_PORTS.aa)),
      ca: _req(_ca),
      ar: _req(_service(_PORTS.ar)),
      poas: _req(_array(_id, 1)),
      cells: _opt(_array(_cell)),
      profile: _opt(_profile),
    }),
    (c): StaticCtnConfig => {
      const { cells, profile, ...rest } = c;
      return {
        ...rest,
        ...(cells === undefined ? {} : {
          cells: cells.map((cell): Cell => ({ ...cell, network: c.network })),
        }),
        ...(profile === undefined ? {} : { profile: { network: c.network, ...profile } }),
      };
    },
  ),
  (c, path, ctx) => {
    c.cells?.forEach((cell, i) => {
      if (!c.poas.includes(cell.poa)) {
        const p = jsoncPath(jsoncPath(jsoncPath(path, "cells"), i), "poa");
        _issue(ctx, p, `a PoA id listed in ${jsoncPath(path, "poas")}`, _describe(cell.poa));
      }
    });
    if (c.ca.mode === "relay" && c.ca.subnet === undefined) {
      _issue(
        ctx,
        jsoncPath(jsoncPath(path, "ca"), "subnet"),
        'a subnet (DHCP option 118 is required with "mode": "relay")',
        "nothing",
        { at: jsoncPath(path, "ca") },
      );
    }
  },
);

const _ctnTable = _refine(_array(_staticCtn, 1), (ctns, path, ctx) => {
  const networks = new Map<string, number>();
  const poas = new Map<string, number>();
  ctns.forEach((c, i) => {
    const seen = networks.get(c.network);
    if (seen !== undefined) {
      _issue(
        ctx,
        jsoncPath(jsoncPath(path, i), "network"),
        `a network id not used by another CTN (${jsoncPath(path, seen)} has it)`,
        _describe(c.network),
      );
    } else networks.set(c.network, i);
    c.poas.forEach((poa, j) => {
      const owner = poas.get(poa);
      if (owner !== undefined && owner !== i) {
        _issue(
          ctx,
          jsoncPath(jsoncPath(jsoncPath(path, i), "poas"), j),
          `a PoA id not listed by another CTN (${jsoncPath(path, owner)} lists it)`,
          _describe(poa),
        );
      } else poas.set(poa, i);
    });
  });
});

const _discovery: _Check<DiscoveryConfig> = _variants("kind", {
  static: { ctns: _req(_ctnTable) },
  "information-server": {
    server: _req(_endpoint),
    timeoutMs: _opt(_ms),
    retries: _opt(_int(0, 10)),
    radius: _opt(_number(Number.MIN_VALUE)),
  },
});

const _limits: _Check<LimitsConfig> = _object({
  maxPreauthenticated: _opt(_int(1, 64)),
  maxConfigured: _opt(_int(0, 64)),
  maxBound: _opt(_int(0, 64)),
});

const _timeouts: _Check<TimeoutsConfig> = _object({
  preauthMs: _opt(_ms),
  configureMs: _opt(_ms),
  tunnelMs: _opt(_ms),
  bindMs: _opt(_ms),
  switchMs: _opt(_ms),
});

const _retries: _Check<RetriesConfig> = _object({
  preauth: _opt(_int(0, 10)),
  configure: _opt(_int(0, 10)),
  tunnel: _opt(_int(0, 10)),
  bind: _opt(_int(0, 10)),
});

const _sipUri = _pattern(/^sips?:[^\s]+$/, 'a SIP URI ("sip:user@host")');

const _mobility: _Check<MobilityConfig> = _variants("kind", {
  none: {},
  sip: {
    aor: _req(_sipUri),
    sipPort: _opt(_anyPort),
    mediaPort: _req(_port),
    correspondent: _req(
      _object({ address: _req(_ip()), port: _req(_port), uri: _req(_sipUri) }),
    ),
    registrar: _opt(
      _object({ address: _req(_ip()), port: _req(_port), uri: _opt(_sipUri) }),
    ),
    registerExpiresS: _opt(_int(1, 86_400 * 7)),
  },
  mip6: {
    home: _req(_ip()),
    homeAgent: _req(_service(MIP6_UDP_PORT)),
    keyFile: _req(_file()),
    lifetimeMs: _opt(_int(4_000, 262_140_000)),
    homeRegistration: _def(_bool(), true),
  },
});

const _tunnel: _Check<TunnelConfig> = _object({
  lifetimeMs: _opt(_int(1_000, 600_000)),
  tun: _def(_bool(), false),
  port: _def(_anyPort, 0),
});

const _dhcp: _Check<DhcpClientConfig> = _object({
  clientPort: _opt(_anyPort),
  rapidCommit: _def(_bool(), false),
  authenticate: _def(_bool(), true),
});

/** Default status endpoint address. */
const _STATUS_LISTEN: ListenAddress = { address: "127.0.0.1", port: 9716 };

const _status: _Check<StatusConfig> = _object({
  listen: _def(_hostPort(9716, true), _STATUS_LISTEN),
});

function _agent(options: AgentConfigParseOptions): _Check<AgentConfig> {
  return _object(
    {
      mn: _req(_mn),
      link: _req(_link),
      metrics: _req(_metrics(options.scenarios)),
      decision: _def(_decision, {}),
      discovery: _req(_discovery),
      limits: _def(_limits, {}),
      timeouts: _def(_timeouts, {}),
      retries: _def(_retries, {}),
      mobility: _def(_mobility, { kind: "none" }),
      tunnel: _def(_tunnel, { tun: false, port: 0 }),
      dhcp: _def(_dhcp, { rapidCommit: false, authenticate: true }),
      buffering: _def(_bool(), true),
      status: _def(_status, { listen: _STATUS_LISTEN }),
      log: _def(_logCheck, DEFAULT_LOG_CONFIG),
    },
    "an object (the agent configuration)",
    ["$schema", "description"],
  );
}

// ---------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------

/**
 * Validates a parsed agent configuration.
 *
 * @param value the parsed JSON(C) value
 * @param source the file's name, for messages
 * @param options positions (for line:column), a path resolver, known scenarios
 * @returns the typed configuration, defaults filled in
 * @throws {ConfigFileError} with every problem found
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { ConfigFileError } from "./config_error.ts";
 * const base = {
 *   mn: { identity: "mn1", pskFile: "mn1.psk" },
 *   link: { kind: "simulated" },
 *   metrics: { source: "simulate", scenario: "demo", seed: 1 },
 *   discovery: { kind: "static", ctns: [{
 *     network: "B", aa: { address: "10.0.2.1" }, ca: { address: "10.0.2.1" },
 *     ar: { address: "10.0.2.1" }, poas: ["b1"],
 *   }] },
 * };
 * const c = parseAgentConfig(base, "mn.jsonc", { resolvePath: (p) => `/etc/mpa/${p}` });
 * assertEquals(c.mn, { identity: "mn1", pskFile: "/etc/mpa/mn1.psk", mnId: "mn1" });
 * assertEquals(c.status.listen, { address: "127.0.0.1", port: 9716 });
 * const e = assertThrows(
 *   () => parseAgentConfig({ ...base, limts: {}, buffering: "yes" }, "mn.jsonc"),
 *   ConfigFileError,
 * );
 * assertEquals(e.issues.length, 2);
 * assertEquals(e.issues[0]!.hint, 'did you mean "limits"?');
 * ```
 */
export function parseAgentConfig(
  value: unknown,
  source: string,
  options: AgentConfigParseOptions = {},
): AgentConfig {
  return _run(_agent(options), value, source, options);
}

/**
 * Parses and validates the text of an agent configuration file (JSONC): syntax
 * errors, duplicate keys and schema problems all come as one {@link ConfigFileError}
 * with line:column.
 *
 * @param text the file's text
 * @param source the file's name, for messages
 * @param options a path resolver and known scenarios
 * @returns the typed configuration
 * @throws {ConfigFileError} with every problem found (a syntax error alone)
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { ConfigFileError } from "./config_error.ts";
 * const text = `{
 *   "mn": { "identity": "mn1", "pskFile": "mn1.psk" },
 *   "link": { "kind": "simulated" },
 *   "metrics": { "source": "simulate", "scenario": "demo", "seed": 7 },
 *   "discovery": { "kind": "information-server", "server": { "address": "10.0.0.9", "port": 70000 } },
 * }`;
 * const e = assertThrows(() => parseAgentConfigText(text, "mn.jsonc"), ConfigFileError);
 * assertEquals(
 *   e.message,
 *   "mn.jsonc:5:91: discovery.server.port: expected an integer 1-65535, got 70000",
 * );
 * ```
 */
export function parseAgentConfigText(
  text: string,
  source: string,
  options: Omit<AgentConfigParseOptions, "positions" | "keyPositions"> = {},
): AgentConfig {
  return _runText(_agent(options), text, source, options.resolvePath);
}

/**
 * The port-level view of a static CTN entry: what `Discovery.candidates` returns.
 *
 * @param ctn a CTN of the static table
 * @returns the {@link CtnInfo} (the CA's subnet moved up, its mode dropped)
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const info = ctnInfoOf({
 *   network: "B", aa: { address: "10.0.2.1" }, ar: { address: "10.0.2.1", port: 7716 },
 *   ca: { address: "10.0.2.1", subnet: "10.0.2.0/24", mode: "ciaddr" }, poas: ["b1"],
 * });
 * assertEquals(info.ca, { address: "10.0.2.1" });
 * assertEquals(info.subnet, "10.0.2.0/24");
 * ```
 */
export function ctnInfoOf(ctn: StaticCtnConfig): CtnInfo {
  const { subnet, mode: _mode, ...ca } = ctn.ca;
  return {
    network: ctn.network,
    aa: ctn.aa,
    ca,
    ar: ctn.ar,
    poas: ctn.poas,
    ...(ctn.cells === undefined ? {} : { cells: ctn.cells }),
    ...(subnet === undefined ? {} : { subnet }),
    ...(ctn.profile === undefined ? {} : { profile: ctn.profile }),
  };
}
