/**
 * Private helpers of the PANA adapters: UDP sockets through `node:dgram` (Deno's
 * `Deno.listenDatagram` still needs `--unstable-net`) with a read buffer sized to PANA,
 * address canonicalization, a
 * timer table on an rxjs scheduler, and the default clock and random source.
 *
 * @module
 */
import { createSocket, type Socket } from "node:dgram";
import { isIP } from "node:net";
import type { SchedulerLike, Subscription } from "npm:rxjs@^7.8.2";
import { PANA_MAX_MESSAGE_LENGTH } from "../../lib/wire/pana_constants.ts";

/** Canonical text of an IP address, so that `::1` and `0::1` compare equal. */
export function _canonicalIp(address: string): string {
  if (isIP(address) !== 6) return address;
  try {
    return new URL(`http://[${address}]/`).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return address.toLowerCase();
  }
}

/** `host:port`, with brackets around an IPv6 host. */
export function _hostPort(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Opens a UDP socket bound to `address:port` (port 0: ephemeral), reading datagrams of
 * up to `maxLength` bytes (longer ones are still seen as longer, see
 * {@link _sizeReadBuffer}).
 *
 * @throws the bind error (EADDRINUSE, EADDRNOTAVAIL, EACCES for ports below 1024)
 */
export function _bindUdp(
  family: 4 | 6,
  address: string,
  port: number,
  maxLength: number = PANA_MAX_MESSAGE_LENGTH,
): Promise<Socket> {
  const socket = createSocket({ type: family === 6 ? "udp6" : "udp4" });
  return new Promise<Socket>((resolve, reject) => {
    const onError = (error: Error) => {
      try {
        socket.close();
      } catch {
        // never bound
      }
      reject(error);
    };
    socket.once("error", onError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off("error", onError);
      _sizeReadBuffer(socket, maxLength);
      resolve(socket);
    });
  });
}

/**
 * Sizes the buffer each datagram is read into to just over `maxLength`. Deno's
 * node:dgram (2.x) reads every datagram into a fresh buffer of the socket's
 * receive-buffer size, 64 KiB by default, and does not hand that size to the kernel
 * (the kernel's buffer stays at net.core.rmem_default): allocating and zeroing 64 KiB
 * per datagram more than doubled the cost of a receive on the loopback (measured
 * with `bench/preauth_load.ts`). One byte more than `maxLength` keeps an oversized
 * datagram detectable: it arrives longer than `maxLength` (truncated, if larger than
 * the buffer) and is dropped as oversized.
 */
function _sizeReadBuffer(socket: Socket, maxLength: number): void {
  try {
    socket.setRecvBufferSize(maxLength + 1);
  } catch {
    // The default size still works, at a higher cost per datagram.
  }
}

/** Closes a socket; resolves when closed (at once if it was closed already). */
export function _closeUdp(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/** The longest delay a JavaScript timer honours, ms. */
const _MAX_DELAY_MS = 2_147_483_647;

/** Timers by id on an rxjs scheduler: arming an armed id replaces it. */
export class _Timers {
  readonly #scheduler: SchedulerLike;
  readonly #timers = new Map<string, Subscription>();

  constructor(scheduler: SchedulerLike) {
    this.#scheduler = scheduler;
  }

  arm(id: string, delayMs: number, fire: () => void): void {
    this.#timers.get(id)?.unsubscribe();
    // setTimeout fires at once beyond 2^31 - 1 ms (about 24.8 days): a long
    // Session-Lifetime is waited for in steps.
    const step = Math.min(delayMs, _MAX_DELAY_MS);
    this.#timers.set(
      id,
      this.#scheduler.schedule(() => {
        this.#timers.delete(id);
        if (delayMs > step) this.arm(id, delayMs - step, fire);
        else fire();
      }, step),
    );
  }

  cancel(id: string): void {
    this.#timers.get(id)?.unsubscribe();
    this.#timers.delete(id);
  }

  clear(): void {
    for (const sub of this.#timers.values()) sub.unsubscribe();
    this.#timers.clear();
  }

  get size(): number {
    return this.#timers.size;
  }
}

/** Epoch milliseconds with sub-millisecond resolution, for phase timings on loopback. */
export function _preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Random bytes from WebCrypto. */
export function _cryptoRandom(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}
