/**
 * Prints the closing line `N passed, N failed[, N skipped]` from a `deno test --junit-path` report and
 * the test run's exit code (a non-zero code with no failing test in the report counts as one failure).
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
// a failing run whose report names no failure (a test module that could not load): one failure
if (failed === 0 && Deno.args[1] !== undefined && Deno.args[1] !== "0") failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
