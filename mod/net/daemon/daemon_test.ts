import assert from "node:assert/strict";
import { Link } from "../protocol/mod.ts";
import { Daemon } from "./daemon.ts";

const FACTS = {
  version: "0.0.0",
  protocol: 0,
  host: "test",
  os: "linux",
  arch: "x86_64",
  bits: 64,
  gpus: [],
};

Deno.test("a daemon that cannot start a slave tells the master why, and is available again", async () => {
  const daemon = Daemon.listen(FACTS, { bind: "127.0.0.2", port: 0, command: ["/no/such/octane"] });
  const serving = daemon.serve();
  const link = await Link.connect("127.0.0.2", daemon.port, { service: "daemon" });
  try {
    await link.send("probe", { version: "test", host: "test", port: 1, address: "127.0.0.1" });
    assert.equal((await link.receive())?.type, "status");
    await link.send("start", {});
    const answer = await link.receive();
    assert.ok(answer?.type === "refuse", `got ${answer?.type}`);
    assert.match(answer.body.reason, /cannot start a slave: .*/);
    assert.equal(daemon.master, undefined, "the session ended");
  } finally {
    link.close();
    await daemon.close();
    await serving;
  }
});

Deno.test("a daemon names the master by the address it states in its sealed probe, not by who connected", async () => {
  // a "slave" that just waits: the session holds its master while the test asks
  const daemon = Daemon.listen(FACTS, {
    bind: "127.0.0.2",
    port: 0,
    command: ["/bin/sh", "-c", "exec sleep 30", "sh"],
  });
  const serving = daemon.serve();
  const ask = async (address: string) => {
    const link = await Link.connect("127.0.0.2", daemon.port, { service: "daemon" });
    await link.send("probe", { version: "test", host: "test", port: 4321, address });
    const m = await link.receive();
    link.close();
    assert.ok(m?.type === "status");
    return m.body;
  };
  const link = await Link.connect("127.0.0.2", daemon.port, { service: "daemon" });
  try {
    // this test connects from 127.0.0.1 and speaks for a master on 127.0.0.8
    await link.send("probe", { version: "test", host: "test", port: 4321, address: "127.0.0.8" });
    assert.equal((await link.receive())?.type, "status");
    await link.send("start", {});
    const started = await link.receive();
    assert.ok(started?.type === "status" && started.body.state === "running", JSON.stringify(started));
    assert.equal(daemon.master, "127.0.0.8:4321");
    assert.equal((await ask("127.0.0.8")).state, "running");
    const other = await ask("127.0.0.1");
    assert.deepEqual([other.state, other.master], ["occupied", "127.0.0.8:4321"]);
    // an address that is no address falls back to the connecting peer's
    assert.equal((await ask("not an address!")).state, "occupied");
  } finally {
    link.close();
    await daemon.close();
    await serving;
  }
});
