/**
 * Stores: the authentication agent's MPA-SA store on Deno KV (needs `--unstable-kv`).
 *
 * @module
 */
export * from "./kv_sa_store.ts";
