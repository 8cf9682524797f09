/**
 * The testbed's external servers, each in its namespace with its files in a private
 * temporary directory: ISC Kea as the CA of one candidate network (any /24, the
 * fixture of tests/fixtures/dhcp serves only 10.0.2.0/24), and hostapd's RADIUS
 * server as the home AAA server of the roaming case (RFC 6252 C.5.3, Figure 9).
 *
 * Kea runs with its defaults except `dhcp-socket-type: udp` (so that the CA's
 * nftables gate sees the packets, as in tests/fixtures/dhcp/_servers.ts): in
 * particular Kea does NO duplicate-address probe before offering (its `ping_check`
 * hook is not loaded by default), which is what the report states.
 *
 * @module
 */

/** A running server process. */
export interface ServerProcess {
  /** What it printed. */
  output(): string;
  /** Stops it and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Finds an executable on PATH or in the sbin directories.
 *
 * @param name program
 * @returns its path or undefined
 */
export function findProgram(name: string): string | undefined {
  for (const dir of [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/sbin"]) {
    if (dir === "") continue;
    try {
      const info = Deno.statSync(`${dir}/${name}`);
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return `${dir}/${name}`;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Options of {@link startKeaCa}. */
export interface KeaCaOptions {
  /** The CA's namespace. */
  readonly netns: string;
  /** Its interface on the cell. */
  readonly interface: string;
  /** The /24 prefix, `10.0.2` (pool .100-.199, router .1, DNS .2). */
  readonly net24: string;
  /** Lease time, s (default 600). */
  readonly leaseTimeS?: number;
}

/**
 * Starts kea-dhcp4 serving `net24.0/24`.
 *
 * @param o namespace, interface, prefix
 * @returns the running server
 */
export async function startKeaCa(o: KeaCaOptions): Promise<ServerProcess> {
  const kea = findProgram("kea-dhcp4");
  if (kea === undefined) throw new Error("Cannot start Kea: kea-dhcp4 is not installed");
  const dir = await Deno.makeTempDir({ prefix: "mpatb-kea-" });
  const lease = o.leaseTimeS ?? 600;
  const conf = {
    Dhcp4: {
      "interfaces-config": { interfaces: [o.interface], "dhcp-socket-type": "udp" },
      "lease-database": {
        type: "memfile",
        persist: true,
        name: `${dir}/leases.csv`,
        "lfc-interval": 0,
      },
      "valid-lifetime": lease,
      "renew-timer": Math.floor(lease / 2),
      "rebind-timer": Math.floor((lease * 7) / 8),
      authoritative: true,
      subnet4: [{
        id: 1,
        subnet: `${o.net24}.0/24`,
        pools: [{ pool: `${o.net24}.100 - ${o.net24}.199` }],
        "option-data": [
          { name: "routers", data: `${o.net24}.1` },
          { name: "domain-name-servers", data: `${o.net24}.2` },
        ],
      }],
      loggers: [{
        name: "kea-dhcp4",
        output_options: [{ output: "stdout", flush: true }],
        severity: "INFO",
      }],
    },
  };
  await Deno.writeTextFile(`${dir}/kea.conf`, JSON.stringify(conf));
  return await _spawn(
    ["ip", "netns", "exec", o.netns, kea, "-c", `${dir}/kea.conf`],
    { KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir, KEA_LOGGER_DESTINATION: "stdout" },
    dir,
    /DHCP4_STARTED/,
  );
}

/** Options of {@link startHostapdAaa}. */
export interface HostapdAaaOptions {
  /** The home AAA namespace. */
  readonly netns: string;
  /** The EAP-PSK user. */
  readonly identity: string;
  /** Its PSK, 32 hex digits. */
  readonly pskHex: string;
  /** The RADIUS secret for every client in `clients`. */
  readonly secret: string;
  /** The clients' prefix (the visited domains' AAs), `10.0.0.0/8`. */
  readonly clients: string;
  /** UDP port. */
  readonly port: number;
}

/**
 * Starts hostapd's RADIUS server (internal EAP server, EAP-PSK) in a namespace.
 *
 * @param o namespace, user, secret, clients, port
 * @returns the running server
 */
export async function startHostapdAaa(o: HostapdAaaOptions): Promise<ServerProcess> {
  const hostapd = findProgram("hostapd");
  if (hostapd === undefined) throw new Error("Cannot start hostapd: not installed");
  const dir = await Deno.makeTempDir({ prefix: "mpatb-hostapd-" });
  await Deno.writeTextFile(`${dir}/eap_user`, `"${o.identity}"\tPSK\t${o.pskHex}\n`);
  await Deno.writeTextFile(`${dir}/clients`, `${o.clients}\t${o.secret}\n`);
  await Deno.writeTextFile(
    `${dir}/hostapd.conf`,
    [
      "driver=none",
      "logger_stdout=-1",
      "logger_stdout_level=2",
      "eap_server=1",
      `eap_user_file=${dir}/eap_user`,
      `radius_server_clients=${dir}/clients`,
      `radius_server_auth_port=${o.port}`,
      "",
    ].join("\n"),
  );
  return await _spawn(
    ["ip", "netns", "exec", o.netns, hostapd, "-d", `${dir}/hostapd.conf`],
    {},
    dir,
    /Setup of interface done|interface state .*ENABLED|RADIUS server/,
  );
}

async function _spawn(
  argv: readonly string[],
  env: Record<string, string>,
  dir: string,
  ready: RegExp,
): Promise<ServerProcess> {
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  let up: () => void = () => {};
  const started = new Promise<void>((resolve) => (up = resolve));
  const drain = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) {
      if (text.length < 200_000) text += chunk;
      if (ready.test(text)) up();
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]).catch(() => {});
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      child.kill("SIGTERM");
    } catch {
      // gone
    }
    const killer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone
      }
    }, 3000);
    await child.status;
    clearTimeout(killer);
    await drained;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const failed = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${argv[4]} did not start:\n${text}`)), 10_000);
    child.status.then((s) => {
      if (!stopped) reject(new Error(`${argv[4]} exited with code ${s.code}:\n${text}`));
    });
  });
  failed.catch(() => {});
  try {
    await Promise.race([started, failed]);
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return { output: () => text, stop };
}
