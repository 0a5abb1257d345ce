import assert from "node:assert/strict";
import { UsageError } from "./args.ts";
import { uiSettings } from "./live.ts";

Deno.test("--ui takes PORT, ADDR:PORT or [IPv6]:PORT; the default is 127.0.0.1 from 8420; --no-ui turns it off", () => {
  assert.deepEqual(uiSettings({}), { hostname: "127.0.0.1", port: 8420, firstFree: true });
  assert.deepEqual(uiSettings({ ui: "9000" }), { hostname: "127.0.0.1", port: 9000, firstFree: false });
  assert.deepEqual(uiSettings({ ui: "0.0.0.0:8500" }), { hostname: "0.0.0.0", port: 8500, firstFree: false });
  assert.deepEqual(uiSettings({ ui: "[::1]:8500" }), { hostname: "::1", port: 8500, firstFree: false });
  assert.equal(uiSettings({ "no-ui": true }), undefined);
  for (const bad of ["", "x", "8420x", "1.2.3.4:", "1.2.3.4:70000", "0", ":8420"]) {
    assert.throws(
      () => uiSettings({ ui: bad }),
      (e: unknown) => e instanceof UsageError && /--ui/.test(e.message),
    );
  }
  assert.throws(() => uiSettings({ ui: "8420", "no-ui": true }), /not both/);
});
