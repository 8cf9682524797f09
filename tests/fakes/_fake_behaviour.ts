/**
 * What every in-memory fake port shares: configurable latency (on an injected rxjs
 * scheduler, or real timers when none is given), scripted failures, abort handling
 * and a log of calls for assertions.
 *
 * @module
 */
import { asyncScheduler, type SchedulerLike, timer } from "npm:rxjs@^7.8.2";
import { PortError, type PortErrorCode, type PortName } from "../../lib/ports.ts";

/** One recorded call of a fake port. */
export interface FakeCall {
  /** Method name (`preAuthenticate`, `open`, ...). */
  readonly method: string;
  /** The arguments, as passed (the options object excluded). */
  readonly args: readonly unknown[];
  /** Scheduler time when the call started, ms. */
  readonly at: number;
}

/** Decides whether a call fails, and how: return a code, a ready error, or nothing. */
export type FailurePolicy = (
  call: FakeCall,
) => PortErrorCode | PortError | undefined;

/** Options every fake accepts. */
export interface FakeBehaviourOptions {
  /**
   * Clock and timers: latency elapses on it and times in results come from its
   * `now()`. Give a `TestScheduler` / `VirtualTimeScheduler` for virtual time; the
   * default is rxjs' `asyncScheduler` (real timers, `Date.now()`).
   */
  readonly scheduler?: SchedulerLike;
  /** Latency of every call, ms, or per call. Default 0 (resolves on a microtask). */
  readonly latencyMs?: number | ((call: FakeCall) => number);
  /** Fails calls that this policy picks (checked after the latency elapsed). */
  readonly fail?: FailurePolicy;
}

/**
 * The common machinery of a fake port. Fakes own one and route every call through
 * {@link FakeBehaviour.run}.
 */
export class FakeBehaviour {
  readonly #port: PortName;
  readonly #scheduler: SchedulerLike;
  readonly #latency: (call: FakeCall) => number;
  readonly #policy: FailurePolicy | undefined;
  readonly #queued: Array<
    { method: string | undefined; failure: PortErrorCode | PortError }
  > = [];
  readonly #calls: FakeCall[] = [];

  /**
   * @param port the port the fake stands for (named in its errors)
   * @param options scheduler, latency and failure policy
   */
  constructor(port: PortName, options: FakeBehaviourOptions = {}) {
    this.#port = port;
    this.#scheduler = options.scheduler ?? asyncScheduler;
    const latency = options.latencyMs ?? 0;
    this.#latency = typeof latency === "number" ? () => latency : latency;
    this.#policy = options.fail;
  }

  /** The port name. */
  get port(): PortName {
    return this.#port;
  }

  /** Every call so far, oldest first. */
  get calls(): readonly FakeCall[] {
    return this.#calls;
  }

  /**
   * The scheduler's current time.
   *
   * @returns ms
   */
  now(): number {
    return this.#scheduler.now();
  }

  /**
   * Makes the next matching call fail (queued failures are used before the policy).
   *
   * @param failure a code (a generic message is made) or a ready error
   * @param method only a call of this method consumes it; any call when omitted
   */
  failNext(failure: PortErrorCode | PortError, method?: string): void {
    this.#queued.push({ method, failure });
  }

  /**
   * Builds this port's error.
   *
   * @param code the code
   * @param message the message
   * @returns the error
   */
  error(code: PortErrorCode, message: string): PortError {
    return new PortError(this.#port, code, message);
  }

  /**
   * Records a call, waits for its latency (abortable), applies scripted failures,
   * then runs the body.
   *
   * @param method method name
   * @param args arguments to record
   * @param signal the caller's abort signal
   * @param body the fake's behaviour once the latency elapsed; gets the scheduler
   *   time at which it did (the call's completion time, to stamp results with)
   * @returns the body's result
   */
  async run<T>(
    method: string,
    args: readonly unknown[],
    signal: AbortSignal | undefined,
    body: (at: number) => T | Promise<T>,
  ): Promise<T> {
    const call: FakeCall = { method, args, at: this.now() };
    this.#calls.push(call);
    const at = await this.#delay(this.#latency(call), signal);
    const failure = this.#takeFailure(call);
    if (failure !== undefined) {
      throw typeof failure === "string"
        ? this.error(
          failure,
          `Scripted failure: ${this.#port}.${method} ${failure}`,
        )
        : failure;
    }
    return await body(at);
  }

  #takeFailure(call: FakeCall): PortErrorCode | PortError | undefined {
    const index = this.#queued.findIndex((q) => q.method === undefined || q.method === call.method);
    if (index >= 0) return this.#queued.splice(index, 1)[0]!.failure;
    return this.#policy?.(call);
  }

  #delay(ms: number, signal: AbortSignal | undefined): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const aborted = () =>
        new PortError(this.#port, "aborted", "Aborted by the caller", {
          cause: signal?.reason,
        });
      if (signal?.aborted) {
        reject(aborted());
        return;
      }
      if (ms <= 0) {
        resolve(this.now());
        return;
      }
      const onAbort = () => {
        subscription.unsubscribe();
        reject(aborted());
      };
      const subscription = timer(ms, this.#scheduler).subscribe(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve(this.now());
      });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
