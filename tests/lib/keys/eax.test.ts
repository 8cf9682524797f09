import { describe, expect, it } from "npm:vitest@4.1.12";
import { importAesKey } from "../../../lib/keys/aes_block.ts";
import { eaxDecrypt, eaxEncrypt } from "../../../lib/keys/eax.ts";
import { IntegrityError } from "../../../lib/keys/integrity_error.ts";

const hex = (s: string): Uint8Array =>
  Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const toHex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/**
 * Test vectors of Bellare, Rogaway, Wagner, "The EAX Mode of Operation" (FSE 2004),
 * appendix (AES-128, 16-byte tag): MSG, KEY, NONCE, HEADER, and CIPHER = ciphertext || tag,
 * as printed in the paper (and as reproduced in Bouncy Castle's EAXTest.java).
 */
const PAPER: ReadonlyArray<
  readonly [msg: string, key: string, nonce: string, header: string, cipher: string]
> = [
  [
    "",
    "233952DEE4D5ED5F9B9C6D6FF80FF478",
    "62EC67F9C3A4A407FCB2A8C49031A8B3",
    "6BFB914FD07EAE6B",
    "E037830E8389F27B025A2D6527E79D01",
  ],
  [
    "F7FB",
    "91945D3F4DCBEE0BF45EF52255F095A4",
    "BECAF043B0A23D843194BA972C66DEBD",
    "FA3BFD4806EB53FA",
    "19DD5C4C9331049D0BDAB0277408F67967E5",
  ],
  [
    "1A47CB4933",
    "01F74AD64077F2E704C0F60ADA3DD523",
    "70C3DB4F0D26368400A10ED05D2BFF5E",
    "234A3463C1264AC6",
    "D851D5BAE03A59F238A23E39199DC9266626C40F80",
  ],
  [
    "481C9E39B1",
    "D07CF6CBB7F313BDDE66B727AFD3C5E8",
    "8408DFFF3C1A2B1292DC199E46B7D617",
    "33CCE2EABFF5A79D",
    "632A9D131AD4C168A4225D8E1FF755939974A7BEDE",
  ],
  [
    "40D0C07DA5E4",
    "35B6D0580005BBC12B0587124557D2C2",
    "FDB6B06676EEDC5C61D74276E1F8E816",
    "AEB96EAEBE2970E9",
    "071DFE16C675CB0677E536F73AFE6A14B74EE49844DD",
  ],
  [
    "4DE3B35C3FC039245BD1FB7D",
    "BD8E6E11475E60B268784C38C62FEB22",
    "6EAC5C93072D8E8513F750935E46DA1B",
    "D4482D1CA78DCE0F",
    "835BB4F15D743E350E728414ABB8644FD6CCB86947C5E10590210A4F",
  ],
  [
    "8B0A79306C9CE7ED99DAE4F87F8DD61636",
    "7C77D6E813BED5AC98BAA417477A2E7D",
    "1A8C98DCD73D38393B2BF1569DEEFC19",
    "65D2017990D62528",
    "02083E3979DA014812F59F11D52630DA30137327D10649B0AA6E1C181DB617D7F2",
  ],
  [
    "1BDA122BCE8A8DBAF1877D962B8592DD2D56",
    "5FFF20CAFAB119CA2FC73549E20F5B0D",
    "DDE59B97D722156D4D9AFF2BC7559826",
    "54B9F04E6A09189A",
    "2EC47B2C4954A489AFC7BA4897EDCDAE8CC33B60450599BD02C96382902AEF7F832A",
  ],
  [
    "6CF36720872B8513F6EAB1A8A44438D5EF11",
    "A4A4782BCFFD3EC5E7EF6D8C34A56123",
    "B781FCF2F75FA5A8DE97A9CA48E522EC",
    "899A175897561D7E",
    "0DE18FD0FDD91E7AF19F1D8EE8733938B1E8E7F6D2231618102FDB7FE55FF1991700",
  ],
  [
    "CA40D7446E545FFAED3BD12A740A659FFBBB3CEAB7",
    "8395FCF1E95BEBD697BD010BC766AAC3",
    "22E7ADD93CFC6393C57EC0B3C17D6B44",
    "126735FCC320D25A",
    "CB8920F87A6C75CFF39627B56E3ED197C552D295A7CFC46AFC253B4652B1AF3795B124AB6E",
  ],
];

describe("EAX (Bellare, Rogaway, Wagner, appendix test vectors)", () => {
  PAPER.forEach(([msg, keyHex, nonce, header, cipher], i) => {
    it(`test vector ${i + 1}: ${msg.length / 2}-byte message encrypts and decrypts`, async () => {
      const key = await importAesKey(hex(keyHex));
      const split = msg.length;
      const sealed = await eaxEncrypt(key, hex(nonce), hex(header), hex(msg));
      expect(toHex(sealed.ciphertext)).toBe(cipher.slice(0, split).toLowerCase());
      expect(toHex(sealed.tag)).toBe(cipher.slice(split).toLowerCase());
      const opened = await eaxDecrypt(
        key,
        hex(nonce),
        hex(header),
        hex(cipher.slice(0, split)),
        hex(cipher.slice(split)),
      );
      expect(toHex(opened)).toBe(msg.toLowerCase());
    });
  });

  it("encrypts a long (100-byte, 7-block) message as the openssl CMAC + CTR composition does", async () => {
    // Key, nonce and header of paper vector 10; message 00 01 .. 63. Expected values from
    // `openssl mac ... CMAC` and `openssl enc -aes-128-ctr` composed per the paper's definition.
    const key = await importAesKey(hex("8395FCF1E95BEBD697BD010BC766AAC3"));
    const nonce = hex("22E7ADD93CFC6393C57EC0B3C17D6B44");
    const header = hex("126735FCC320D25A");
    const message = Uint8Array.from({ length: 100 }, (_, i) => i);
    const sealed = await eaxEncrypt(key, nonce, header, message);
    expect(toHex(sealed.ciphertext)).toBe(
      "01c8f5bf103d2c3216a4fc941639ba072ef8fc6c04ff127313313e8003de41ce5fa7b7af92146cc810dad2bb" +
        "7643821425f12bb9d3643de70de65b1913abf933fce82c2bb28ee71e14892503a5c73b248e751b9c82c33d" +
        "796adf4a773af553fda32f7a54",
    );
    expect(toHex(sealed.tag)).toBe("01d13b00916d585d63cafd24e28b761a");
    expect(await eaxDecrypt(key, nonce, header, sealed.ciphertext, sealed.tag)).toEqual(message);
  });

  it("truncates the tag when asked (4-byte tag of vector 10, as in Bouncy Castle's test 11)", async () => {
    const [msg, keyHex, nonce, header, cipher] = PAPER[9]!;
    const key = await importAesKey(hex(keyHex));
    const sealed = await eaxEncrypt(key, hex(nonce), hex(header), hex(msg), 4);
    expect(toHex(sealed.tag)).toBe("cfc46afc");
    expect(toHex(sealed.ciphertext)).toBe(cipher.slice(0, msg.length).toLowerCase());
    expect(toHex(await eaxDecrypt(key, hex(nonce), hex(header), sealed.ciphertext, sealed.tag)))
      .toBe(msg.toLowerCase());
  });

  it("takes the same key stream for messages of up to one block (N' and E_K(N') in one call) as for longer ones", async () => {
    const key = await importAesKey(hex("8395FCF1E95BEBD697BD010BC766AAC3"));
    const nonce = hex("22E7ADD93CFC6393C57EC0B3C17D6B44");
    const header = hex("126735FCC320D25A");
    const long = Uint8Array.from({ length: 40 }, (_, i) => i * 7);
    const sealedLong = await eaxEncrypt(key, nonce, header, long);
    for (const length of [1, 15, 16, 17]) {
      const message = long.slice(0, length);
      const sealed = await eaxEncrypt(key, nonce, header, message);
      // Counter mode: a prefix of the plaintext gives a prefix of the ciphertext.
      expect(sealed.ciphertext).toEqual(sealedLong.ciphertext.slice(0, length));
      expect(await eaxDecrypt(key, nonce, header, sealed.ciphertext, sealed.tag)).toEqual(
        message,
      );
    }
  });

  it("round-trips 1000 bytes with a 22-byte header and a 16-byte nonce", async () => {
    const key = await importAesKey(new Uint8Array(16).fill(0x42));
    const nonce = new Uint8Array(16);
    nonce[15] = 1;
    const header = new Uint8Array(22).fill(7);
    const message = Uint8Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff);
    const sealed = await eaxEncrypt(key, nonce, header, message);
    expect(await eaxDecrypt(key, nonce, header, sealed.ciphertext, sealed.tag)).toEqual(message);
  });
});

describe("eaxDecrypt refuses altered input with IntegrityError", () => {
  const setup = async () => {
    const [msg, keyHex, nonce, header, cipher] = PAPER[4]!;
    return {
      key: await importAesKey(hex(keyHex)),
      nonce: hex(nonce),
      header: hex(header),
      ciphertext: hex(cipher.slice(0, msg.length)),
      tag: hex(cipher.slice(msg.length)),
    };
  };
  const flip = (b: Uint8Array, i: number): Uint8Array => {
    const out = b.slice();
    out[i]! ^= 0x01;
    return out;
  };

  it("a flipped ciphertext bit", async () => {
    const v = await setup();
    await expect(eaxDecrypt(v.key, v.nonce, v.header, flip(v.ciphertext, 0), v.tag)).rejects
      .toThrow(IntegrityError);
  });

  it("a flipped header bit", async () => {
    const v = await setup();
    await expect(eaxDecrypt(v.key, v.nonce, flip(v.header, 7), v.ciphertext, v.tag)).rejects
      .toThrow(IntegrityError);
  });

  it("another nonce", async () => {
    const v = await setup();
    await expect(eaxDecrypt(v.key, flip(v.nonce, 15), v.header, v.ciphertext, v.tag)).rejects
      .toThrow(IntegrityError);
  });

  it("a flipped tag bit, first or last byte", async () => {
    const v = await setup();
    await expect(eaxDecrypt(v.key, v.nonce, v.header, v.ciphertext, flip(v.tag, 0))).rejects
      .toThrow(IntegrityError);
    await expect(eaxDecrypt(v.key, v.nonce, v.header, v.ciphertext, flip(v.tag, 15))).rejects
      .toThrow(IntegrityError);
  });

  it("another key", async () => {
    const v = await setup();
    const other = await importAesKey(new Uint8Array(16));
    await expect(eaxDecrypt(other, v.nonce, v.header, v.ciphertext, v.tag)).rejects.toThrow(
      new IntegrityError("EAX tag mismatch: the message or its header was altered"),
    );
  });

  it("a truncated ciphertext", async () => {
    const v = await setup();
    await expect(eaxDecrypt(v.key, v.nonce, v.header, v.ciphertext.slice(1), v.tag)).rejects
      .toThrow(IntegrityError);
  });
});

describe("EAX tag lengths", () => {
  it("refuses tag lengths outside 1 to 16 bytes", async () => {
    const key = await importAesKey(new Uint8Array(16));
    const e = new Uint8Array(0);
    await expect(eaxEncrypt(key, e, e, e, 0)).rejects.toThrow(
      new RangeError("Invalid EAX tag length: expected 1 to 16 bytes, got 0"),
    );
    await expect(eaxEncrypt(key, e, e, e, 17)).rejects.toThrow(RangeError);
    await expect(eaxEncrypt(key, e, e, e, 1.5)).rejects.toThrow(RangeError);
    await expect(eaxDecrypt(key, e, e, e, new Uint8Array(0))).rejects.toThrow(RangeError);
    await expect(eaxDecrypt(key, e, e, e, new Uint8Array(17))).rejects.toThrow(RangeError);
  });
});
