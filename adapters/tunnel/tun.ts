/**
 * Linux TUN devices through Deno FFI on libc: the user-space end of the proactive
 * handover tunnel's data path (RFC 6252 sections 6.3 step 2, 7.4). The kernel routes
 * IP packets for the tunnel's inner address into the device; {@link TunDevice.read}
 * hands them to the PHT endpoint, and {@link TunDevice.write} injects the packets the
 * tunnel delivered back into the kernel's stack.
 *
 * The design named `npm:node-tun`, which does not exist in the npm registry. Deno's
 * FFI (`Deno.dlopen`) calls libc directly (`open`, `ioctl(TUNSETIFF)`, `read`,
 * `write`, `poll`, `eventfd`), so no native add-on is built or shipped. Needs
 * `--allow-ffi` and CAP_NET_ADMIN (root, or a user namespace with the capability).
 *
 * Reading never blocks the event loop: the descriptor is opened `O_NONBLOCK` and
 * drained with synchronous `read(2)` calls (about a microsecond each) until `EAGAIN`;
 * only then a `poll(2)` on the device and an `eventfd` waits on Deno's FFI blocking
 * thread pool (`nonblocking: true`). {@link TunDevice.close} writes the eventfd, so
 * the pending poll returns at once and the descriptors are closed only after it did:
 * no thread is left blocked on a closed descriptor. Cost: a busy tunnel reads many
 * packets per poll; an idle one pays one thread-pool round trip (tens of
 * microseconds, measured in `bench/pht_netns_bench.ts`) for the first packet after a
 * pause.
 *
 * {@link TunDevice.pump} is the fast way to consume a device: besides the loop above,
 * every {@link TunDevice.write} schedules a drain of the device in a microtask. A
 * packet written into the kernel is often answered at once, inside the same
 * `write(2)` (an echo reply, a TCP ACK the kernel routes back into the device), and
 * the drain hands it on without the thread-pool wake (measured: about 40 us per wake
 * on a 2-vCPU VM). A bounded busy-poll before parking was measured too and not kept:
 * spinning `read(2)` for 50-500 us after the last packet did not lower the median of
 * a 2 ms ping, and it blocks the event loop (the UDP side of the tunnel) while it
 * spins; only spinning all the time (a core at 100 %) reached 25 us.
 *
 * @module
 */

/** ioctl request TUNSETIFF = _IOW('T', 202, int) (linux/if_tun.h). */
const TUNSETIFF = 0x400454ca;
/** ioctl request SIOCSIFMTU (linux/sockios.h). */
const SIOCSIFMTU = 0x8922;
/** TUN device: layer-3 packets (linux/if_tun.h). */
const IFF_TUN = 0x0001;
/** No 4-byte packet-information header before each packet (linux/if_tun.h). */
const IFF_NO_PI = 0x1000;
/** open(2) flags (asm-generic/fcntl.h, x86-64 and arm64). */
const O_RDWR = 0o2;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
/** eventfd(2) flags. */
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;
/** poll(2) events. */
const POLLIN = 0x0001;
const POLLERR = 0x0008;
const POLLHUP = 0x0010;
const POLLNVAL = 0x0020;
/** sizeof(struct ifreq) on Linux: 16-byte name + 24-byte union. */
const IFREQ_SIZE = 40;
/** IFNAMSIZ - 1: the longest interface name. */
const MAX_NAME_LENGTH = 15;
/** The largest IP packet; reads use a buffer this large so none is truncated. */
const MAX_PACKET = 65_535;

const EINTR = 4;
const EAGAIN = 11;

/** errno names for the codes a TUN device can return (asm-generic/errno-base.h). */
const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: "EPERM",
  2: "ENOENT",
  4: "EINTR",
  5: "EIO",
  6: "ENXIO",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  16: "EBUSY",
  17: "EEXIST",
  19: "ENODEV",
  22: "EINVAL",
  23: "ENFILE",
  24: "EMFILE",
  28: "ENOSPC",
  38: "ENOSYS",
  77: "EBADFD",
  90: "EMSGSIZE",
  105: "ENOBUFS",
};

const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let libc: Libc | undefined;

function loadLibc(): Libc {
  if (libc !== undefined) return libc;
  try {
    libc = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  } catch (error) {
    throw new TunError(
      `Cannot load libc through FFI: ${(error as Error).message}`,
      { errno: 0, code: "ENOSYS", syscall: "dlopen", cause: error },
    );
  }
  return libc;
}

/** errno of the last failed libc call on this thread. */
function lastErrno(c: Libc): number {
  const p = c.__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `E${errno}`;
}

function errnoText(c: Libc, errno: number): string {
  const p = c.strerror(errno);
  return p === null ? `errno ${errno}` : Deno.UnsafePointerView.getCString(p);
}

function cString(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(text);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** Options of {@link TunError}. */
export interface TunErrorOptions extends ErrorOptions {
  /** The errno value (0 when no system call failed). */
  readonly errno: number;
  /** The errno name: `EPERM`, `EBUSY`, `ENOENT`, ... */
  readonly code: string;
  /** The libc call that failed: `open`, `ioctl(TUNSETIFF)`, `read`, `write`, ... */
  readonly syscall: string;
}

/**
 * A TUN device could not be opened, read or written: no `/dev/net/tun` (`ENOENT`),
 * no CAP_NET_ADMIN (`EPERM`), a name in use (`EBUSY`), a packet the kernel refuses
 * (`EINVAL`), or an invalid option. `code` is the errno name and the message ends
 * with the errno text.
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * const e = new TunError("Cannot attach TUN device tun7: EBUSY (Device or resource busy)", {
 *   errno: 16,
 *   code: "EBUSY",
 *   syscall: "ioctl(TUNSETIFF)",
 * });
 * assert(e instanceof Error);
 * assertEquals([e.name, e.code, e.errno], ["TunError", "EBUSY", 16]);
 * ```
 */
export class TunError extends Error {
  /** Always `TunError`. */
  override readonly name = "TunError";
  /** The errno value (0 when no system call failed). */
  readonly errno: number;
  /** The errno name. */
  readonly code: string;
  /** The libc call that failed. */
  readonly syscall: string;

  /**
   * Creates a TUN failure.
   *
   * @param message capital first letter, no trailing period, detail after a colon
   * @param options errno, errno name, failed call, cause
   */
  constructor(message: string, options: TunErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.errno = options.errno;
    this.code = options.code;
    this.syscall = options.syscall;
  }
}

function sysError(c: Libc, what: string, syscall: string): TunError {
  const errno = lastErrno(c);
  const code = errnoName(errno);
  return new TunError(`${what}: ${code} (${errnoText(c, errno)})`, { errno, code, syscall });
}

/** Options of {@link TunDevice.open}. */
export interface TunOpenOptions {
  /**
   * Interface name, at most 15 bytes; a `%d` in it is replaced by the kernel with
   * the first free number. Default `tun%d`.
   */
  readonly name?: string;
  /** MTU to set on the device (SIOCSIFMTU), bytes; the kernel's default (1500) when omitted. */
  readonly mtu?: number;
  /** Path of the clone device. Default `/dev/net/tun`. */
  readonly path?: string;
}

/** Packet counters of a {@link TunDevice}. */
export interface TunStats {
  /** Packets read from the kernel. */
  readonly rxPackets: number;
  /** Bytes read from the kernel. */
  readonly rxBytes: number;
  /** Packets written into the kernel. */
  readonly txPackets: number;
  /** Bytes written into the kernel. */
  readonly txBytes: number;
  /** `poll(2)` waits on the FFI thread pool (one per idle-to-busy transition). */
  readonly polls: number;
}

/**
 * An open Linux TUN device (`IFF_TUN | IFF_NO_PI`): raw IPv4 / IPv6 packets in and
 * out, no link-layer header. The device exists as long as it is open (it is not made
 * persistent); closing it removes the interface and every address and route on it.
 *
 * @example Errors are typed (this one needs only --allow-ffi)
 * ```ts
 * import { assertEquals, assertThrows } from "npm:deno-std@1.4.0/assert/mod.js";
 * const e = assertThrows(() => TunDevice.open({ path: "/nonexistent/tun" }), TunError);
 * assertEquals([e.code, e.syscall], ["ENOENT", "open"]);
 * ```
 *
 * @example Opening a device (needs CAP_NET_ADMIN: run it in a network namespace)
 * ```ts ignore
 * import { assertEquals } from "npm:deno-std@1.4.0/assert/mod.js";
 * await using tun = TunDevice.open({ name: "pht%d", mtu: 1400 });
 * assertEquals(tun.name.startsWith("pht"), true);
 * ```
 */
export class TunDevice {
  /** The interface name the kernel gave the device. */
  readonly name: string;
  /** The MTU set at open, or `undefined` for the kernel's default. */
  readonly mtu: number | undefined;
  readonly #c: Libc;
  readonly #fd: number;
  readonly #wake: number;
  readonly #buf = new Uint8Array(MAX_PACKET);
  readonly #pollfds = new Uint8Array(16);
  readonly #one = new Uint8Array(8);
  readonly #eventfdBuf = new Uint8Array(8);
  #pending: Promise<number> | undefined;
  #handler: ((packet: Uint8Array) => void) | undefined;
  #drainScheduled = false;
  #pumpError: unknown;
  #closed = false;
  #closing: Promise<void> | undefined;
  #rxPackets = 0;
  #rxBytes = 0;
  #txPackets = 0;
  #txBytes = 0;
  #polls = 0;

  private constructor(c: Libc, fd: number, wake: number, name: string, mtu: number | undefined) {
    this.#c = c;
    this.#fd = fd;
    this.#wake = wake;
    this.name = name;
    this.mtu = mtu;
    const v = new DataView(this.#pollfds.buffer);
    // struct pollfd { int fd; short events; short revents; } x 2
    v.setInt32(0, fd, true);
    v.setInt16(4, POLLIN, true);
    v.setInt32(8, wake, true);
    v.setInt16(12, POLLIN, true);
    new DataView(this.#one.buffer).setBigUint64(0, 1n, true);
  }

  /**
   * Creates (or attaches to) a TUN interface in the caller's network namespace.
   * The link is left down and without addresses: bring it up with `ip` (see
   * `adapters/tunnel/_ip_cmd.ts`).
   *
   * @param options name, MTU, clone device path
   * @returns the open device
   * @throws {TunError} `ENOENT` (no `/dev/net/tun`), `EPERM` (no CAP_NET_ADMIN),
   *   `EBUSY` (the named device is attached to another descriptor), `EINVAL`
   */
  static open(options: TunOpenOptions = {}): TunDevice {
    const requested = options.name ?? "tun%d";
    const nameBytes = new TextEncoder().encode(requested);
    if (nameBytes.length === 0 || nameBytes.length > MAX_NAME_LENGTH) {
      throw new TunError(
        `Invalid TUN device name: "${requested}" is not 1 to ${MAX_NAME_LENGTH} bytes`,
        { errno: 22, code: "EINVAL", syscall: "open" },
      );
    }
    if (options.mtu !== undefined && (!Number.isInteger(options.mtu) || options.mtu < 68)) {
      throw new TunError(`Invalid TUN MTU: ${options.mtu}`, {
        errno: 22,
        code: "EINVAL",
        syscall: "ioctl(SIOCSIFMTU)",
      });
    }
    const c = loadLibc();
    const path = options.path ?? "/dev/net/tun";
    const fd = c.open(cString(path), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw sysError(c, `Cannot open ${path}`, "open");
    const ifr = new Uint8Array(IFREQ_SIZE);
    ifr.set(nameBytes);
    new DataView(ifr.buffer).setInt16(16, IFF_TUN | IFF_NO_PI, true);
    if (c.ioctl(fd, BigInt(TUNSETIFF), ifr) < 0) {
      const error = sysError(c, `Cannot attach TUN device ${requested}`, "ioctl(TUNSETIFF)");
      c.close(fd);
      throw error;
    }
    const end = ifr.indexOf(0);
    const name = new TextDecoder().decode(ifr.subarray(0, end < 0 ? 16 : end));
    if (options.mtu !== undefined) {
      const error = setMtu(c, name, options.mtu);
      if (error !== undefined) {
        c.close(fd);
        throw error;
      }
    }
    const wake = c.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake < 0) {
      const error = sysError(c, "Cannot create the TUN wake-up eventfd", "eventfd");
      c.close(fd);
      throw error;
    }
    return new TunDevice(c, fd, wake, name, options.mtu);
  }

  /** Whether {@link TunDevice.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Packet counters since open. */
  stats(): TunStats {
    return {
      rxPackets: this.#rxPackets,
      rxBytes: this.#rxBytes,
      txPackets: this.#txPackets,
      txBytes: this.#txBytes,
      polls: this.#polls,
    };
  }

  /**
   * The next packet the kernel routed into the device. Several callers may wait at
   * once; each packet goes to one of them.
   *
   * @returns a fresh copy of the packet, or `null` once the device is closed
   * @throws {TunError} when `read(2)` or `poll(2)` fails with anything but
   *   `EAGAIN` / `EINTR`
   */
  async read(): Promise<Uint8Array | null> {
    while (!this.#closed) {
      const packet = this.tryRead();
      if (packet !== undefined) return packet;
      await this.#waitReadable();
    }
    return null;
  }

  /**
   * Reads one packet without waiting: what {@link TunDevice.read} does when the
   * kernel has a packet queued.
   *
   * @returns a fresh copy of the packet, `undefined` when none is queued, `null`
   *   once closed
   * @throws {TunError} when `read(2)` fails with anything but `EAGAIN` / `EINTR`
   */
  tryRead(): Uint8Array | null | undefined {
    if (this.#closed) return null;
    const n = Number(this.#c.read(this.#fd, this.#buf, BigInt(MAX_PACKET)));
    if (n < 0) {
      const errno = lastErrno(this.#c);
      if (errno === EAGAIN || errno === EINTR) return undefined;
      throw sysError(this.#c, `Cannot read from TUN device ${this.name}`, "read");
    }
    this.#rxPackets++;
    this.#rxBytes += n;
    return this.#buf.slice(0, n);
  }

  /**
   * Injects one IP packet into the kernel, as if it had arrived on the device: the
   * kernel delivers it locally or forwards it by its routes.
   *
   * @param packet a whole IPv4 or IPv6 packet
   * @throws {TunError} `EINVAL` (not an IP packet, or larger than the MTU allows),
   *   `EBADF` after close
   */
  write(packet: Uint8Array): void {
    if (this.#closed) {
      throw new TunError(`Cannot write to TUN device ${this.name}: closed`, {
        errno: 9,
        code: "EBADF",
        syscall: "write",
      });
    }
    const n = Number(
      this.#c.write(this.#fd, packet as Uint8Array<ArrayBuffer>, BigInt(packet.length)),
    );
    if (n < 0) throw sysError(this.#c, `Cannot write to TUN device ${this.name}`, "write");
    this.#txPackets++;
    this.#txBytes += n;
    if (this.#handler !== undefined && !this.#drainScheduled) {
      this.#drainScheduled = true;
      queueMicrotask(() => this.#drain());
    }
  }

  /**
   * Reads every packet the device receives into `handler`, synchronously and in
   * order, until the device is closed: drains what is queued, waits with `poll(2)`
   * on the FFI thread pool when nothing is, and also drains right after each
   * {@link TunDevice.write} (in a microtask), where the kernel often queued the answer
   * already. Use either `pump` or `read`, not both.
   *
   * @param handler called once per packet (a fresh copy); what it throws is ignored:
   *   catch inside it
   * @param options `signal` stops the pump (the device stays open; pump again later)
   * @returns resolves when the device is closed or the signal aborted
   * @throws {TunError} (rejects) when `read(2)` or `poll(2)` fails
   *
   * @example
   * ```ts ignore
   * // Needs CAP_NET_ADMIN: see tests/adapters/tunnel/tun.test.ts.
   * await using tun = TunDevice.open();
   * void tun.pump((packet) => console.log(packet.length));
   * ```
   */
  async pump(
    handler: (packet: Uint8Array) => void,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<void> {
    if (this.#handler !== undefined) {
      throw new TunError(`TUN device ${this.name} is pumped already`, {
        errno: 16,
        code: "EBUSY",
        syscall: "read",
      });
    }
    const signal = options.signal;
    if (signal?.aborted) return;
    const onAbort = () => this.#c.write(this.#wake, this.#one, 8n);
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#handler = handler;
    try {
      const stopped = () => this.#closed || signal?.aborted === true;
      while (!stopped()) {
        this.#drain();
        if (this.#pumpError !== undefined) throw this.#pumpError;
        if (stopped()) break;
        await this.#waitReadable();
      }
    } finally {
      this.#handler = undefined;
      this.#pumpError = undefined;
      signal?.removeEventListener("abort", onAbort);
    }
  }

  #drain(): void {
    this.#drainScheduled = false;
    const handler = this.#handler;
    if (handler === undefined || this.#pumpError !== undefined) return;
    try {
      for (let p = this.tryRead(); p !== undefined && p !== null; p = this.tryRead()) {
        try {
          handler(p);
        } catch {
          // the handler's own failure; the device goes on
        }
      }
    } catch (error) {
      // A read failure ends the pump (at its next turn); the poll is woken for it.
      this.#pumpError = error;
      this.#c.write(this.#wake, this.#one, 8n);
    }
  }

  /**
   * Closes the device: pending and later {@link TunDevice.read} calls return `null`,
   * the kernel removes the interface. Idempotent.
   *
   * @returns when the descriptors are closed
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    this.#c.write(this.#wake, this.#one, 8n);
    this.#closing = (async () => {
      if (this.#pending !== undefined) await this.#pending.catch(() => 0);
      this.#c.close(this.#fd);
      this.#c.close(this.#wake);
    })();
    return this.#closing;
  }

  /** Closes the device (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #waitReadable(): Promise<void> {
    if (this.#pending === undefined) {
      this.#polls++;
      this.#pending = this.#c.poll(this.#pollfds, 2n, -1);
    }
    const pending = this.#pending;
    const result = await pending;
    if (this.#pending === pending) this.#pending = undefined;
    if (result < 0) {
      const errno = lastErrno(this.#c);
      if (errno !== EINTR && errno !== 0 && !this.#closed) {
        throw new TunError(
          `Cannot poll TUN device ${this.name}: ${errnoName(errno)} (${errnoText(this.#c, errno)})`,
          { errno, code: errnoName(errno), syscall: "poll" },
        );
      }
      return;
    }
    const revents = new DataView(this.#pollfds.buffer).getInt16(6, true);
    const wakeRevents = new DataView(this.#pollfds.buffer).getInt16(14, true);
    if (!this.#closed && (wakeRevents & POLLIN) !== 0) {
      // Woken by a stopped pump, not by close: reset the eventfd's counter.
      this.#c.read(this.#wake, this.#eventfdBuf, 8n);
    }
    if (!this.#closed && (revents & (POLLERR | POLLHUP | POLLNVAL)) !== 0) {
      throw new TunError(`Cannot poll TUN device ${this.name}: revents 0x${revents.toString(16)}`, {
        errno: 5,
        code: "EIO",
        syscall: "poll",
      });
    }
  }
}

function setMtu(c: Libc, name: string, mtu: number): TunError | undefined {
  const s = c.socket(2, /* AF_INET */ 2, /* SOCK_DGRAM */ 0);
  if (s < 0) return sysError(c, "Cannot open a socket to set the TUN MTU", "socket");
  const ifr = new Uint8Array(IFREQ_SIZE);
  ifr.set(new TextEncoder().encode(name));
  new DataView(ifr.buffer).setInt32(16, mtu, true);
  const rc = c.ioctl(s, BigInt(SIOCSIFMTU), ifr);
  const error = rc < 0
    ? sysError(c, `Cannot set the MTU of TUN device ${name} to ${mtu}`, "ioctl(SIOCSIFMTU)")
    : undefined;
  c.close(s);
  return error;
}
