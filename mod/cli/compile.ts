import { encodeRenderData, renderDataHash } from "../render_data/mod.ts";
import { checkWritableDir, parseFlags, UsageError } from "./args.ts";
import { COMPILE } from "./commands.ts";
import { printHelp } from "./flags.ts";
import { cameraAsFlags, sceneRequest } from "./camera_args.ts";
import { asUsage } from "./usage.ts";
import { openScene } from "../session/mod.ts";

/** `octane compile`: writes compiled render data. */
export async function compileCommand(args: string[]): Promise<number> {
  const parsed = parseFlags(args, COMPILE);
  if (parsed.help) return printHelp(COMPILE);
  const { values, positionals, given } = parsed;
  const scene = positionals[0];
  if (!scene) throw new UsageError(`Missing SCENE: run "octane compile --help"`);
  if (scene.toLowerCase().endsWith(".ocrd")) {
    throw new UsageError(
      `Cannot compile "${scene}": it is compiled render data already; render it as it is, or compile its scene file`,
    );
  }
  const output = values.output;
  if (!output) throw new UsageError(`Missing -o FILE.ocrd: run "octane compile --help"`);
  if (!output.toLowerCase().endsWith(".ocrd")) {
    throw new UsageError(`Cannot write "${output}": -o takes a .ocrd file`);
  }
  await checkWritableDir(output, "-o");
  const { data, camera } = await asUsage(openScene(await sceneRequest(scene, values, given)));
  const bytes = encodeRenderData(data);
  await Deno.writeFile(output, bytes);
  console.error(
    `Compiled ${scene}: ${data.stats.triangles} triangles, ${data.stats.nodes} BVH nodes (built in ${
      data.stats.bvhMs.toFixed(0)
    } ms), ${data.stats.lights} emissive triangles -> ${output} (${bytes.length} bytes, hash ${
      renderDataHash(data).slice(0, 16)
    }); camera ${cameraAsFlags(camera)}`,
  );
  return 0;
}
