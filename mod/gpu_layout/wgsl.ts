/**
 * The WGSL every kernel starts with, generated from the GPU data contract: the pipeline constants, the
 * contract's constants, the record structs and the kernel's bindings. `kernels/mod.ts` puts it before the
 * kernel's own chunks, which use these names and declare none of them.
 * @module
 */
import { bindingsOf, type KernelName, SHEEN_TABLE_SIZE, wgslBinding } from "./bindings.ts";
import { wgslConstants } from "./constants.ts";
import { wgslComment, wgslStruct } from "./record.ts";
import { KERNEL_RECORDS, PARAM_FLAGS, PUNCTUAL_KIND, TEXTURE_SLOTS } from "./records.ts";
import { SHEEN_MIN_ROUGHNESS } from "./sheen_table.ts";

/** Hit.tri of a miss. */
export const NO_HIT = 0xffffffff;

/** `name` in WGSL's constant case: "baseColor" -> "BASE_COLOR". */
function constantCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
}

function constant(doc: string, name: string, type: string, value: string): string {
  return [...wgslComment(doc), `const ${name}: ${type} = ${value};`].join("\n");
}

/** The contract's constants: texture slots, punctual kinds, Params flags, Hit's miss, the sheen table. */
function contractConstants(): string {
  return [
    constant("Hit.tri of a miss.", "NO_HIT", "u32", `0x${NO_HIT.toString(16)}u`),
    ...TEXTURE_SLOTS.map((slot, i) =>
      constant(`Material.tex slot of the ${slot} texture.`, `SLOT_${constantCase(slot)}`, "u32", `${i}u`)
    ),
    ...Object.entries(PUNCTUAL_KIND).map(([kind, v]) =>
      constant(`PunctualLight.kind of a ${kind} light.`, `PUNCTUAL_${constantCase(kind)}`, "f32", `${v}.0`)
    ),
    ...Object.entries(PARAM_FLAGS).map(([flag, v]) =>
      constant(`Params.flags bit: ${flag}.`, `FLAG_${constantCase(flag)}`, "u32", `${v}u`)
    ),
    constant("Rows and columns of the sheen table.", "SHEEN_TABLE_SIZE", "u32", `${SHEEN_TABLE_SIZE}u`),
    constant(
      "The sheen roughness is clamped to at least this (a smaller one has no visible sheen).",
      "SHEEN_MIN_ROUGHNESS",
      "f32",
      `${SHEEN_MIN_ROUGHNESS}`,
    ),
  ].join("\n");
}

/** The generated declarations of `kernel`. */
export function kernelDeclarations(kernel: KernelName): string {
  return [
    `// Generated from mod/gpu_layout/ (the GPU data contract): kernel chunks use these names and declare none.`,
    wgslConstants(kernel),
    contractConstants(),
    ...KERNEL_RECORDS.map(wgslStruct),
    ...bindingsOf(kernel).map(([name, b]) => wgslBinding(name, b)),
  ].join("\n\n") + "\n";
}
