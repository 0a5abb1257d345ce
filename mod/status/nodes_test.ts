import assert from "node:assert/strict";
import { nodeNames, nodeRates, type NodeView, plural, sharesTable } from "./nodes.ts";

const node = (id: string, o: Partial<NodeView> = {}): NodeView => ({
  id,
  gpus: [{ name: "llvmpipe" }],
  samples: 0,
  rate: 0,
  active: true,
  upload: { sent: 0, total: 0 },
  ...o,
});

Deno.test("nodes are named by host, with the port only where two slaves share a host", () => {
  const names = nodeNames([
    node("local"),
    node("10.0.0.2:4000"),
    node("10.0.0.3:4000"),
    node("10.0.0.3:4001"),
  ]);
  assert.deepEqual([...names.values()], ["local", "10.0.0.2", "10.0.0.3:4000", "10.0.0.3:4001"]);
});

Deno.test("the status line names each active node with its rate, its upload, or that it is joining", () => {
  const text = nodeRates([
    node("local", { rate: 120_000 }),
    node("10.0.0.2:1", { rate: 95_400 }),
    node("10.0.0.3:1", { upload: { sent: 40, total: 100 } }),
    node("10.0.0.4:1"),
    node("10.0.0.5:1", { active: false, rate: 5 }),
  ]);
  assert.equal(text, "local 120 k · 10.0.0.2 95.4 k · 10.0.0.3 data 40% · 10.0.0.4 joining");
  assert.equal(plural(1, "slave"), "1 slave");
  assert.equal(plural(2, "slave"), "2 slaves");
});

Deno.test("the shares table lists every node that rendered, with GPU, share and samples/s", () => {
  const lines = sharesTable(
    [
      node("local", { samples: 3000 }),
      node("10.0.0.2:1", { samples: 1000, daemon: "10.0.0.2", gpus: [{ name: "NVIDIA H100" }] }),
      node("10.0.0.3:1", { samples: 0 }),
    ],
    2,
    "Who rendered what:",
  );
  assert.equal(lines.length, 4);
  assert.match(lines[1]!, /node +GPU +share +samples\/s/);
  assert.match(lines[2]!, /local \(master\) +llvmpipe +75\.0% +1\.50 k/);
  assert.match(lines[3]!, /10\.0\.0\.2 \(daemon 10\.0\.0\.2\) +NVIDIA H100 +25\.0% +500/);
});
