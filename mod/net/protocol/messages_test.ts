import assert from "node:assert/strict";
import { CODECS, ProtocolError, type SceneOffer } from "./messages.ts";

const HASH = "ab".repeat(32);
const offer = (section: Record<string, unknown>) => ({
  id: HASH,
  width: 16,
  height: 16,
  seed: 1,
  maxDepth: 4,
  sections: [{ name: "textures", hash: HASH, length: 262_144, ...section }],
});
const decode = (body: unknown): SceneOffer =>
  CODECS.scene.decode(new TextEncoder().encode(JSON.stringify(body)), 0);

Deno.test("a scene offer names each section's encoding and wire length; a lie the decoder can see is refused", () => {
  const zstd = decode(offer({ encoding: "zstd", wireLength: 7000 })).sections[0]!;
  assert.deepEqual(zstd, {
    name: "textures",
    hash: HASH,
    length: 262_144,
    encoding: "zstd",
    wireLength: 7000,
  });
  const raw = decode(offer({ encoding: "raw", wireLength: 262_144 })).sections[0]!;
  assert.equal(raw.encoding, "raw");
  const refused = (section: Record<string, unknown>, reason: RegExp) =>
    assert.throws(
      () => decode(offer(section)),
      (e: unknown) => e instanceof ProtocolError && reason.test(e.message),
    );
  refused({ encoding: "raw", wireLength: 1000 }, /scene: a raw section of 262144 bytes sends 1000/);
  refused(
    { encoding: "zstd", wireLength: 262145 },
    /scene: a compressed section of 262144 bytes sends 262145/,
  );
  refused({ encoding: "gzip", wireLength: 1000 }, /scene: unknown section encoding "gzip"/);
  refused({ wireLength: 1000 }, /scene: unknown section encoding undefined/);
  refused({ encoding: "zstd" }, /scene: field "wireLength" is undefined/);
  refused({ encoding: "zstd", wireLength: 2 ** 31 }, /scene: field "wireLength" is 2147483648/);
  refused({ encoding: "zstd", wireLength: 10, length: 2 ** 31 }, /scene: field "length" is 2147483648/);
});

Deno.test("a scene offer may ask for AOVs (a boolean, kept only when true); anything else there is refused", () => {
  const section = { encoding: "raw", wireLength: 262_144 };
  assert.equal(decode(offer(section)).aovs, undefined);
  assert.equal(decode({ ...offer(section), aovs: false }).aovs, undefined);
  assert.equal(decode({ ...offer(section), aovs: true }).aovs, true);
  const encoded = CODECS.scene.encode({ ...decode(offer(section)), aovs: true }).parts[0]!;
  assert.equal(CODECS.scene.decode(encoded, 0).aovs, true);
  for (const aovs of ["yes", 1, null, {}]) {
    assert.throws(
      () => decode({ ...offer(section), aovs }),
      (e: unknown) => e instanceof ProtocolError && /scene: field "aovs" is not a boolean/.test(e.message),
    );
  }
});
