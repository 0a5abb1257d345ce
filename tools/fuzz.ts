/**
 * A protocol fuzzer: seeded, reproducible random and mutated input for every role in every state, before and
 * after the handshake. The targets run in this process (master, daemon with its heartbeat service, slave), so
 * that a crash or an unhandled rejection fails loudly and memory can be read; their handshake gates are
 * opened wide, or one address could send no more than 30 handshakes a second.
 *
 *   deno task fuzz [--frames N] [--seed S]     the long run (default 100,000 frames), prints frames/s
 *
 * tests/fuzz_test.ts runs a shorter pass of the same code in CI.
 * @module
 */
import { parseArgs } from "node:util";
import { openGpu } from "../mod/gpu/mod.ts";
import { Daemon } from "../mod/net/daemon/mod.ts";
import { Master } from "../mod/net/master/mod.ts";
import { encodeSection, HandshakeGate } from "../mod/net/protocol/mod.ts";
import type { SecureChannel } from "../mod/net/protocol/channel.ts";
import { initiate, respond } from "../mod/net/protocol/handshake.ts";
import { CODECS, type MessageType, SECTION_HEAD_BYTES } from "../mod/net/protocol/messages.ts";
import { preamble, type Service } from "../mod/net/protocol/preamble.ts";
import { HandshakeState, NOISE_PSK } from "../mod/net/protocol/noise.ts";
import { Slave } from "../mod/net/slave/mod.ts";
import { compileScene, renderDataSections } from "../mod/render_data/mod.ts";
import { cornellBox } from "../mod/scene/mod.ts";
import { VERSION } from "../mod/version.ts";

/** A seeded random source (mulberry32): the same seed, the same input. */
export class Random {
  #s: number;
  /** Starts from `seed`. */
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** A number in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** One of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(256));
  }
  /** A small size most of the time, sometimes a large one. */
  size(): number {
    return this.next() < 0.8 ? this.int(64) : this.next() < 0.8 ? this.int(4096) : this.int(70_000);
  }
}

/** Flips, cuts or extends `bytes` a little. */
function mutate(r: Random, bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  switch (r.int(4)) {
    case 0:
      for (let k = 0, n = 1 + r.int(4); k < n && out.length; k++) out[r.int(out.length)]! ^= 1 << r.int(8);
      return out;
    case 1:
      return out.subarray(0, r.int(out.length + 1));
    case 2:
      return new Uint8Array([...out, ...r.bytes(1 + r.int(32))]);
    default:
      if (out.length) out[r.int(out.length)] = r.int(256);
      return out;
  }
}

/** A JSON value of a random kind: what a field should not be. */
function junkValue(r: Random): unknown {
  return r.pick([
    null,
    -1,
    2 ** 53 + 2,
    1e308,
    "x".repeat(r.int(5000)),
    [],
    {},
    true,
    "",
    0.5,
    Array.from({ length: r.int(100) }, () => r.int(1000)),
  ]);
}

const HASH = () => "ab".repeat(32);

/** A message of `service`'s vocabulary with random field values (often plausible, sometimes not). */
function message(r: Random, type: MessageType): Record<string, unknown> {
  const n = () => (r.next() < 0.8 ? r.int(100) : r.int(2 ** 31));
  const bodies: Partial<Record<MessageType, () => Record<string, unknown>>> = {
    hello: () => ({
      version: r.pick([VERSION, "9.9.9"]),
      host: "fuzz",
      gpus: [{ name: "g", vendor: "v", software: false }],
    }),
    welcome: () => ({ version: VERSION, host: "fuzz" }),
    refuse: () => ({ reason: "fuzz" }),
    need: () => ({ id: HASH(), hashes: Array.from({ length: r.int(4) }, HASH) }),
    ready: () => ({ id: r.pick([HASH(), "0".repeat(64), "x"]) }),
    work: () => ({ job: n(), y: n(), height: 1 + r.int(20), start: n(), count: 1 + r.int(8) }),
    return: () => ({ jobs: Array.from({ length: r.int(4) }, n) }),
    bye: () => ({}),
    probe: () => ({
      version: VERSION,
      host: "fuzz",
      port: r.int(65536),
      address: r.pick(["127.0.0.1", "0.0.0.0", "::", "x"]),
    }),
    start: () => ({}),
    stop: () => ({}),
    watch: () => ({ token: r.pick(["", "guess", "a".repeat(64)]), pid: n() }),
    scene: () => ({
      id: HASH(),
      width: r.int(64),
      height: r.int(64),
      seed: n(),
      maxDepth: r.int(16),
      sections: Array.from(
        { length: r.int(10) },
        () => {
          const length = r.int(4096);
          const zstd = r.next() < 0.5;
          return {
            name: "camera",
            hash: HASH(),
            length,
            encoding: zstd ? "zstd" : "raw",
            wireLength: zstd ? r.int(4096) : length,
          };
        },
      ),
    }),
  };
  const body: Record<string, unknown> = (bodies[type] ?? (() => ({})))();
  if (r.next() < 0.3) {
    const keys = Object.keys(body);
    if (keys.length) body[r.pick(keys)] = junkValue(r);
    else body[`k${r.int(10)}`] = junkValue(r);
  }
  return body;
}

/** One frame's bytes for a link of `service`, from `types` (the vocabulary the target reads). */
function frame(r: Random, types: readonly MessageType[]): Uint8Array {
  const header = new Uint8Array(8);
  const v = new DataView(header.buffer);
  const kind = r.int(10);
  let payload: Uint8Array;
  let code: number;
  if (kind < 4) {
    // a message of the vocabulary, JSON fields random, sometimes mutated after encoding
    const type = r.pick(types);
    code = CODECS[type].code;
    if (type === "result") {
      const json = new TextEncoder().encode(
        JSON.stringify({ job: r.int(100), seconds: r.next(), rays: r.int(1000) }),
      );
      payload = new Uint8Array([
        ...new Uint8Array(new Uint32Array([json.length]).buffer),
        ...json,
        ...r.bytes(r.size()),
      ]);
    } else if (type === "section") {
      payload = new Uint8Array([...r.bytes(SECTION_HEAD_BYTES), ...r.bytes(r.size())]);
    } else if (type === "heartbeat") {
      payload = new Uint8Array(0);
    } else {
      payload = new TextEncoder().encode(JSON.stringify(message(r, type)));
    }
    if (kind === 3) payload = mutate(r, payload);
  } else if (kind < 7) {
    // any type code, random bytes
    code = r.int(24);
    payload = r.bytes(r.size());
  } else if (kind < 9) {
    // a length that lies (mostly far too long): the target must refuse from the header alone
    code = r.pick([1, 5, 6, 9, 13, 17, r.int(65536)]);
    v.setUint16(0, code, true);
    v.setUint16(2, r.int(65536), true);
    v.setUint32(4, r.next() < 0.5 ? 0xffffffff - r.int(1000) : r.int(200 << 20), true);
    return new Uint8Array([...header, ...r.bytes(r.int(16))]);
  } else {
    // not even a frame: bytes inside the sealed stream
    return r.bytes(1 + r.int(40));
  }
  v.setUint16(0, code, true);
  v.setUint16(2, r.next() < 0.9 ? 0 : r.int(65536), true);
  v.setUint32(4, payload.length, true);
  const out = new Uint8Array(8 + payload.length);
  out.set(header), out.set(payload, 8);
  return out;
}

/** Bytes that come before any handshake completes: junk, broken preambles, broken first messages. */
function preHandshake(r: Random, service: Service, key: Uint8Array): Uint8Array {
  const p = preamble(service, { keyed: true }).bytes;
  switch (r.int(5)) {
    case 0:
      return r.bytes(r.int(80));
    case 1:
      return mutate(r, p);
    case 2: {
      const hs = new HandshakeState(NOISE_PSK, { initiator: true, prologue: p, psk: key });
      const m = hs.writeMessage();
      return new Uint8Array([...p, m.length >> 8, m.length & 0xff, ...mutate(r, m)]);
    }
    case 3:
      return new Uint8Array([...p, ...r.bytes(2 + r.int(100))]);
    default: {
      const m = r.bytes(32 + r.int(40));
      return new Uint8Array([...p, m.length >> 8, m.length & 0xff, ...m]);
    }
  }
}

/** Reads and drops what the target sends until it closes; resolves then. */
function drain(channel: SecureChannel): { closed: () => boolean; done: Promise<void> } {
  let closed = false;
  const done = (async () => {
    const buf = new Uint8Array(65536);
    try {
      while ((await channel.read(buf)) !== null) {
        // dropped
      }
    } catch {
      // a broken link ends the same way
    }
    closed = true;
  })();
  return { closed: () => closed, done };
}

async function writeRaw(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}

/** Progress of a run. */
export interface FuzzCount {
  /** Frames (or pre-handshake inputs) sent. */
  frames: number;
  /** Connections made. */
  connections: number;
}

/**
 * Fuzzes a server (master or daemon) at `port`: pre-handshake inputs and, on sealed links of `service`,
 * sequences of frames from `types`, until `frames` were sent.
 */
export async function fuzzServer(
  port: number,
  o: {
    service: Service;
    types: readonly MessageType[];
    key: Uint8Array;
    frames: number;
    random: Random;
    host?: string;
  },
): Promise<FuzzCount> {
  const r = o.random, host = o.host ?? "127.0.0.1";
  const count: FuzzCount = { frames: 0, connections: 0 };
  while (count.frames < o.frames) {
    const conn = await Deno.connect({ hostname: host, port });
    count.connections++;
    try {
      if (r.next() < 0.3) {
        await writeRaw(conn, preHandshake(r, o.service, o.key)).catch(() => {});
        count.frames++;
        continue;
      }
      const { channel } = await initiate(conn, o.service, { key: o.key, timeoutMs: 5000, peer: "fuzz" });
      const reader = drain(channel);
      for (let k = 0, n = 1 + r.int(12); k < n && !reader.closed() && count.frames < o.frames; k++) {
        await channel.write([frame(r, o.types)]).catch(() => {});
        count.frames++;
      }
      channel.close();
      await reader.done;
    } catch {
      // the target refused or closed: next connection
    } finally {
      try {
        conn.close();
      } catch {
        // closed
      }
    }
  }
  return count;
}

/** A gate that lets one address through as fast as it likes (the fuzzer is one address). */
export function openGate(): HandshakeGate {
  return new HandshakeGate({ total: 1024, perHost: 1024, ratePerHost: 1e9, burstPerHost: 1e9 });
}

/** What the master reads on a render link. */
export const MASTER_READS: readonly MessageType[] = [
  "hello",
  "need",
  "ready",
  "result",
  "return",
  "bye",
  "heartbeat",
  "probe",
];
/** What a daemon reads. */
export const DAEMON_READS: readonly MessageType[] = [
  "probe",
  "start",
  "stop",
  "bye",
  "heartbeat",
  "watch",
  "hello",
];
/** What a slave reads. */
export const SLAVE_READS: readonly MessageType[] = [
  "welcome",
  "refuse",
  "scene",
  "section",
  "work",
  "bye",
  "heartbeat",
];

/**
 * Fuzzes the slave: this side plays its master. Each session lets a slave (in this process, on `gpu`) join,
 * then sends it frames (sometimes after the real render data, so that work reaches its renderer); the
 * slave must end every session with a reason (or a clean goodbye), never a crash or a hang.
 */
export async function fuzzSlave(
  gpu: Awaited<ReturnType<typeof openGpu>>,
  o: { key: Uint8Array; frames: number; random: Random },
): Promise<FuzzCount & { outcomes: Record<string, number> }> {
  const r = o.random;
  const count = { frames: 0, connections: 0, outcomes: {} as Record<string, number> };
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const data = compileScene(cornellBox());
  const sections = renderDataSections(data);
  const { sectionsHash } = await import("../mod/render_data/mod.ts");
  // as a master sends them: compressed where it pays
  const wire = sections.map((s) => encodeSection(s));
  try {
    while (count.frames < o.frames) {
      count.connections++;
      const joining = Slave.join(gpu, { host: "127.0.0.1", port, key: o.key, heartbeatTimeout: 5 });
      const conn = await listener.accept();
      const { channel } = await respond(conn, ["render"], { key: o.key, timeoutMs: 5000, peer: "slave" });
      const reader = drain(channel);
      const send = (type: MessageType, body: unknown) => {
        const { parts, flags } = CODECS[type].encode(body as never);
        const length = parts.reduce((n, p) => n + p.length, 0);
        const h = new Uint8Array(8);
        new DataView(h.buffer).setUint16(0, CODECS[type].code, true);
        new DataView(h.buffer).setUint16(2, flags ?? 0, true);
        new DataView(h.buffer).setUint32(4, length, true);
        return channel.write([h, ...parts]);
      };
      await send("welcome", { version: VERSION, host: "fuzz" });
      const slave = await joining;
      const running = slave.run();
      if (r.next() < 0.3) {
        // the real render data first: frames then reach a slave that renders
        await send("scene", {
          id: sectionsHash(sections),
          width: 16,
          height: 16,
          seed: 1,
          maxDepth: 4,
          sections: wire.map((w) => w.info),
        });
        for (const w of wire) await send("section", { hash: w.info.hash, offset: 0, bytes: w.bytes });
        await send("work", { job: 1, y: 0, height: 4, start: 0, count: 1 });
      }
      for (let k = 0, n = 1 + r.int(12); k < n && !reader.closed() && count.frames < o.frames; k++) {
        await channel.write([frame(r, SLAVE_READS)]).catch(() => {});
        count.frames++;
      }
      if (!reader.closed()) await send("bye", {}).catch(() => {});
      let timer: ReturnType<typeof setTimeout> | undefined;
      const exit = await Promise.race([
        running,
        new Promise<{ kind: "hung" }>((
          resolve,
        ) => (timer = setTimeout(() => resolve({ kind: "hung" }), 15_000))),
      ]);
      clearTimeout(timer);
      if (exit.kind === "hung") {
        throw new Error("a slave did not end its session within 15 s of the last frame");
      }
      count.outcomes[exit.kind] = (count.outcomes[exit.kind] ?? 0) + 1;
      channel.close();
      await reader.done;
    }
  } finally {
    listener.close();
  }
  return count;
}

/** Starts a master in this process for fuzzing: no local rendering, no spot checks, an open gate. */
export function fuzzMaster(key: Uint8Array, port: number): { master: Master; done: Promise<unknown> } {
  const master = Master.start(compileScene(cornellBox()), {
    spp: 2,
    width: 16,
    height: 16,
    seed: 1,
    maxDepth: 4,
    bind: "127.0.0.1",
    port,
    autoPort: true,
    localRender: false,
    verify: 0,
    key,
    gate: openGate(),
  });
  return { master, done: master.run().catch(() => undefined) };
}

/** Starts a daemon in this process for fuzzing: its "slaves" just wait; an open gate. */
export function fuzzDaemon(key: Uint8Array, address: string): { daemon: Daemon; done: Promise<void> } {
  const facts = {
    version: VERSION,
    protocol: 0,
    host: "fuzz",
    os: "linux",
    arch: "x86_64",
    bits: 64,
    gpus: [],
  };
  const daemon = Daemon.listen(facts, {
    bind: address,
    port: 0,
    command: ["/bin/sh", "-c", "exec sleep 30", "sh"],
    key: { key, path: "/dev/null" },
    graceSeconds: 0.2,
    gate: openGate(),
  });
  return { daemon, done: daemon.serve() };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { frames: { type: "string", default: "100000" }, seed: { type: "string", default: "1" } },
  });
  const frames = Number(values.frames), seed = Number(values.seed);
  const key = crypto.getRandomValues(new Uint8Array(32));
  const rss = () => Deno.memoryUsage().rss / 2 ** 20;
  console.log(`fuzz: ${frames} frames per role, seed ${seed}; RSS ${rss().toFixed(0)} MiB`);
  const t0 = performance.now();
  const { master, done } = fuzzMaster(key, 29000);
  const m = await fuzzServer(master.port, {
    service: "render",
    types: MASTER_READS,
    key,
    frames,
    random: new Random(seed),
  });
  const ms = performance.now() - t0;
  console.log(
    `  master: ${m.frames} frames on ${m.connections} connections, ${
      (m.frames / ms * 1000).toFixed(0)
    } frames/s; RSS ${rss().toFixed(0)} MiB`,
  );
  master.close();
  await done;
  const { daemon, done: served } = fuzzDaemon(key, "127.0.0.2");
  const t1 = performance.now();
  let d = 0;
  for (const service of ["daemon", "watch"] as const) {
    const c = await fuzzServer(daemon.port, {
      service,
      types: DAEMON_READS,
      key,
      frames: frames / 2,
      random: new Random(seed + (service === "daemon" ? 1 : 2)),
      host: "127.0.0.2",
    });
    d += c.frames;
  }
  console.log(
    `  daemon: ${d} frames, ${(d / (performance.now() - t1) * 1000).toFixed(0)} frames/s; RSS ${
      rss().toFixed(0)
    } MiB`,
  );
  await daemon.close();
  await served;
  const gpu = await openGpu();
  const t2 = performance.now();
  const s = await fuzzSlave(gpu, { key, frames: frames / 10, random: new Random(seed + 3) });
  console.log(
    `  slave: ${s.frames} frames over ${s.connections} sessions (${JSON.stringify(s.outcomes)}), ${
      (s.frames / (performance.now() - t2) * 1000).toFixed(0)
    } frames/s; RSS ${rss().toFixed(0)} MiB`,
  );
  gpu.device.destroy();
  const total = m.frames + d + s.frames;
  console.log(`fuzz: ${total} frames in ${((performance.now() - t0) / 1000).toFixed(1)} s, every role up`);
}
