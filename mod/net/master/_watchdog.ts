import { getLogger } from "@logtape/logtape";
import type { MasterState } from "./_state.ts";
import { LOCAL } from "./_verify.ts";

const log = getLogger(["octane", "master"]);

/**
 * The master's watchdog, twice a second: drops silent slaves, hands overdue units to other nodes too, stops
 * the render at its time limit (`stop`, as Ctrl-C does), wakes a stopping master to give up on units that
 * never come, and gives up spot checks no node may take any more.
 */
export function watch(state: MasterState, stop: () => number): void {
  const timeout = state.options.heartbeatTimeout;
  for (const s of state.slaves) {
    if (s.link.silentSeconds > timeout) s.drop(`no heartbeat for ${timeout} s`);
  }
  const late = state.render.scheduler.overdue(performance.now());
  for (const { job, owner } of late) {
    if (owner === LOCAL) {
      log.info("Unit {job} of the local GPU is overdue: handing it to another node too", { job });
    } else [...state.slaves].find((s) => s.link.label === owner)?.missed(job);
  }
  const started = state.render.started;
  const limit = state.options.timeLimit;
  if (limit !== undefined && started !== undefined && performance.now() - started > limit * 1000) {
    if (state.phases.canBegin) {
      log.info("Time limit of {s} s reached: merging the {n} units in flight", { s: limit, n: stop() });
    }
  }
  // a stopping master also wakes to give up on units in flight that never come
  if (late.length > 0 || state.phases.name === "stopping") state.signal();
  dropUntakeableChecks(state);
}

/** A check every active node is excluded from can never be answered: it is given up, with a warning. */
function dropUntakeableChecks(state: MasterState): void {
  const job = state.render;
  const pending = job.scheduler.pendingChecks;
  if (pending.length === 0 || job.scheduler.samplesDone < job.scheduler.samplesTotal) return;
  const active = [
    ...(state.options.localRender && state.nodes.some((n) => n.id === LOCAL && n.active) ? [LOCAL] : []),
    ...[...state.slaves].filter((s) => s.ready).map((s) => s.link.label),
  ];
  if (pending.every((exclude) => active.every((node) => exclude.has(node)))) {
    const n = job.dropChecks();
    log.warn("Gave up {n} spot checks: no node is left that may render them", { n });
    state.signal();
  }
}
