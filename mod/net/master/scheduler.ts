/** A unit of work: rows [y, y + height) of the image, samples [start, start + count) of each pixel. */
export interface WorkUnit {
  /** Job number, unique within a render. */
  job: number;
  /** First row. */
  y: number;
  /** Rows. */
  height: number;
  /** First sample index. */
  start: number;
  /** Samples per pixel. */
  count: number;
}

type Range = Omit<WorkUnit, "job">;
interface Band {
  y: number;
  height: number;
  next: number;
}

/**
 * Hands out (row band, sample range) units so that every sample of every pixel is rendered exactly once,
 * whoever renders it: units of a node that leaves go back to be handed out again as they were.
 */
export class Scheduler {
  /** Image width. */
  readonly width: number;
  /** Image height. */
  readonly height: number;
  /** Samples per pixel to reach. */
  readonly spp: number;
  #bands: Band[] = [];
  #retry: Range[] = [];
  #outstanding = new Map<number, { unit: WorkUnit; owner: string }>();
  #nextJob = 1;
  #done = 0;

  /**
   * Splits the image into bands of at most `maxBandPixels` pixels (whole rows). Job numbers start at
   * `firstJob`, so a new render's jobs never match an old render's late results.
   */
  constructor(
    width: number,
    height: number,
    spp: number,
    options: { maxBandPixels?: number; firstJob?: number } = {},
  ) {
    const maxBandPixels = options.maxBandPixels ?? 1 << 20;
    this.#nextJob = options.firstJob ?? 1;
    this.width = width;
    this.height = height;
    this.spp = spp;
    const rows = Math.max(1, Math.min(height, Math.floor(maxBandPixels / width)));
    for (let y = 0; y < height; y += rows) {
      this.#bands.push({ y, height: Math.min(rows, height - y), next: 0 });
    }
  }

  /** The job number the next unit will get. */
  get nextJob(): number {
    return this.#nextJob;
  }

  /** Pixels of the largest band. */
  get bandPixels(): number {
    return this.#bands[0]!.height * this.width;
  }

  /** Pixel samples merged so far. */
  get samplesDone(): number {
    return this.#done;
  }

  /** Pixel samples of the whole render. */
  get samplesTotal(): number {
    return this.width * this.height * this.spp;
  }

  /** True when every sample of every pixel has been merged. */
  get finished(): boolean {
    return this.#done === this.samplesTotal;
  }

  /** Units handed out and not yet completed or released. */
  get outstanding(): number {
    return this.#outstanding.size;
  }

  /**
   * The next unit for `owner`, of at most `samples` samples per pixel: returned work first, then the band
   * that is furthest behind. Undefined when everything is handed out.
   */
  take(owner: string, samples: number): WorkUnit | undefined {
    let range = this.#retry.shift();
    if (!range) {
      let band: Band | undefined;
      for (const b of this.#bands) if (b.next < this.spp && (!band || b.next < band.next)) band = b;
      if (!band) return undefined;
      const count = Math.max(1, Math.min(Math.floor(samples), this.spp - band.next));
      range = { y: band.y, height: band.height, start: band.next, count };
      band.next += count;
    }
    const unit = { job: this.#nextJob++, ...range };
    this.#outstanding.set(unit.job, { unit, owner });
    return unit;
  }

  /** The outstanding unit `job` of `owner`, without completing it; undefined if it is not theirs. */
  peek(job: number, owner: string): WorkUnit | undefined {
    const o = this.#outstanding.get(job);
    return o?.owner === owner ? o.unit : undefined;
  }

  /** Marks a unit merged. Returns it, or undefined when it was not outstanding for `owner` (ignore the result). */
  complete(job: number, owner: string): WorkUnit | undefined {
    const o = this.#outstanding.get(job);
    if (!o || o.owner !== owner) return undefined;
    this.#outstanding.delete(job);
    this.#done += o.unit.height * this.width * o.unit.count;
    return o.unit;
  }

  /** Puts units of `owner` back to be handed out again (all of them, or the jobs listed). Returns how many. */
  release(owner: string, jobs?: number[]): number {
    let n = 0;
    for (const [job, o] of [...this.#outstanding]) {
      if (o.owner !== owner || (jobs && !jobs.includes(job))) continue;
      this.#outstanding.delete(job);
      const { job: _job, ...range } = o.unit;
      this.#retry.push(range);
      n++;
    }
    return n;
  }
}
