import { getLogger } from "@logtape/logtape";
import { hostname } from "node:os";
import type { Gpu } from "../../gpu/mod.ts";
import { renderDataFromSections, renderDataHash, type SectionName } from "../../render_data/mod.ts";
import { GpuRenderer, tileFloats } from "../../render/mod.ts";
import { VERSION } from "../../version.ts";
import { deadline } from "../async.ts";
import { HEARTBEAT_TIMEOUT_SECONDS, JOIN_TIMEOUT_MS } from "../defaults.ts";
import {
  compressFloats,
  decodeSection,
  HandshakeError,
  Link,
  type Message,
  parseSectionHead,
  ProtocolError,
  type SceneOffer,
  type SectionChunk,
  type SectionInfo,
  type Work,
} from "../protocol/mod.ts";

const log = getLogger(["octane", "slave"]);

/** How a slave session ended. */
export type SlaveExit =
  | { kind: "finished" } // the master said bye
  | { kind: "stopped" } // SIGINT/SIGTERM: unfinished work returned
  | { kind: "lost"; reason: string } // the master went away or misbehaved
  | { kind: "failed"; reason: string }; // this slave's GPU cannot render what it was sent

/** This slave's own GPU failed (building the renderer, or a unit): joining again would fail the same way. */
class LocalFailure extends Error {}

/** Options of {@linkcode Slave.join}. */
export interface SlaveOptions {
  /** Master host. */
  host: string;
  /** Master port. */
  port: number;
  /** The farm key, when the farm has one. */
  key?: Uint8Array;
  /** Seconds without a frame from the master after which it counts as gone. */
  heartbeatTimeout?: number;
}

/** Raised when the slave cannot join the master (unreachable, refused, another key or version). */
export class SlaveJoinError extends Error {
  /** True when trying again later may succeed: nothing listens there yet, or the master is busy. */
  readonly retry: boolean;

  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions & { retry?: boolean }) {
    super(message, options);
    this.name = "SlaveJoinError";
    this.retry = options?.retry ?? false;
  }
}

/** Connection errors after which a master may still appear at the address (it is not up yet, or restarting). */
const NOT_YET = [
  Deno.errors.ConnectionRefused,
  Deno.errors.ConnectionReset,
  Deno.errors.ConnectionAborted,
  Deno.errors.TimedOut,
  Deno.errors.NetworkUnreachable,
  Deno.errors.BrokenPipe,
];

class Finished extends Error {}

/** A section on its way: what the offer said of it, the buffer its wire bytes land in, how many arrived. */
interface Pending {
  info: SectionInfo;
  wire: Uint8Array;
  received: number;
}

/**
 * A slave's session with one master: keeps render data in memory by section hash (an update resends only
 * what changed), renders the units it is sent one after another, and sends back their compressed sums.
 */
export class Slave {
  #gpu: Gpu;
  #link: Link;
  #where: string;
  #timeout: number;
  #cache = new Map<string, Uint8Array>();
  #scene?: SceneOffer;
  #pending = new Map<string, Pending>();
  #renderer?: GpuRenderer;
  #queue: Work[] = [];
  #current?: Work;
  #rendering: Promise<void> = Promise.resolve();
  #stopping = false;
  /** What the current scene needed sent: sections, raw and wire bytes, and how many sections were cached. */
  #needed = { sections: 0, bytes: 0, wireBytes: 0, cached: 0 };
  #done = { units: 0, pixelSamples: 0 };
  /** Why this slave's GPU failed a unit, if it did. */
  #failure?: string;

  private constructor(gpu: Gpu, link: Link, where: string, timeout: number) {
    this.#gpu = gpu;
    this.#link = link;
    this.#where = where;
    this.#timeout = timeout;
    // section chunks (their wire bytes, compressed or not) land straight in the buffer of their section
    link.sink = (head, rest) => {
      const { hash, offset } = parseSectionHead(head);
      const p = this.#pending.get(hash);
      return p && offset + rest <= p.wire.length ? p.wire.subarray(offset, offset + rest) : undefined;
    };
  }

  /**
   * Connects to the master, runs the sealed handshake and says hello.
   * @throws {SlaveJoinError} when the master cannot be reached or refuses this slave
   */
  static async join(gpu: Gpu, o: SlaveOptions): Promise<Slave> {
    const where = `${o.host}:${o.port}`;
    let link: Link;
    try {
      link = await Link.connect(o.host, o.port, { service: "render", ...(o.key ? { key: o.key } : {}) });
    } catch (error: unknown) {
      if (error instanceof HandshakeError) {
        // closed without a word: a master closing, or one whose accept queue is full
        throw new SlaveJoinError(error.message, { cause: error, retry: error.kind === "closed" });
      }
      const why = error instanceof Error ? error.message : String(error);
      throw new SlaveJoinError(`Cannot reach master ${where}: ${why}`, {
        cause: error,
        retry: NOT_YET.some((kind) => error instanceof kind) || (error as Error)?.name === "TimeoutError" ||
          /os error 113\b|No route to host|lookup address|Name or service not known|name resolution/.test(
            why,
          ),
      });
    }
    try {
      await link.send("hello", { version: VERSION, host: hostname(), gpus: [gpu.summary], pid: Deno.pid });
      const answer = await deadline(link.receive(["welcome", "refuse"]), JOIN_TIMEOUT_MS, {
        message: `master ${where} did not answer within ${JOIN_TIMEOUT_MS / 1000} s`,
      });
      if (!answer) {
        throw new SlaveJoinError(`Master ${where} closed the connection after the handshake`, {
          retry: true,
        });
      }
      if (answer.type === "refuse") {
        throw new SlaveJoinError(`Master ${where} refused this slave: ${answer.body.reason}`, {
          retry: answer.body.retry === true,
        });
      }
      if (answer.type !== "welcome") {
        throw new SlaveJoinError(`Master ${where} sent ${answer.type} instead of welcome`);
      }
    } catch (error: unknown) {
      link.close();
      if (error instanceof SlaveJoinError) throw error;
      throw new SlaveJoinError(error instanceof Error ? error.message : String(error), { cause: error });
    }
    return new Slave(gpu, link, where, o.heartbeatTimeout ?? HEARTBEAT_TIMEOUT_SECONDS);
  }

  /** Leaves without a word (a join that came after the wait was given up). */
  close(): void {
    this.#stopping = true;
    this.#link.close();
  }

  /** Units rendered and sent back, and their pixel samples, since joining. */
  get done(): { readonly units: number; readonly pixelSamples: number } {
    return this.#done;
  }

  /** Renders what the master sends until it says bye, goes away, or `signal` aborts (work then goes back). */
  async run(signal?: AbortSignal): Promise<SlaveExit> {
    const link = this.#link;
    link.startHeartbeats();
    let onAbort = () => {};
    const aborted = new Promise<"aborted">((resolve) => {
      onAbort = () => resolve("aborted");
      if (signal?.aborted) resolve("aborted");
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    const watchdog = setInterval(() => {
      if (link.silentSeconds > this.#timeout) {
        link.close(`no heartbeat from the master for ${this.#timeout} s`);
      }
    }, 500);
    try {
      for (;;) {
        const next = await Promise.race([link.receive(["scene", "section", "work", "bye"]), aborted]);
        if (next === "aborted") return await this.#stop();
        if (next === null && this.#failure !== undefined) throw new LocalFailure(this.#failure);
        if (next === null) return { kind: "lost", reason: `master ${this.#where} closed the connection` };
        await this.#onMessage(next);
      }
    } catch (error: unknown) {
      if (error instanceof Finished) return { kind: "finished" };
      const local = error instanceof LocalFailure ? error.message : this.#failure;
      if (local !== undefined) {
        return {
          kind: "failed",
          reason: `this slave's GPU cannot render the scene of master ${this.#where}: ${local}`,
        };
      }
      if (link.closed) {
        return {
          kind: "lost",
          reason: `master ${this.#where} stopped answering (no heartbeat for ${this.#timeout} s)`,
        };
      }
      const why = error instanceof Error ? error.message : String(error);
      return { kind: "lost", reason: `connection to master ${this.#where} failed: ${why}` };
    } finally {
      signal?.removeEventListener("abort", onAbort);
      clearInterval(watchdog);
      this.#stopping = true;
      await this.#rendering.catch(() => {});
      this.#renderer?.destroy();
      link.close();
    }
  }

  async #onMessage(m: Message): Promise<void> {
    switch (m.type) {
      case "scene":
        return await this.#onScene(m.body);
      case "section":
        return await this.#onSection(m.body);
      case "work":
        return this.#onWork(m.body);
      case "bye":
        throw new Finished();
      default:
        throw new ProtocolError(`unexpected ${m.type} message from the master`);
    }
  }

  async #onScene(scene: SceneOffer): Promise<void> {
    this.#scene = scene;
    this.#queue.length = 0;
    this.#pending = new Map();
    // keep only what this scene uses: the renderer holds its own copy of the previous scene's data
    const wanted = new Set(scene.sections.map((s) => s.hash));
    for (const hash of [...this.#cache.keys()]) if (!wanted.has(hash)) this.#cache.delete(hash);
    for (const s of scene.sections) {
      if (!this.#cache.has(s.hash)) {
        this.#pending.set(s.hash, { info: s, wire: new Uint8Array(s.wireLength), received: 0 });
      }
    }
    const missing = [...this.#pending.values()];
    this.#needed = {
      sections: missing.length,
      bytes: missing.reduce((n, p) => n + p.info.length, 0),
      wireBytes: missing.reduce((n, p) => n + p.info.wireLength, 0),
      cached: scene.sections.length - missing.length,
    };
    await this.#link.send("need", { id: scene.id, hashes: [...this.#pending.keys()] });
    if (this.#pending.size === 0) await this.#sceneComplete();
  }

  async #onSection(chunk: SectionChunk): Promise<void> {
    // a chunk that fits a pending section was read straight into its buffer by the sink
    if (!chunk.direct) throw new ProtocolError("section chunk for no pending section, or past its end");
    const p = this.#pending.get(chunk.hash)!;
    p.received += chunk.bytes.length;
    if (p.received < p.wire.length) return;
    // decompressed no further than its offered length, then its size and SHA-256 checked
    this.#cache.set(chunk.hash, decodeSection(p.info, p.wire));
    this.#pending.delete(chunk.hash);
    if (this.#pending.size === 0) await this.#sceneComplete();
  }

  #onWork(unit: Work): void {
    const scene = this.#scene;
    if (!scene) throw new ProtocolError("work before any scene");
    if (unit.height < 1 || unit.y + unit.height > scene.height || unit.count < 1) {
      throw new ProtocolError("work outside the image");
    }
    this.#queue.push(unit);
    this.#pump();
  }

  /** Every section has arrived: checks the content hash and builds the renderer. */
  async #sceneComplete(): Promise<void> {
    const scene = this.#scene!;
    const sections = new Map<SectionName, Uint8Array>();
    for (const s of scene.sections) sections.set(s.name, this.#cache.get(s.hash)!);
    const data = renderDataFromSections(sections, "render data from the master");
    if (renderDataHash(data) !== scene.id) {
      throw new ProtocolError("the render data received does not match its content hash");
    }
    // a unit of the previous scene may still be rendering: let it end before its buffers go
    const old = this.#renderer;
    this.#renderer = undefined;
    await this.#rendering.catch(() => {});
    old?.destroy();
    let renderer: GpuRenderer;
    try {
      renderer = await GpuRenderer.create(this.#gpu, data, {
        width: scene.width,
        height: scene.height,
        seed: scene.seed,
        maxDepth: scene.maxDepth,
        aovs: scene.aovs === true,
      });
    } catch (error: unknown) {
      throw new LocalFailure(error instanceof Error ? error.message : String(error), { cause: error });
    }
    if (this.#stopping) return renderer.destroy(); // the session ended while it was being built
    this.#renderer = renderer;
    const n = this.#needed;
    log.info(
      "Render data {id} ready: {triangles} triangles, {w}x{h}; received {bytes} in {sections}{wire}{cached}",
      {
        id: scene.id.slice(0, 12),
        triangles: data.stats.triangles,
        w: scene.width,
        h: scene.height,
        bytes: formatBytes(n.bytes),
        sections: `${n.sections} section${n.sections === 1 ? "" : "s"}`,
        wire: n.wireBytes < n.bytes ? ` (${formatBytes(n.wireBytes)} on the wire)` : "",
        cached: n.cached > 0 ? ` (${n.cached} kept from before)` : "",
      },
    );
    await this.#link.send("ready", { id: scene.id });
    this.#pump();
  }

  /** Starts the next queued unit when none is rendering. */
  #pump(): void {
    if (this.#current || !this.#renderer || this.#stopping) return;
    const unit = this.#queue.shift();
    if (!unit) return;
    this.#current = unit;
    this.#rendering = this.#render(this.#renderer, unit).catch((error: unknown) => {
      this.#failure ??= error instanceof Error ? error.message : String(error);
      this.#link.close();
    });
  }

  async #render(renderer: GpuRenderer, unit: Work): Promise<void> {
    const t0 = performance.now();
    const tile = await renderer.render({ start: unit.start, count: unit.count }, {
      x: 0,
      y: unit.y,
      width: this.#scene!.width,
      height: unit.height,
    });
    const seconds = (performance.now() - t0) / 1000;
    this.#current = undefined;
    if (this.#stopping) return;
    this.#done.units++;
    this.#done.pixelSamples += unit.height * this.#scene!.width * unit.count;
    await this.#link.send("result", {
      job: unit.job,
      seconds,
      rays: tile.rays,
      // with AOVs: the radiance sums, then the AOV sums
      data: compressFloats(tileFloats(tile)),
      compressed: true,
    });
    this.#pump();
  }

  /** Hands unfinished units back and says bye. */
  async #stop(): Promise<SlaveExit> {
    this.#stopping = true;
    const jobs = [...(this.#current ? [this.#current.job] : []), ...this.#queue.map((u) => u.job)];
    await this.#link.send("return", { jobs }).catch(() => {});
    await this.#link.send("bye", {}).catch(() => {});
    log.info("Returned {n} unfinished units to the master", { n: jobs.length });
    return { kind: "stopped" };
  }
}

/** "6.8 kB", "67.8 MB". */
function formatBytes(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} bytes`;
}
