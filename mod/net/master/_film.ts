/**
 * The merged image: per-pixel radiance sums (and AOV sums, when the render has them), and, when results may
 * have to be thrown away later (spot checks), each node's own contributions beside them, so that a node
 * found lying can be taken out.
 */
export class Film {
  /** Sums of every node's merged results, rgb per pixel. */
  readonly sums: Float64Array;
  /** With AOVs: sums of every node's merged AOVs, 6 a pixel (albedo rgb, normal xyz), merged as `sums`. */
  readonly aovs?: Float64Array;
  #perNode?: Map<string, Float32Array>;
  #perNodeAovs?: Map<string, Float32Array>;

  /**
   * A film of `pixels` pixels; `perNode`: also keep each node's contributions (12 bytes a pixel a node, 24
   * more with AOVs); `aovs`: also merge AOV sums.
   */
  constructor(pixels: number, o: { perNode: boolean; aovs?: boolean }) {
    this.sums = new Float64Array(pixels * 3);
    if (o.aovs) this.aovs = new Float64Array(pixels * 6);
    if (o.perNode) this.#perNode = new Map();
    if (o.perNode && o.aovs) this.#perNodeAovs = new Map();
  }

  /**
   * Adds `node`'s sums for the pixels from `offset` (in floats of `sums`, 3 a pixel), and with AOVs its AOV
   * sums for the same pixels (6 a pixel).
   */
  add(node: string, offset: number, sums: Float32Array, aovs?: Float32Array): void {
    addInto(this.sums, this.#perNode, node, offset, sums);
    if (this.aovs && aovs) addInto(this.aovs, this.#perNodeAovs, node, offset * 2, aovs);
  }

  /**
   * Takes everything `node` added out again: the sums are rebuilt from the other nodes' parts (subtracting
   * could not undo a huge value that swallowed honest ones). False when parts are not kept per node.
   */
  remove(node: string): boolean {
    if (!this.#perNode) return false;
    this.#perNodeAovs?.delete(node);
    if (!this.#perNode.delete(node)) return true;
    rebuild(this.sums, this.#perNode);
    if (this.aovs && this.#perNodeAovs) rebuild(this.aovs, this.#perNodeAovs);
    return true;
  }
}

/** Adds `values` into `total` from `offset`, and into `node`'s own part when parts are kept. */
function addInto(
  total: Float64Array,
  parts: Map<string, Float32Array> | undefined,
  node: string,
  offset: number,
  values: Float32Array,
): void {
  for (let i = 0; i < values.length; i++) total[offset + i]! += values[i]!;
  if (!parts) return;
  let own = parts.get(node);
  if (!own) parts.set(node, own = new Float32Array(total.length));
  for (let i = 0; i < values.length; i++) own[offset + i]! += values[i]!;
}

/** Sets `total` to the sum of the parts. */
function rebuild(total: Float64Array, parts: Map<string, Float32Array>): void {
  total.fill(0);
  for (const own of parts.values()) for (let i = 0; i < own.length; i++) total[i]! += own[i]!;
}
