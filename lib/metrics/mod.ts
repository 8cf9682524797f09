/**
 * Link metrics: samples, cells and CTN profiles.
 *
 * @module
 */
export * from "./link_sample.ts";
export * from "./cell.ts";
