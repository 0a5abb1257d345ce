/**
 * The receiving end of tools/net_bench.ts's transfer figures, in a process of its own (as a slave is on
 * its own machine): prints one JSON line {bytes, wireBytes, first, best}: raw and wire bytes, and seconds
 * of the first of three transfers (into fresh buffers) and of the fastest.
 *   deno run -A tools/transfer_peer.ts sealed HOST PORT KEY_HEX   a slave's download of every section (three
 *                                                                 joins), each decoded (decompressed, checked
 *                                                                 against its SHA-256) as a slave does
 *   deno run -A tools/transfer_peer.ts raw HOST PORT BYTES        a raw TCP read of BYTES into one buffer
 *                                                                 (three times)
 * @module
 */
import { decodeSection, Link, parseSectionHead } from "../mod/net/protocol/mod.ts";
import { VERSION } from "../mod/version.ts";
import { fromHex } from "../mod/bytes.ts";

const [mode, host, portText, arg] = Deno.args;
const port = Number(portText);
if (mode === "sealed") {
  const key = fromHex(arg!);
  // three joins, one download each (a master answers one `need` per offer): the first into fresh buffers,
  // as a slave joining does; the others into the same buffers, warm (and the code warmed up)
  let kept: Map<string, Uint8Array> | undefined;
  let total = 0, wireTotal = 0;
  const seconds: number[] = [];
  for (let round = 0; round < 3; round++) {
    const link = await Link.connect(host!, port, { service: "render", key });
    await link.send("hello", { version: VERSION, host: "bench", gpus: [] });
    await link.receive(); // welcome
    const offer = await link.receive();
    if (offer?.type !== "scene") throw new Error(`expected the scene offer, got ${offer?.type}`);
    const sections = offer.body.sections;
    total = sections.reduce((n, s) => n + s.length, 0);
    wireTotal = sections.reduce((n, s) => n + s.wireLength, 0);
    // as a slave does: each section's wire bytes read straight into a buffer of its own
    kept ??= new Map(sections.map((s) => [s.hash, new Uint8Array(s.wireLength)]));
    const into = kept;
    link.sink = (head, rest) => {
      const { hash, offset } = parseSectionHead(head);
      return into.get(hash)?.subarray(offset, offset + rest);
    };
    const t0 = performance.now();
    await link.send("need", { id: offer.body.id, hashes: sections.map((s) => s.hash) });
    let received = 0;
    while (received < wireTotal) {
      const m = await link.receive();
      if (!m) throw new Error("the master closed the connection");
      if (m.type === "section") received += m.body.bytes.length;
    }
    for (const s of sections) decodeSection(s, into.get(s.hash)!);
    seconds.push((performance.now() - t0) / 1000);
    link.close();
  }
  console.log(
    JSON.stringify({ bytes: total, wireBytes: wireTotal, first: seconds[0], best: Math.min(...seconds) }),
  );
} else if (mode === "raw") {
  const total = Number(arg);
  const conn = await Deno.connect({ hostname: host!, port });
  const copy = new Uint8Array(total);
  // three copies on the one connection, each asked for with a byte, as for sealed: the first into a fresh
  // buffer, the others into the same one
  const seconds: number[] = [];
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    await conn.write(new Uint8Array(1));
    let n = 0;
    while (n < total) {
      const k = await conn.read(copy.subarray(n));
      if (k === null) throw new Error("the sender closed the connection");
      n += k;
    }
    seconds.push((performance.now() - t0) / 1000);
  }
  console.log(JSON.stringify({ bytes: total, first: seconds[0], best: Math.min(...seconds) }));
  conn.close();
} else {
  console.error("usage: transfer_peer.ts sealed HOST PORT KEY_HEX | raw HOST PORT BYTES");
  Deno.exit(2);
}
