/**
 * mpa: Media-independent Pre-Authentication (RFC 6252) for Deno.
 *
 * @module
 */
import { VirtualTimeScheduler } from "npm:rxjs@^7.8.2";
export const x: number = new VirtualTimeScheduler().now();
