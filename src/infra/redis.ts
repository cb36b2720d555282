import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import path from "node:path";
import { Redis, type RedisOptions } from "ioredis";

export { Redis };

/**
 * Where a Redis listens: a `redis://`/`rediss://` URL (REDIS_URL), or the unix socket of the
 * private redis-server. A plain string is taken as a URL.
 */
export type RedisConnection = { url: string } | { path: string };

/** Structural subset of the pino logger, so infra does not depend on the logger module. */
export interface OutageLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface CreateRedisOptions extends RedisOptions {
  /** Told once when Redis becomes unreachable and once when it is back (not per command). */
  outageLog?: OutageLog;
}

/** How long a command may wait for Redis before it fails (the bot must still answer within ~1 s). */
export const REDIS_COMMAND_TIMEOUT_MS = 800;
const RECONNECT_EVERY_MS = 500;

/**
 * An ioredis client for the request path. It fails fast while Redis is away, so a handler can
 * tell the user to try again (see `isStorageUnavailable`) instead of hanging: commands time out
 * after 800 ms, and once the first connection was made nothing is queued while disconnected
 * (a queued write would land later, after the caller was already told it failed). It reconnects
 * every 500 ms for ever. Blocking commands and BullMQ need other settings: pass
 * `{ commandTimeout: undefined, maxRetriesPerRequest: null, enableOfflineQueue: true }`.
 */
export function createRedis(connection: string | RedisConnection, options: CreateRedisOptions = {}): Redis {
  const { outageLog, ...redisOptions } = options;
  const target: RedisOptions = typeof connection === "string" ? {} : "path" in connection ? { path: connection.path } : {};
  const url = typeof connection === "string" ? connection : "url" in connection ? connection.url : undefined;
  const settings: RedisOptions = {
    maxRetriesPerRequest: 1,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    retryStrategy: () => RECONNECT_EVERY_MS,
    autoResendUnfulfilledCommands: false,
    enableAutoPipelining: true,
    ...target,
    ...redisOptions,
  };
  const client = url ? new Redis(url, settings) : new Redis(settings);
  // Commands issued right after creation wait for the first connection (as before); after that
  // an outage fails them at once. An explicit enableOfflineQueue option is left alone.
  if (redisOptions.enableOfflineQueue === undefined) {
    client.once("ready", () => {
      client.options.enableOfflineQueue = false;
    });
  }
  watchOutages(client, outageLog);
  return client;
}

/** One warn line when Redis goes away, one info line when it is back; errors never go unhandled. */
function watchOutages(client: Redis, log: OutageLog | undefined): void {
  let down = false;
  let lastError: Error | undefined;
  const wentDown = () => {
    if (down) return;
    down = true;
    log?.warn({ err: lastError }, "redis unavailable; reconnecting every 500 ms");
  };
  client.on("error", (err: Error) => {
    lastError = err;
    // A first connection that never succeeds has no 'close' of a ready connection before it.
    if (client.status !== "ready") wentDown();
  });
  // 'reconnecting' fires only when the connection was lost, never after quit()/disconnect().
  client.on("reconnecting", wentDown);
  client.on("ready", () => {
    if (down) log?.info({}, "redis is back");
    down = false;
    lastError = undefined;
  });
}

export class RedisNotInstalledError extends Error {}

/** The private redis-server's unix socket path would exceed the kernel's sun_path limit. */
export class RedisSocketPathTooLongError extends Error {
  constructor(readonly socketPath: string) {
    super(
      `the private redis-server's socket ${socketPath} is ${Buffer.byteLength(socketPath)} bytes, ` +
        `over the ${MAX_SOCKET_PATH_BYTES}-byte limit of unix sockets: use a shorter DATA_DIR, or set REDIS_URL`,
    );
  }
}

/** sun_path holds 108 bytes on Linux, one of them the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

export interface LocalRedis {
  connection: { path: string };
  /** pid of the redis-server process. */
  pid: number;
  stop(): Promise<void>;
}

export interface LocalRedisOptions {
  /** Called when redis-server ends without `stop()` (crash, OOM killer, someone killed it). */
  onUnexpectedExit?: (detail: string) => void;
}

const SOCKET = "redis.sock";
const PIDFILE = "redis.pid";
const ORPHAN_STOP_TIMEOUT_MS = 10_000;

/**
 * Watchdog between the bot and redis-server. Its stdin is a pipe whose only writer is the bot:
 * when the bot ends in any way (SIGKILL included) the pipe closes, `read` returns, and the
 * watchdog stops redis-server. When redis-server ends by itself the watchdog ends too, so the
 * bot sees its child exit. umask 077: the AOF, pidfile and socket are the bot's user's alone.
 */
const WATCHDOG = `
umask 077
exec 3<&0 </dev/null
"$@" 3<&- &
server=$!
{ read -r _ <&3; kill -TERM "$server" 2>/dev/null; } &
watcher=$!
exec 3<&-
wait "$server"
code=$?
kill "$watcher" 2>/dev/null
exit "$code"
`;

/**
 * Starts the private redis-server of the embedded default in `dir`: AOF persistence,
 * `noeviction` (job queues need it), no TCP port — only a unix socket in `dir`, which is 0700, so
 * no other local user can reach it (this Redis has no password). A redis-server that a killed
 * earlier bot left on `dir` is stopped first: two servers appending to one AOF corrupt it.
 * Stopped by `stop()`, and by the watchdog when this process ends, however it ends.
 */
export async function startLocalRedis(bin: string, dir: string, opts: LocalRedisOptions = {}): Promise<LocalRedis> {
  const probe = spawnSync(bin, ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) throw new RedisNotInstalledError(bin);
  const abs = path.resolve(dir);
  const socketPath = path.join(abs, SOCKET);
  // Fail rather than fall back to a socket under /tmp: tmp cleaners delete sockets of
  // long-running servers, and the socket would no longer sit beside the data it guards.
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) throw new RedisSocketPathTooLongError(socketPath);
  mkdirSync(abs, { recursive: true, mode: 0o700 });
  // Also when an older version created it world-readable: the socket has no password.
  chmodSync(abs, 0o700);
  await stopOrphans(abs);
  rmSync(socketPath, { force: true });

  const child = spawn(
    "sh",
    [
      "-c", WATCHDOG, "redis-watchdog", bin,
      "--port", "0", "--unixsocket", socketPath, "--unixsocketperm", "700",
      "--dir", abs, "--pidfile", path.join(abs, PIDFILE),
      "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
      "--maxmemory-policy", "noeviction", "--protected-mode", "yes", "--daemonize", "no",
    ],
    // Its own process group: a Ctrl-C meant for the bot must not stop Redis before the bot is done.
    { stdio: ["pipe", "pipe", "pipe"], detached: true },
  );
  // Only recent output is kept: it explains a failed start, and redis logs for ever after.
  const output: string[] = [];
  const keep = (b: Buffer) => {
    output.push(b.toString());
    if (output.length > 50) output.shift();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  child.stdin?.on("error", () => {}); // EPIPE if the watchdog is already gone
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", (code, signal) => {
    if (!stopping) opts.onUnexpectedExit?.(`redis-server ended (${signal ?? `exit code ${code}`}): ${output.join("").trim().split("\n").slice(-3).join(" | ")}`);
  });
  const stop = async () => {
    stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin?.end(); // the watchdog's cue
    const timer = setTimeout(() => {
      const pid = readPidfile(abs);
      if (pid && isRedisOn(pid, abs)) process.kill(pid, "SIGKILL");
      child.kill("SIGKILL");
    }, ORPHAN_STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  try {
    await waitForPing(socketPath, child, output);
  } catch (e) {
    await stop();
    throw e;
  }
  const pid = readPidfile(abs);
  if (!pid) {
    await stop();
    throw new Error(`redis-server answered but wrote no pidfile in ${abs}`);
  }
  return { connection: { path: socketPath }, pid, stop };
}

async function waitForPing(socketPath: string, child: ChildProcess, output: string[]): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${output.join("").trim()}`);
    if (existsSync(socketPath)) {
      const client = new Redis({ path: socketPath, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on("error", () => {});
      try {
        await client.connect();
        // AOF loading on start answers LOADING for a moment; PING only succeeds once ready.
        if ((await client.ping()) === "PONG") return;
      } catch {
        // not ready yet
      } finally {
        client.disconnect();
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not answer within 15 s: ${output.join("").trim()}`);
}

function readPidfile(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dir, PIDFILE), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a live redis-server working in `dir` (redis-server chdirs to its --dir). */
function isRedisOn(pid: number, dir: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (/^\d+ \(.*\) Z /.test(stat)) return false; // a zombie is gone, only not yet reaped
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
    // redis-server rewrites its title to "redis-server <listen address>".
    return /redis-server/.test(argv0.split(" ")[0] ?? "") && readlinkSync(`/proc/${pid}/cwd`) === dir;
  } catch {
    return false; // gone, or another user's process
  }
}

/**
 * Stops redis-servers left running on `dir` by a bot that could not stop them (killed before the
 * watchdog existed, or the watchdog itself killed). The pidfile names the usual one; a scan of
 * /proc finds one started without a pidfile (older versions, or by hand).
 */
async function stopOrphans(dir: string): Promise<void> {
  const pids = new Set<number>();
  const fromFile = readPidfile(dir);
  if (fromFile && isRedisOn(fromFile, dir)) pids.add(fromFile);
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (Number.isInteger(pid) && pid !== process.pid && isRedisOn(pid, dir)) pids.add(pid);
  }
  await Promise.all([...pids].map((pid) => stopProcess(pid, dir)));
}

async function stopProcess(pid: number, dir: string): Promise<void> {
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM"); // lets it flush the AOF
  const deadline = Date.now() + ORPHAN_STOP_TIMEOUT_MS;
  while (isRedisOn(pid, dir)) {
    if (Date.now() > deadline) {
      signal("SIGKILL");
      await new Promise((r) => setTimeout(r, 200));
      if (isRedisOn(pid, dir)) throw new Error(`cannot stop the redis-server (pid ${pid}) left running on ${dir}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
