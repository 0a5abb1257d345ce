import assert from "node:assert/strict";
import { PROTOCOL_VERSION } from "../../version.ts";
import { HandshakeError, initiate, respond } from "./handshake.ts";
import { Link } from "./link.ts";
import { preamble, type Service } from "./preamble.ts";
import { ProtocolError } from "./messages.ts";

const KEY = new Uint8Array(32).fill(7);
const OTHER = new Uint8Array(32).fill(8);

/** A responder on 127.0.0.1 for one connection: resolves with its link, or the error its handshake gave. */
function responder(o: { services: Service[]; key?: Uint8Array }) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepted = listener.accept().then(
    (conn) => Link.accept(conn, { ...o, timeoutMs: 3000 }),
  ).finally(() => listener.close());
  return { port, accepted: accepted.then((l) => l, (e: unknown) => e as Error) };
}

async function pair(key?: Uint8Array): Promise<[Link, Link]> {
  const r = responder({ services: ["render"], ...(key ? { key } : {}) });
  const a = await Link.connect("127.0.0.1", r.port, { service: "render", ...(key ? { key } : {}) });
  const b = await r.accepted;
  if (b instanceof Error) throw b;
  return [a, b];
}

Deno.test("a sealed link carries typed messages both ways, a frame over many transport messages included", async () => {
  for (const key of [KEY, undefined]) {
    const [slave, master] = await pair(key);
    try {
      await slave.send("hello", {
        version: "1.2.3",
        host: "box",
        gpus: [{ name: "G", vendor: "v", software: false }],
      });
      const hello = await master.receive();
      assert.equal(hello?.type, "hello");
      assert.deepEqual(hello.body, {
        version: "1.2.3",
        host: "box",
        gpus: [{ name: "G", vendor: "v", software: false }],
      });
      const bytes = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 255);
      const hash = "ab".repeat(32);
      master.send("heartbeat", {});
      master.send("section", { hash, offset: 4096, bytes });
      await master.send("work", { job: 1, y: 2, height: 3, start: 4, count: 5 });
      const chunk = await slave.receive();
      assert.ok(chunk?.type === "section");
      assert.equal(chunk.body.hash, hash);
      assert.equal(chunk.body.offset, 4096);
      assert.deepEqual(chunk.body.bytes, bytes);
      const work = await slave.receive();
      assert.deepEqual(work, { type: "work", body: { job: 1, y: 2, height: 3, start: 4, count: 5 } });
      // every transport message costs a 2-byte length and a 16-byte tag
      assert.ok(
        master.bytesSent > bytes.length && master.bytesSent < bytes.length * 1.001 + 200,
        `${master.bytesSent}`,
      );
      assert.equal(slave.bytesReceived, master.bytesSent);
    } finally {
      slave.close();
      master.close();
    }
  }
});

Deno.test("a message after bye, or a message of another service, closes the link with a reason", async () => {
  const [slave, master] = await pair(KEY);
  try {
    await slave.send("bye", {});
    await slave.send("ready", { id: "x" });
    assert.equal((await master.receive())?.type, "bye");
    await assert.rejects(
      master.receive(),
      (e: unknown) => e instanceof ProtocolError && /ready message after bye/.test(e.message),
    );
  } finally {
    slave.close();
    master.close();
  }
  const [s2, m2] = await pair(KEY);
  try {
    // a daemon's start request on a render link is refused by the reader, whatever the sender's types say
    await (s2 as unknown as { send(t: string, b: object): Promise<void> }).send("start", {});
    await assert.rejects(m2.receive(), /a start message does not belong on a render link/);
  } finally {
    s2.close();
    m2.close();
  }
});

/** Connects as initiator and returns the error, with the responder's error. */
async function refused(
  initiator: { service: Service; key?: Uint8Array },
  responderSide: { services: Service[]; key?: Uint8Array },
): Promise<[HandshakeError, HandshakeError]> {
  const r = responder(responderSide);
  const mine = await Link.connect("127.0.0.1", r.port, initiator).then(() => undefined, (e: unknown) => e);
  const theirs = await r.accepted;
  assert.ok(mine instanceof HandshakeError, `initiator: ${mine}`);
  assert.ok(theirs instanceof HandshakeError, `responder: ${theirs}`);
  return [mine, theirs];
}

Deno.test("no key on one side, a wrong key and another service each give a clear line on both sides", async () => {
  let [a, b] = await refused({ service: "render" }, { services: ["render"], key: KEY });
  assert.match(
    a.message,
    /^Master 127\.0\.0\.1:\d+ requires a farm key and this slave has none: copy the master's key here/,
  );
  assert.match(b.message, /^Refused slave 127\.0\.0\.1:\d+: it has no farm key and this master requires one/);
  [a, b] = await refused({ service: "render", key: KEY }, { services: ["render"] });
  assert.match(
    a.message,
    /^Master 127\.0\.0\.1:\d+ has no farm key and this slave has one: give the master the same key/,
  );
  assert.match(b.message, /^Refused slave 127\.0\.0\.1:\d+: it uses a farm key and this master has none/);
  [a, b] = await refused({ service: "daemon", key: KEY }, { services: ["daemon", "watch"], key: OTHER });
  assert.equal(a.kind, "key");
  assert.match(
    a.message,
    /^Daemon 127\.0\.0\.1:\d+ and this master hold different farm keys/,
  );
  assert.match(
    b.message,
    /^Refused master 127\.0\.0\.1:\d+: the handshake failed: its farm key differs from this daemon's/,
  );
  [a, b] = await refused({ service: "render", key: KEY }, { services: ["daemon", "watch"], key: KEY });
  assert.match(
    a.message,
    /^127\.0\.0\.1:\d+ is an octane daemon's port, not an octane master's port: check the address and port/,
  );
  assert.match(
    b.message,
    /^Refused 127\.0\.0\.1:\d+: it looks for a master, and this is an octane daemon's port/,
  );
});

Deno.test("another protocol version is refused with both versions named on both sides", async () => {
  // a node of a later protocol: the same preamble layout, another version number
  const r = responder({ services: ["render"], key: KEY });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: r.port });
  const future = preamble("render", { keyed: true, release: "9.9.9" }).bytes;
  new DataView(future.buffer).setUint16(4, PROTOCOL_VERSION + 1, true);
  await conn.write(future);
  const answer = new Uint8Array(64);
  const n = (await conn.read(answer)) ?? 0;
  conn.close();
  const theirs = answer.subarray(0, n);
  assert.equal(
    new DataView(theirs.buffer).getUint16(4, true),
    PROTOCOL_VERSION,
    "the master's preamble names its version",
  );
  const error = await r.accepted;
  assert.ok(error instanceof HandshakeError);
  assert.match(
    error.message,
    new RegExp(
      `^Refused slave 127\\.0\\.0\\.1:\\d+: it runs octane 9\\.9\\.9 \\(protocol ${
        PROTOCOL_VERSION + 1
      }\\), this master runs octane \\S+ \\(protocol ${PROTOCOL_VERSION}\\): run the same octane on every node`,
    ),
  );
  // and the other way round: a master of a later protocol answers this slave
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = listener.accept().then(async (c) => {
    await c.read(new Uint8Array(64));
    await c.write(future);
    c.close();
  });
  const failed = await Link.connect("127.0.0.1", (listener.addr as Deno.NetAddr).port, {
    service: "render",
    key: KEY,
  })
    .then(() => undefined, (e: unknown) => e);
  await serving;
  listener.close();
  assert.ok(failed instanceof HandshakeError);
  assert.match(
    failed.message,
    /^Master 127\.0\.0\.1:\d+ runs octane 9\.9\.9 \(protocol \d+\), this slave runs octane/,
  );
});

Deno.test("garbage and silence before the handshake are refused within the handshake deadline", async () => {
  const r = responder({ services: ["render"] });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: r.port });
  await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  const e = await r.accepted;
  conn.close();
  assert.ok(e instanceof HandshakeError && e.kind === "not-octane", String(e));
  // a release string longer than any preamble may carry is refused from its length byte
  const long = responder({ services: ["render"] });
  const liar = await Deno.connect({ hostname: "127.0.0.1", port: long.port });
  const head = preamble("render", { keyed: false }).bytes.slice(0, 9);
  head[8] = 255;
  await liar.write(head);
  const l = await long.accepted;
  liar.close();
  assert.ok(l instanceof HandshakeError && /release is 255 bytes, over 32/.test(l.message), String(l));
  const quiet = responder({ services: ["render"] });
  const idle = await Deno.connect({ hostname: "127.0.0.1", port: quiet.port });
  const t0 = performance.now();
  const q = await quiet.accepted;
  idle.close();
  assert.ok(q instanceof HandshakeError && q.kind === "timeout", String(q));
  assert.ok(performance.now() - t0 < 5000);
});

/** A TCP proxy that flips one byte of what the initiator sends once `after` bytes have passed. */
function flipper(target: number, after: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const done = (async () => {
    const inbound = await listener.accept();
    listener.close();
    const outbound = await Deno.connect({ hostname: "127.0.0.1", port: target });
    let seen = 0;
    const up = (async () => {
      const buf = new Uint8Array(65536);
      for (let n = await inbound.read(buf); n !== null; n = await inbound.read(buf).catch(() => null)) {
        const piece = buf.subarray(0, n);
        if (seen <= after && after < seen + n) piece[after - seen]! ^= 0x01;
        seen += n;
        await outbound.write(piece).catch(() => {});
      }
      outbound.close();
    })();
    const down = (async () => {
      const buf = new Uint8Array(65536);
      for (
        let n = await outbound.read(buf).catch(() => null);
        n !== null;
        n = await outbound.read(buf).catch(() => null)
      ) {
        await inbound.write(buf.subarray(0, n)).catch(() => {});
      }
      try {
        inbound.close();
      } catch {
        // closed
      }
    })();
    await Promise.allSettled([up, down]);
  })();
  return { port: (listener.addr as Deno.NetAddr).port, done };
}

Deno.test("one flipped byte after the handshake ends the link with a decryption failure", async () => {
  const r = responder({ services: ["render"], key: KEY });
  // preamble (14) + first handshake message (2 + 48): the flip lands inside the first transport message
  const proxy = flipper(r.port, 14 + 50 + 20);
  const slave = await Link.connect("127.0.0.1", proxy.port, { service: "render", key: KEY });
  const master = await r.accepted;
  assert.ok(master instanceof Link);
  await slave.send("hello", { version: "1", host: "h", gpus: [] });
  await assert.rejects(
    master.receive(),
    (e: unknown) => e instanceof ProtocolError && /failed to decrypt/.test(e.message),
  );
  master.close();
  slave.close();
  await proxy.done;
});

Deno.test("before the peer is proven, a long handshake message is refused unread; a type the state does not expect, from its header", async () => {
  // a handshake message claiming 65535 bytes: refused from its length, nothing allocated for it
  const r = responder({ services: ["render"], key: KEY });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: r.port });
  await conn.write(preamble("render", { keyed: true }).bytes);
  await conn.write(new Uint8Array([0xff, 0xff, 1, 2, 3]));
  const e = await r.accepted;
  conn.close();
  assert.ok(e instanceof HandshakeError && e.kind === "malformed", String(e));
  assert.match(e.message, /a message of 65535 bytes is over the 256-byte limit/);

  // after the handshake, a master waiting for hello is sent a header claiming a 60 MB result
  const s = responder({ services: ["render"], key: KEY });
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  const { channel } = await initiate(raw, "render", { key: KEY, timeoutMs: 3000, peer: "test" });
  const master = await s.accepted;
  assert.ok(master instanceof Link);
  const header = new Uint8Array(8);
  new DataView(header.buffer).setUint16(0, 9, true); // result
  new DataView(header.buffer).setUint32(4, 60 << 20, true);
  await channel.write([header]);
  const t0 = performance.now();
  await assert.rejects(master.receive(["hello"]), /expected hello, got result/);
  assert.ok(performance.now() - t0 < 1000, "refused without waiting for the payload");
  master.close();
  channel.close();
});

Deno.test("two releases of one protocol complete the handshake (the initiator's preamble comes first on both sides)", async () => {
  for (const key of [KEY, undefined]) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const accepted = listener.accept();
    const a = await Deno.connect({ hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port });
    const b = await accepted;
    listener.close();
    const o = { timeoutMs: 3000, peer: "test", ...(key ? { key } : {}) };
    const [mine, theirs] = await Promise.all([
      initiate(a, "render", { ...o, release: "0.1.0" }),
      respond(b, ["render"], { ...o, release: "0.2.0" }),
    ]);
    assert.equal(mine.release, "0.2.0");
    assert.equal(theirs.release, "0.1.0");
    await mine.channel.write([new Uint8Array([1, 2, 3])]);
    const got = new Uint8Array(3);
    assert.equal(await theirs.channel.read(got), 3);
    assert.deepEqual([...got], [1, 2, 3]);
    mine.channel.close();
    theirs.channel.close();
  }
});

Deno.test("each side's first transport message is at most 16 KiB: longer is refused unread, and a long first frame is split to fit", async () => {
  // after a handshake that a replay could complete, a first message claiming 20000 bytes
  const r = responder({ services: ["render"], key: KEY });
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: r.port });
  const established = await initiate(raw, "render", { key: KEY, timeoutMs: 3000, peer: "test" });
  const master = await r.accepted;
  assert.ok(master instanceof Link);
  await raw.write(new Uint8Array([20000 >> 8, 20000 & 0xff, 0, 0, 0]));
  await assert.rejects(master.receive(), /a message of 20000 bytes is over the 16384-byte limit/);
  master.close();
  established.channel.close();
  // a first frame of 1 MiB goes out as a first message of 16 KiB and then full ones
  const [slave, m2] = await pair(KEY);
  try {
    const bytes = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 255);
    await slave.send("section", { hash: "cd".repeat(32), offset: 0, bytes });
    const got = await m2.receive();
    assert.ok(got?.type === "section");
    assert.deepEqual(got.body.bytes, bytes);
  } finally {
    slave.close();
    m2.close();
  }
});
