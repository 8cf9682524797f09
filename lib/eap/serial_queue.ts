/**
 * Runs asynchronous work one call at a time, in call order: an EAP method instance
 * must finish one packet before it looks at the next (RFC 3748 section 2.1: one
 * outstanding request; duplicates are answered from the state the first left).
 *
 * @module
 */

/**
 * A queue that runs each piece of work after the previous one has settled.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { SerialQueue } from "./serial_queue.ts";
 * const q = new SerialQueue();
 * const order: number[] = [];
 * await Promise.all([
 *   q.run(async () => { await Promise.resolve(); await Promise.resolve(); order.push(1); }),
 *   q.run(() => { order.push(2); }),
 * ]);
 * assertEquals(order, [1, 2]);
 * ```
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /**
   * Queues `work`; a failure settles only its own promise, not later work.
   *
   * @param work the work
   * @returns its result
   */
  run<T>(work: () => T | Promise<T>): Promise<T> {
    const next = this.#tail.then(work);
    this.#tail = next.catch(() => {});
    return next;
  }
}
