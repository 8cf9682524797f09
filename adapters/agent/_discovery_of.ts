/**
 * The discovery of an agent configuration (RFC 6252 section 7.1): the static CTN
 * table, or an information server queried by location. Shared by the port builder
 * and the agent's reload (SIGHUP with a new table).
 *
 * @module
 */
import { type AgentConfig, ctnInfoOf } from "../../lib/config/agent_config.ts";
import type { CtnInfo, Discovery } from "../../lib/ports.ts";
import { InfoServerDiscovery } from "../discovery/info_client.ts";
import { StaticDiscovery } from "../discovery/static_table.ts";

/**
 * The CTNs of the static table, as discovery returns them.
 *
 * @param config the agent configuration
 * @returns the table (empty with an information server)
 */
export function _staticCtns(config: AgentConfig): readonly CtnInfo[] {
  return config.discovery.kind === "static" ? config.discovery.ctns.map(ctnInfoOf) : [];
}

/**
 * Creates the configured discovery.
 *
 * @param config the agent configuration
 * @returns a static table or an information server client
 * @throws {ConfigError} for an entry the adapter refuses
 */
export function _discoveryOf(config: AgentConfig): Discovery {
  const d = config.discovery;
  if (d.kind === "static") return new StaticDiscovery(_staticCtns(config));
  return new InfoServerDiscovery({
    server: d.server,
    ...(d.timeoutMs === undefined ? {} : { timeoutMs: d.timeoutMs }),
    ...(d.retries === undefined ? {} : { retries: d.retries }),
    ...(d.radius === undefined ? {} : { radius: d.radius }),
  });
}
