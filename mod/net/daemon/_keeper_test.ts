import assert from "node:assert/strict";
import { SLAVE_START_SECONDS } from "../defaults.ts";
import { slaveSilence } from "./_keeper.ts";

Deno.test("a slave is hung after the heartbeat timeout once its link is open, and after SLAVE_START_SECONDS before", () => {
  const t = 2, spawned = 1000;
  const at = (seconds: number) => spawned + seconds * 1000;
  // a cold start on a loaded machine: 3 s without a link is not a hang, even with a 2 s heartbeat timeout
  assert.equal(slaveSilence({ spawned }, at(3), t), 0);
  assert.equal(slaveSilence({ spawned }, at(SLAVE_START_SECONDS - 0.1), t), 0);
  assert.equal(slaveSilence({ spawned }, at(SLAVE_START_SECONDS + 0.1), t), SLAVE_START_SECONDS);
  // a longer heartbeat timeout is the start's allowance too
  assert.equal(slaveSilence({ spawned }, at(SLAVE_START_SECONDS + 5), 30), 0);
  // once the link is open, its silence counts against the timeout itself
  assert.equal(slaveSilence({ spawned, watch: { silentSeconds: 1.9 } }, at(60), t), 0);
  assert.equal(slaveSilence({ spawned, watch: { silentSeconds: 2.1 } }, at(3), t), 2);
});
