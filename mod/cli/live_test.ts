import assert from "node:assert/strict";
import { UsageError } from "./args.ts";
import { uiSettings } from "./live.ts";

Deno.test("--ui takes PORT, ADDR:PORT or [IPv6]:PORT (0: any free port); the default is 127.0.0.1 from 8420; --no-ui turns it off", () => {
  assert.deepEqual(uiSettings({}), { hostname: "127.0.0.1", port: 8420, firstFree: true });
  assert.deepEqual(uiSettings({ ui: "9000" }), { hostname: "127.0.0.1", port: 9000, firstFree: false });
  assert.deepEqual(uiSettings({ ui: "0.0.0.0:8500" }), { hostname: "0.0.0.0", port: 8500, firstFree: false });
  assert.deepEqual(uiSettings({ ui: "[::1]:8500" }), { hostname: "::1", port: 8500, firstFree: false });
  // port 0: any free port, which the printed URL names
  assert.deepEqual(uiSettings({ ui: "127.0.0.1:0" }), { hostname: "127.0.0.1", port: 0, firstFree: false });
  assert.equal(uiSettings({ "no-ui": true }), undefined);
  for (const bad of ["", "x", "8420x", "1.2.3.4:", "1.2.3.4:70000", "65536", "-1", ":8420"]) {
    assert.throws(
      () => uiSettings({ ui: bad }),
      (e: unknown) => e instanceof UsageError && /--ui/.test(e.message),
    );
  }
  assert.throws(() => uiSettings({ ui: "8420", "no-ui": true }), /not both/);
});
