import { describe, expect, it } from "npm:vitest@4.1.12";
import {
  eapPskChannelKey,
  eapPskChannelOpen,
  eapPskChannelSeal,
} from "../../../lib/keys/eap_psk_channel.ts";
import { IntegrityError } from "../../../lib/keys/integrity_error.ts";

const hex = (s: string): Uint8Array =>
  Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const toHex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/*
 * RFC 4764 section 3.3. The TEK is the one derived in eap_psk_keys.test.ts; expected
 * values computed with the OpenSSL 3.0 command line (CMAC and aes-128-ctr composed as
 * EAX), the same composition that reproduces the EAX paper's vector 2. Message 3 is
 * code 1, id 5, length 59, type 47, flags T=2, RAND_S; message 4 code 2, length 43, T=3.
 */
const TEK = hex("7c63333266affa9d5c50e999d078d89b");
const HEADER_3 = hex("0105003b2f80a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
const HEADER_4 = hex("0205002b2fc0a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
const DONE_SUCCESS = new Uint8Array([0x80]); // R = 2 (DONE_SUCCESS), E = 0

describe("eapPskChannelSeal (RFC 4764 section 3.3)", () => {
  it("seals the server's result in message 3 (Nonce 0) as computed with openssl", async () => {
    const sealed = await eapPskChannelSeal(TEK, 0, HEADER_3, DONE_SUCCESS);
    expect(toHex(sealed.ciphertext)).toBe("0e");
    expect(toHex(sealed.tag)).toBe("59aaca801c87b8a0b5d0b019f6f5d1b0");
  });

  it("seals the peer's answer in message 4 (Nonce 1) as computed with openssl", async () => {
    const sealed = await eapPskChannelSeal(TEK, 1, HEADER_4, DONE_SUCCESS);
    expect(toHex(sealed.ciphertext)).toBe("27");
    expect(toHex(sealed.tag)).toBe("a64854beccf5c3f6fc635b8df6920a64");
  });

  it("refuses a header that is not 22 bytes, a TEK that is not 16, and a nonce out of range", async () => {
    await expect(eapPskChannelSeal(TEK, 0, HEADER_3.slice(1), DONE_SUCCESS)).rejects.toThrow(
      new RangeError("Invalid EAP-PSK protected channel header: expected 22 bytes, got 21"),
    );
    await expect(eapPskChannelSeal(TEK.slice(1), 0, HEADER_3, DONE_SUCCESS)).rejects.toThrow(
      RangeError,
    );
    await expect(eapPskChannelSeal(TEK, -1, HEADER_3, DONE_SUCCESS)).rejects.toThrow(RangeError);
    await expect(eapPskChannelSeal(TEK, 2 ** 32, HEADER_3, DONE_SUCCESS)).rejects.toThrow(
      RangeError,
    );
  });
});

describe("eapPskChannelOpen (RFC 4764 section 3.3)", () => {
  it("opens message 3 and message 4", async () => {
    expect(
      await eapPskChannelOpen(TEK, 0, HEADER_3, hex("0e"), hex("59aaca801c87b8a0b5d0b019f6f5d1b0")),
    )
      .toEqual(DONE_SUCCESS);
    expect(
      await eapPskChannelOpen(TEK, 1, HEADER_4, hex("27"), hex("a64854beccf5c3f6fc635b8df6920a64")),
    )
      .toEqual(DONE_SUCCESS);
  });

  it("accepts the largest nonce", async () => {
    const sealed = await eapPskChannelSeal(TEK, 0xffffffff, HEADER_4, DONE_SUCCESS);
    expect(await eapPskChannelOpen(TEK, 0xffffffff, HEADER_4, sealed.ciphertext, sealed.tag))
      .toEqual(DONE_SUCCESS);
  });

  it("refuses a replayed message under another nonce, an altered header, an altered R flag, another TEK", async () => {
    const tag = hex("59aaca801c87b8a0b5d0b019f6f5d1b0");
    await expect(eapPskChannelOpen(TEK, 1, HEADER_3, hex("0e"), tag)).rejects.toThrow(
      IntegrityError,
    );
    const header = HEADER_3.slice();
    header[1] = 6; // another EAP identifier
    await expect(eapPskChannelOpen(TEK, 0, header, hex("0e"), tag)).rejects.toThrow(IntegrityError);
    await expect(eapPskChannelOpen(TEK, 0, HEADER_3, hex("4e"), tag)).rejects.toThrow(
      IntegrityError,
    );
    await expect(eapPskChannelOpen(new Uint8Array(16), 0, HEADER_3, hex("0e"), tag)).rejects
      .toThrow(IntegrityError);
  });

  it("refuses a tag that is not 16 bytes (no truncated tags in EAP-PSK)", async () => {
    await expect(
      eapPskChannelOpen(TEK, 0, HEADER_3, hex("0e"), hex("59aaca801c87b8a0b5d0b019f6f5d1")),
    ).rejects.toThrow(
      new RangeError("Invalid EAP-PSK protected channel tag: expected 16 bytes, got 15"),
    );
  });
});

describe("eapPskChannelKey (RFC 4764 section 3.3, the TEK imported once)", () => {
  it("seals message 4 and opens message 3 as the raw TEK does (openssl values)", async () => {
    const channel = await eapPskChannelKey(TEK);
    const sealed = await eapPskChannelSeal(channel, 0, HEADER_3, DONE_SUCCESS);
    expect([toHex(sealed.ciphertext), toHex(sealed.tag)]).toEqual([
      "0e",
      "59aaca801c87b8a0b5d0b019f6f5d1b0",
    ]);
    expect(await eapPskChannelOpen(channel, 0, HEADER_3, sealed.ciphertext, sealed.tag))
      .toEqual(DONE_SUCCESS);
    const four = await eapPskChannelSeal(channel, 1, HEADER_4, DONE_SUCCESS);
    expect(four).toEqual(await eapPskChannelSeal(TEK, 1, HEADER_4, DONE_SUCCESS));
  });

  it("still refuses an altered header, another nonce and a bad TEK length", async () => {
    const channel = await eapPskChannelKey(TEK);
    const sealed = await eapPskChannelSeal(channel, 0, HEADER_3, DONE_SUCCESS);
    const altered = HEADER_3.slice();
    altered[21]! ^= 1;
    await expect(eapPskChannelOpen(channel, 0, altered, sealed.ciphertext, sealed.tag))
      .rejects.toThrow(IntegrityError);
    await expect(eapPskChannelOpen(channel, 1, HEADER_3, sealed.ciphertext, sealed.tag))
      .rejects.toThrow(IntegrityError);
    await expect(eapPskChannelKey(new Uint8Array(15))).rejects.toThrow(RangeError);
  });
});
