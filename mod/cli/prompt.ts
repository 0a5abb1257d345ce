const encoder = new TextEncoder();

/**
 * Asks a question on the terminal, or (no terminal) prints it and reads one line of stdin.
 * @returns the answer, trimmed; null at the end of the input
 */
export async function ask(question: string): Promise<string | null> {
  if (Deno.stdin.isTerminal()) return prompt(question)?.trim() ?? null;
  Deno.stdout.writeSync(encoder.encode(`${question} `));
  const answer = await readLine();
  Deno.stdout.writeSync(encoder.encode("\n"));
  return answer?.trim() ?? null;
}

/** One line of stdin, without its line end; null at the end of the input. */
async function readLine(): Promise<string | null> {
  const decoder = new TextDecoder();
  const bytes: number[] = [];
  const buf = new Uint8Array(1);
  // byte by byte, so that nothing after the line is taken from stdin
  let ended = false;
  while (bytes.length < 1000) {
    const n = await Deno.stdin.read(buf);
    if (n === null || n === 0) {
      ended = true;
      break;
    }
    if (buf[0] === 0x0a) break;
    bytes.push(buf[0]!);
  }
  if (ended && bytes.length === 0) return null;
  return decoder.decode(new Uint8Array(bytes)).replace(/\r$/, "");
}
