/**
 * Spot checks. Every sample depends only on (pixel, sample index, seed), so a unit rendered by two nodes
 * gives the same sums (to float tolerance). A fraction of the units merged from slaves is rendered again
 * by another node; when the two disagree, a third render decides, and the node that disagrees with it is
 * a liar: the master drops it and renders everything it contributed again.
 */

/** The master's own GPU: trusted, never checked, and its word settles a disagreement. */
export const LOCAL = "local";

/** What an answer to a check or a decision concluded. */
export type Verdict =
  | { kind: "agreed" }
  | { kind: "pending" } // a third render is needed (or still out)
  | { kind: "liars"; nodes: string[] }
  | { kind: "moot" }; // the check no longer matters (its task was reopened, or it was settled)

/** What the master asks of the scheduler for a check. */
export interface CheckRequest {
  /** The task to render again. */
  task: number;
  /** check (a second render) or decide (a third). */
  purpose: "check" | "decide";
  /** Nodes that may not render it. */
  exclude: string[];
}

/** Counts for the report. */
export interface VerifyStats {
  /** Fraction of slave units checked. */
  fraction: number;
  /** Checks answered. */
  checks: number;
  /** Checks whose answer disagreed. */
  disagreements: number;
  /** Nodes found lying. */
  liars: string[];
}

interface Pending {
  /** Who rendered it, and their sums: the merged one first. */
  answers: { node: string; sums: Float32Array }[];
}

/**
 * True when two renders of one unit agree: at most 1% of their values differ by more than 0.1% (GPUs of
 * different makes may round a few paths differently; a node that renders anything else differs almost
 * everywhere).
 */
export function agree(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  let mean = 0;
  for (let i = 0; i < a.length; i++) mean += Math.abs(a[i]!);
  const floor = 1e-6 * (mean / Math.max(1, a.length)) + 1e-12;
  let off = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (!(Math.abs(x - y) <= 1e-3 * Math.max(Math.abs(x), Math.abs(y)) + floor)) off++;
  }
  return off <= 0.01 * a.length;
}

/** Keeps the merged sums of units being checked and judges the answers. */
export class Verifier {
  readonly #fraction: number;
  readonly #random: () => number;
  #pending = new Map<number, Pending>();
  #stats: VerifyStats;

  /** Checks `fraction` (0 to 1) of the units merged from slaves; `random` picks them. */
  constructor(fraction: number, random: () => number = Math.random) {
    this.#fraction = fraction;
    this.#random = random;
    this.#stats = { fraction, checks: 0, disagreements: 0, liars: [] };
  }

  /** True when results are checked at all (then the film keeps each node's part). */
  get enabled(): boolean {
    return this.#fraction > 0;
  }

  /** Counts so far. */
  get stats(): VerifyStats {
    return { ...this.#stats, liars: [...this.#stats.liars] };
  }

  /** A node's result for `task` was merged: perhaps it is to be checked (the request to make, if so). */
  merged(task: number, node: string, sums: Float32Array): CheckRequest | undefined {
    if (node === LOCAL || !(this.#random() < this.#fraction)) return undefined;
    this.#pending.set(task, { answers: [{ node, sums: sums.slice() }] });
    return { task, purpose: "check", exclude: [node] };
  }

  /** A check or decision for `task` was answered by `node` with `sums`: the verdict, and any next request. */
  answered(task: number, node: string, sums: Float32Array): { verdict: Verdict; next?: CheckRequest } {
    const p = this.#pending.get(task);
    if (!p || p.answers.some((a) => a.node === node)) return { verdict: { kind: "moot" } };
    const [merged, second] = p.answers;
    if (!second) {
      this.#stats.checks++;
      if (agree(merged!.sums, sums)) {
        this.#pending.delete(task);
        return { verdict: { kind: "agreed" } };
      }
      this.#stats.disagreements++;
      p.answers.push({ node, sums: sums.slice() });
      // the master's own GPU is trusted: its word settles it
      if (node === LOCAL) return this.#convict(task, [merged!.node]);
      return {
        verdict: { kind: "pending" },
        next: { task, purpose: "decide", exclude: [merged!.node, node] },
      };
    }
    // a third render: whoever disagrees with it is the liar
    const liars = p.answers.filter((a) => !agree(a.sums, sums)).map((a) => a.node);
    if (liars.length === 1) return this.#convict(task, liars);
    if (liars.length === 2 && node === LOCAL) return this.#convict(task, liars);
    // the third agrees with both (cannot be: they disagree) or with neither: ask yet another node
    return {
      verdict: { kind: "pending" },
      next: { task, purpose: "decide", exclude: [...p.answers.map((a) => a.node), node] },
    };
  }

  /** Forgets checks of tasks that are being rendered again (their merged result was thrown away). */
  forget(tasks: Iterable<number>): void {
    for (const t of tasks) this.#pending.delete(t);
  }

  /** Forgets every check still open (no node left that may answer it). */
  forgetAll(): void {
    this.#pending.clear();
  }

  #convict(task: number, nodes: string[]): { verdict: Verdict } {
    this.#pending.delete(task);
    for (const n of nodes) if (!this.#stats.liars.includes(n)) this.#stats.liars.push(n);
    return { verdict: { kind: "liars", nodes } };
  }
}
