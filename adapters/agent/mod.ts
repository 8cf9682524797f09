/**
 * The MN agent's imperative shell: {@link runSessions} executes the MPA session
 * commands (RFC 6252 section 6.3) against the ports.
 *
 * @module
 */
export * from "./run_sessions.ts";
