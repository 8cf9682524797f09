/**
 * Typed errors shared by the pure core. Messages start with a capital letter, have
 * no trailing period, and put detail after a colon (see CONVENTIONS.md).
 *
 * @module
 */

/**
 * Bytes or text that do not parse as the expected message: truncated, oversized,
 * a length field that disagrees with the data, an unknown code. The codecs throw it
 * instead of returning `undefined`.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { MalformedMessageError } from "./errors.ts";
 * import { decodeEap } from "./wire/eap.ts";
 * // The Length field says 9 bytes, only 5 arrived (RFC 3748 section 4).
 * const e = assertThrows(
 *   () => decodeEap(new Uint8Array([1, 1, 0, 9, 1])),
 *   MalformedMessageError,
 *   "Truncated EAP packet",
 * );
 * assertEquals(e.name, "MalformedMessageError");
 * ```
 */
export class MalformedMessageError extends Error {
  /** Always `MalformedMessageError`. */
  override readonly name = "MalformedMessageError";
}

/**
 * A well-formed message or value that the protocol or model forbids (a PANA message
 * with two AUTH AVPs, an empty EAP-PSK identity): it parses, but must be refused.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { ProtocolViolationError } from "./errors.ts";
 * const e = new ProtocolViolationError("Invalid PANA message: two AUTH AVPs");
 * assertEquals(e.name, "ProtocolViolationError");
 * assertEquals(e instanceof Error, true);
 * assertEquals(e.message, "Invalid PANA message: two AUTH AVPs");
 * ```
 */
export class ProtocolViolationError extends Error {
  /** Always `ProtocolViolationError`. */
  override readonly name = "ProtocolViolationError";
}

/**
 * A link sample that fails validation; `field` names the offending field
 * (`t`, `poa`, `network`, `snr`, `pos.x`, `vel.speed`, ...).
 *
 * @example
 * ```ts
 * import { assert } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { MetricsValidationError } from "./errors.ts";
 * const e = new MetricsValidationError("snr", "Invalid snr: NaN");
 * assert(e.field === "snr");
 * ```
 */
export class MetricsValidationError extends Error {
  /** Always `MetricsValidationError`. */
  override readonly name = "MetricsValidationError";
  /** The offending field, as a dotted path. */
  readonly field: string;
  /**
   * Creates the error for one offending field.
   *
   * @param field the offending field, as a dotted path
   * @param message the human-readable reason
   */
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

/**
 * Bad options or configuration passed to the core; `option` names it. Thrown at
 * call time (by `decide`, the operators, `Prng`, ...), before any data flows.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { ConfigError } from "./errors.ts";
 * import { resolveDecideOptions } from "./decision/decide.ts";
 * const e = assertThrows(() => resolveDecideOptions({ topK: 0 }), ConfigError);
 * assertEquals(e.option, "topK");
 * assertEquals(e.name, "ConfigError");
 * ```
 */
export class ConfigError extends Error {
  /** Always `ConfigError`. */
  override readonly name = "ConfigError";
  /** The offending option, as a dotted path. */
  readonly option: string;
  /**
   * Creates the error for one offending option.
   *
   * @param option the offending option, as a dotted path
   * @param message the human-readable reason
   */
  constructor(option: string, message: string) {
    super(message);
    this.option = option;
  }
}
