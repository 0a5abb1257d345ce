import assert from "node:assert/strict";
import { StopPolicy, type StopSource } from "./stop.ts";

/** A policy that records what it was told to do. */
function recorded(withQuit: boolean) {
  const calls: string[] = [];
  const policy = new StopPolicy({
    signals: false,
    stop: (source: StopSource) => calls.push(`stop from ${source}`),
    ...(withQuit ? { quit: () => calls.push("quit") } : {}),
  });
  return { policy, calls };
}

Deno.test("the first request stops gracefully and aborts the signal; a second Ctrl-C quits at once, once", () => {
  const { policy, calls } = recorded(true);
  assert.equal(policy.stopping, false);
  policy.request("signal");
  assert.ok(policy.signal.aborted && policy.stopping && !policy.quitting);
  policy.request("signal");
  policy.request("signal");
  assert.deepEqual(calls, ["stop from signal", "quit"]);
  assert.ok(policy.quitting);
  policy.close();
});

Deno.test("the live view's stop never quits: pressed twice, or after a Ctrl-C, it does nothing more", () => {
  const { policy, calls } = recorded(true);
  policy.request("page");
  policy.request("page");
  assert.deepEqual(calls, ["stop from page"]);
  // a Ctrl-C after the page's stop is the second request: it quits
  policy.request("signal");
  assert.deepEqual(calls, ["stop from page", "quit"]);
});

Deno.test("without a quit, later requests do nothing more than the first (a local render's Ctrl-C)", () => {
  const { policy, calls } = recorded(false);
  policy.request("signal");
  policy.request("signal");
  assert.deepEqual(calls, ["stop from signal"]);
  assert.equal(policy.quitting, false);
});
