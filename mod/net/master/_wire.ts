import { getLogger } from "@logtape/logtape";
import type { Section } from "../../render_data/mod.ts";
import { encodeSection, type WireSection } from "../protocol/mod.ts";

const log = getLogger(["octane", "master"]);

/**
 * The wire form of each render-data section, made once however many slaves download it: compressed on the
 * first offer of a render (not per slave), and kept by hash, so that a changed scene (`--watch`) compresses
 * only the sections that changed.
 */
export class WireSections {
  #compress: boolean;
  #byHash = new Map<string, WireSection>();
  #forId?: string;
  #list: WireSection[] = [];

  /** Sections are compressed where it pays when `compress` is true; all travel raw when false. */
  constructor(compress: boolean) {
    this.#compress = compress;
  }

  /** The wire form of render data `id`'s sections, in order; forms of sections it no longer has are dropped. */
  of(id: string, sections: readonly Section[]): readonly WireSection[] {
    if (this.#forId === id) return this.#list;
    const t0 = performance.now();
    const next = new Map<string, WireSection>();
    let made = 0;
    this.#list = sections.map((s) => {
      let w = this.#byHash.get(s.hash) ?? next.get(s.hash);
      if (!w) {
        made++;
        w = encodeSection(s, { compress: this.#compress });
      }
      next.set(s.hash, w);
      return w;
    });
    this.#byHash = next;
    this.#forId = id;
    if (made > 0) {
      const raw = this.#list.reduce((n, w) => n + w.info.length, 0);
      const wire = this.#list.reduce((n, w) => n + w.info.wireLength, 0);
      log.debug("Render data {id} on the wire: {raw} bytes as {wire} ({made} sections encoded in {ms} ms)", {
        id: id.slice(0, 12),
        raw,
        wire,
        made,
        ms: Math.round(performance.now() - t0),
      });
    }
    return this.#list;
  }
}
