/**
 * The MN agent's imperative shell: {@link startAgent} runs the agent of `mpa agent`
 * (decisions from the link metrics driving the MPA sessions, status and metrics),
 * {@link buildAgentPorts} builds its ports from the configuration, and
 * {@link runSessions} executes the MPA session commands (RFC 6252 section 6.3)
 * against the ports.
 *
 * @module
 */
export * from "./run_sessions.ts";
export * from "./agent.ts";
export * from "./build_ports.ts";
export * from "./event_record.ts";
