import { getLogger } from "@logtape/logtape";
import { hostname } from "node:os";
import type { Gpu } from "../../gpu/mod.ts";
import { renderDataFromSections, renderDataHash, type SectionName } from "../../render_data/mod.ts";
import { GpuRenderer } from "../../render/mod.ts";
import { PROTOCOL_VERSION, VERSION } from "../../version.ts";
import {
  compressFloats,
  FLAG_COMPRESSED,
  type Frame,
  intField,
  jsonPayload,
  nonce,
  parseJson,
  parseSectionHead,
  Peer,
  proof,
  proofMatches,
  ProtocolError,
  SECTION_HEAD_BYTES,
  stringField,
  withTimeout,
} from "../protocol/mod.ts";

const log = getLogger(["octane", "slave"]);

/** How a slave session ended. */
export type SlaveExit =
  | { kind: "finished" } // the master said bye
  | { kind: "stopped" } // SIGINT/SIGTERM: unfinished work returned
  | { kind: "lost"; reason: string }; // the master went away or misbehaved

/** Options of {@linkcode runSlave}. */
export interface SlaveOptions {
  /** Master host. */
  host: string;
  /** Master port. */
  port: number;
  /** Shared secret, when the master requires one. */
  secret?: string;
  /** Seconds without a frame from the master after which it counts as gone. */
  heartbeatTimeout?: number;
  /** Called once the master accepted this slave. */
  onConnected?: () => void;
  /** Aborting stops the slave gracefully: unfinished units go back to the master. */
  signal?: AbortSignal;
}

/** Raised when the slave cannot join the master (unreachable, refused, secret mismatch). */
export class SlaveJoinError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SlaveJoinError";
  }
}

interface Unit {
  job: number;
  y: number;
  height: number;
  start: number;
  count: number;
}

interface SceneInfo {
  id: string;
  width: number;
  height: number;
  seed: number;
  maxDepth: number;
  sections: { name: SectionName; hash: string; length: number }[];
}

/**
 * Joins a master and renders the units it sends until it says bye, goes away, or `signal` aborts.
 * Render data stays in memory: sections are kept by hash, so an update resends only what changed.
 * @throws {SlaveJoinError} when the master cannot be reached or refuses this slave
 */
export async function runSlave(gpu: Gpu, options: SlaveOptions): Promise<SlaveExit> {
  const where = `${options.host}:${options.port}`;
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ hostname: options.host, port: options.port, transport: "tcp" });
  } catch (error: unknown) {
    throw new SlaveJoinError(
      `Cannot reach master ${where}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const peer = new Peer(conn);
  const timeout = options.heartbeatTimeout ?? 10;
  try {
    await handshake(peer, gpu, options, where);
  } catch (error: unknown) {
    peer.close();
    throw error;
  }
  options.onConnected?.();
  peer.startHeartbeats();

  const cache = new Map<string, Uint8Array>();
  let scene: SceneInfo | undefined;
  let pending = new Map<string, { name: SectionName; bytes: Uint8Array; received: number }>();
  let renderer: GpuRenderer | undefined;
  const queue: Unit[] = [];
  let current: Unit | undefined;
  let rendering: Promise<void> = Promise.resolve();
  let stopping = false;
  peer.sink = {
    type: "section",
    headBytes: SECTION_HEAD_BYTES,
    target: (head, rest) => {
      const { hash, offset } = parseSectionHead(head);
      const p = pending.get(hash);
      return p && offset + rest <= p.bytes.length ? p.bytes.subarray(offset, offset + rest) : undefined;
    },
  };

  const pump = () => {
    if (current || !renderer || stopping) return;
    const unit = queue.shift();
    if (!unit) return;
    current = unit;
    const r = renderer;
    rendering = (async () => {
      const t0 = performance.now();
      const tile = await r.render({ start: unit.start, count: unit.count }, {
        x: 0,
        y: unit.y,
        width: scene!.width,
        height: unit.height,
      });
      const seconds = (performance.now() - t0) / 1000;
      current = undefined;
      if (stopping) return;
      const header = jsonPayload({ job: unit.job, seconds, rays: tile.rays });
      const body = compressFloats(tile.sums);
      const payload = new Uint8Array(4 + header.length + body.length);
      new DataView(payload.buffer).setUint32(0, header.length, true);
      payload.set(header, 4);
      payload.set(body, 4 + header.length);
      await peer.send("result", payload, FLAG_COMPRESSED);
      pump();
    })().catch((error: unknown) => {
      log.error("Rendering failed: {message}", {
        message: error instanceof Error ? error.message : String(error),
      });
      peer.close();
    });
  };

  const finishScene = async () => {
    const sections = new Map<SectionName, Uint8Array>();
    for (const s of scene!.sections) sections.set(s.name, cache.get(s.hash)!);
    const data = renderDataFromSections(sections, "render data from the master");
    if (renderDataHash(data) !== scene!.id) {
      throw new ProtocolError("the render data received does not match its content hash");
    }
    // a unit of the previous scene may still be rendering: let it end before its buffers go
    const old = renderer;
    renderer = undefined;
    await rendering.catch(() => {});
    old?.destroy();
    renderer = await GpuRenderer.create(gpu, data, {
      width: scene!.width,
      height: scene!.height,
      seed: scene!.seed,
      maxDepth: scene!.maxDepth,
    });
    log.info("Render data {id} ready: {triangles} triangles", {
      id: scene!.id.slice(0, 12),
      triangles: data.stats.triangles,
    });
    await peer.send("ready", { id: scene!.id });
    pump();
  };

  const onFrame = async (frame: Frame) => {
    switch (frame.type) {
      case "scene": {
        const m = parseJson(frame.payload, "scene");
        if (!Array.isArray(m.sections)) throw new ProtocolError("scene: no section list");
        scene = {
          id: stringField(m, "id", "scene"),
          width: intField(m, "width", "scene", 16384),
          height: intField(m, "height", "scene", 16384),
          seed: intField(m, "seed", "scene", 0xffffffff),
          maxDepth: intField(m, "maxDepth", "scene", 1024),
          sections: m.sections.map((s: Record<string, unknown>) => ({
            name: stringField(s, "name", "section") as SectionName,
            hash: stringField(s, "hash", "section"),
            length: intField(s, "length", "section", 1 << 30),
          })),
        };
        queue.length = 0;
        pending = new Map();
        // keep only what this scene uses: the renderer holds its own copy of the previous scene's data
        const wanted = new Set(scene.sections.map((s) => s.hash));
        for (const hash of [...cache.keys()]) if (!wanted.has(hash)) cache.delete(hash);
        for (const s of scene.sections) {
          if (!cache.has(s.hash)) {
            pending.set(s.hash, { name: s.name, bytes: new Uint8Array(s.length), received: 0 });
          }
        }
        await peer.send("need", { hashes: [...pending.keys()] });
        if (pending.size === 0) await finishScene();
        break;
      }
      case "section": {
        // the chunk was read straight into its section's buffer (see the sink below), or it fits none
        if (frame.directBytes === undefined || frame.payload.length !== SECTION_HEAD_BYTES) {
          throw new ProtocolError("section chunk for no pending section, or past its end");
        }
        const { hash } = parseSectionHead(frame.payload);
        const p = pending.get(hash)!;
        p.received += frame.directBytes;
        if (p.received >= p.bytes.length) {
          cache.set(hash, p.bytes);
          pending.delete(hash);
          if (pending.size === 0) await finishScene();
        }
        break;
      }
      case "work": {
        const m = parseJson(frame.payload, "work");
        if (!scene) throw new ProtocolError("work before any scene");
        const unit: Unit = {
          job: intField(m, "job", "work"),
          y: intField(m, "y", "work", scene.height - 1),
          height: intField(m, "height", "work", scene.height),
          start: intField(m, "start", "work", 0xffffffff),
          count: intField(m, "count", "work", 1 << 24),
        };
        if (unit.height < 1 || unit.y + unit.height > scene.height || unit.count < 1) {
          throw new ProtocolError("work outside the image");
        }
        queue.push(unit);
        pump();
        break;
      }
      case "bye":
        throw new Finished();
      default:
        throw new ProtocolError(`unexpected ${frame.type} message`);
    }
  };

  const stop = async (): Promise<SlaveExit> => {
    stopping = true;
    const jobs = [...(current ? [current.job] : []), ...queue.map((u) => u.job)];
    await peer.send("return", { jobs }).catch(() => {});
    await peer.send("bye", {}).catch(() => {});
    log.info("Returned {n} unfinished units to the master", { n: jobs.length });
    return { kind: "stopped" };
  };

  const aborted = new Promise<"aborted">((resolve) => {
    if (options.signal?.aborted) resolve("aborted");
    options.signal?.addEventListener("abort", () => resolve("aborted"), { once: true });
  });
  const watchdog = setInterval(() => {
    if (peer.silentSeconds > timeout) peer.close(`no heartbeat from the master for ${timeout} s`);
  }, 500);
  try {
    for (;;) {
      const next = await Promise.race([peer.receive(), aborted]);
      if (next === "aborted") return await stop();
      if (next === null) return { kind: "lost", reason: `master ${where} closed the connection` };
      await onFrame(next);
    }
  } catch (error: unknown) {
    if (error instanceof Finished) return { kind: "finished" };
    if (peer.closed) {
      return { kind: "lost", reason: `master ${where} stopped answering (no heartbeat for ${timeout} s)` };
    }
    return {
      kind: "lost",
      reason: `connection to master ${where} failed: ${
        error instanceof Error ? error.message : String(error)
      }`,
    };
  } finally {
    clearInterval(watchdog);
    stopping = true;
    await rendering.catch(() => {});
    renderer?.destroy();
    peer.close();
  }
}

class Finished extends Error {}

async function handshake(peer: Peer, gpu: Gpu, options: SlaveOptions, where: string): Promise<void> {
  const mine = nonce();
  await peer.send("hello", {
    role: "slave",
    version: VERSION,
    protocol: PROTOCOL_VERSION,
    host: hostname(),
    gpus: [gpu.summary],
    nonce: mine,
    pid: Deno.pid,
  });
  let frame = await withTimeout(peer.receive(), 10_000, `master ${where} did not answer within 10 s`);
  const refused = (f: Frame | null) => {
    if (!f) throw new SlaveJoinError(`Master ${where} closed the connection during the handshake`);
    if (f.type === "refuse") {
      const reason = String(parseJson(f.payload, "refuse").reason ?? "no reason given");
      throw new SlaveJoinError(`Master ${where} refused this slave: ${reason}`);
    }
    if (f.version !== PROTOCOL_VERSION) {
      throw new SlaveJoinError(
        `Master ${where} speaks protocol ${f.version}, this slave (octane ${VERSION}) speaks ${PROTOCOL_VERSION}: run the same octane on every node`,
      );
    }
  };
  refused(frame);
  let proven = false;
  if (frame!.type === "challenge") {
    const m = parseJson(frame!.payload, "challenge");
    if (!options.secret) {
      throw new SlaveJoinError(
        `Master ${where} requires a shared secret: pass --secret-file FILE or set OCTANE_SECRET`,
      );
    }
    if (!proofMatches(options.secret, "master", mine, m.proof)) {
      throw new SlaveJoinError(`Master ${where} failed the shared-secret check: refusing it`);
    }
    await peer.send("auth", { proof: proof(options.secret, "slave", String(m.nonce ?? "")) });
    proven = true;
    frame = await withTimeout(peer.receive(), 10_000, `master ${where} did not answer within 10 s`);
    refused(frame);
  }
  if (frame!.type !== "welcome") {
    throw new SlaveJoinError(`Master ${where} sent ${frame!.type} instead of welcome`);
  }
  if (options.secret && !proven) {
    throw new SlaveJoinError(`Master ${where} did not prove the shared secret: refusing it`);
  }
}
