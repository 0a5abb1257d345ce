/**
 * The merged image: per-pixel radiance sums, and, when results may have to be thrown away later (spot
 * checks), each node's own contributions beside them, so that a node found lying can be taken out.
 */
export class Film {
  /** Sums of every node's merged results, rgb per pixel. */
  readonly sums: Float64Array;
  #perNode?: Map<string, Float32Array>;

  /** A film of `pixels` pixels; `perNode`: also keep each node's contributions (12 bytes a pixel a node). */
  constructor(pixels: number, o: { perNode: boolean }) {
    this.sums = new Float64Array(pixels * 3);
    if (o.perNode) this.#perNode = new Map();
  }

  /** Adds `node`'s sums for the pixels from `offset` (in floats). */
  add(node: string, offset: number, sums: Float32Array): void {
    const total = this.sums;
    for (let i = 0; i < sums.length; i++) total[offset + i]! += sums[i]!;
    if (!this.#perNode) return;
    let own = this.#perNode.get(node);
    if (!own) this.#perNode.set(node, own = new Float32Array(total.length));
    for (let i = 0; i < sums.length; i++) own[offset + i]! += sums[i]!;
  }

  /** Takes everything `node` added out again; false when contributions are not kept per node. */
  remove(node: string): boolean {
    if (!this.#perNode) return false;
    const own = this.#perNode.get(node);
    if (own) {
      const total = this.sums;
      // a pixel the node alone rendered may be left a rounding error off zero: clamp it
      for (let i = 0; i < own.length; i++) total[i] = Math.max(0, total[i]! - own[i]!);
      this.#perNode.delete(node);
    }
    return true;
  }
}
