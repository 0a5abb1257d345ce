import { getLogger } from "@logtape/logtape";
import { SECTION_CHUNK_BYTES, UNITS_IN_FLIGHT } from "../defaults.ts";
import {
  decompressFloats,
  type Hello,
  type Link,
  ProtocolError,
  rawFloats,
  type Result,
} from "../protocol/mod.ts";
import type { MasterState } from "./_state.ts";
import { newNode, type NodeInfo } from "./node.ts";

const log = getLogger(["octane", "master"]);

/**
 * The master's side of one slave: offers it the render data, uploads the sections it lacks, feeds it
 * units, merges its results, and gives its units back when it leaves.
 */
export class SlaveLink {
  /** What the master reports about it. */
  readonly info: NodeInfo;
  /** The sealed link. */
  readonly link: Link;
  /** True once it has the current render data. */
  ready = false;
  /** Jobs sent and not yet answered. */
  readonly inFlight = new Set<number>();
  #state: MasterState;
  #joined: number;

  /** A slave that said hello on `link` at time `joined` (performance.now()). */
  constructor(state: MasterState, link: Link, hello: Hello, joined: number) {
    this.#state = state;
    this.link = link;
    this.#joined = joined;
    this.info = newNode(link.label, hello.host, hello.gpus);
    if (hello.pid !== undefined) this.info.pid = hello.pid;
  }

  /** Serves the slave until it leaves, says bye, breaks the protocol or the master closes. */
  async serve(): Promise<void> {
    const { link } = this;
    this.#state.nodes.push(this.info);
    this.#state.slaves.add(this);
    if (this.#state.closed) return this.#leave(); // the master closed while it was welcomed
    log.info("Slave {peer} ({host}) joined with {gpus}", {
      peer: link.label,
      host: this.info.host,
      gpus: this.info.gpus.map((g) => g.name).join(", "),
    });
    link.startHeartbeats();
    this.offerScene();
    try {
      for (;;) {
        const m = await link.receive(["need", "ready", "result", "return", "bye"]);
        if (!m || m.type === "bye") break;
        switch (m.type) {
          case "need":
            this.#upload(m.body.hashes).catch((e: unknown) => link.close(String(e)));
            break;
          case "ready":
            this.#onReady(m.body.id);
            break;
          case "result":
            this.#onResult(m.body);
            this.feed();
            break;
          case "return":
            this.#onReturn(m.body.jobs);
            break;
          default:
            throw new ProtocolError(`unexpected ${m.type} message from a slave`);
        }
      }
    } catch (error: unknown) {
      if (!link.closed) {
        log.warn("Closing connection with {peer}: {reason}", {
          peer: link.label,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    } finally {
      this.#leave();
    }
  }

  /** Tells the slave which render data the current render needs; it answers with the sections it lacks. */
  offerScene(): void {
    const job = this.#state.render;
    const o = this.#state.options;
    this.link.send("scene", {
      id: job.id,
      width: o.width,
      height: o.height,
      seed: o.seed,
      maxDepth: o.maxDepth,
      sections: job.sections.map((s) => ({ name: s.name, hash: s.hash, length: s.bytes.length })),
    }).catch(() => this.link.close());
  }

  /** The render data changed: the slave is not ready until it has the new sections. */
  restart(): void {
    this.ready = false;
    this.inFlight.clear();
    this.offerScene();
  }

  /** Hands the slave units until it has UNITS_IN_FLIGHT. */
  feed(): void {
    const state = this.#state;
    if (!this.ready || this.link.closed || !state.go) return;
    while (this.inFlight.size < UNITS_IN_FLIGHT) {
      const unit = state.render.take(this.link.label, this.info);
      if (!unit) return;
      this.inFlight.add(unit.job);
      this.link.send("work", unit).catch(() => this.link.close());
    }
  }

  /** Copies the link's byte counters into the node info. */
  countBytes(): void {
    this.info.bytesSent = this.link.bytesSent;
    this.info.bytesReceived = this.link.bytesReceived;
  }

  async #upload(hashes: string[]): Promise<void> {
    const { link, info } = this;
    const job = this.#state.render;
    const wanted = new Set(hashes);
    const sending = job.sections.filter((s) => wanted.has(s.hash));
    info.upload = { sent: 0, total: sending.reduce((n, s) => n + s.bytes.length, 0) };
    log.info("Sending {n} of {all} render-data sections ({names}, {bytes} bytes) to {peer}", {
      n: sending.length,
      all: job.sections.length,
      names: sending.map((s) => s.name).join(", ") || "none",
      bytes: info.upload.total,
      peer: link.label,
    });
    for (const s of sending) {
      for (let at = 0; at < s.bytes.length || at === 0; at += SECTION_CHUNK_BYTES) {
        if (this.#state.render !== job) return; // replaced meanwhile: the new scene was offered already
        const bytes = s.bytes.subarray(at, Math.min(s.bytes.length, at + SECTION_CHUNK_BYTES));
        await link.send("section", { hash: s.hash, offset: at, bytes });
        info.upload.sent += bytes.length;
        if (s.bytes.length === 0) break;
      }
    }
  }

  #onReady(id: string): void {
    const state = this.#state;
    if (id !== state.render.id || this.ready) return; // ready for a scene since replaced, or said twice
    this.ready = true;
    state.render.readySlaves++;
    log.info("Slave {peer} has the render data and starts rendering", { peer: this.link.label });
    state.feedAll();
    state.signal();
  }

  #onResult(r: Result): void {
    const job = this.#state.render;
    const owner = this.link.label;
    const unit = job.scheduler.peek(r.job, owner);
    if (!unit) {
      this.inFlight.delete(r.job);
      return; // a unit that was released meanwhile: its samples are someone else's now
    }
    const count = job.floatsOf(unit);
    const sums = r.compressed ? decompressFloats(r.data, count) : rawFloats(r.data, count);
    job.scheduler.complete(r.job, owner);
    this.inFlight.delete(r.job);
    job.merge(unit, sums, this.info, r.seconds);
    this.info.resultBytes += r.data.length;
    this.info.resultRawBytes += count * 4;
    if (this.info.firstSampleMs === undefined) {
      this.info.firstSampleAt = performance.now();
      this.info.firstSampleMs = this.info.firstSampleAt - this.#joined;
      log.info("First samples from slave {peer} merged {ms} ms after it connected", {
        peer: owner,
        ms: Math.round(this.info.firstSampleMs),
      });
    }
    this.#state.signal();
  }

  #onReturn(jobs: number[]): void {
    const n = this.#state.render.scheduler.release(this.link.label, jobs);
    for (const j of jobs) this.inFlight.delete(j);
    log.info("Slave {peer} returned {n} unfinished units", { peer: this.link.label, n });
    this.#state.signal();
  }

  #leave(): void {
    const state = this.#state;
    this.link.close();
    this.info.active = false;
    this.countBytes();
    state.slaves.delete(this);
    if (this.ready) state.render.readySlaves--;
    const n = state.render.scheduler.release(this.link.label);
    if (!state.render.scheduler.finished) {
      log.info("Slave {peer} left; {n} of its units go to other nodes", { peer: this.link.label, n });
    }
    state.signal();
  }
}
