import assert from "node:assert/strict";
import {
  encodeFrame,
  type Frame,
  FrameReader,
  HEADER_BYTES,
  MAX_PAYLOAD_BYTES,
  ProtocolError,
  streamSource,
} from "./frame.ts";

/** A stream that delivers `bytes` in pieces of the given sizes (cycled). */
function stream(bytes: Uint8Array, sizes: number[]): ReadableStream<Uint8Array> {
  let at = 0, k = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      const n = Math.max(1, sizes[k++ % sizes.length]!);
      controller.enqueue(bytes.slice(at, at + n));
      at += n;
    },
  });
}

async function readAll(bytes: Uint8Array, sizes: number[]): Promise<Frame[]> {
  const reader = new FrameReader(streamSource(stream(bytes, sizes)));
  const frames: Frame[] = [];
  for (let f = await reader.next(); f; f = await reader.next()) frames.push(f);
  return frames;
}

const frames = [
  encodeFrame(1, "hello", new TextEncoder().encode('{"a":1}')),
  encodeFrame(1, "heartbeat", new Uint8Array(0)),
  encodeFrame(1, "section", new Uint8Array(70_000).map((_, i) => i & 255), 0),
  encodeFrame(1, "heartbeat", new Uint8Array(0)),
  encodeFrame(2, "result", new Uint8Array([9, 8, 7]), 1),
];
const wire = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
frames.reduce((at, f) => (wire.set(f, at), at + f.length), 0);

Deno.test("FrameReader reads every frame, empty payloads included, however the bytes are split", async () => {
  for (const sizes of [[1], [3, 17], [HEADER_BYTES], [HEADER_BYTES + 7], [65536], [wire.length]]) {
    const got = await readAll(wire, sizes);
    assert.deepEqual(
      got.map((f) => f.type),
      ["hello", "heartbeat", "section", "heartbeat", "result"],
      `split ${sizes}`,
    );
    assert.equal(got[1]!.payload.length, 0);
    assert.deepEqual(got[2]!.payload, new Uint8Array(70_000).map((_, i) => i & 255));
    assert.deepEqual([got[4]!.version, got[4]!.flags, ...got[4]!.payload], [2, 1, 9, 8, 7]);
  }
});

Deno.test("FrameReader rejects wrong magic, unknown types, oversized lengths and truncated frames", async () => {
  const bad = (bytes: Uint8Array, pattern: RegExp) =>
    assert.rejects(
      readAll(bytes, [5]),
      (e: unknown) => e instanceof ProtocolError && pattern.test(e.message),
    );
  await bad(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"), /wrong magic/);
  const unknown = encodeFrame(1, "bye", new Uint8Array(0));
  new DataView(unknown.buffer).setUint16(6, 999, true);
  await bad(unknown, /unknown message type 999/);
  const huge = encodeFrame(1, "bye", new Uint8Array(0));
  new DataView(huge.buffer).setUint32(12, MAX_PAYLOAD_BYTES + 1, true);
  await bad(huge, /over the \d+-byte limit/);
  await bad(frames[2]!.subarray(0, 1000), /ended inside a section frame/);
  await bad(frames[0]!.subarray(0, 9), /ended inside a frame header/);
});

Deno.test("FrameReader's direct sink reads a payload's rest straight into the buffer it names", async () => {
  const head = new Uint8Array([1, 2, 3, 4]);
  const body = new Uint8Array(100_000).map((_, i) => (i * 7) & 255);
  const bytes = encodeFrame(1, "section", new Uint8Array([...head, ...body]));
  const target = new Uint8Array(body.length + 10);
  const reader = new FrameReader(streamSource(stream(bytes, [4096])));
  reader.sink = {
    type: "section",
    headBytes: 4,
    target: (h, rest) => (h[0] === 1 ? target.subarray(10, 10 + rest) : undefined),
  };
  const f = (await reader.next())!;
  assert.deepEqual([...f.payload], [1, 2, 3, 4]);
  assert.equal(f.directBytes, body.length);
  assert.deepEqual(target.subarray(10), body);
  // a head the sink does not know: the whole payload comes back as usual
  const other = new FrameReader(streamSource(stream(bytes, [4096])));
  other.sink = { type: "section", headBytes: 4, target: () => undefined };
  const g = (await other.next())!;
  assert.equal(g.directBytes, undefined);
  assert.equal(g.payload.length, 4 + body.length);
});
