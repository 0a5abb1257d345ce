import { deadline } from "../async.ts";
import { HANDSHAKE_TIMEOUT_MS } from "../defaults.ts";
import { Link } from "../protocol/mod.ts";

/** A slave's heartbeat link to the daemon that started it. */
export interface WatchLink {
  /** Closes the link (the slave is exiting). */
  close(): void;
}

/**
 * Opens a slave's sealed heartbeat link (service "watch") to its daemon at `host`:`port` with the token the
 * daemon gave it, and sends a heartbeat every second from then on. `onLost` is called once if the daemon
 * goes away.
 * @throws {Error} when the daemon cannot be reached, refuses the handshake or does not know the token
 */
export async function connectWatch(
  target: { host: string; port: number },
  o: { token: string; key?: Uint8Array; onLost: (reason: string) => void },
): Promise<WatchLink> {
  const where = `${target.host}:${target.port}`;
  const link = await Link.connect(target.host, target.port, {
    service: "watch",
    ...(o.key ? { key: o.key } : {}),
  });
  try {
    await link.send("watch", { token: o.token, pid: Deno.pid });
    const answer = await deadline(link.receive(["welcome", "refuse"]), HANDSHAKE_TIMEOUT_MS, {
      message: `daemon ${where} did not answer within 5 s`,
    });
    if (answer?.type !== "welcome") {
      const reason = answer?.type === "refuse" ? answer.body.reason : "no welcome";
      throw new Error(`Daemon ${where} refused the heartbeat link: ${reason}`);
    }
  } catch (error: unknown) {
    link.close();
    throw error;
  }
  link.startHeartbeats();
  let closing = false;
  (async () => {
    try {
      while (await link.receive(["refuse", "bye"])) {
        // the daemon sends nothing but may close the link
      }
    } catch {
      // a broken link ends the same way
    }
    link.close();
    if (!closing) o.onLost(`daemon ${where} went away`);
  })();
  return {
    close: () => {
      closing = true;
      link.close();
    },
  };
}
