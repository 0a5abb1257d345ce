import assert from "node:assert/strict";
import type { AdapterSummary } from "../gpu/mod.ts";
import { newNode } from "../net/master/mod.ts";
import { VERSION } from "../version.ts";
import { buildReport } from "./report.ts";

const gpu: AdapterSummary = { name: "llvmpipe", vendor: "Mesa", software: true };

const base = {
  scene: "cornell",
  sceneHash: "ab".repeat(32),
  width: 4,
  height: 2,
  seed: 1,
  sppTarget: 8,
  elapsedMs: 2000,
  interrupted: false,
};

Deno.test("a local render's report: its keys as users read them, one node, rates over the render time", () => {
  const node = { ...newNode("local", "here", [gpu]), samples: 8 * 4 * 2 };
  const report = buildReport({ ...base, nodes: [node], local: { setupMs: 500, rays: 1000 } });
  assert.deepEqual(report, {
    version: VERSION,
    scene: "cornell",
    sceneHash: "ab".repeat(32),
    width: 4,
    height: 2,
    seed: 1,
    sppTarget: 8,
    samplesPerPixel: 8,
    interrupted: false,
    wallSeconds: 2,
    setupSeconds: 0.5,
    samplesPerSecond: 32,
    raysPerSecond: 500,
    nodes: [{ role: "local", host: "here", gpus: [gpu], samples: 64, samplesPerPixel: 8 }],
  });
});

Deno.test("a network render's report: rows, checks, the master, and per node its bytes and its daemon", () => {
  const local = { ...newNode("local", "here", [gpu]), samples: 16 };
  const slave = {
    ...newNode("127.0.0.2:4000", "there", [gpu]),
    samples: 32,
    pid: 7,
    bytesSent: 100,
    bytesReceived: 640,
    resultBytes: 600,
    resultRawBytes: 1200,
    renderDataBytes: 50,
    renderDataWireBytes: 40,
    firstSampleMs: 12,
  };
  const verification = { fraction: 0.02, checks: 1, disagreements: 0, liars: [] };
  const report = buildReport({
    ...base,
    interrupted: true,
    elapsedMs: 0,
    nodes: [local, slave],
    network: {
      rowSamples: new Uint32Array([8, 4]),
      verification,
      master: { host: "here", port: 21000 },
      daemonOf: (n) => n.pid === 7 ? "127.0.0.2:48000" : undefined,
    },
    denoise: { ms: 5, adapter: "llvmpipe", weights: "rt_hdr", weightsFile: "rt_hdr.tza", raw: ["a.raw.png"] },
  });
  assert.equal(report.samplesPerPixel, 6);
  assert.deepEqual(report.rowSamples, { min: 4, max: 8 });
  assert.equal(report.interrupted, true);
  assert.equal(report.samplesPerSecond, 0, "no time: no rate, not Infinity");
  assert.equal(report.bytesPerRemoteSample, 640 / 32);
  assert.deepEqual(report.verification, verification);
  assert.deepEqual(report.master, { host: "here", port: 21000 });
  assert.equal(report.setupSeconds, undefined);
  assert.equal(report.denoise?.weights, "rt_hdr");
  assert.deepEqual(report.nodes[1], {
    role: "slave",
    address: "127.0.0.2:4000",
    daemon: "127.0.0.2:48000",
    host: "there",
    gpus: [gpu],
    samples: 32,
    samplesPerPixel: 4,
    bytesSent: 100,
    bytesReceived: 640,
    resultBytes: 600,
    resultBytesUncompressed: 1200,
    renderDataBytes: 50,
    renderDataWireBytes: 40,
    firstSampleMs: 12,
  });
  // the local node of a network render has no address or daemon, but its byte counts
  assert.deepEqual(Object.keys(report.nodes[0]!), [
    "role",
    "host",
    "gpus",
    "samples",
    "samplesPerPixel",
    "bytesSent",
    "bytesReceived",
    "resultBytes",
    "resultBytesUncompressed",
    "renderDataBytes",
    "renderDataWireBytes",
  ]);
});
