/** Image settings shared by render and master: samples, size, seed, path length. */
export interface ImageSettings {
  /** Samples per pixel. */
  spp: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Random seed: the same seed and spp give the same image. */
  seed: number;
  /** Longest path, in bounces. */
  maxDepth: number;
}

/** The image settings' defaults: the CLI's help shows them and its parser fills them in. */
export const IMAGE_DEFAULTS = {
  spp: 64,
  width: 512,
  height: 512,
  seed: 1,
  maxDepth: 16,
} as const satisfies ImageSettings;

/** The image settings' limits (inclusive). */
export const IMAGE_LIMITS = {
  spp: { min: 1, max: 1 << 24 },
  side: { min: 1, max: 16384 },
  seed: { min: 0, max: 0xffffffff },
  maxDepth: { min: 1, max: 1024 },
} as const;

/**
 * The image size: the width and height asked for; where the scene's camera has an aspect ratio (glTF cameras
 * may) and a side was not asked for, that side follows the ratio: the other side when one is given, else the
 * longer side is the default side ({@linkcode IMAGE_DEFAULTS}' width). A side neither asked for nor set by a
 * ratio is the default.
 */
export function imageSize(
  asked: { width?: number | undefined; height?: number | undefined },
  aspect?: number,
): { width: number; height: number } {
  const width = asked.width ?? IMAGE_DEFAULTS.width, height = asked.height ?? IMAGE_DEFAULTS.height;
  if (aspect === undefined || (asked.width !== undefined && asked.height !== undefined)) {
    return { width, height };
  }
  const { min, max } = IMAGE_LIMITS.side;
  const side = (n: number) => Math.min(max, Math.max(min, Math.round(n)));
  if (asked.width !== undefined) return { width, height: side(width / aspect) };
  if (asked.height !== undefined) return { width: side(height * aspect), height };
  const longer = IMAGE_DEFAULTS.width;
  return aspect >= 1
    ? { width: longer, height: side(longer / aspect) }
    : { width: side(longer * aspect), height: longer };
}
