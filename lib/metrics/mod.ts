/**
 * Link metrics: samples, cells and CTN profiles, and the seeded {@link Prng} that
 * simulations of them draw from.
 *
 * @module
 */
export * from "./link_sample.ts";
export * from "./cell.ts";
export * from "./prng.ts";
