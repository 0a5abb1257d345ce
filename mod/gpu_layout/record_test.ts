import assert from "node:assert/strict";
import { array, checkUniform, f32, field, record, u32, vec2f, vec3f, vec4f, wgslStruct } from "./record.ts";
import { CAMERA, ENVIRONMENT, MATERIAL, PARAMS, PUNCTUAL, TEX_REF, TRI } from "./records.ts";

Deno.test("records lay out by WGSL's rules: vec3 aligned to 16 with a scalar in its fourth word, structs to their widest member", () => {
  const r = record("R", "A test record.", {
    a: field(f32, "a"),
    b: field(vec3f, "b"),
    c: field(f32, "c"),
    d: field(vec2f, "d"),
    e: field(array(vec3f, 2), "e"),
    f: field(u32, "f"),
  });
  assert.deepEqual(r.fields.map((f) => [f.name, f.offset]), [
    ["a", 0],
    ["b", 16],
    ["c", 28],
    ["d", 32],
    ["e", 48],
    ["f", 80],
  ]);
  assert.equal(r.align, 16);
  assert.equal(r.size, 96, "84 rounded up to the alignment");
  assert.deepEqual(r.word, { a: 0, b: 4, c: 7, d: 8, e: 12, f: 20 });
});

Deno.test("the contract's records have the sizes the render data format and the kernels were written for", () => {
  assert.equal(CAMERA.size, 64);
  assert.equal(ENVIRONMENT.size, 64);
  assert.equal(PARAMS.size, 192);
  assert.equal(TEX_REF.size, 48);
  assert.equal(MATERIAL.size, 736);
  assert.equal(MATERIAL.field("tex").offset, 96);
  assert.equal(MATERIAL.field("clearcoat").offset, 672);
  assert.equal(TRI.size, 48);
  assert.equal(PUNCTUAL.size, 64);
  checkUniform(PARAMS);
});

Deno.test("records write and read by field name: scalars, vectors, nested records and arrays, little-endian", () => {
  const bytes = MATERIAL.alloc(2);
  MATERIAL.write(bytes, 1, {
    base_color: [0.5, 0.25, 1],
    alpha: 0.75,
    tex: [{}, { levels: 3, tex_coord: 1 }],
  });
  const m = MATERIAL.read(bytes, 1);
  assert.deepEqual(m.base_color, [0.5, 0.25, 1]);
  assert.equal(m.alpha, 0.75);
  assert.equal(m.tex[1]!.levels, 3);
  assert.equal(m.tex[1]!.tex_coord, 1);
  assert.equal(m.tex[0]!.levels, 0);
  assert.equal(MATERIAL.read(bytes, 0).alpha, 0, "record 0 untouched");
  const view = new DataView(bytes);
  const at = MATERIAL.size + MATERIAL.field("tex").offset + TEX_REF.size + TEX_REF.field("levels").offset;
  assert.equal(view.getUint32(at, true), 3);
  assert.equal(MATERIAL.get(bytes, 1, "alpha"), 0.75);
});

Deno.test("a write of an unknown field, a wrong number of components or too long an array is refused", () => {
  const bytes = TRI.alloc(1);
  assert.throws(() => TRI.write(bytes, 0, { nope: 1 } as never), /Tri has no such field/);
  assert.throws(() => TRI.write(bytes, 0, { v0: [1, 2] }), /2 components for vec3f/);
  assert.throws(
    () => MATERIAL.write(MATERIAL.alloc(1), 0, { tex: Array.from({ length: 13 }, () => ({})) }),
    /13 elements for 12/,
  );
});

Deno.test("a uniform record's nested arrays need a 16-byte stride", () => {
  const bad = record("Bad", "Not a uniform.", { a: field(array(f32, 4), "a") });
  assert.throws(() => checkUniform(bad), /field "a" is an array whose stride is not 16/);
  checkUniform(record("Good", "A uniform.", { a: field(array(vec4f, 4), "a") }));
});

Deno.test("the WGSL struct of a record names each field with its type and byte offset", () => {
  const text = wgslStruct(TRI);
  assert.match(text, /^struct Tri \{$/m);
  assert.match(text, /\(byte 12\) Index of its material\.\n {2}material: u32,/);
  assert.match(text, /^ {2}v2: vec3f,$/m);
});
