/**
 * Prints the closing line `N passed, N failed[, N skipped]` from a `deno test --junit-path` report.
 * @module
 */
const [path] = Deno.args;
if (!path) {
  console.error("junit_summary: usage: junit_summary.ts REPORT.xml");
  Deno.exit(2);
}
let xml = "";
try {
  xml = await Deno.readTextFile(path);
} catch {
  // no report: the test run died before writing one
}
const cases = xml.match(/<testcase\b[\s\S]*?(?:\/>|<\/testcase>)/g) ?? [];
let failed = 0, skipped = 0;
for (const c of cases) {
  if (/<failure\b|<error\b/.test(c)) failed++;
  else if (/<skipped\b/.test(c)) skipped++;
}
const passed = cases.length - failed - skipped;
if (cases.length === 0 && Deno.args[1] !== "0") failed = 1; // the run failed without reporting a test
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
