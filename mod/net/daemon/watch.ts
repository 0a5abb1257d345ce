import { PROTOCOL_VERSION, VERSION } from "../../version.ts";
import { parseJson, Peer, withTimeout } from "../protocol/mod.ts";

/** A slave's heartbeat link to the daemon that started it. */
export interface WatchLink {
  /** Closes the link (the slave is exiting). */
  close(): void;
}

/**
 * Connects a slave to its daemon at `host`:`port` with the token the daemon gave it, and sends a heartbeat
 * every second from then on. `onLost` is called once if the daemon goes away.
 * @throws {Error} when the daemon cannot be reached or does not know the token
 */
export async function connectWatch(
  target: { host: string; port: number },
  options: { token: string; onLost: (reason: string) => void },
): Promise<WatchLink> {
  const where = `${target.host}:${target.port}`;
  const conn = await Deno.connect({ hostname: target.host, port: target.port, transport: "tcp" });
  const peer = new Peer(conn);
  try {
    await peer.send("hello", { role: "watch", token: options.token, pid: Deno.pid, version: VERSION });
    const answer = await withTimeout(peer.receive(), 5000, `daemon ${where} did not answer within 5 s`);
    if (answer?.type !== "welcome" || answer.version !== PROTOCOL_VERSION) {
      const reason = answer?.type === "refuse"
        ? String(parseJson(answer.payload, "refuse").reason)
        : "no welcome";
      throw new Error(`Daemon ${where} refused the heartbeat link: ${reason}`);
    }
  } catch (error: unknown) {
    peer.close();
    throw error;
  }
  peer.startHeartbeats();
  let closing = false;
  (async () => {
    try {
      while (await peer.receive()) {
        // the daemon sends nothing but may close the link
      }
    } catch {
      // a broken link ends the same way
    }
    peer.close();
    if (!closing) options.onLost(`daemon ${where} went away`);
  })();
  return {
    close: () => {
      closing = true;
      peer.close();
    },
  };
}
