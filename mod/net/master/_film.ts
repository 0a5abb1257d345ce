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

  /**
   * Takes everything `node` added out again: the sums are rebuilt from the other nodes' parts (subtracting
   * could not undo a huge value that swallowed honest ones). False when parts are not kept per node.
   */
  remove(node: string): boolean {
    if (!this.#perNode) return false;
    if (!this.#perNode.delete(node)) return true;
    const total = this.sums;
    total.fill(0);
    for (const own of this.#perNode.values()) for (let i = 0; i < own.length; i++) total[i]! += own[i]!;
    return true;
  }
}
