/**
 * The key hierarchy of mpa, on WebCrypto only: AES-128 (block, CTR), AES-CMAC
 * (RFC 4493), EAX, the EAP-PSK keys and protected channel (RFC 4764), prf+ over
 * HMAC-SHA-256 (RFC 7296), the PANA AUTH key and AVP (RFC 5191), and the MPA keys
 * (RFC 6252: MN-CA, MN-AR, PMK, TSK), with constant-time comparison and key
 * fingerprints for logs.
 *
 * @example
 * ```ts
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * import { eapPskDeriveKeys, eapPskKeySetup, keyFingerprint, mpaSaKeyMaterial } from "./mod.ts";
 * const { kdk } = await eapPskKeySetup(new Uint8Array(16).fill(1));
 * const { msk } = await eapPskDeriveKeys(kdk, new Uint8Array(16).fill(2));
 * const { mnCa, mnAr } = await mpaSaKeyMaterial(msk, 42, "net-b");
 * assertEquals((await keyFingerprint(mnCa)).length, 32);
 * assertEquals(mnAr.length, 32);
 * ```
 *
 * @module
 */
export * from "./aes_block.ts";
export * from "./cmac.ts";
export * from "./constant_time.ts";
export * from "./eap_psk_channel.ts";
export * from "./eap_psk_keys.ts";
export * from "./eax.ts";
export * from "./integrity_error.ts";
export * from "./key_fingerprint.ts";
export * from "./mpa_keys.ts";
export * from "./pana_keys.ts";
export * from "./prf_plus.ts";
export * from "./dhcp_auth.ts";
export * from "./pht_keys.ts";
export * from "./binding_auth.ts";
