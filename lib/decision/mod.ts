/**
 * Handover decisions: the reducers, the section C.6 planner and the `decide` pipeline.
 *
 * @module
 */
export * from "./decision.ts";
export * from "./planner.ts";
export * from "./handover.ts";
export * from "./recovery.ts";
export * from "./sample_clock.ts";
export * from "./decide.ts";
export * from "./config.ts";
export * from "./format.ts";
