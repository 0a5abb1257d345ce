/** A unit of work: rows [y, y + height) of the image, samples [start, start + count) of each pixel. */
export interface WorkUnit {
  /** Job number, unique within a render: one node's attempt at one task. */
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

/** Why a unit is handed out: to render it, to check a merged result, or to settle a disagreement. */
export type Purpose = "render" | "check" | "decide";

/** A unit handed out, with why. */
export interface Assignment extends WorkUnit {
  /** Why. */
  purpose: Purpose;
  /** The task it belongs to (the same range handed to several nodes shares it). */
  task: number;
}

type Range = Omit<WorkUnit, "job">;
interface Band {
  y: number;
  height: number;
  next: number;
}
interface Task {
  id: number;
  range: Range;
  /** The node whose result was merged, once one was. */
  doneBy?: string;
  /** Jobs handed out for it and not yet answered or released. */
  live: Set<number>;
}
interface Attempt {
  unit: WorkUnit;
  task: Task;
  owner: string;
  purpose: Purpose;
  /** Nodes that may not take this task for this purpose (a check's node must differ from the merged one). */
  exclude: ReadonlySet<string>;
  deadline: number;
  overdue: boolean;
}
/** A request for a task to be rendered (again) by a node not in `exclude`. */
interface Request {
  task: Task;
  purpose: Purpose;
  exclude: ReadonlySet<string>;
}

/** Options of {@linkcode Scheduler.take}. */
export interface TakeOptions {
  /** performance.now() of the handout. */
  now: number;
  /**
   * Milliseconds the node has for the unit handed out (its range may be another node's size: a retry, a
   * check); past it the unit goes to another node too.
   */
  deadlineMs: number | ((unit: Omit<WorkUnit, "job">) => number);
}

/**
 * Hands out (row band, sample range) units so that every sample of every pixel is merged exactly once,
 * whoever renders it. Units of a node that leaves go back as they were; a unit past its deadline is handed
 * to another node too, and whichever result comes first is merged, never both. Merged tasks can be handed
 * out again to be checked, and a node's merged tasks can be reopened when its results are thrown away.
 */
export class Scheduler {
  /** Image width. */
  readonly width: number;
  /** Image height. */
  readonly height: number;
  /** Samples per pixel to reach. */
  readonly spp: number;
  #bands: Band[] = [];
  #tasks = new Map<number, Task>();
  #requests: Request[] = [];
  #attempts = new Map<number, Attempt>();
  #nextJob = 1;
  #nextTask = 1;
  #done = 0;
  #draining = false;

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

  /** True when every sample of every pixel has been merged and no check is pending. */
  get finished(): boolean {
    return this.#done === this.samplesTotal && !this.checking;
  }

  /** True while a check or a decision is queued or out. */
  get checking(): boolean {
    return this.#requests.some((r) => r.purpose !== "render") ||
      [...this.#attempts.values()].some((a) => a.purpose !== "render");
  }

  /** Units handed out and not yet answered or released. */
  get outstanding(): number {
    return this.#attempts.size;
  }

  /**
   * Stops handing out new sample ranges (an interrupted render): only the units out now, and those given
   * back before they were merged, are still rendered, so that every band ends with whole sample ranges
   * merged. Pending checks are dropped.
   */
  drain(): void {
    this.#draining = true;
    this.dropChecks();
  }

  /** True once draining and every unit handed out is merged (or no node is left to render it). */
  get drained(): boolean {
    return this.#draining && this.#attempts.size === 0 && !this.#requests.some((r) => r.purpose === "render");
  }

  /** Samples merged for each row of the image (rows of a band share them). */
  rowSamples(): Uint32Array {
    const rows = new Uint32Array(this.height);
    for (const t of this.#tasks.values()) {
      if (t.doneBy === undefined) continue;
      for (let y = t.range.y; y < t.range.y + t.range.height; y++) rows[y]! += t.range.count;
    }
    return rows;
  }

  /**
   * The next unit for `owner`, of at most `samples` samples per pixel: checks and decisions it may take
   * first, then work another node is late with, then returned work, then the band furthest behind.
   * Undefined when there is nothing it may take.
   */
  take(owner: string, samples: number, o: TakeOptions): Assignment | undefined {
    const i = this.#requests.findIndex((r) =>
      !r.exclude.has(owner) && (r.purpose !== "render" || !r.task.doneBy)
    );
    let task: Task, purpose: Purpose = "render", exclude: ReadonlySet<string> = new Set();
    if (i < 0 && this.#draining) return undefined;
    if (i >= 0) {
      const request = this.#requests.splice(i, 1)[0]!;
      task = request.task;
      purpose = request.purpose;
      exclude = request.exclude;
    } else {
      let band: Band | undefined;
      for (const b of this.#bands) if (b.next < this.spp && (!band || b.next < band.next)) band = b;
      if (!band) return undefined;
      const count = Math.max(1, Math.min(Math.floor(samples), this.spp - band.next));
      task = {
        id: this.#nextTask++,
        range: { y: band.y, height: band.height, start: band.next, count },
        live: new Set(),
      };
      band.next += count;
      this.#tasks.set(task.id, task);
    }
    const unit = { job: this.#nextJob++, ...task.range };
    task.live.add(unit.job);
    this.#attempts.set(unit.job, {
      unit,
      task,
      owner,
      purpose,
      exclude,
      deadline: o.now + (typeof o.deadlineMs === "number" ? o.deadlineMs : o.deadlineMs(task.range)),
      overdue: false,
    });
    return { ...unit, purpose, task: task.id };
  }

  /** The outstanding unit `job` of `owner` and why it was handed out; undefined if it is not theirs. */
  peek(job: number, owner: string): (WorkUnit & { purpose: Purpose; task: number }) | undefined {
    const a = this.#attempts.get(job);
    return a?.owner === owner ? { ...a.unit, purpose: a.purpose, task: a.task.id } : undefined;
  }

  /**
   * Marks `owner`'s answer to `job` in. A render answer is to be merged when this returns it (the first
   * answer for its task); undefined: ignore it (not theirs, or another node's answer came first). A check
   * or decision answer is returned for comparing, and merges nothing.
   */
  complete(job: number, owner: string): (WorkUnit & { purpose: Purpose; task: number }) | undefined {
    const a = this.#attempts.get(job);
    if (!a || a.owner !== owner) return undefined;
    this.#attempts.delete(job);
    a.task.live.delete(job);
    if (a.purpose !== "render") {
      // other copies of this check (handed out because this one was late) are moot now
      this.#dropCopies(a.task, a.purpose);
      return { ...a.unit, purpose: a.purpose, task: a.task.id };
    }
    if (a.task.doneBy !== undefined) return undefined;
    a.task.doneBy = owner;
    this.#done += this.#samples(a.task);
    // its other attempts (handed out because this one was late) are moot now
    for (const other of a.task.live) this.#attempts.delete(other);
    a.task.live.clear();
    this.#requests = this.#requests.filter((r) => r.task !== a.task || r.purpose !== "render");
    return { ...a.unit, purpose: "render", task: a.task.id };
  }

  /**
   * Gives back units of `owner` (all of them, or the jobs listed): a task no one else is working on in time
   * goes back to be handed out as it was; with `avoid`, never to `owner` again (it answered it badly).
   * Returns how many units were given back.
   */
  release(owner: string, o: { jobs?: number[]; avoid?: boolean } = {}): number {
    let n = 0;
    for (const [job, a] of [...this.#attempts]) {
      if (a.owner !== owner || (o.jobs && !o.jobs.includes(job))) continue;
      this.#attempts.delete(job);
      a.task.live.delete(job);
      n++;
      const exclude = new Set(o.avoid ? [...a.exclude, owner] : a.exclude);
      if (a.purpose !== "render") {
        if (!this.#hasCopy(a.task, a.purpose)) {
          this.#requests.unshift({ task: a.task, purpose: a.purpose, exclude });
        }
      } else if (a.task.doneBy === undefined && !this.#inTime(a.task) && !this.#queued(a.task)) {
        this.#requests.unshift({ task: a.task, purpose: "render", exclude });
      }
    }
    return n;
  }

  /**
   * Units past their deadline (each reported once): their tasks are queued for any other node as well,
   * and whichever result comes first is merged.
   */
  overdue(now: number): { job: number; owner: string }[] {
    const late: { job: number; owner: string }[] = [];
    for (const [job, a] of this.#attempts) {
      if (a.overdue || now < a.deadline) continue;
      a.overdue = true;
      late.push({ job, owner: a.owner });
      if (a.purpose === "render" && a.task.doneBy === undefined && !this.#queued(a.task)) {
        this.#requests.push({ task: a.task, purpose: "render", exclude: new Set([a.owner]) });
      } else if (a.purpose !== "render" && !this.#draining) {
        this.#requests.push({ task: a.task, purpose: a.purpose, exclude: new Set([...a.exclude, a.owner]) });
      }
    }
    return late;
  }

  /** Asks for merged task `task` to be rendered again, for `purpose`, by a node not in `exclude`. */
  request(task: number, purpose: Exclude<Purpose, "render">, exclude: Iterable<string>): void {
    const t = this.#tasks.get(task);
    if (t?.doneBy !== undefined && !this.#draining) {
      this.#requests.push({ task: t, purpose, exclude: new Set(exclude) });
    }
  }

  /** Drops every pending check and decision (no node left that may take them); returns how many. */
  dropChecks(): number {
    const before = this.#requests.length;
    this.#requests = this.#requests.filter((r) => r.purpose === "render");
    let n = before - this.#requests.length;
    for (const [job, a] of [...this.#attempts]) {
      if (a.purpose === "render") continue;
      this.#attempts.delete(job);
      a.task.live.delete(job);
      n++;
    }
    return n;
  }

  /** The nodes a pending check or decision must avoid (to see whether someone may take it). */
  get pendingChecks(): ReadonlySet<string>[] {
    return this.#requests.filter((r) => r.purpose !== "render").map((r) => r.exclude);
  }

  /**
   * Reopens every task whose merged result came from `owner` (its results are being thrown away): they go
   * back to be rendered by anyone else. Returns the tasks reopened.
   */
  reopen(owner: string): number[] {
    const reopened = new Set<Task>();
    for (const t of this.#tasks.values()) {
      if (t.doneBy !== owner) continue;
      t.doneBy = undefined;
      this.#done -= this.#samples(t);
      reopened.add(t);
    }
    // checks of those tasks are moot now
    this.#requests = this.#requests.filter((r) => r.purpose === "render" || !reopened.has(r.task));
    for (const [job, a] of [...this.#attempts]) {
      if (a.purpose !== "render" && reopened.has(a.task)) this.#attempts.delete(job), a.task.live.delete(job);
    }
    for (const t of reopened) {
      this.#requests.unshift({ task: t, purpose: "render", exclude: new Set([owner]) });
    }
    return [...reopened].map((t) => t.id);
  }

  #samples(t: Task): number {
    return t.range.height * this.width * t.range.count;
  }

  #queued(t: Task): boolean {
    return this.#requests.some((r) => r.task === t && r.purpose === "render");
  }

  /** True when some node still works on `t` and is not late with it. */
  #inTime(t: Task): boolean {
    for (const job of t.live) if (!this.#attempts.get(job)?.overdue) return true;
    return false;
  }

  /** True when a copy of `t`'s check for `purpose` is queued or out in time. */
  #hasCopy(t: Task, purpose: Purpose): boolean {
    return this.#requests.some((r) => r.task === t && r.purpose === purpose) ||
      [...t.live].some((job) => {
        const a = this.#attempts.get(job);
        return a?.purpose === purpose && !a.overdue;
      });
  }

  /** Drops every queued or outstanding copy of `t`'s check for `purpose`. */
  #dropCopies(t: Task, purpose: Purpose): void {
    this.#requests = this.#requests.filter((r) => r.task !== t || r.purpose !== purpose);
    for (const job of [...t.live]) {
      if (this.#attempts.get(job)?.purpose === purpose) this.#attempts.delete(job), t.live.delete(job);
    }
  }
}
