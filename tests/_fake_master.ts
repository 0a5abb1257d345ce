/**
 * A master that holds the farm key but sends render data of its own making, built on the project's own
 * protocol module: for tests of what a slave accepts. It listens for one slave, welcomes it, offers it the
 * sections given (their offer entries and wire bytes as crafted by the test), sends what it asks for, and
 * waits for it to leave.
 */
import { Link, type WireSection } from "../mod/net/protocol/mod.ts";
import { type RenderData, renderDataSections, sectionsHash } from "../mod/render_data/mod.ts";
import { VERSION } from "../mod/version.ts";

/** Options of {@linkcode serveCrafted}. */
export interface CraftedOptions {
  /** Loopback address to listen on (127.0.0.1 unless given). */
  hostname?: string;
  /** Port to listen on. */
  port: number;
  /** The farm key. */
  key?: Uint8Array;
  /** The render data whose content hash the offer names. */
  data: RenderData;
  /** The sections to offer and send, in its order (compressed, lied about…). */
  sections: readonly WireSection[];
  /** Milliseconds to wait for the slave and for it to leave. */
  timeoutMs?: number;
}

/**
 * Listens on `o.hostname`:`o.port` for one slave (a second finds nothing there) and serves it the crafted
 * sections; resolves with the type of the last message it sent before it left ("need" when it asked for
 * sections and then closed the link).
 */
export async function serveCrafted(o: CraftedOptions): Promise<string> {
  const listener = Deno.listen({ hostname: o.hostname ?? "127.0.0.1", port: o.port });
  let link: Link | undefined;
  const timer = setTimeout(() => {
    listener.close();
    link?.close();
  }, o.timeoutMs ?? 30_000);
  try {
    const conn = await listener.accept().finally(() => listener.close());
    link = await Link.accept(conn, { services: ["render"], ...(o.key ? { key: o.key } : {}) });
    link.startHeartbeats();
    const hello = await link.receive(["hello"]);
    if (!hello) return "closed";
    await link.send("welcome", { version: VERSION, host: "crafted" });
    await link.send("scene", {
      id: sectionsHash(renderDataSections(o.data)),
      width: 16,
      height: 16,
      seed: 1,
      maxDepth: 4,
      sections: o.sections.map((w) => w.info),
    });
    let last = "none";
    for (;;) {
      const m = await link.receive().catch(() => null);
      if (!m) return last;
      last = m.type;
      if (m.type === "need") {
        const wanted = new Set(m.body.hashes);
        for (const w of o.sections.filter((w) => wanted.has(w.info.hash))) {
          await link.send("section", { hash: w.info.hash, offset: 0, bytes: w.bytes });
        }
      }
    }
  } finally {
    clearTimeout(timer);
    link?.close();
  }
}

/**
 * A zstd frame of `bytes` bytes of `value` that takes 4 bytes per 128 KiB (RLE blocks): a zip bomb made
 * without holding what it inflates to.
 */
export function zstdBomb(bytes: number, value = 0): Uint8Array {
  const BLOCK = 128 << 10;
  const blocks = Math.ceil(bytes / BLOCK);
  // magic, then a frame header: no content size, no checksum; a window of 128 KiB
  const out = new Uint8Array(4 + 2 + blocks * 4);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0xfd2fb528, true);
  out[4] = 0x00;
  out[5] = 7 << 3;
  for (let i = 0; i < blocks; i++) {
    const size = Math.min(BLOCK, bytes - i * BLOCK);
    const header = (i === blocks - 1 ? 1 : 0) | (1 << 1) | (size << 3); // last?, RLE, size
    const at = 6 + i * 4;
    out[at] = header & 255, out[at + 1] = (header >> 8) & 255, out[at + 2] = (header >> 16) & 255;
    out[at + 3] = value;
  }
  return out;
}
