/**
 * A candidate target network's configuration file (`mpa ctn --config ctn.jsonc`):
 * the functional elements of RFC 6252 section 6.1 that one CTN runs - the
 * authentication agent (PANA PAA, local EAP-PSK or RADIUS, section 6.3 step 1 and
 * C.2), the access router (PHT endpoint with buffering, sections 7.4, 7.6.1) and the
 * configuration agent (an embedded DHCP server or an external one behind an
 * nftables gate, section 7.3.3) - and logging.
 *
 * Validated in one pass like the agent's file: every problem with file, field path,
 * expected form and line:column; unknown fields refused with a "did you mean".
 *
 * @module
 */
import type { ServiceAddress } from "../ports.ts";
import { PANA_UDP_PORT } from "../wire/pana_constants.ts";
import { DHCP_SERVER_PORT } from "../wire/dhcp_constants.ts";
import { PHT_UDP_PORT } from "../wire/pht_constants.ts";
import { RADIUS_AUTH_PORT } from "../wire/radius_constants.ts";
import { formatListenAddress, type ListenAddress } from "./listen_address.ts";
import { _logCheck, DEFAULT_LOG_CONFIG, type LogConfig } from "./log_config.ts";
import type { JsoncPosition } from "./jsonc.ts";
import { jsoncPath } from "./jsonc.ts";
import { _run, _runText } from "./_run.ts";
import {
  _array,
  _bool,
  type _Check,
  _check,
  _cidr4,
  _def,
  _describe,
  _file,
  _hostPort,
  _inSubnet4,
  _int,
  _INVALID,
  _ip,
  _ipv4Number,
  _issue,
  _literal,
  _object,
  _opt,
  _pattern,
  _refine,
  _req,
  _string,
  _variants,
} from "./_schema.ts";

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------

/** The AA authenticates MNs itself with EAP-PSK (RFC 4764). */
export interface AaLocalBackendConfig {
  /** Discriminant. */
  readonly kind: "local";
  /** Credentials file (lines `identity psk-hex`); resolved against the config's directory. */
  readonly credentialsFile: string;
  /** The AA's EAP-PSK identity ID_S; default `aa.<ctn>`. */
  readonly serverId?: string;
}

/** The AA relays EAP to an AAA server over RADIUS (RFC 3579). */
export interface AaRadiusBackendConfig {
  /** Discriminant. */
  readonly kind: "radius";
  /** The RADIUS server; port default 1812. */
  readonly server: ServiceAddress;
  /** File holding the shared secret (one line); resolved. */
  readonly secretFile: string;
  /** First retransmission wait, ms (doubles); default the client's (1000). */
  readonly timeoutMs?: number;
  /** Retransmissions; default the client's (2). */
  readonly retries?: number;
  /** NAS-Identifier; default `mpa`. */
  readonly nasIdentifier?: string;
}

/** Where the AA's EAP conversations end. */
export type AaBackendConfig = AaLocalBackendConfig | AaRadiusBackendConfig;

/** `aa`: the authentication agent (RFC 6252 sections 6.1, 6.3 step 1, 7.2, C.2). */
export interface AaConfig {
  /** PANA address; default `0.0.0.0:716`. */
  readonly listen: ListenAddress;
  /** The EAP backend, from `credentials` or `radius` in the file. */
  readonly backend: AaBackendConfig;
  /** PANA Session-Lifetime granted, s (the MPA-SA is time-bound, section 7.2); default 3600. */
  readonly lifetimeS?: number;
  /** Keep MPA-SAs in Deno KV so that they survive restarts (section C.2). */
  readonly kv?: {
    /** The KV database file; resolved. */
    readonly path: string;
    /** File with the 32-byte key sealing the SA keys at rest, 64 hex digits; resolved. */
    readonly keyFile: string;
  };
}

/** `ar`: the access router's PHT endpoint (RFC 6252 sections 7.4, 7.6.1). */
export interface ArConfig {
  /** PHT address; default `0.0.0.0:7716`. */
  readonly listen: ListenAddress;
  /** Forward tunnelled packets through a TUN device into the CTN (needs root). */
  readonly tun?: {
    /** The CTN-side interface the decapsulated packets leave by. */
    readonly ctnInterface: string;
    /** TUN device name (`%d` numbered by the kernel); default the adapter's (`mpa%d`). */
    readonly name?: string;
    /** TUN MTU, 576-65535; default the adapter's (1400). */
    readonly mtu?: number;
  };
  /** Buffer bounds per tunnel during the switch (section 7.6.1). */
  readonly buffer: {
    /** Packets; default 1024. */
    readonly packets: number;
    /** Age, ms; default 2000. */
    readonly ms: number;
  };
  /** Longest tunnel lifetime granted, ms; default 600000 (time-bound, section 7.2). */
  readonly maxLifetimeMs?: number;
}

/** `ca`: the embedded DHCP server (npm:dhcp) of the loopback demo and small CTNs. */
export interface EmbeddedCaConfig {
  /** Discriminant. */
  readonly kind: "embedded";
  /** DHCP address, IPv4; default `0.0.0.0:67`. */
  readonly listen: ListenAddress;
  /** The subnet served, CIDR (option 118 names it, section 7.3.3). */
  readonly subnet: string;
  /** First and last address handed out, inside `subnet`. */
  readonly range: readonly [string, string];
  /** Default router (option 3), inside `subnet`. */
  readonly router?: string;
  /** DNS servers (option 6). */
  readonly dns: readonly string[];
  /** Lease time, s (option 51); default the server's. */
  readonly leaseTimeS?: number;
  /** Answer Rapid Commit (RFC 4039); default false. */
  readonly rapidCommit: boolean;
  /** Server identifier (option 54); default the listen address. */
  readonly serverId?: string;
}

/** `ca`: an external DHCP server (Kea, dnsmasq) gated by an nftables set the AA fills. */
export interface ExternalCaConfig {
  /** Discriminant. */
  readonly kind: "external";
  /** The nftables gate in front of an external CA (the DHCP adapter's NftGate). */
  readonly gate: {
    /** Network namespace of the DHCP server; default the current one. */
    readonly netns?: string;
    /** nftables family; default `inet`. */
    readonly family: "inet" | "ip";
    /** Table; default `mpa_ca`. */
    readonly table: string;
    /** Set; default `allowed`. */
    readonly set: string;
    /** Guarded UDP port; default 67. */
    readonly port: number;
  };
}

/** `ca`: the configuration agent (RFC 6252 sections 6.1, 7.3). */
export type CaConfig = EmbeddedCaConfig | ExternalCaConfig;

/** A validated CTN configuration file. */
export interface CtnConfig {
  /** This CTN's network id; bound into the MN-CA and MN-AR keys. */
  readonly ctn: string;
  /** The authentication agent. */
  readonly aa: AaConfig;
  /** The access router. */
  readonly ar: ArConfig;
  /** The configuration agent. */
  readonly ca: CaConfig;
  /** Logging. */
  readonly log: LogConfig;
}

/** Options of {@link parseCtnConfig} and {@link parseCtnConfigText}. */
export interface CtnConfigParseOptions {
  /** Value positions by path (from `parseJsonc`), for line:column in messages. */
  readonly positions?: ReadonlyMap<string, JsoncPosition>;
  /** Key positions by path (from `parseJsonc`), for unknown fields. */
  readonly keyPositions?: ReadonlyMap<string, JsoncPosition>;
  /** Resolves the file paths of the config (credentials, secret, KV); default unchanged. */
  readonly resolvePath?: (path: string) => string;
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

const _port = _int(1, 65535);
const _id = _string();
const _name = _pattern(
  /^[A-Za-z0-9_.-]{1,64}$/,
  "a name (1-64 characters: letters, digits, _ . -)",
);

const _aa: _Check<AaConfig> = _check("an object", (v, path, ctx) => {
  const r = _object({
    listen: _def(_hostPort(PANA_UDP_PORT, true), { address: "0.0.0.0", port: PANA_UDP_PORT }),
    credentials: _opt(_file()),
    serverId: _opt(_id),
    radius: _opt(_object({
      server: _req(_object(
        { address: _req(_ip()), port: _opt(_port) },
        `an object { "address": IP, "port"?: 1-65535 (default ${RADIUS_AUTH_PORT}) }`,
      )),
      secretFile: _req(_file()),
      timeoutMs: _opt(_int(1, 60_000)),
      retries: _opt(_int(0, 10)),
      nasIdentifier: _opt(_id),
    })),
    lifetimeS: _opt(_int(1, 0xffffffff)),
    kv: _opt(_object({ path: _req(_file()), keyFile: _req(_file()) })),
  })(v, path, ctx);
  if (r === _INVALID) {
    return _INVALID;
  }
  const { credentials, serverId, radius, ...rest } = r;
  if ((credentials === undefined) === (radius === undefined)) {
    return _issue(
      ctx,
      path,
      'exactly one of "credentials" (local EAP-PSK) and "radius" (RADIUS relay)',
      credentials === undefined ? "neither" : "both",
    );
  }
  if (radius !== undefined) {
    if (serverId !== undefined) {
      return _issue(
        ctx,
        jsoncPath(path, "serverId"),
        'no "serverId" with "radius" (the AAA server has its own identity)',
        _describe(serverId),
      );
    }
    return { ...rest, backend: { kind: "radius", ...radius } };
  }
  return {
    ...rest,
    backend: {
      kind: "local",
      credentialsFile: credentials!,
      ...(serverId === undefined ? {} : { serverId }),
    },
  };
});

const _ar: _Check<ArConfig> = _object({
  listen: _def(_hostPort(PHT_UDP_PORT, true), { address: "0.0.0.0", port: PHT_UDP_PORT }),
  tun: _opt(_object({
    ctnInterface: _req(_pattern(
      /^[A-Za-z0-9_.:-]{1,15}$/,
      "an interface name (1-15 characters: letters, digits, _ . : -)",
    )),
    name: _opt(_pattern(
      /^[A-Za-z0-9_.:%-]{1,15}$/,
      "a TUN device name (1-15 characters: letters, digits, _ . : - and %d)",
    )),
    mtu: _opt(_int(576, 65535)),
  })),
  buffer: _def(
    _object({
      packets: _def(_int(1, 1_000_000), 1024),
      ms: _def(_int(1, 600_000), 2000),
    }),
    { packets: 1024, ms: 2000 },
  ),
  maxLifetimeMs: _opt(_int(1_000, 86_400_000)),
});

const _embedded = {
  listen: _def(_hostPort(DHCP_SERVER_PORT, true), {
    address: "0.0.0.0",
    port: DHCP_SERVER_PORT,
  } as ListenAddress),
  subnet: _req(_cidr4()),
  range: _req(_check<readonly [string, string]>(
    "a pair [first, last] of IPv4 addresses",
    (v, path, ctx) => {
      const expected = "a pair [first, last] of IPv4 addresses";
      if (!Array.isArray(v) || v.length !== 2) return _issue(ctx, path, expected, _describe(v));
      const r = _array(_ip(4))(v, path, ctx);
      return r === _INVALID ? _INVALID : [r[0]!, r[1]!] as const;
    },
  )),
  router: _opt(_ip(4)),
  dns: _def(_array(_ip(4)), [] as readonly string[]),
  leaseTimeS: _opt(_int(1, 0xffffffff - 1)),
  rapidCommit: _def(_bool(), false),
  serverId: _opt(_ip(4)),
};

const _ca: _Check<CaConfig> = _refine(
  _variants("kind", {
    embedded: _embedded,
    external: {
      gate: _def(
        _object({
          netns: _opt(_name),
          family: _def(_literal("inet", "ip"), "inet" as "inet" | "ip"),
          table: _def(_name, "mpa_ca"),
          set: _def(_name, "allowed"),
          port: _def(_port, DHCP_SERVER_PORT),
        }),
        { family: "inet", table: "mpa_ca", set: "allowed", port: DHCP_SERVER_PORT },
      ),
    },
  }),
  (ca, path, ctx) => {
    if (ca.kind !== "embedded") return;
    if (ca.listen.address.includes(":")) {
      // DHCPv4 (RFC 2131): the embedded CA binds an IPv4 socket.
      _issue(
        ctx,
        jsoncPath(path, "listen"),
        '"HOST:PORT" with an IPv4 address (the embedded CA serves DHCPv4)',
        _describe(formatListenAddress(ca.listen)),
      );
    }
    let inside = true;
    const expectIn = (address: string, p: string): void => {
      if (!_inSubnet4(address, ca.subnet)) {
        inside = false;
        _issue(ctx, p, `an address inside the subnet ${ca.subnet}`, _describe(address));
      }
    };
    const range = jsoncPath(path, "range");
    expectIn(ca.range[0], jsoncPath(range, 0));
    expectIn(ca.range[1], jsoncPath(range, 1));
    if (inside && _ipv4Number(ca.range[0]) > _ipv4Number(ca.range[1])) {
      _issue(ctx, range, "first <= last", `${ca.range[0]} > ${ca.range[1]}`);
    }
    if (ca.router !== undefined) expectIn(ca.router, jsoncPath(path, "router"));
  },
);

const _ctn: _Check<CtnConfig> = _object(
  {
    ctn: _req(_id),
    aa: _req(_aa),
    ar: _def(_ar, {
      listen: { address: "0.0.0.0", port: PHT_UDP_PORT },
      buffer: { packets: 1024, ms: 2000 },
    }),
    ca: _req(_ca),
    log: _def(_logCheck, DEFAULT_LOG_CONFIG),
  },
  "an object (the CTN configuration)",
  ["$schema", "description"],
);

// ---------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------

/**
 * Validates a parsed CTN configuration.
 *
 * @param value the parsed JSON(C) value
 * @param source the file's name, for messages
 * @param options positions (for line:column) and a path resolver
 * @returns the typed configuration, defaults filled in
 * @throws {ConfigFileError} with every problem found
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { ConfigFileError } from "./config_error.ts";
 * const c = parseCtnConfig({
 *   ctn: "B",
 *   aa: { credentials: "aa.psk" },
 *   ca: { kind: "embedded", subnet: "10.0.2.0/24", range: ["10.0.2.100", "10.0.2.199"] },
 * }, "ctn.jsonc");
 * assertEquals(c.aa.backend, { kind: "local", credentialsFile: "aa.psk" });
 * assertEquals(c.ar.listen, { address: "0.0.0.0", port: 7716 });
 * const e = assertThrows(() => parseCtnConfig({ ctn: "B", aa: {}, ca: { kind: "dhcp" } }, "ctn.jsonc"), ConfigFileError);
 * assertEquals(e.issues.map((i: { path: string }) => i.path), ["aa", "ca.kind"]);
 * ```
 */
export function parseCtnConfig(
  value: unknown,
  source: string,
  options: CtnConfigParseOptions = {},
): CtnConfig {
  return _run(_ctn, value, source, options);
}

/**
 * Parses and validates the text of a CTN configuration file (JSONC).
 *
 * @param text the file's text
 * @param source the file's name, for messages
 * @param options a path resolver
 * @returns the typed configuration
 * @throws {ConfigFileError} with every problem found (a syntax error alone)
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { ConfigFileError } from "./config_error.ts";
 * const e = assertThrows(() => parseCtnConfigText('{ "ctn": "B" /* no comma *\/ "aa": {} }', "ctn.jsonc"), ConfigFileError);
 * assertEquals(e.message, 'ctn.jsonc:1:29: expected "," or "}" after the value of "ctn" (JSONC syntax), got "\\""');
 * ```
 */
export function parseCtnConfigText(
  text: string,
  source: string,
  options: Pick<CtnConfigParseOptions, "resolvePath"> = {},
): CtnConfig {
  return _runText(_ctn, text, source, options.resolvePath);
}
