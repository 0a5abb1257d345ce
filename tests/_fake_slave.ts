/**
 * A slave that holds the farm key but misbehaves, built on the project's own protocol module: for hostile
 * peer tests. It joins a master, may say `ready` too early or too often, downloads the render data, and
 * answers each unit of work as its behaviour says.
 */
import type { Gpu } from "../mod/gpu/mod.ts";
import {
  compressFloats,
  decodeSection,
  Link,
  parseSectionHead,
  type SceneOffer,
  type Work,
} from "../mod/net/protocol/mod.ts";
import { renderDataFromSections } from "../mod/render_data/mod.ts";
import { GpuRenderer } from "../mod/render/mod.ts";
import { VERSION } from "../mod/version.ts";

/** What a fake slave answers to a unit (width: the image width; render: its own renderer, if it has one). */
export type Answer = (
  unit: Work,
  width: number,
  render?: (unit: Work) => Promise<Float32Array>,
) => AnswerAction | Promise<AnswerAction>;

/** One answer: results to send (their sums, claimed seconds, another job), or nothing ever ("hold"). */
export type AnswerAction =
  | { sums: Float32Array; seconds?: number; job?: number; compressed?: boolean }[]
  | "hold";

/** Options of {@linkcode fakeSlave}. */
export interface FakeSlaveOptions {
  /** The master. */
  host: string;
  /** Its port. */
  port: number;
  /** The farm key. */
  key?: Uint8Array;
  /** `ready` messages to send before it has any render data. */
  earlyReady?: number;
  /** `ready` messages to send once it has the render data (1 is honest). */
  readyCount?: number;
  /** How it answers units. */
  answer: Answer;
  /** Build a renderer on this GPU for the render data, with the scene's seed plus this (a liar: not 0). */
  renderer?: { gpu: Gpu; seedOffset: number };
}

/** A running fake slave. */
export interface FakeSlave {
  /** Units it was sent. */
  readonly units: Work[];
  /** Resolves when the master closes the link (with why, when it said). */
  readonly closed: Promise<string>;
  /** Leaves. */
  close(): void;
}

/** Joins the master and plays its part until the master closes the link. */
export async function fakeSlave(o: FakeSlaveOptions): Promise<FakeSlave> {
  const link = await Link.connect(o.host, o.port, { service: "render", ...(o.key ? { key: o.key } : {}) });
  link.startHeartbeats();
  await link.send("hello", {
    version: VERSION,
    host: "fake",
    gpus: [{ name: "Fake GPU", vendor: "", software: false }],
  });
  const units: Work[] = [];
  let width = 0;
  const closed = (async () => {
    // wire bytes by section hash, then the decoded bytes once all arrived
    const wire = new Map<string, Uint8Array>();
    const sections = new Map<string, Uint8Array>();
    let id = "";
    let pending = 0;
    let offer: SceneOffer | undefined;
    let renderer: GpuRenderer | undefined;
    const complete = async () => {
      if (o.renderer && offer) {
        const data = renderDataFromSections(
          new Map(offer.sections.map((s) => [s.name, sections.get(s.hash)!])),
        );
        renderer = await GpuRenderer.create(o.renderer.gpu, data, {
          width: offer.width,
          height: offer.height,
          seed: offer.seed + o.renderer.seedOffset,
          maxDepth: offer.maxDepth,
        });
      }
      for (let i = 0; i < (o.readyCount ?? 1); i++) await link.send("ready", { id });
    };
    const render = async (u: Work) =>
      (await renderer!.render({ start: u.start, count: u.count }, { x: 0, y: u.y, width, height: u.height }))
        .sums;
    link.sink = (head, rest) => {
      const { hash, offset } = parseSectionHead(head);
      return wire.get(hash)?.subarray(offset, offset + rest);
    };
    try {
      for (;;) {
        const m = await link.receive();
        if (!m) return "closed";
        if (m.type === "welcome") {
          for (let i = 0; i < (o.earlyReady ?? 0); i++) await link.send("ready", { id: "0".repeat(64) });
        } else if (m.type === "scene") {
          id = m.body.id;
          width = m.body.width;
          offer = m.body;
          for (let i = 0; i < (o.earlyReady ?? 0); i++) await link.send("ready", { id });
          for (const s of m.body.sections) wire.set(s.hash, new Uint8Array(s.wireLength));
          pending = m.body.sections.reduce((n, s) => n + s.wireLength, 0);
          await link.send("need", { id: m.body.id, hashes: m.body.sections.map((s) => s.hash) });
          if (pending === 0) await complete();
        } else if (m.type === "section") {
          pending -= m.body.bytes.length;
          if (pending === 0) {
            for (const s of offer!.sections) sections.set(s.hash, decodeSection(s, wire.get(s.hash)!));
            await complete();
          }
        } else if (m.type === "work") {
          units.push(m.body);
          const action = await o.answer(m.body, width, renderer ? render : undefined);
          if (action === "hold") continue;
          for (const r of action) {
            await link.send("result", {
              job: r.job ?? m.body.job,
              seconds: r.seconds ?? 0.5,
              rays: 0,
              data: r.compressed === false
                ? new Uint8Array(r.sums.buffer, r.sums.byteOffset, r.sums.byteLength)
                : compressFloats(r.sums),
              compressed: r.compressed !== false,
            });
          }
        } else if (m.type === "refuse") {
          return m.body.reason;
        } else if (m.type === "bye") return "bye";
      }
    } catch (error: unknown) {
      return error instanceof Error ? error.message : String(error);
    } finally {
      link.close();
      renderer?.destroy();
    }
  })();
  return { units, closed, close: () => link.close() };
}

/** Sums for a unit's pixels, every value `value` (NaN, Infinity, -1…). */
export function filled(unit: Work, width: number, value: number): Float32Array {
  return new Float32Array(unit.height * width * 3).fill(value);
}
