import { getLogger } from "@logtape/logtape";
import { hostname } from "node:os";
import type { AdapterSummary, Gpu } from "../../gpu/mod.ts";
import { type RenderData, renderDataSections, sectionsHash } from "../../render_data/mod.ts";
import { GpuRenderer, type RenderSettings } from "../../render/mod.ts";
import { PROTOCOL_VERSION, VERSION } from "../../version.ts";
import {
  decompressFloats,
  FLAG_COMPRESSED,
  intField,
  nonce,
  parseJson,
  Peer,
  proof,
  proofMatches,
  ProtocolError,
  sectionHead,
  stringField,
  withTimeout,
} from "../protocol/mod.ts";
import { Scheduler, type WorkUnit } from "./scheduler.ts";

const log = getLogger(["octane", "master"]);

/** Bytes of render data per section frame. */
const CHUNK_BYTES = 1 << 20;
/** Units in flight per slave: one rendering, one on the wire. */
const UNITS_IN_FLIGHT = 2;

/** What the master knows about one rendering node. */
export interface NodeInfo {
  /** "local" or the slave's address. */
  id: string;
  /** Host name the node reported. */
  host: string;
  /** Its GPUs. */
  gpus: AdapterSummary[];
  /** Pixel samples it contributed. */
  samples: number;
  /** Bytes the master sent to it / received from it. */
  bytesSent: number;
  /** Bytes received from it. */
  bytesReceived: number;
  /** Render data uploaded to it, bytes, and the bytes it needed. */
  upload: { sent: number; total: number };
  /** Pixel samples per second, smoothed. */
  rate: number;
  /** Still connected (the local node: still rendering). */
  active: boolean;
  /** Result payload bytes received. */
  resultBytes: number;
  /** Uncompressed size of those results. */
  resultRawBytes: number;
  /** Milliseconds from connecting to the first merged sample (slaves). */
  firstSampleMs?: number;
  /** performance.now() of the first merged sample (slaves). */
  firstSampleAt?: number;
  /** The slave's process id, as it reported it (daemons report the same for the slaves they start). */
  pid?: number;
}

/** Options of {@linkcode Master}. */
export interface MasterOptions extends RenderSettings {
  /** Samples per pixel. */
  spp: number;
  /** Port to listen on. */
  port: number;
  /** Address to listen on. */
  bind: string;
  /** Take the next free port when `port` is busy. */
  autoPort: boolean;
  /** Render on this machine's GPU too. */
  localRender: boolean;
  /** Shared secret both ends must prove; none: the LAN is trusted. */
  secret?: string;
  /** Seconds without a frame after which a slave is dropped. */
  heartbeatTimeout: number;
  /** Target seconds per work unit. */
  unitSeconds: number;
  /** Hand out no work until this many slaves have the render data (for scripted farm renders). */
  waitSlaves: number;
  /** Seconds after which work is handed out even if fewer than waitSlaves slaves are ready. */
  waitTimeout?: number;
}

const defaults = {
  port: 21000,
  bind: "0.0.0.0",
  autoPort: false,
  localRender: true,
  heartbeatTimeout: 10,
  unitSeconds: 1,
  waitSlaves: 0,
} satisfies Partial<MasterOptions>;

/** A finished network render. */
export interface MasterResult {
  /** Per-pixel radiance sums, rgb. */
  sums: Float64Array;
  /** Samples per pixel in `sums`. */
  samples: number;
  /** Milliseconds from start to the last merged sample. */
  elapsedMs: number;
  /** Content hash of the render data rendered. */
  sceneHash: string;
  /** Every node that took part. */
  nodes: NodeInfo[];
}

/** A node that has contributed nothing yet. */
function newNode(id: string, host: string, gpus: AdapterSummary[]): NodeInfo {
  const fresh = { samples: 0, bytesSent: 0, bytesReceived: 0, rate: 0, resultBytes: 0, resultRawBytes: 0 };
  return { id, host, gpus, ...fresh, upload: { sent: 0, total: 0 }, active: true };
}

interface Slave {
  info: NodeInfo;
  peer: Peer;
  ready: boolean;
  inFlight: Set<number>; // jobs sent and not yet answered
  joined: number;
}

/** Options of {@linkcode Master.run}. */
export interface RunOptions {
  /** Called with every finished render (each scene version once with --watch). */
  onRender?: (result: MasterResult) => void | Promise<void>;
  /** Keep serving after a render finishes, for updates (`update`) until `close`. */
  keepGoing?: boolean;
}

/** One render of one scene version: its data, its work and its merged sums. */
class Render {
  readonly data: RenderData;
  readonly id: string;
  readonly sections: ReturnType<typeof renderDataSections>;
  readonly scheduler: Scheduler;
  readonly sums: Float64Array;
  /** When the first unit was handed out (rendering time excludes waiting for slaves). */
  started?: number;
  readySlaves = 0;
  reported = false;

  constructor(data: RenderData, o: MasterOptions, firstJob: number) {
    this.data = data;
    this.sections = renderDataSections(data);
    this.id = sectionsHash(this.sections);
    this.scheduler = new Scheduler(o.width, o.height, o.spp, { firstJob });
    this.sums = new Float64Array(o.width * o.height * 3);
  }
}

/**
 * Drives a network render: listens for slaves, sends them the render data, hands out (rows, samples)
 * units to them and to the local GPU, and merges the sums. Samples depend only on (pixel, sample, seed),
 * so the image equals a local render whoever renders what. `update` restarts the render on new data;
 * slaves are sent only the sections they do not have.
 */
export class Master {
  #options: MasterOptions;
  #listener: Deno.Listener;
  #render: Render;
  #nodes: NodeInfo[] = [];
  #slaves = new Set<Slave>();
  #wake: (() => void)[] = [];
  #watchdog?: ReturnType<typeof setInterval>;
  #gpu?: Gpu;
  #closed = false;
  #waitOver = false;

  private constructor(data: RenderData, options: MasterOptions, listener: Deno.Listener, gpu?: Gpu) {
    this.#options = options;
    this.#listener = listener;
    this.#gpu = gpu;
    this.#render = new Render(data, options, 1);
  }

  /**
   * Listens on the port (or, with autoPort, the next free one up to 100 higher).
   * @throws {Deno.errors.AddrInUse} when the port is taken and autoPort is off
   */
  static start(
    data: RenderData,
    options: Partial<MasterOptions> & Pick<MasterOptions, "spp" | "width" | "height" | "seed" | "maxDepth">,
    gpu?: Gpu,
  ): Master {
    const o = { ...defaults, ...options };
    let listener: Deno.Listener | undefined;
    for (let port = o.port; port <= o.port + (o.autoPort ? 100 : 0) && port <= 65535; port++) {
      try {
        listener = Deno.listen({ hostname: o.bind, port, transport: "tcp" });
        break;
      } catch (error: unknown) {
        if (!(error instanceof Deno.errors.AddrInUse) || !o.autoPort) throw error;
      }
    }
    if (!listener) throw new Deno.errors.AddrInUse(`Ports ${o.port} to ${o.port + 100} are all in use`);
    if (o.localRender && !gpu) {
      throw new RangeError("Cannot render locally without a GPU: pass one, or set localRender to false");
    }
    return new Master(data, o, listener, gpu);
  }

  /** The port listened on. */
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** Progress for status lines: samples merged and their total, the nodes. */
  get progress(): {
    samplesDone: number;
    samplesTotal: number;
    elapsedMs: number;
    nodes: readonly NodeInfo[];
  } {
    this.#countBytes();
    const r = this.#render;
    return {
      samplesDone: r.scheduler.samplesDone,
      samplesTotal: r.scheduler.samplesTotal,
      elapsedMs: r.started === undefined ? 0 : performance.now() - r.started,
      nodes: this.#nodes,
    };
  }

  /**
   * Restarts the render on new render data (a changed scene); every slave is sent the sections it lacks.
   * @returns false when the data is the same as the current render's
   */
  update(data: RenderData): boolean {
    const old = this.#render;
    const next = new Render(data, this.#options, old.scheduler.nextJob);
    if (next.id === old.id) return false;
    this.#render = next;
    for (const n of this.#nodes) n.samples = 0; // contributions count per render
    for (const s of this.#slaves) {
      s.ready = false;
      s.inFlight.clear();
      this.#offerScene(s);
    }
    log.info("Scene changed: render data {id}, restarting the render", { id: next.id.slice(0, 12) });
    this.#signal();
    return true;
  }

  /** Renders until the render finishes (or, with keepGoing, until `close`); accepts slaves meanwhile. */
  async run(options: RunOptions = {}): Promise<MasterResult> {
    this.#watchdog = setInterval(() => this.#checkHeartbeats(), 500);
    if (!this.#options.secret) {
      log.warn(
        "No shared secret: the LAN is trusted, any host that reaches port {port} may render (use --secret-file)",
        { port: this.port },
      );
    }
    const wait = this.#options.waitTimeout;
    const waitTimer = wait !== undefined && this.#options.waitSlaves > 0
      ? setTimeout(() => {
        if (this.#go) return;
        this.#waitOver = true;
        log.warn("Only {n} of {want} slaves were ready after {s} s: rendering with them", {
          n: this.#render.readySlaves,
          want: this.#options.waitSlaves,
          s: wait,
        });
        for (const s of this.#slaves) this.#feed(s);
        this.#signal();
      }, wait * 1000)
      : undefined;
    const accepting = this.#accept();
    const local = this.#options.localRender ? this.#localLoop() : Promise.resolve();
    let last: MasterResult | undefined;
    while (!this.#closed) {
      const r = this.#render;
      if (r.scheduler.finished && !r.reported) {
        r.reported = true;
        this.#countBytes();
        last = {
          sums: r.sums,
          samples: this.#options.spp,
          elapsedMs: performance.now() - (r.started ?? performance.now()),
          sceneHash: r.id,
          nodes: this.#nodes.map((n) => ({ ...n, gpus: [...n.gpus], upload: { ...n.upload } })),
        };
        await options.onRender?.(last);
        if (!options.keepGoing) break;
      }
      await this.#changed();
    }
    clearTimeout(waitTimer);
    await Promise.allSettled([...this.#slaves].map((s) => s.peer.send("bye", {})));
    this.close();
    await local;
    await accepting;
    if (!last) throw new Error("The master was closed before the render finished");
    return last;
  }

  /** Copies each connected slave's byte counters into its node info. */
  #countBytes(): void {
    for (const s of this.#slaves) {
      s.info.bytesSent = s.peer.bytesSent;
      s.info.bytesReceived = s.peer.bytesReceived;
    }
  }

  /** Stops listening and drops every slave. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#watchdog);
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    for (const s of this.#slaves) s.peer.close();
    this.#signal();
  }

  #signal(): void {
    const waiting = this.#wake;
    this.#wake = [];
    for (const w of waiting) w();
  }

  /** True once enough slaves are ready for work to be handed out (see waitSlaves). */
  get #go(): boolean {
    return this.#waitOver || this.#render.readySlaves >= this.#options.waitSlaves;
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#wake.push(resolve));
  }

  #merge(r: Render, unit: WorkUnit, sums: Float32Array, info: NodeInfo, seconds: number): void {
    const offset = unit.y * this.#options.width * 3;
    for (let i = 0; i < sums.length; i++) r.sums[offset + i]! += sums[i]!;
    const pixelSamples = unit.height * this.#options.width * unit.count;
    info.samples += pixelSamples;
    const rate = pixelSamples / Math.max(seconds, 1e-3);
    info.rate = info.rate > 0 ? 0.5 * info.rate + 0.5 * rate : rate;
  }

  #take(r: Render, owner: string, info: NodeInfo): WorkUnit | undefined {
    const unit = r.scheduler.take(owner, this.#unitSize(info));
    if (unit && r.started === undefined) r.started = performance.now();
    return unit;
  }

  /** Samples per pixel for a unit of about unitSeconds on a node of this rate. */
  #unitSize(info: NodeInfo): number {
    if (!(info.rate > 0)) return 1;
    return Math.max(1, Math.floor(info.rate * this.#options.unitSeconds / this.#render.scheduler.bandPixels));
  }

  async #localLoop(): Promise<void> {
    const gpu = this.#gpu!;
    const info = newNode("local", hostname(), [gpu.summary]);
    this.#nodes.push(info);
    let renderer: GpuRenderer | undefined;
    let rendering: Render | undefined;
    try {
      while (!this.#closed) {
        const r = this.#render;
        const unit = this.#go ? this.#take(r, "local", info) : undefined;
        if (!unit) {
          await this.#changed();
          continue;
        }
        if (rendering !== r) {
          renderer?.destroy();
          renderer = await GpuRenderer.create(gpu, r.data, this.#options);
          rendering = r;
        }
        const t0 = performance.now();
        const tile = await renderer!.render({ start: unit.start, count: unit.count }, {
          x: 0,
          y: unit.y,
          width: this.#options.width,
          height: unit.height,
        });
        // a unit of a render replaced meanwhile is dropped: its samples belong to old data
        if (r === this.#render && r.scheduler.complete(unit.job, "local")) {
          this.#merge(r, unit, tile.sums, info, (performance.now() - t0) / 1000);
        }
        this.#signal();
      }
    } catch (error: unknown) {
      // the local GPU failed (device lost, out of memory): its units go to the slaves, the render goes on
      const n = this.#render.scheduler.release("local");
      log.error("Local rendering stopped: {message}; {n} of its units go to the slaves", {
        message: error instanceof Error ? error.message : String(error),
        n,
      });
      this.#signal();
    } finally {
      info.active = false;
      renderer?.destroy();
    }
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) this.#serve(conn);
    } catch {
      // the listener was closed
    }
  }

  #checkHeartbeats(): void {
    for (const s of this.#slaves) {
      if (s.peer.silentSeconds > this.#options.heartbeatTimeout) {
        log.warn("Dropping slave {peer}: no heartbeat for {s} s", {
          peer: s.peer.label,
          s: this.#options.heartbeatTimeout,
        });
        s.peer.close();
      }
    }
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    const peer = new Peer(conn);
    const joined = performance.now();
    let slave: Slave | undefined;
    try {
      const hello = await this.#handshake(peer);
      if (!hello) return;
      const info = newNode(peer.label, hello.host, hello.gpus);
      if (hello.pid !== undefined) info.pid = hello.pid;
      slave = { info, peer, ready: false, inFlight: new Set(), joined };
      this.#nodes.push(info);
      this.#slaves.add(slave);
      log.info("Slave {peer} ({host}) joined with {gpus}", {
        peer: peer.label,
        host: info.host,
        gpus: info.gpus.map((g) => g.name).join(", "),
      });
      peer.startHeartbeats();
      this.#offerScene(slave);
      for (;;) {
        const frame = await peer.receive();
        if (!frame) break;
        if (frame.type === "need") {
          this.#sendSections(slave, parseJson(frame.payload, "need")).catch((e: unknown) =>
            peer.close(String(e))
          );
        } else if (frame.type === "ready") {
          if (parseJson(frame.payload, "ready").id !== this.#render.id) continue; // ready for a scene since replaced
          slave.ready = true;
          this.#render.readySlaves++;
          log.info("Slave {peer} has the render data and starts rendering", { peer: peer.label });
          for (const s of this.#slaves) this.#feed(s);
          this.#signal();
        } else if (frame.type === "result") {
          this.#onResult(slave, frame.payload, frame.flags);
          this.#feed(slave);
        } else if (frame.type === "return") {
          const m = parseJson(frame.payload, "return");
          const jobs = Array.isArray(m.jobs)
            ? m.jobs.filter((j): j is number => Number.isSafeInteger(j))
            : [];
          const n = this.#render.scheduler.release(peer.label, jobs);
          for (const j of jobs) slave.inFlight.delete(j);
          log.info("Slave {peer} returned {n} unfinished units", { peer: peer.label, n });
          this.#signal();
        } else if (frame.type === "bye") {
          break;
        } else {
          throw new ProtocolError(`unexpected ${frame.type} message`);
        }
      }
    } catch (error: unknown) {
      if (!peer.closed) {
        log.warn("Closing connection with {peer}: {reason}", {
          peer: peer.label,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    } finally {
      peer.close();
      if (slave) {
        slave.info.active = false;
        slave.info.bytesSent = peer.bytesSent;
        slave.info.bytesReceived = peer.bytesReceived;
        this.#slaves.delete(slave);
        if (slave.ready) this.#render.readySlaves--;
        const n = this.#render.scheduler.release(peer.label);
        if (!this.#render.scheduler.finished) {
          log.info("Slave {peer} left; {n} of its units go to other nodes", { peer: peer.label, n });
        }
        this.#signal();
      }
    }
  }

  async #handshake(
    peer: Peer,
  ): Promise<{ host: string; gpus: AdapterSummary[]; pid?: number } | undefined> {
    const frame = await withTimeout(peer.receive(), 5000, "no hello within 5 s");
    if (!frame) return undefined;
    if (frame.version !== PROTOCOL_VERSION) {
      const reason =
        `protocol version mismatch: the master (octane ${VERSION}) speaks protocol ${PROTOCOL_VERSION}, this slave speaks ${frame.version}; run the same octane on every node`;
      log.warn("Refused {peer}: {reason}", { peer: peer.label, reason });
      await peer.send("refuse", { reason, protocol: PROTOCOL_VERSION, version: VERSION }).catch(() => {});
      return undefined;
    }
    if (frame.type !== "hello") throw new ProtocolError(`expected hello, got ${frame.type}`);
    const hello = parseJson(frame.payload, "hello");
    const host = stringField(hello, "host", "hello");
    const gpus = Array.isArray(hello.gpus)
      ? hello.gpus.slice(0, 16).map((g) => ({
        name: String(g?.name ?? "?"),
        vendor: String(g?.vendor ?? ""),
        software: g?.software === true,
      }))
      : [];
    const secret = this.#options.secret;
    if (secret) {
      const challenge = nonce();
      await peer.send("challenge", {
        nonce: challenge,
        proof: proof(secret, "master", String(hello.nonce ?? "")),
      });
      const auth = await withTimeout(peer.receive(), 5000, "no answer to the challenge within 5 s");
      if (
        !auth || auth.type !== "auth" ||
        !proofMatches(secret, "slave", challenge, parseJson(auth.payload, "auth").proof)
      ) {
        log.warn("Refused slave {peer}: it did not prove the shared secret", { peer: peer.label });
        await peer.send("refuse", { reason: "authentication failed" }).catch(() => {});
        return undefined;
      }
    }
    await peer.send("welcome", { version: VERSION, protocol: PROTOCOL_VERSION, host: hostname() });
    return { host, gpus, ...(Number.isSafeInteger(hello.pid) ? { pid: hello.pid as number } : {}) };
  }

  /** Tells a slave which render data the current render needs; it answers with the sections it lacks. */
  #offerScene(slave: Slave): void {
    const r = this.#render;
    const o = this.#options;
    slave.peer.send("scene", {
      id: r.id,
      width: o.width,
      height: o.height,
      seed: o.seed,
      maxDepth: o.maxDepth,
      sections: r.sections.map((s) => ({ name: s.name, hash: s.hash, length: s.bytes.length })),
    }).catch(() => slave.peer.close());
  }

  async #sendSections(slave: Slave, need: Record<string, unknown>): Promise<void> {
    const { peer, info } = slave;
    const r = this.#render;
    const hashes = new Set(Array.isArray(need.hashes) ? need.hashes.map(String) : []);
    const sending = r.sections.filter((s) => hashes.has(s.hash));
    info.upload = { sent: 0, total: sending.reduce((n, s) => n + s.bytes.length, 0) };
    log.info("Sending {n} of {all} render-data sections ({names}, {bytes} bytes) to {peer}", {
      n: sending.length,
      all: r.sections.length,
      names: sending.map((s) => s.name).join(", ") || "none",
      bytes: info.upload.total,
      peer: peer.label,
    });
    for (const s of sending) {
      for (let at = 0; at < s.bytes.length || at === 0; at += CHUNK_BYTES) {
        if (this.#render !== r) return; // replaced meanwhile: the new scene was offered already
        const chunk = s.bytes.subarray(at, Math.min(s.bytes.length, at + CHUNK_BYTES));
        await peer.send("section", [sectionHead(s.hash, at), chunk]);
        info.upload.sent += chunk.length;
        if (s.bytes.length === 0) break;
      }
    }
  }

  #feed(slave: Slave): void {
    if (!slave.ready || slave.peer.closed || !this.#go) return;
    while (slave.inFlight.size < UNITS_IN_FLIGHT) {
      const unit = this.#take(this.#render, slave.peer.label, slave.info);
      if (!unit) return;
      slave.inFlight.add(unit.job);
      slave.peer.send("work", unit).catch(() => slave.peer.close());
    }
  }

  #onResult(slave: Slave, payload: Uint8Array, flags: number): void {
    if (payload.length < 4) throw new ProtocolError("result too short");
    const headerLength = new DataView(payload.buffer, payload.byteOffset).getUint32(0, true);
    if (headerLength > 4096 || 4 + headerLength > payload.length) {
      throw new ProtocolError("result header length out of range");
    }
    const header = parseJson(payload.subarray(4, 4 + headerLength), "result");
    const job = intField(header, "job", "result");
    const seconds = Math.max(0, Number(header.seconds) || 0);
    const r = this.#render;
    const unit = r.scheduler.peek(job, slave.peer.label);
    if (!unit) {
      slave.inFlight.delete(job);
      return; // a unit that was released meanwhile: its samples are someone else's now
    }
    const count = unit.height * this.#options.width * 3;
    const body = payload.subarray(4 + headerLength);
    const sums = flags & FLAG_COMPRESSED ? decompressFloats(body, count) : rawFloats(body, count);
    r.scheduler.complete(job, slave.peer.label);
    slave.inFlight.delete(job);
    this.#merge(r, unit, sums, slave.info, seconds);
    slave.info.resultBytes += body.length;
    slave.info.resultRawBytes += count * 4;
    if (slave.info.firstSampleMs === undefined) {
      slave.info.firstSampleAt = performance.now();
      slave.info.firstSampleMs = slave.info.firstSampleAt - slave.joined;
      log.info("First samples from slave {peer} merged {ms} ms after it connected", {
        peer: slave.peer.label,
        ms: Math.round(slave.info.firstSampleMs),
      });
    }
    this.#signal();
  }
}

function rawFloats(body: Uint8Array, count: number): Float32Array {
  if (body.length !== count * 4) {
    throw new ProtocolError(`result holds ${body.length} bytes, not ${count * 4}`);
  }
  return new Float32Array(body.slice().buffer);
}
