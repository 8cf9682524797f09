/**
 * Private helper of the link adapters: gratuitous ARP for an address just assigned to
 * the MN's interface (RFC 6252 section 6.3 step 6, Appendix B: the new link's hosts
 * and router update their neighbour caches without resolving the address first).
 *
 * `arping -U -c 1 -I IF ADDR` (iputils-arping) sends the unsolicited ARP. It is not
 * started from this process: starting a process from a large Deno process blocks it
 * for a few ms (measured 3-4 ms in the handover testbed's MN, against 0.3 ms from a
 * small one), and that was on the handover's path, between the address assignment
 * and the flush request. Instead one long-lived `sh` per namespace reads `DEV ADDR`
 * lines on its stdin and starts each arping in the background; the request costs
 * one pipe write. The helper prints a line for an arping that failed, which is
 * logged. {@link _Announcer.warm} starts the helper ahead of the first handover; it
 * never keeps the caller's process alive and ends with it (its stdin closes);
 * {@link _Announcer.settle} ends it after its arpings finished.
 *
 * @module
 */
import { getLogger } from "npm:@logtape/logtape@^2.4.2";
import { _inNetns, _onPath } from "./_assign.ts";

const _logger = getLogger(["mpa", "link"]);

/**
 * The helper's loop: each line `DEV ADDR` starts `arping -U -c 1 -I DEV ADDR` in the
 * background; a failure prints `DEV ADDR stderr...` on one line. At end of input it
 * waits for the arpings still running (an unsolicited ARP's arping waits a second
 * for replies it never gets).
 */
const _LOOP = [
  "while read -r dev addr; do",
  '  ( out=$(arping -U -c 1 -I "$dev" "$addr" 2>&1 >/dev/null) ||',
  `    printf '%s %s %s\\n' "$dev" "$addr" "$(printf %s "$out" | tr '\\n' ' ')" ) &`,
  "done",
  "wait",
].join("\n");

/** What the announcer needs to know about the MN's interface. */
export interface _AnnounceTarget {
  /** The MN's physical interface (already checked against `_IFNAME`). */
  readonly interface: string;
  /** The namespace it lives in; the caller's own when omitted. */
  readonly netns?: string | undefined;
}

interface _Helper {
  readonly child: Deno.ChildProcess;
  readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly done: Promise<void>;
}

/** Gratuitous ARPs through one long-lived helper per namespace. */
export class _Announcer {
  readonly #helpers = new Map<string, _Helper>();

  /**
   * Starts the helper for the target's namespace unless it runs (or arping is not
   * installed), so that the first {@link _Announcer.garp} costs no process start.
   *
   * @param target the interface and namespace
   */
  warm(target: _AnnounceTarget): void {
    if (!_onPath("arping")) return;
    try {
      this.#helper(target.netns);
    } catch (e) {
      _logger.warn("Gratuitous ARP helper not started: {error}", { error: String(e) });
    }
  }

  /**
   * Asks the helper to send one unsolicited ARP for the address and resolves at
   * once (arping sends it right after it starts).
   *
   * @param target the interface and namespace
   * @param address the IPv4 address just assigned (already parsed)
   * @returns whether it was asked (false when arping is not installed or the helper
   *   cannot start)
   */
  garp(target: _AnnounceTarget, address: string): Promise<boolean> {
    if (!_onPath("arping")) return Promise.resolve(false);
    let helper: _Helper;
    try {
      helper = this.#helper(target.netns);
    } catch (e) {
      _logger.warn("Gratuitous ARP for {address} not sent: {error}", {
        address,
        error: String(e),
      });
      return Promise.resolve(false);
    }
    helper.writer.write(new TextEncoder().encode(`${target.interface} ${address}\n`)).catch(
      (e) => {
        _logger.warn("Gratuitous ARP for {address} not sent: {error}", {
          address,
          error: String(e),
        });
      },
    );
    return Promise.resolve(true);
  }

  /** The helpers' process ids (for tests). */
  pids(): number[] {
    return [...this.#helpers.values()].map((h) => h.child.pid);
  }

  /**
   * Ends the helpers once their arpings finished (up to about a second); a later
   * {@link _Announcer.garp} starts a new one.
   *
   * @returns when they have exited
   */
  async settle(): Promise<void> {
    const helpers = [...this.#helpers.values()];
    this.#helpers.clear();
    await Promise.allSettled(helpers.map(async (h) => {
      h.child.ref(); // until it has exited
      try {
        await h.writer.close();
      } catch {
        // already closed
      }
      await h.done;
      await h.child.status;
    }));
  }

  #helper(netns: string | undefined): _Helper {
    const key = netns ?? "";
    const running = this.#helpers.get(key);
    if (running !== undefined) return running;
    const argv = _inNetns(netns, ["sh", "-c", _LOOP]);
    const child = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    child.unref();
    const helper: _Helper = {
      child,
      writer: child.stdin.getWriter(),
      done: this.#read(child),
    };
    this.#helpers.set(key, helper);
    void child.status.then(() => {
      if (this.#helpers.get(key) === helper) this.#helpers.delete(key);
    });
    return helper;
  }

  async #read(child: Deno.ChildProcess): Promise<void> {
    let rest = "";
    try {
      for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
        rest += text;
        let nl: number;
        while ((nl = rest.indexOf("\n")) >= 0) {
          const [dev, address, ...error] = rest.slice(0, nl).split(" ");
          rest = rest.slice(nl + 1);
          _logger.warn("Gratuitous ARP for {address} on {interface} failed: {stderr}", {
            address,
            interface: dev,
            stderr: error.join(" ").trim(),
          });
        }
      }
    } catch (e) {
      _logger.warn("Gratuitous ARP helper output failed: {error}", { error: String(e) });
    }
  }
}
