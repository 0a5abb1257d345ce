import assert from "node:assert/strict";
import { type Frame, FRAME_HEADER_BYTES, frameHeader, FrameReader, streamSource } from "./frame.ts";
import { CODECS, type MessageType, ProtocolError, SECTION_HEAD_BYTES } from "./messages.ts";

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

function frame(type: MessageType, payload: Uint8Array, flags = 0): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  out.set(frameHeader(type, { length: payload.length, flags }));
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

async function readAll(bytes: Uint8Array, sizes: number[]): Promise<Frame[]> {
  const reader = new FrameReader(streamSource(stream(bytes, sizes)), "render");
  const frames: Frame[] = [];
  for (let f = await reader.next(); f; f = await reader.next()) frames.push(f);
  return frames;
}

const chunk = new Uint8Array(SECTION_HEAD_BYTES + 70_000).map((_, i) => i & 255);
const frames = [
  frame("hello", new TextEncoder().encode('{"a":1}')),
  frame("heartbeat", new Uint8Array(0)),
  frame("section", chunk),
  frame("heartbeat", new Uint8Array(0)),
  frame("result", new Uint8Array([9, 8, 7]), 1),
];
const wire = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
frames.reduce((at, f) => (wire.set(f, at), at + f.length), 0);

Deno.test("FrameReader reads every frame, empty payloads included, however the bytes are split", async () => {
  for (
    const sizes of [[1], [3, 17], [FRAME_HEADER_BYTES], [FRAME_HEADER_BYTES + 7], [65536], [wire.length]]
  ) {
    const got = await readAll(wire, sizes);
    assert.deepEqual(
      got.map((f) => f.type),
      ["hello", "heartbeat", "section", "heartbeat", "result"],
      `split ${sizes}`,
    );
    assert.equal(got[1]!.payload.length, 0);
    assert.deepEqual(got[2]!.payload, chunk);
    assert.deepEqual([got[4]!.flags, ...got[4]!.payload], [1, 9, 8, 7]);
  }
});

Deno.test("FrameReader rejects unknown types, another service's types, lengths over a type's limit and truncated frames", async () => {
  const bad = (bytes: Uint8Array, pattern: RegExp) =>
    assert.rejects(
      readAll(bytes, [5]),
      (e: unknown) => e instanceof ProtocolError && pattern.test(e.message),
    );
  const unknown = frame("bye", new Uint8Array(0));
  new DataView(unknown.buffer).setUint16(0, 999, true);
  await bad(unknown, /unknown message type 999/);
  await bad(frame("probe", new Uint8Array(2)), /a probe message does not belong on a render link/);
  const huge = frame("work", new Uint8Array(0));
  new DataView(huge.buffer).setUint32(4, CODECS.work.maxBytes + 1, true);
  await bad(huge, /a work message of \d+ bytes is over its \d+-byte limit/);
  const hugeHeartbeat = frame("heartbeat", new Uint8Array(0));
  new DataView(hugeHeartbeat.buffer).setUint32(4, 1, true);
  await bad(hugeHeartbeat, /over its 0-byte limit/);
  await bad(frames[2]!.subarray(0, 1000), /ended inside a section frame/);
  await bad(frames[0]!.subarray(0, 5), /ended inside a frame header/);
  assert.throws(() => frameHeader("work", { length: CODECS.work.maxBytes + 1 }), RangeError);
});

Deno.test("FrameReader's section sink reads a chunk's rest straight into the buffer it names", async () => {
  const head = new Uint8Array(SECTION_HEAD_BYTES).fill(1);
  const body = new Uint8Array(100_000).map((_, i) => (i * 7) & 255);
  const bytes = frame("section", new Uint8Array([...head, ...body]));
  const target = new Uint8Array(body.length + 10);
  const reader = new FrameReader(streamSource(stream(bytes, [4096])), "render");
  reader.sink = (h, rest) => (h[0] === 1 ? target.subarray(10, 10 + rest) : undefined);
  const f = (await reader.next())!;
  assert.deepEqual(f.payload, head);
  assert.equal(f.direct?.length, body.length);
  assert.deepEqual(target.subarray(10), body);
  // a head the sink does not know: the whole payload comes back as usual
  const other = new FrameReader(streamSource(stream(bytes, [4096])), "render");
  other.sink = () => undefined;
  const g = (await other.next())!;
  assert.equal(g.direct, undefined);
  assert.equal(g.payload.length, SECTION_HEAD_BYTES + body.length);
});
