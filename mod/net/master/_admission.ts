import { getLogger } from "@logtape/logtape";
import { hostname } from "node:os";
import { VERSION } from "../../version.ts";
import { deadline } from "../async.ts";
import { HANDSHAKE_TIMEOUT_MS } from "../defaults.ts";
import { type Link, ProtocolError, serveLinks } from "../protocol/mod.ts";
import { SlaveLink } from "./_slave_link.ts";
import type { MasterState } from "./_state.ts";

const log = getLogger(["octane", "master"]);

/**
 * Accepts slaves on `listener` until `signal` aborts (see serveLinks: the handshake gate, retried accepts,
 * budgeted refusals); each is admitted by {@linkcode admit}.
 */
export function acceptSlaves(
  state: MasterState,
  listener: Deno.Listener,
  signal: AbortSignal,
): Promise<void> {
  const key = state.options.key;
  return serveLinks(listener, {
    signal,
    services: ["render"],
    ...(key ? { key } : {}),
    log,
    closing: () => state.closed,
    ...(state.options.gate ? { gate: state.options.gate } : {}),
    onLink: (link, proven) => admit(state, link, proven),
  });
}

/**
 * Hello and welcome, or a refusal with its reason (the master is stopping, the host was caught lying, another
 * octane release); a welcomed slave is served from then on.
 */
async function admit(state: MasterState, link: Link, proven: () => void): Promise<void> {
  const joined = performance.now();
  try {
    const first = await deadline(link.receive(["hello"]), HANDSHAKE_TIMEOUT_MS, {
      message: `no hello within ${HANDSHAKE_TIMEOUT_MS / 1000} s`,
    });
    proven();
    if (!first) return link.close();
    if (first.type !== "hello") throw new ProtocolError(`expected hello, got ${first.type}`);
    if (state.closed) return link.close();
    const refusal = refusalOf(state, link, first.body.version);
    if (refusal) {
      if (refusal.logged) {
        log.warn("Refused slave {peer}: {reason}", { peer: link.label, reason: refusal.reason });
      }
      await link.send("refuse", { reason: refusal.reason, ...(refusal.retry ? { retry: true } : {}) });
      return link.close();
    }
    await link.send("welcome", { version: VERSION, host: hostname() });
    await new SlaveLink(state, link, first.body, joined).serve();
  } catch (error: unknown) {
    log.warn("Closing connection with {peer}: {reason}", {
      peer: link.label,
      reason: error instanceof Error ? error.message : String(error),
    });
    link.close();
  }
}

/** Why a slave that said hello may not join, if it may not. */
function refusalOf(
  state: MasterState,
  link: Link,
  version: string,
): { reason: string; retry?: boolean; logged: boolean } | undefined {
  if (state.phases.name === "stopping") {
    // no work goes out any more: a slave that joined now would download the render data for nothing
    return { reason: "this master is stopping", retry: true, logged: false };
  }
  if (state.banned.has(link.peerHost)) {
    return {
      reason: "this master dropped that host for results that disagree with other nodes'",
      logged: true,
    };
  }
  if (version !== VERSION) {
    // samples of another release could differ, and the image would not equal a local render
    return {
      reason:
        `it runs octane ${version}, this master runs octane ${VERSION}: run the same octane on every node`,
      logged: true,
    };
  }
  return undefined;
}
