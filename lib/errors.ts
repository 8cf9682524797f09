/**
 * Typed errors shared by the pure core. Messages start with a capital letter, have
 * no trailing period, and put detail after a colon (see CONVENTIONS.md).
 *
 * @module
 */

/** Bytes or text that do not parse as the expected message. */
export class MalformedMessageError extends Error {
  override readonly name = "MalformedMessageError";
}

/** A well-formed message or value that the protocol or model forbids. */
export class ProtocolViolationError extends Error {
  override readonly name = "ProtocolViolationError";
}

/**
 * A link sample that fails validation; `field` names the offending field
 * (`t`, `poa`, `network`, `snr`, `pos.x`, `vel.speed`, ...).
 *
 * @example
 * ```ts
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 * const e = new MetricsValidationError("snr", "Invalid snr: NaN");
 * assert(e.field === "snr");
 * ```
 */
export class MetricsValidationError extends Error {
  override readonly name = "MetricsValidationError";
  /** The offending field, as a dotted path. */
  readonly field: string;
  /**
   * @param field the offending field, as a dotted path
   * @param message the human-readable reason
   */
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

/** Bad options or configuration passed to the core; `option` names it. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  /** The offending option, as a dotted path. */
  readonly option: string;
  /**
   * @param option the offending option, as a dotted path
   * @param message the human-readable reason
   */
  constructor(option: string, message: string) {
    super(message);
    this.option = option;
  }
}
