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
import { RateWindow } from "./_rate.ts";
import type { RenderJob } from "./_render_job.ts";
import type { MasterState } from "./_state.ts";
import { newNode, type NodeInfo } from "./node.ts";

const log = getLogger(["octane", "master"]);

/** Bad results (not finite, negative, the wrong size, not its unit) after which a slave is dropped. */
const BAD_RESULT_LIMIT = 3;
/** Answers a slave's rate is measured over. */
const RATE_WINDOW = 4;
/** Units overdue in a row after which a slave is dropped: every unit it holds, it holds without answering. */
const OVERDUE_LIMIT = UNITS_IN_FLIGHT;

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
  /** When each job in flight was sent, and when the last answer came: the master times units itself. */
  #sentAt = new Map<number, number>();
  #lastAnswerAt = 0;
  /** Its speed over its last few answers. */
  #rate = new RateWindow(RATE_WINDOW);
  /** Jobs of a render since replaced: their late answers are dropped quietly. */
  #stale = new Set<number>();
  /** Jobs answered lately: an answer to one of them again is a duplicate. */
  #answered: number[] = [];
  #bad = 0;
  #overdue = 0;
  /** The render (by generation) whose sections this slave asked for, and the one whose upload is complete. */
  #needFor?: number;
  #uploadedFor?: number;
  #everReady = false;
  /** Why it left, for the log. */
  #why = "its connection closed";

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
        if (m?.type === "bye") this.#why = "it stopped";
        if (!m || m.type === "bye") break;
        switch (m.type) {
          case "need":
            this.#onNeed(m.body.id, m.body.hashes);
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
        this.#why = error instanceof Error ? error.message : String(error);
        log.warn("Closing connection with {peer}: {reason}", { peer: link.label, reason: this.#why });
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
      ...(o.aovs ? { aovs: true } : {}),
      sections: this.#state.wire.of(job.id, job.sections).map((w) => w.info),
    }).catch(() => this.link.close());
  }

  /** The render data changed: the slave is not ready until it has the new sections. */
  restart(): void {
    this.ready = false;
    for (const job of this.inFlight) this.#stale.add(job);
    this.inFlight.clear();
    this.#sentAt.clear();
    this.#rate.clear();
    this.offerScene();
  }

  /**
   * One of its units is past its deadline (it went to another node too). OVERDUE_LIMIT in a row (every
   * unit it holds) and the slave is dropped: it holds units without answering.
   */
  missed(job: number): void {
    log.warn("Unit {job} of slave {peer} is overdue: handing it to another node too", {
      job,
      peer: this.link.label,
    });
    if (++this.#overdue >= OVERDUE_LIMIT) {
      this.drop(`${OVERDUE_LIMIT} units overdue (it holds work without answering)`);
    }
  }

  /** Drops the slave with a logged reason; its units go to other nodes. */
  drop(reason: string): void {
    if (this.link.closed) return;
    this.#why = `dropped: ${reason}`;
    log.warn("Dropping slave {peer}: {reason}", { peer: this.link.label, reason });
    this.link.close();
  }

  /** Hands the slave units until it has UNITS_IN_FLIGHT. */
  feed(): void {
    const state = this.#state;
    if (!this.ready || this.link.closed || !state.go) return;
    while (this.inFlight.size < UNITS_IN_FLIGHT) {
      const unit = state.render.take(this.link.label, this.info);
      if (!unit) return;
      this.inFlight.add(unit.job);
      this.#sentAt.set(unit.job, performance.now());
      const { job, y, height, start, count } = unit;
      this.link.send("work", { job, y, height, start, count }).catch(() => this.link.close());
    }
  }

  /** Copies the link's byte counters into the node info. */
  countBytes(): void {
    this.info.bytesSent = this.link.bytesSent;
    this.info.bytesReceived = this.link.bytesReceived;
  }

  /** Answers the slave's list of missing sections, once per scene offer; a repeat is ignored. */
  #onNeed(id: string, hashes: string[]): void {
    const job = this.#state.render;
    // an answer to the offer of a render since replaced (--watch): the new offer's answer is on its way
    if (id !== job.id) return;
    if (this.#needFor === job.generation) {
      log.warn("Slave {peer} asked for the render data again: ignored", { peer: this.link.label });
      return;
    }
    this.#needFor = job.generation;
    this.#upload(job, hashes).catch((e: unknown) => this.link.close(String(e)));
  }

  async #upload(job: RenderJob, hashes: string[]): Promise<void> {
    const { link, info } = this;
    const wanted = new Set(hashes);
    const sending = this.#state.wire.of(job.id, job.sections).filter((w) => wanted.has(w.info.hash));
    const raw = sending.reduce((n, w) => n + w.info.length, 0);
    info.upload = { sent: 0, total: sending.reduce((n, w) => n + w.bytes.length, 0) };
    log.info(
      "Sending {n} of {all} render-data sections ({names}, {bytes} bytes as {wire} on the wire) to {peer}",
      {
        n: sending.length,
        all: job.sections.length,
        names: sending.map((w) => w.info.name).join(", ") || "none",
        bytes: raw,
        wire: info.upload.total,
        peer: link.label,
      },
    );
    for (const { info: section, bytes: wire } of sending) {
      for (let at = 0; at < wire.length || at === 0; at += SECTION_CHUNK_BYTES) {
        // replaced meanwhile (a later generation): the new scene was offered already
        if (this.#state.render.generation !== job.generation) return;
        const bytes = wire.subarray(at, Math.min(wire.length, at + SECTION_CHUNK_BYTES));
        await link.send("section", { hash: section.hash, offset: at, bytes });
        info.upload.sent += bytes.length;
        if (wire.length === 0) break;
      }
      info.renderDataBytes += section.length;
      info.renderDataWireBytes += wire.length;
    }
    this.#uploadedFor = job.generation;
  }

  #onReady(id: string): void {
    const state = this.#state;
    // counted once, and only after every section it asked for has gone out: an early or repeated ready is
    // not a slave ready to render
    if (id !== state.render.id || this.ready || this.#uploadedFor !== state.render.generation) {
      log.debug("Slave {peer} said ready before it had the render data, or again: ignored", {
        peer: this.link.label,
      });
      return;
    }
    this.ready = true;
    this.#everReady = true;
    state.render.readySlaves++;
    log.info("Slave {peer} has the render data and starts rendering", { peer: this.link.label });
    state.signal();
  }

  #onResult(r: Result): void {
    if (this.link.closed) return; // dropped (a liar, say): what it sent before that counts for nothing
    const state = this.#state;
    const job = state.render;
    const owner = this.link.label;
    if (this.#stale.delete(r.job)) return; // a unit of a render since replaced
    if (!this.inFlight.has(r.job)) {
      return this.#badResult(
        this.#answered.includes(r.job)
          ? `unit ${r.job} answered twice`
          : `a result for unit ${r.job}, never given it`,
      );
    }
    this.inFlight.delete(r.job);
    this.#answered.push(r.job);
    if (this.#answered.length > 64) this.#answered.shift();
    // the master times the unit itself: busy from when it was sent, or the previous answer came, to now
    const now = performance.now();
    const busy = (now - Math.max(this.#sentAt.get(r.job) ?? now, this.#lastAnswerAt)) / 1000;
    this.#sentAt.delete(r.job);
    this.#lastAnswerAt = now;
    const unit = job.scheduler.peek(r.job, owner);
    if (!unit) return; // another node's answer came first
    const seconds = this.#rate.add(busy, unit.height * this.#state.options.width * unit.count);
    const count = job.floatsOf(unit);
    let sums: Float32Array;
    try {
      sums = r.compressed ? decompressFloats(r.data, count) : rawFloats(r.data, count);
    } catch (error: unknown) {
      job.scheduler.release(owner, { jobs: [r.job], avoid: true });
      return this.#badResult(error instanceof Error ? error.message : String(error));
    }
    const outcome = job.accept(owner, { info: this.info, job: r.job, sums, seconds });
    if (outcome.kind === "bad") return this.#badResult(outcome.reason);
    if (outcome.kind === "liars") state.convict(outcome.nodes);
    this.#overdue = 0;
    if (outcome.kind !== "merged") return state.signal();
    this.info.resultBytes += r.data.length;
    this.info.resultRawBytes += count * 4;
    if (this.info.firstSampleMs === undefined) {
      this.info.firstSampleAt = performance.now();
      this.info.firstSampleMs = this.info.firstSampleAt - this.#joined;
      log.debug("First samples from slave {peer} merged {ms} ms after it connected", {
        peer: owner,
        ms: Math.round(this.info.firstSampleMs),
      });
    }
    state.signal();
  }

  /** A result that cannot be merged: logged, its unit goes back; three and the slave is dropped. */
  #badResult(reason: string): void {
    this.#bad++;
    log.warn("Refused a result of slave {peer} ({n} of {max}): {reason}", {
      peer: this.link.label,
      n: this.#bad,
      max: BAD_RESULT_LIMIT,
      reason,
    });
    if (this.#bad >= BAD_RESULT_LIMIT) this.drop(`${BAD_RESULT_LIMIT} bad results`);
    this.#state.signal();
  }

  #onReturn(jobs: number[]): void {
    const n = this.#state.render.scheduler.release(this.link.label, { jobs });
    for (const j of jobs) this.inFlight.delete(j);
    log.info("Slave {peer} returned {n} unfinished units", { peer: this.link.label, n });
    this.#state.signal();
  }

  #leave(): void {
    const state = this.#state;
    this.link.close();
    this.info.active = false;
    this.info.left = this.#why;
    this.countBytes();
    state.slaves.delete(this);
    if (this.ready) state.render.readySlaves--;
    // a peer that never had the render data leaves no record behind (a flood of joins costs no memory)
    if (!this.#everReady && this.info.samples === 0) {
      const at = state.nodes.indexOf(this.info);
      if (at >= 0) state.nodes.splice(at, 1);
    }
    const n = state.render.scheduler.release(this.link.label);
    if (!state.closed) {
      log.info("Slave {peer} ({host}) left: {why}{units}", {
        peer: this.link.label,
        host: this.info.host,
        why: this.#why,
        units: n > 0 ? `; ${n} of its units go to other nodes` : "",
      });
    }
    state.signal();
  }
}
