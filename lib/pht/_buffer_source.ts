/**
 * Private helper of the PHT crypto: WebCrypto takes views of an `ArrayBuffer`, not
 * of a `SharedArrayBuffer`; views of an `ArrayBuffer` pass through without a copy.
 *
 * @module
 */

/** The view itself when backed by an `ArrayBuffer`, a copy otherwise. */
export function _bufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? bytes as Uint8Array<ArrayBuffer>
    : new Uint8Array(bytes);
}
