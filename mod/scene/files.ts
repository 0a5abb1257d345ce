/** Raised when a scene file, or a file it needs, exists but cannot be used. */
export class SceneFormatError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SceneFormatError";
  }
}

/** Why a file could not be read, in words ("is missing", "is a folder"…), or undefined for other errors. */
export function readProblem(error: unknown): string | undefined {
  if (error instanceof Deno.errors.NotFound) return "is missing";
  if (error instanceof Deno.errors.IsADirectory) return "is a folder, not a file";
  if (error instanceof Deno.errors.PermissionDenied) return "cannot be read (permission denied)";
  return undefined;
}

/** Which file of which scene is read, for messages. */
export interface FileRole {
  /** The scene (or render data) file that is loading. */
  scene: string;
  /** What the file is to the scene, e.g. `texture`; omitted for the scene file itself. */
  kind?: string;
  /** The file's name as the scene writes it (default: its path). */
  shown?: string;
}

/**
 * Reads a file a scene needs, naming both in a one-line {@linkcode SceneFormatError} when it is missing, a
 * folder or unreadable: `Cannot load "scene.gltf": "scene.bin" is missing`.
 */
export async function readSceneFile(path: string, role: FileRole): Promise<Uint8Array<ArrayBuffer>> {
  try {
    return await Deno.readFile(path);
  } catch (error: unknown) {
    const problem = readProblem(error);
    if (problem === undefined) throw error;
    const self = role.kind === undefined && role.shown === undefined;
    const file = self ? "it" : `${role.kind ? `${role.kind} ` : ""}"${role.shown ?? path}"`;
    throw new SceneFormatError(`Cannot load "${role.scene}": ${file} ${problem}`, { cause: error });
  }
}
