import { describe, expect, it } from "npm:vitest@4.1.12";
import { MalformedMessageError } from "../../../lib/errors.ts";
import type { CtnInfo } from "../../../lib/ports.ts";
import { fromHex, hex } from "../../../lib/wire/_bytes.ts";
import {
  decodeInfoMessage,
  encodeInfoAnswer,
  encodeInfoMessage,
  INFO_QUERY_MAX_CTNS,
  INFO_QUERY_MAX_MESSAGE_LENGTH,
  INFO_QUERY_MAX_QUERY_LENGTH,
  INFO_QUERY_MAX_STRING_LENGTH,
  type InfoMessage,
  parseCtnInfo,
} from "../../../lib/wire/info_query.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const ctnB: CtnInfo = {
  network: "B",
  aa: { address: "10.0.2.2", port: 7160 },
  ca: { address: "10.0.2.3" },
  ar: { address: "2001:db8::1" },
  poas: ["apB1", "apB2"],
  cells: [
    { poa: "apB1", network: "B", pos: { x: 100, y: 0 }, coverage: 60 },
    { poa: "apB2", network: "B", pos: { x: 200, y: -5.5 }, coverage: 60, txPower: 17 },
  ],
  subnet: "10.0.2.0/24",
  profile: { network: "B", rttMs: 12, tpskMs: 3, tconfMs: 40, tbuMs: 8 },
};

// Literal fixtures: the exact bytes on the wire (UTF-8 JSON, canonical key order).
const QUERY_HEX = "7b2276223a312c2274797065223a227175657279222c226964223a34323934393637323935" +
  "2c22706f73223a7b2278223a31302e352c2279223a2d337d2c22726164697573223a3530307d";
const QUERY_TEXT = '{"v":1,"type":"query","id":4294967295,"pos":{"x":10.5,"y":-3},"radius":500}';
const ANSWER_TEXT = '{"v":1,"type":"answer","id":7,"ctns":[{"network":"B",' +
  '"aa":{"address":"10.0.2.2","port":7160},"ca":{"address":"10.0.2.3"},' +
  '"ar":{"address":"2001:db8::1"},"poas":["apB1","apB2"],"cells":[' +
  '{"poa":"apB1","network":"B","pos":{"x":100,"y":0},"coverage":60},' +
  '{"poa":"apB2","network":"B","pos":{"x":200,"y":-5.5},"coverage":60,"txPower":17}],' +
  '"subnet":"10.0.2.0/24",' +
  '"profile":{"network":"B","rttMs":12,"tpskMs":3,"tconfMs":40,"tbuMs":8}}]}';

describe("information query codec (RFC 6252 section 7.1, 802.21-style information service)", () => {
  it("section 7.1 - decodes and encodes the query fixture byte for byte", () => {
    expect(text(fromHex(QUERY_HEX))).toBe(QUERY_TEXT);
    const q = decodeInfoMessage(fromHex(QUERY_HEX));
    expect(q).toEqual({ type: "query", id: 0xffffffff, pos: { x: 10.5, y: -3 }, radius: 500 });
    expect(hex(encodeInfoMessage(q))).toBe(QUERY_HEX);
  });

  it("section 7.1 - a query without position asks for every CTN", () => {
    const bytes = utf8('{"v":1,"type":"query","id":0}');
    expect(decodeInfoMessage(bytes)).toEqual({ type: "query", id: 0 });
    expect(text(encodeInfoMessage({ type: "query", id: 0 }))).toBe('{"v":1,"type":"query","id":0}');
  });

  it("section 6.3 step 1 - the answer fixture carries the AA, CA and AR addresses of each CTN", () => {
    const a = decodeInfoMessage(utf8(ANSWER_TEXT));
    expect(a).toEqual({ type: "answer", id: 7, ctns: [ctnB] });
    expect(text(encodeInfoMessage({ type: "answer", id: 7, ctns: [ctnB] }))).toBe(ANSWER_TEXT);
  });

  it("round trips queries and answers, keys in canonical order whatever the input order", () => {
    const messages: InfoMessage[] = [
      { type: "query", id: 1 },
      { type: "query", id: 2, pos: { x: 0, y: 0 } },
      { type: "answer", id: 3, ctns: [] },
      { type: "answer", id: 4, truncated: true, ctns: [ctnB] },
    ];
    for (const m of messages) expect(decodeInfoMessage(encodeInfoMessage(m))).toEqual(m);
    const shuffled = utf8('{"id":7,"ctns":[],"type":"answer","v":1}');
    expect(text(encodeInfoMessage(decodeInfoMessage(shuffled)))).toBe(
      '{"v":1,"type":"answer","id":7,"ctns":[]}',
    );
  });

  it.each([
    ["empty datagram", "", "empty datagram"],
    ["not JSON", '{"v":1,', "not JSON"],
    ["a JSON array", "[]", "message: expected an object"],
    ["another version", '{"v":2,"type":"query","id":1}', "v: expected version 1"],
    ["no version", '{"type":"query","id":1}', "v: expected version 1"],
    ["unknown type", '{"v":1,"type":"hello","id":1}', "type: expected"],
    ["negative id", '{"v":1,"type":"query","id":-1}', "id: expected an integer"],
    ["id over 32 bits", '{"v":1,"type":"query","id":4294967296}', "id: expected an integer"],
    ["fractional id", '{"v":1,"type":"query","id":1.5}', "id: expected an integer"],
    ["string id", '{"v":1,"type":"query","id":"1"}', "id: expected an integer"],
    ["unknown key", '{"v":1,"type":"query","id":1,"z":1}', 'unknown key "z"'],
    ["radius without pos", '{"v":1,"type":"query","id":1,"radius":5}', "radius: needs pos"],
    ["zero radius", '{"v":1,"type":"query","id":1,"pos":{"x":0,"y":0},"radius":0}', "radius"],
    ["pos without y", '{"v":1,"type":"query","id":1,"pos":{"x":0}}', "pos.y"],
    ["pos with z", '{"v":1,"type":"query","id":1,"pos":{"x":0,"y":0,"z":0}}', "unknown key"],
    ["truncated false", '{"v":1,"type":"answer","id":1,"truncated":false,"ctns":[]}', "truncated"],
    ["ctns not an array", '{"v":1,"type":"answer","id":1,"ctns":{}}', "ctns: expected an array"],
    ["answer without ctns", '{"v":1,"type":"answer","id":1}', "ctns: expected an array"],
  ])("refuses %s with MalformedMessageError", (_name, input, detail) => {
    expect(() => decodeInfoMessage(utf8(input))).toThrow(MalformedMessageError);
    expect(() => decodeInfoMessage(utf8(input))).toThrow(detail);
  });

  it("refuses invalid UTF-8", () => {
    const bytes = new Uint8Array([...utf8('{"v":1,"type":"query","id":1,"x":"'), 0xff, 0x22, 0x7d]);
    expect(() => decodeInfoMessage(bytes)).toThrow("invalid UTF-8");
  });

  it.each([
    [
      "a bad AA address",
      { aa: { address: "10.0.2" } },
      "ctns[0].aa.address: expected an IP address",
    ],
    ["a port 0", { ca: { address: "10.0.2.3", port: 0 } }, "ctns[0].ca.port"],
    ["a port over 65535", { ca: { address: "10.0.2.3", port: 65536 } }, "ctns[0].ca.port"],
    ["a zone index", { ar: { address: "fe80::1%eth0" } }, "ctns[0].ar.address"],
    ["an empty network", { network: "" }, "ctns[0].network"],
    ["a cell of another network", {
      cells: [{ poa: "apB1", network: "C", pos: { x: 0, y: 0 }, coverage: 1 }],
    }, "ctns[0].cells[0].network: expected B, got C"],
    ["a cell of an unknown PoA", {
      cells: [{ poa: "apZ", network: "B", pos: { x: 0, y: 0 }, coverage: 1 }],
    }, "ctns[0].cells[0].poa: apZ is not in poas"],
    ["a zero coverage", {
      cells: [{ poa: "apB1", network: "B", pos: { x: 0, y: 0 }, coverage: 0 }],
    }, "ctns[0].cells[0].coverage"],
    ["a duplicate PoA", { poas: ["apB1", "apB1"] }, "ctns[0].poas: duplicate PoA"],
    ["a subnet without prefix", { subnet: "10.0.2.0" }, "ctns[0].subnet"],
    ["a /33 subnet", { subnet: "10.0.2.0/33" }, "ctns[0].subnet: invalid prefix length"],
    ["a profile of another network", { profile: { network: "C" } }, "ctns[0].profile.network"],
    ["a negative rtt", { profile: { network: "B", rttMs: -1 } }, "ctns[0].profile.rttMs"],
    ["an unknown CTN key", { cell: [] }, 'ctns[0]: unknown key "cell"'],
  ])("refuses a CTN with %s, naming the field", (_name, patch, detail) => {
    const bad = JSON.stringify({ v: 1, type: "answer", id: 1, ctns: [{ ...ctnB, ...patch }] });
    expect(() => decodeInfoMessage(utf8(bad))).toThrow(MalformedMessageError);
    expect(() => decodeInfoMessage(utf8(bad))).toThrow(detail);
  });

  it("refuses two CTNs with one network id", () => {
    const bad = JSON.stringify({ v: 1, type: "answer", id: 1, ctns: [ctnB, ctnB] });
    expect(() => decodeInfoMessage(utf8(bad))).toThrow("ctns[1].network: duplicate B");
  });

  it("limits: oversized datagrams, queries, lists and strings are refused", () => {
    const big = new Uint8Array(INFO_QUERY_MAX_MESSAGE_LENGTH + 1).fill(0x20);
    expect(() => decodeInfoMessage(big)).toThrow("Oversized info message: 60001 bytes");
    // A query padded with whitespace past the query limit.
    const padded = utf8(`{"v":1,"type":"query","id":1}${" ".repeat(INFO_QUERY_MAX_QUERY_LENGTH)}`);
    expect(() => decodeInfoMessage(padded)).toThrow("Oversized info query");
    const many = { v: 1, type: "answer", id: 1, ctns: new Array(INFO_QUERY_MAX_CTNS + 1).fill(0) };
    expect(() => decodeInfoMessage(utf8(JSON.stringify(many)))).toThrow("257 entries, at most 256");
    const long = { ...ctnB, network: "n".repeat(INFO_QUERY_MAX_STRING_LENGTH + 1) };
    expect(() => encodeInfoMessage({ type: "answer", id: 1, ctns: [long] })).toThrow(
      "ctns[0].network: 256 characters",
    );
  });

  it("encoding validates: non-finite numbers never reach the wire", () => {
    expect(() => encodeInfoMessage({ type: "query", id: 1, pos: { x: NaN, y: 0 } })).toThrow(
      "pos.x: expected a finite number",
    );
    expect(() => encodeInfoMessage({ type: "query", id: 1, radius: 3 })).toThrow("needs pos");
  });

  it("encodeInfoAnswer keeps the nearest CTNs that fit one datagram and flags truncation", () => {
    const list: CtnInfo[] = Array.from({ length: 300 }, (_, i) => ({
      network: `net${i}`,
      aa: { address: "10.0.2.2" },
      ca: { address: "10.0.2.3" },
      ar: { address: "10.0.2.1" },
      poas: [`ap${i}`],
    }));
    const { bytes, included } = encodeInfoAnswer(5, list);
    expect(included).toBe(INFO_QUERY_MAX_CTNS);
    const a = decodeInfoMessage(bytes);
    expect(a).toMatchObject({ type: "answer", id: 5, truncated: true });
    expect(a.type === "answer" && a.ctns.map((c) => c.network)).toEqual(
      list.slice(0, INFO_QUERY_MAX_CTNS).map((c) => c.network),
    );
    const small = encodeInfoAnswer(5, list, 1000);
    expect(small.bytes.length).toBeLessThanOrEqual(1000);
    expect(small.included).toBeGreaterThan(0);
    expect(decodeInfoMessage(small.bytes)).toMatchObject({ truncated: true });
    const fits = encodeInfoAnswer(5, list.slice(0, 2));
    expect(fits.included).toBe(2);
    expect(decodeInfoMessage(fits.bytes)).not.toHaveProperty("truncated");
  });

  it("parseCtnInfo validates a configuration entry with the same rules", () => {
    expect(parseCtnInfo(ctnB)).toEqual(ctnB);
    expect(() => parseCtnInfo({ ...ctnB, aa: {} }, "table[3]")).toThrow(
      "Invalid CTN info: table[3].aa.address",
    );
  });
});
