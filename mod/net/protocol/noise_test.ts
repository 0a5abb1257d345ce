import assert from "node:assert/strict";
import { fromHex, toHex } from "../../bytes.ts";
import { HandshakeState, keyPair, NOISE_NN, NOISE_PSK, type NoiseProtocol } from "./noise.ts";

// The published vectors (cacophony's and snow's) for octane's two patterns, beside the repository.
const path = new URL("../../../../shared/noise-vectors/vectors.json", import.meta.url).pathname;

interface Vector {
  protocol_name: string;
  init_prologue: string;
  init_psks?: string[];
  init_ephemeral: string;
  resp_prologue: string;
  resp_psks?: string[];
  resp_ephemeral: string;
  handshake_hash?: string;
  messages: { payload: string; ciphertext: string }[];
  source_file: string;
}

const hex = fromHex;

function loadVectors(): Vector[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error: unknown) {
    throw new Error(
      `Cannot read the Noise test vectors at "${path}": shared/ must sit beside the repository`,
      {
        cause: error,
      },
    );
  }
  return (JSON.parse(text) as { vectors: Vector[] }).vectors;
}

Deno.test("the Noise test vectors cover both of octane's patterns", () => {
  const names = new Set(loadVectors().map((v) => v.protocol_name));
  assert.ok(names.has(NOISE_NN) && names.has(NOISE_PSK), `found ${[...names].join(", ")}`);
});

for (const [i, v] of loadVectors().entries()) {
  Deno.test(`Noise vector ${i} (${v.protocol_name}, ${v.source_file}): every message byte for byte, both sides`, () => {
    const protocol = v.protocol_name as NoiseProtocol;
    const initiator = new HandshakeState(protocol, {
      initiator: true,
      prologue: hex(v.init_prologue),
      ...(v.init_psks?.length ? { psk: hex(v.init_psks[0]!) } : {}),
      ephemeral: keyPair(hex(v.init_ephemeral)),
    });
    const responder = new HandshakeState(protocol, {
      initiator: false,
      prologue: hex(v.resp_prologue),
      ...(v.resp_psks?.length ? { psk: hex(v.resp_psks[0]!) } : {}),
      ephemeral: keyPair(hex(v.resp_ephemeral)),
    });
    const [first, second, ...transport] = v.messages;
    // handshake: initiator -> responder, responder -> initiator
    const m1 = initiator.writeMessage(hex(first!.payload));
    assert.equal(toHex(m1), first!.ciphertext, "message 1 as the initiator writes it");
    assert.equal(toHex(responder.readMessage(m1)), first!.payload, "message 1 as the responder reads it");
    const m2 = responder.writeMessage(hex(second!.payload));
    assert.equal(toHex(m2), second!.ciphertext, "message 2 as the responder writes it");
    assert.equal(toHex(initiator.readMessage(m2)), second!.payload, "message 2 as the initiator reads it");
    const a = initiator.result(), b = responder.result();
    assert.deepEqual(a.handshakeHash, b.handshakeHash);
    if (v.handshake_hash) assert.equal(toHex(a.handshakeHash), v.handshake_hash); // snow's omit it
    // transport messages keep alternating, each direction with its own cipher state and nonce
    for (const [k, m] of transport.entries()) {
      const [from, to] = k % 2 === 0 ? [a, b] : [b, a];
      const ct = from.send.encryptWithAd(new Uint8Array(0), hex(m.payload));
      assert.equal(toHex(ct), m.ciphertext, `transport message ${k + 3}`);
      assert.equal(toHex(to.receive.decryptWithAd(new Uint8Array(0), ct)), m.payload);
    }
  });
}

Deno.test("a handshake fails on another key, another prologue, or a flipped byte; transport rejects replays", () => {
  const run = (
    protocol: NoiseProtocol,
    o: { pskA?: Uint8Array; pskB?: Uint8Array; prologueB?: string; flip?: number },
  ) => {
    const a = new HandshakeState(protocol, {
      initiator: true,
      prologue: new TextEncoder().encode("render"),
      ...(o.pskA ? { psk: o.pskA } : {}),
    });
    const b = new HandshakeState(protocol, {
      initiator: false,
      prologue: new TextEncoder().encode(o.prologueB ?? "render"),
      ...(o.pskB ? { psk: o.pskB } : {}),
    });
    const m1 = a.writeMessage();
    if (o.flip !== undefined) m1[o.flip]! ^= 1;
    b.readMessage(m1);
    a.readMessage(b.writeMessage());
    return [a.result(), b.result()] as const;
  };
  const key = new Uint8Array(32).fill(1), other = new Uint8Array(32).fill(2);
  assert.throws(() => run(NOISE_PSK, { pskA: key, pskB: other }), /decryption failed/);
  assert.throws(() => run(NOISE_PSK, { pskA: key, pskB: key, prologueB: "daemon" }), /decryption failed/);
  assert.throws(() => run(NOISE_PSK, { pskA: key, pskB: key, flip: 3 }), /decryption failed/);
  // NN has no secret: a changed prologue is caught on the responder's message
  assert.throws(() => run(NOISE_NN, { prologueB: "daemon" }), /decryption failed/);
  const [a, b] = run(NOISE_PSK, { pskA: key, pskB: key });
  const none = new Uint8Array(0);
  const m = a.send.encryptWithAd(none, new Uint8Array([1, 2, 3]));
  assert.deepEqual([...b.receive.decryptWithAd(none, m)], [1, 2, 3]);
  assert.throws(() => b.receive.decryptWithAd(none, m), /decryption failed/, "a replayed message");
  const tampered = a.send.encryptWithAd(none, new Uint8Array([4, 5, 6]));
  tampered[0]! ^= 0x80;
  assert.throws(() => b.receive.decryptWithAd(none, tampered), /decryption failed/);
});
