/**
 * Test fixture: one MPA-with-buffering handover's phase times (RFC 6252 section 6.3
 * steps 1-6), Tauth, Tconf and the tunnel 10 ms each, the binding update 60 ms, the
 * link switch 3 ms, layer 3 60 ms; the execution starts at 1190 + `shift`.
 *
 * @module
 */
import type { HandoverTrace, Span } from "../../../bench/handover/mn_driver.ts";

/**
 * The trace, every time moved by `shift` ms.
 *
 * @param shift ms added to every time
 * @returns the trace
 */
export function handoverTrace(shift = 0): HandoverTrace {
  const s = (a: number, b: number): Span => [a + shift, b + shift];
  return {
    auth: s(500, 510),
    conf: s(510, 520),
    tunnel: s(520, 530),
    bu: s(540, 600),
    buProactive: true,
    executeStart: 1190 + shift,
    buffered: 1191 + shift,
    tunnelDeleted: 1192 + shift,
    link: s(1192, 1195),
    assigned: 1250 + shift,
    flushed: 1255 + shift,
    l3Done: 1255 + shift,
  };
}
