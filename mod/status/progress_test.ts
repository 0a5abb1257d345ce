import assert from "node:assert/strict";
import { formatDuration, formatRate, StatusLine, type StatusSink } from "./progress.ts";

function sink(terminal: boolean): StatusSink & { text: () => string } {
  const chunks: Uint8Array[] = [];
  return {
    writeSync: (b) => (chunks.push(b.slice()), b.length),
    isTerminal: () => terminal,
    text: () => chunks.map((c) => new TextDecoder().decode(c)).join(""),
  };
}

Deno.test("StatusLine redraws in place on a terminal", () => {
  const s = sink(true);
  const line = new StatusLine({ sink: s });
  line.update("1/4");
  line.update("2/4");
  line.done("done");
  assert.equal(s.text(), "\r\x1b[K1/4\r\x1b[K2/4\r\x1b[Kdone\n");
});

Deno.test("StatusLine prints plain lines at an interval elsewhere", () => {
  const s = sink(false);
  const line = new StatusLine({ sink: s, plainInterval: 3600 });
  line.update("1/4");
  line.update("2/4");
  line.done("done");
  assert.equal(s.text(), "1/4\ndone\n");
});

Deno.test("formatDuration and formatRate", () => {
  assert.equal(formatDuration(65), "1:05");
  assert.equal(formatDuration(3725), "1:02:05");
  assert.equal(formatDuration(Infinity), "--:--");
  assert.equal(formatRate(1234567), "1.23 M");
  assert.equal(formatRate(999), "999 ");
});

Deno.test("StatusLine.clear erases a drawn line on a terminal and leaves plain lines alone", () => {
  const t = sink(true);
  const line = new StatusLine({ sink: t });
  line.clear();
  line.update("1/4");
  line.clear();
  line.clear();
  assert.equal(t.text(), "\r\x1b[K1/4\r\x1b[K");
  const p = sink(false);
  const plain = new StatusLine({ sink: p, plainInterval: 3600 });
  plain.update("1/4");
  plain.clear();
  assert.equal(p.text(), "1/4\n");
});
