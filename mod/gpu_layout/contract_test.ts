// The GPU data contract checked against the GPU itself: for every record the kernels read, TypeScript writes
// a distinct value into each field of the second record of an array, a probe kernel reads every field
// through the generated WGSL struct (as the kernels do) and writes what it read; both sides must agree word
// for word. An offset, a type or a stride that one side computes differently fails here. And the kernel
// chunks declare none of the contract's names: a struct, binding or override written by hand in a chunk
// would be a second, unchecked copy.
import assert from "node:assert/strict";
import { KERNEL_CHUNKS } from "../../kernels/mod.ts";
import { openGpu } from "../gpu/mod.ts";
import {
  type Fields,
  type FieldType,
  GpuRecord,
  type PlainType,
  wgslStruct,
  type WriteValues,
} from "./record.ts";
import { BINDINGS, bindingsOf } from "./bindings.ts";
import { PIPELINE_CONSTANTS } from "./constants.ts";
import { KERNEL_RECORDS, PARAMS } from "./records.ts";
import { kernelDeclarations } from "./wgsl.ts";

const gpu = await openGpu();
globalThis.addEventListener("unload", () => gpu.device.destroy());

/** Each scalar component of a record: its WGSL access path from `base`, its kind, and the value written. */
interface Probe {
  path: string;
  scalar: PlainType["scalar"];
  atomic: boolean;
}

function isRecord(t: FieldType): t is GpuRecord<Fields> {
  return t instanceof GpuRecord;
}

/** The probes of a field type at `path`, and the value to write there (component k gets a value from k). */
function probes(t: FieldType, path: string, out: Probe[]): unknown {
  if (isRecord(t)) {
    return Object.fromEntries(t.fields.map((f) => [f.name, probes(f.type, `${path}.${f.name}`, out)]));
  }
  if ("element" in t) {
    return Array.from({ length: t.length }, (_, i) => probes(t.element, `${path}[${i}]`, out));
  }
  const values: number[] = [];
  for (let c = 0; c < t.components; c++) {
    const k = out.length;
    out.push({
      path: t.components === 1 ? path : `${path}.${"xyzw"[c]}`,
      scalar: t.scalar,
      atomic: t.wgsl.startsWith("atomic"),
    });
    values.push(t.scalar === "f32" ? k + 0.5 : 1000 + k);
  }
  return t.components === 1 ? values[0] : values;
}

/** What the probe kernel writes for each probe: the bits TypeScript wrote there. */
function expected(list: Probe[]): number[] {
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  return list.map((p, k) => {
    if (p.scalar === "f32") f[0] = k + 0.5;
    else u[0] = 1000 + k;
    return u[0]!;
  });
}

/** Runs the probe of `rec`: bound as a storage array (element 1 probed), or as a uniform (itself). */
async function probe(rec: GpuRecord<Fields>, uniform: boolean): Promise<{ got: number[]; want: number[] }> {
  const list: Probe[] = [];
  const base = uniform ? "src" : "src[1]";
  const values = probes(rec, base, list) as WriteValues<Fields>;
  const bytes = rec.alloc(uniform ? 1 : 2);
  rec.write(bytes, uniform ? 0 : 1, values);
  const reads = list.map((p, k) => {
    const v = p.atomic ? `atomicLoad(&${p.path})` : p.path;
    return `  dst[${k}] = bitcast<u32>(${v});`;
  });
  const code = [
    ...KERNEL_RECORDS.map(wgslStruct),
    uniform
      ? `@group(0) @binding(0) var<uniform> src: ${rec.name};`
      : `@group(0) @binding(0) var<storage, read_write> src: array<${rec.name}>;`,
    `@group(0) @binding(1) var<storage, read_write> dst: array<u32>;`,
    `@compute @workgroup_size(1)\nfn main() {\n${reads.join("\n")}\n}`,
  ].join("\n\n");
  const device = gpu.device;
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ label: `probe ${rec.name}`, code });
  const pipeline = await device.createComputePipelineAsync({
    label: `probe ${rec.name}`,
    layout: "auto",
    compute: { module, entryPoint: "main" },
  });
  const srcBuffer = device.createBuffer({
    label: "probe source",
    size: bytes.byteLength,
    usage: (uniform ? GPUBufferUsage.UNIFORM : GPUBufferUsage.STORAGE) | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(srcBuffer, 0, bytes);
  const dst = device.createBuffer({
    label: "probe results",
    size: list.length * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const readback = device.createBuffer({
    label: "probe readback",
    size: list.length * 4,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(
    0,
    device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: srcBuffer } }, { binding: 1, resource: { buffer: dst } }],
    }),
  );
  pass.dispatchWorkgroups(1);
  pass.end();
  encoder.copyBufferToBuffer(dst, 0, readback, 0, list.length * 4);
  device.queue.submit([encoder.finish()]);
  const error = await device.popErrorScope();
  assert.equal(error, null, error?.message);
  await readback.mapAsync(GPUMapMode.READ);
  const got = Array.from(new Uint32Array(readback.getMappedRange().slice(0)));
  readback.unmap();
  for (const b of [srcBuffer, dst, readback]) b.destroy();
  return { got, want: expected(list) };
}

for (const rec of KERNEL_RECORDS) {
  Deno.test(`GPU contract: every field of ${rec.name} reads on the GPU what TypeScript wrote there`, async () => {
    const { got, want } = await probe(rec, false);
    assert.deepEqual(got, want);
  });
}

Deno.test("GPU contract: Params read as a uniform holds what TypeScript wrote, camera and environment included", async () => {
  const { got, want } = await probe(PARAMS, true);
  assert.deepEqual(got, want);
});

Deno.test("the kernel chunks declare no struct, binding, override or constant of the contract", () => {
  const records = new Set(KERNEL_RECORDS.map((r) => r.name));
  const generated = new Set([
    ...Object.keys(PIPELINE_CONSTANTS),
    ...Object.keys(BINDINGS),
    ...[...kernelDeclarations("trace").matchAll(/^const (\w+)/gm)].map((m) => m[1]!),
  ]);
  for (const [kernel, chunks] of Object.entries(KERNEL_CHUNKS)) {
    for (const [file, text] of Object.entries(chunks)) {
      const code = text.replace(/\/\/.*$/gm, "");
      assert.doesNotMatch(code, /@binding|@group|\boverride\b|var<(storage|uniform)/, `${kernel}: ${file}`);
      for (const m of code.matchAll(/\bstruct\s+(\w+)/g)) {
        assert.ok(!records.has(m[1]!), `${file} declares struct ${m[1]}, which mod/gpu_layout generates`);
      }
      for (const m of code.matchAll(/\b(?:const|var|let|fn)\s+(\w+)/g)) {
        assert.ok(!generated.has(m[1]!), `${file} declares ${m[1]}, which mod/gpu_layout generates`);
      }
    }
  }
});

Deno.test("every binding of a kernel is declared in its generated prologue, and only those", () => {
  for (const kernel of ["trace", "intersect"] as const) {
    const text = kernelDeclarations(kernel);
    const declared = [...text.matchAll(/@binding\((\d+)\) var(?:<[^>]*>)? (\w+)/g)].map((
      m,
    ) => [Number(m[1]), m[2]]);
    assert.deepEqual(declared, bindingsOf(kernel).map(([name, b]) => [b.binding, name]));
  }
  const numbers = Object.values(BINDINGS).map((b) => b.binding);
  assert.equal(new Set(numbers).size, numbers.length, "binding numbers are unique");
});
