/**
 * MPA sessions (RFC 6252 sections 6.3, 7.2, C.1-C.4): the per-CTN session reducer
 * and the orchestrator that joins the handover decisions to the sessions and the
 * ports.
 *
 * @module
 */
export * from "./session.ts";
export * from "./orchestrator.ts";
