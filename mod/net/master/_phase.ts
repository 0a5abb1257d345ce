/**
 * The master's phases:
 * - `waiting`: no work goes out yet (fewer than `waitSlaves` slaves have the render data);
 * - `rendering`: units go out and results are merged;
 * - `finished`: the render was handed over (`onRender`); with `keepGoing` an update or a restart renders
 *   the next generation;
 * - `stopping`: `stop` (Ctrl-C, a time limit, the live view): no new work, the units in flight are merged,
 *   then the render is handed over;
 * - `closed`: nothing is served any more.
 */
export type PhaseName = "waiting" | "rendering" | "finished" | "stopping" | "closed";

/** Every transition of the master, in one table: from each phase, the phases it may go to. */
export const TRANSITIONS: Readonly<Record<PhaseName, readonly PhaseName[]>> = {
  waiting: ["rendering", "stopping", "closed"],
  rendering: ["finished", "stopping", "closed"],
  finished: ["rendering", "stopping", "closed"],
  stopping: ["closed"],
  closed: [],
};

/**
 * The master's phase and its render generation: a counter that goes up with every new render (an update of
 * the scene, a restart), so that work, uploads and results of an earlier render are told apart by number.
 */
export class Phases {
  #name: PhaseName;
  #generation = 1;
  #handedOver = 0;
  #stoppedAt?: number;
  #workWentOut = false;

  /** Starts in `waiting`, or in `rendering` when no slave needs waiting for. */
  constructor(start: "waiting" | "rendering") {
    this.#name = start;
    this.#workWentOut = start === "rendering";
  }

  /** The phase now. */
  get name(): PhaseName {
    return this.#name;
  }

  /** The generation of the render in progress (1 for the first). */
  get generation(): number {
    return this.#generation;
  }

  /** performance.now() of the move to `stopping`, once made. */
  get stoppedAt(): number | undefined {
    return this.#stoppedAt;
  }

  /** True once the render in progress (this generation) was handed over. */
  get handedOver(): boolean {
    return this.#handedOver === this.#generation;
  }

  /**
   * True once work may go out: the wait for slaves is over (it stays over, also while stopping, so that a
   * slave leaving never stalls the render and units given back are still rendered).
   */
  get workGoesOut(): boolean {
    return this.#workWentOut && this.#name !== "closed";
  }

  /**
   * Moves to `next`.
   * @throws {RangeError} for a move {@linkcode TRANSITIONS} does not allow (a bug, not a condition)
   */
  to(next: PhaseName): void {
    if (!TRANSITIONS[this.#name].includes(next)) {
      throw new RangeError(`Cannot move the master from ${this.#name} to ${next}`);
    }
    if (next === "stopping") this.#stoppedAt = performance.now();
    if (next === "rendering") this.#workWentOut = true;
    this.#name = next;
  }

  /** True while a new render may begin: not stopping or closed. */
  get canBegin(): boolean {
    return this.#name === "waiting" || this.#name === "rendering" || this.#name === "finished";
  }

  /**
   * A new render begins (an update or a restart): the generation counts up, and a finished master renders
   * again. Returns the new generation.
   * @throws {RangeError} once stopping or closed
   */
  begin(): number {
    if (!this.canBegin) throw new RangeError(`Cannot begin a render while ${this.#name}`);
    if (this.#name === "finished") this.to("rendering");
    return ++this.#generation;
  }

  /** The render in progress is handed over; from `rendering`, the master is `finished`. */
  handOver(): void {
    this.#handedOver = this.#generation;
    if (this.#name === "rendering") this.to("finished");
  }
}
