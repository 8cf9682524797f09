/**
 * The `mpa` command line as a library: `main(args)` runs a command and returns its
 * exit status; the commands are also exported one by one.
 *
 * @module
 */
export { main, MAIN_HELP } from "./main.ts";
export { CliError, loadConfig, REPLAY_HELP, replayCommand } from "./replay.ts";
export { SIMULATE_HELP, simulateCommand } from "./simulate.ts";
export { DEMO_HELP, demoCommand } from "./demo.ts";
export { formatPreauthJson, PREAUTH_DEFAULT_CTN, PREAUTH_HELP, preauthCommand } from "./preauth.ts";
export { CTN_HELP, ctnCommand, type CtnCommandOptions } from "./ctn.ts";
export { DHCP_ACQUIRE_HELP, dhcpAcquireCommand, formatDhcpLeaseJson } from "./dhcp_acquire.ts";
export { formatPreconfigureJson, PRECONFIGURE_HELP, preconfigureCommand } from "./preconfigure.ts";
export { AGENT_HELP, agentCommand, type AgentCommandOptions } from "./agent.ts";
export { STATUS_DEFAULT_URL, STATUS_HELP, statusCommand } from "./status.ts";
