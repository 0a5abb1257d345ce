/**
 * Prints the closing line `N passed, N failed[, N skipped]` over one or more `deno test --junit-path` reports,
 * each given with its test run's exit code (a non-zero code with no failing test in its report counts as one
 * failure: a test module that could not load, a run that died before writing its report), and exits 1 when
 * anything failed.
 *
 *     deno run --allow-read tools/junit_summary.ts REPORT.xml EXIT_CODE [REPORT.xml EXIT_CODE]...
 * @module
 */
const args = Deno.args;
if (args.length === 0 || args.length % 2 !== 0) {
  console.error("junit_summary: usage: junit_summary.ts REPORT.xml EXIT_CODE [REPORT.xml EXIT_CODE]...");
  Deno.exit(2);
}
let passed = 0, failed = 0, skipped = 0;
for (let i = 0; i < args.length; i += 2) {
  let xml = "";
  try {
    xml = await Deno.readTextFile(args[i]!);
  } catch {
    // no report: the test run died before writing one
  }
  const cases = xml.match(/<testcase\b[\s\S]*?(?:\/>|<\/testcase>)/g) ?? [];
  let f = 0, s = 0;
  for (const c of cases) {
    if (/<failure\b|<error\b/.test(c)) f++;
    else if (/<skipped\b/.test(c)) s++;
  }
  passed += cases.length - f - s, skipped += s;
  // a failing run whose report names no failure (a test module that could not load): one failure
  failed += f === 0 && args[i + 1] !== "0" ? 1 : f;
}
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
Deno.exit(failed > 0 ? 1 : 0);
