import assert from "node:assert/strict";
import { loadObj, ObjError } from "./obj.ts";

async function objFile(obj: string, mtl?: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "octane-obj-" });
  await Deno.writeTextFile(`${dir}/a.obj`, obj);
  if (mtl !== undefined) await Deno.writeTextFile(`${dir}/a.mtl`, mtl);
  return `${dir}/a.obj`;
}

Deno.test("OBJ: quads fan into triangles, negative indices count back, materials map from MTL", async () => {
  const path = await objFile(
    `mtllib a.mtl
v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
vt 0 0
vt 1 1
vn 0 0 1
usemtl lamp
f -4/1/1 -3/1/1 -2/2/1 -1/2/1
usemtl metal
f 1 2 3
`,
    `newmtl lamp
Kd 0.5 0.5 0.5
Ke 4 3 2
newmtl metal
Kd 0 0 0
Ks 0.9 0.8 0.7
Ns 100
`,
  );
  const scene = await loadObj(path);
  assert.equal(scene.meshes.length, 2);
  const [lamp, metal] = scene.meshes;
  assert.deepEqual([...lamp!.indices], [0, 1, 2, 0, 2, 3]);
  assert.deepEqual([...lamp!.normals!.subarray(0, 3)], [0, 0, 1]);
  assert.deepEqual([...lamp!.uvs!.subarray(0, 2)], [0, 1], "v is flipped: textures are stored top row first");
  assert.equal(metal!.normals, undefined);
  const [m0, m1] = [scene.materials[lamp!.material]!, scene.materials[metal!.material]!];
  assert.deepEqual(m0.emission, [4, 3, 2]);
  assert.equal(m1.metallic, 1);
  assert.deepEqual(m1.baseColor, [0.9, 0.8, 0.7]);
  assert.ok(m1.roughness > 0.1 && m1.roughness < 0.5, `Ns 100 is fairly glossy: ${m1.roughness}`);
  assert.deepEqual(scene.environment.color, [0, 0, 0], "the lamp lights it");
  await Deno.remove(path.replace(/\/a.obj$/, ""), { recursive: true });
});

Deno.test("OBJ: bad lines and out-of-range indices give one-line errors with the line number", async () => {
  for (
    const [text, pattern] of [
      ["v 0 0\n", /line 1: "v" needs three numbers/],
      ["v 0 0 0\nv 1 0 0\nf 1 2 7\n", /line 3: index 7 is outside the 2 defined so far/],
      ["v 0 0 0\n", /it has no faces/],
    ] as const
  ) {
    const path = await objFile(text);
    await assert.rejects(
      loadObj(path),
      (e: unknown) => e instanceof ObjError && pattern.test(e.message) && !e.message.includes("\n"),
    );
    await Deno.remove(path.replace(/\/a.obj$/, ""), { recursive: true });
  }
});

Deno.test("OBJ: a scene without lights gets the white environment; a missing MTL is not fatal", async () => {
  const path = await objFile("mtllib missing.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nusemtl x\nf 1 2 3\n");
  const scene = await loadObj(path);
  assert.deepEqual(scene.environment.color, [1, 1, 1]);
  assert.equal(scene.materials.length, 1);
  await Deno.remove(path.replace(/\/a.obj$/, ""), { recursive: true });
});
