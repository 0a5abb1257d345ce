import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { zstdCompressSync } from "node:zlib";
import { decodeSection, encodeSection } from "./codec.ts";
import { ProtocolError, type SectionInfo } from "./messages.ts";

/** Bytes like a texture's: smooth runs with a little noise. */
function textureLike(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => ((i >> 6) + (i % 7 === 0 ? 1 : 0)) & 255);
}

/** A section of `bytes` as renderDataSections names it. */
function section(bytes: Uint8Array, name: SectionInfo["name"] = "textures") {
  return { name, hash: createHash("sha256").update(bytes).digest("hex"), bytes };
}

Deno.test("a compressible section travels as zstd and decodes to its bytes; tiny and incompressible ones travel raw", () => {
  const raw = textureLike(256 << 10);
  const wire = encodeSection(section(raw));
  assert.equal(wire.info.encoding, "zstd");
  assert.equal(wire.info.length, raw.length);
  assert.equal(wire.info.wireLength, wire.bytes.length);
  assert.ok(wire.bytes.length < raw.length / 10, `${wire.bytes.length} bytes`);
  assert.deepEqual(decodeSection(wire.info, wire.bytes), raw);
  assert.equal(encodeSection(section(raw), { compress: false }).info.encoding, "raw");

  assert.equal(encodeSection(section(textureLike(1000))).info.encoding, "raw");
  const noise = crypto.getRandomValues(new Uint8Array(64 << 10));
  const kept = encodeSection(section(noise, "nodes"));
  assert.deepEqual(kept.info, {
    ...kept.info,
    encoding: "raw",
    length: noise.length,
    wireLength: noise.length,
  });
  assert.equal(kept.bytes, noise, "raw sections are sent as they are, not copied");
  assert.deepEqual(decodeSection(kept.info, kept.bytes), noise);
});

Deno.test("a zip bomb is refused once it decompresses past the offered length, without inflating it all", () => {
  // 64 MiB of zeros in a few kB, offered as a 4 kB section
  const bomb = new Uint8Array(zstdCompressSync(new Uint8Array(64 << 20)));
  const info = { ...encodeSection(section(textureLike(4096))).info, wireLength: bomb.length };
  assert.throws(
    () => decodeSection(info, bomb),
    (e: unknown) =>
      e instanceof ProtocolError &&
      /^render-data section "textures" decompresses past the 4096 bytes offered$/.test(e.message),
  );
});

Deno.test("a section that decompresses short, to other bytes, or is not zstd at all is refused with its reason", () => {
  const raw = textureLike(64 << 10);
  const wire = encodeSection(section(raw));
  const refused = (bytes: Uint8Array, reason: RegExp, o: Partial<SectionInfo> = {}) =>
    assert.throws(
      () => decodeSection({ ...wire.info, ...o, wireLength: bytes.length }, bytes),
      (e: unknown) => e instanceof ProtocolError && reason.test(e.message),
    );
  // a lying length: more raw bytes offered than the frame holds
  refused(wire.bytes, /"textures" decompresses to 65536 bytes, not the 70000 offered/, { length: 70_000 });
  // a frame cut short
  refused(
    wire.bytes.subarray(0, wire.bytes.length - 9),
    /"textures" decompresses to \d+ bytes, not the 65536/,
  );
  // the right length, other bytes
  const other = raw.slice();
  other[1234]! ^= 1;
  refused(
    encodeSection(section(other)).bytes,
    /"textures" does not match its SHA-256 \(the master sent other bytes\)/,
  );
  refused(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), /"textures" is not valid zstd/);
  // raw bytes are checked too
  refused(other, /"textures" does not match its SHA-256/, { encoding: "raw", length: other.length });
});
