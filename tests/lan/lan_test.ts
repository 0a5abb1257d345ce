/**
 * The LAN builder itself: hosts reach each other and nothing else, a pulled cable cuts a host off and
 * plugging it back restores it, tbf shapes the link, and nothing is left behind (stale runs included).
 */
import assert from "node:assert/strict";
import { Lan, LAN_PREFIX } from "../../mod/lan/mod.ts";
import { denoOn, withLan } from "./_lan.ts";

function ip(args: string[]): string {
  const out = new Deno.Command("ip", { args, stdout: "piped", stderr: "piped" }).outputSync();
  return new TextDecoder().decode(out.stdout);
}

/** Deno code that answers one TCP connection on `address`:`port` with "hi", for up to `ms`. */
const serveOnce = (address: string, port: number, ms: number) =>
  `const l = Deno.listen({ hostname: "${address}", port: ${port} });
   setTimeout(() => Deno.exit(3), ${ms});
   console.log("listening");
   const c = await l.accept(); await c.write(new TextEncoder().encode("hi")); c.close(); Deno.exit(0);`;

/** Deno code that connects to `address`:`port` within `ms` and prints what it reads. */
const connect = (address: string, port: number, ms: number) =>
  `setTimeout(() => { console.log("timeout"); Deno.exit(4); }, ${ms});
   try { const c = await Deno.connect({ hostname: "${address}", port: ${port} });
     const b = new Uint8Array(2); await c.read(b); console.log(new TextDecoder().decode(b)); Deno.exit(0);
   } catch (e) { console.log(String(e)); Deno.exit(5); }`;

Deno.test("a namespace LAN: hosts reach each other, no default route, a pulled cable cuts a host off, all of it removed", async () => {
  let names: string[] = [];
  await withLan(3, { rate: "100mbit" }, async (lan) => {
    const [a, b, c] = lan.hosts;
    assert.match(lan.subnet, /^10\.213\.\d+\.0\/24$/);
    names = [lan.bridgeNamespace, ...lan.hosts.map((h) => h.namespace)];
    const listed = ip(["netns", "list"]);
    for (const n of names) assert.ok(listed.includes(n), `namespace ${n} missing`);
    for (const h of lan.hosts) {
      const routes = ip(["-n", h.namespace, "-4", "route", "show"]);
      assert.doesNotMatch(routes, /default/, `${h.namespace} has a default route`);
      assert.match(
        ip(["-n", h.namespace, "-4", "addr", "show", "eth0"]),
        new RegExp(h.address.replaceAll(".", "\\.")),
      );
      assert.match(ip(["-n", h.namespace, "link", "show", "eth0"]), /state UP/);
    }
    // the root namespace has no address and no route on the LAN: nothing there can reach it by mistake
    const net = lan.subnet.replace(/0\/24$/, "");
    assert.ok(!ip(["-4", "addr", "show"]).includes(net) && !ip(["-4", "route", "show"]).includes(net));
    assert.match(
      new TextDecoder().decode(
        new Deno.Command("tc", {
          args: ["-n", a!.namespace, "qdisc", "show", "dev", "eth0"],
          stdout: "piped",
        })
          .outputSync().stdout,
      ),
      /tbf .*rate 100Mbit/,
    );

    // b serves, a connects through the bridge
    const port = 40000 + Math.floor(Math.random() * 1000);
    const server = denoOn(lan, b!, serveOnce(b!.address, port, 15_000));
    let answer = "";
    for (let i = 0; i < 40 && !answer.includes("hi"); i++) {
      answer = (await denoOn(lan, a!, connect(b!.address, port, 2000))).out;
      if (!answer.includes("hi")) await new Promise((r) => setTimeout(r, 250));
    }
    assert.match(answer, /hi/);
    assert.equal((await server).code, 0);

    // c's cable pulled: a connection from c gets nowhere; plugged back: it does
    await lan.linkDown(c!);
    const cut = denoOn(lan, b!, serveOnce(b!.address, port + 1, 15_000));
    await new Promise((r) => setTimeout(r, 1500));
    assert.match((await denoOn(lan, c!, connect(b!.address, port + 1, 1500))).out, /timeout|unreachable/i);
    await lan.linkUp(c!);
    answer = "";
    for (let i = 0; i < 20 && !answer.includes("hi"); i++) {
      answer = (await denoOn(lan, c!, connect(b!.address, port + 1, 2000))).out;
    }
    assert.match(answer, /hi/);
    await cut;

    // a host that dies takes its processes with it
    const sleeper = new Deno.Command("ip", { args: ["netns", "exec", a!.namespace, "sleep", "60"] }).spawn();
    await lan.kill(a!);
    assert.equal((await sleeper.status).signal, "SIGKILL");
    assert.ok(!ip(["netns", "list"]).includes(a!.namespace));
  });
  const listed = ip(["netns", "list"]);
  for (const n of names) assert.ok(!listed.includes(n), `namespace ${n} left behind`);
});

Deno.test("a LAN removes a dead run's leftovers when it starts", async () => {
  // a run whose process is gone: a finished child's pid
  const dead = new Deno.Command("true").spawn();
  await dead.status;
  const stale = `${LAN_PREFIX}${dead.pid}x1-h1`;
  ip(["netns", "add", stale]);
  try {
    await using lan = await Lan.create(1);
    assert.equal(lan.hosts.length, 1);
    assert.ok(!ip(["netns", "list"]).includes(stale), "the stale namespace is still there");
  } finally {
    ip(["netns", "del", stale]);
  }
});

Deno.test("without root a LAN cannot be built, and a LAN test fails with one line that says why", async () => {
  // run as user nobody, with a Deno cache of its own (the code imported needs no package)
  const home = await Deno.makeTempDir({ prefix: "octane-nobody-" });
  try {
    await Deno.chmod(home, 0o777);
    // the checkout (and the Deno in it) may sit where nobody cannot read, as in a mktemp folder: copy them
    const copy = await copyForOthers(home);
    const script = `${copy.root}/tests/lan/t.ts`;
    await Deno.writeTextFile(
      script,
      `import { withLan } from "./_lan.ts";
       try { await withLan(2, {}, () => Promise.resolve()); console.log("built"); }
       catch (e) { console.log(String(e)); }`,
    );
    await Deno.chmod(script, 0o644);
    const out = await new Deno.Command("setpriv", {
      args: [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "env",
        `DENO_DIR=${home}`,
        `HOME=${home}`,
        copy.deno,
        "run",
        "--quiet",
        "--no-config",
        "--no-lock",
        "--allow-all",
        script,
      ],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(
      text,
      "Error: A namespace LAN needs root (ip netns add): run as root, as CI does; these tests need it and do not skip\n",
    );
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

/** Copies the project's files that tests/lan/_lan.ts imports, and Deno itself, into `home` for another user. */
async function copyForOthers(home: string): Promise<{ root: string; deno: string }> {
  const projectRoot = new URL("../../", import.meta.url).pathname;
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("./_lan.ts", import.meta.url).pathname],
    stdout: "piped",
  }).output();
  const modules: { specifier: string }[] = JSON.parse(new TextDecoder().decode(info.stdout)).modules;
  const root = `${home}/project`;
  for (const { specifier } of modules) {
    if (!specifier.startsWith("file://")) continue;
    const from = new URL(specifier).pathname;
    const to = `${root}/${from.slice(projectRoot.length)}`;
    await Deno.mkdir(to.slice(0, to.lastIndexOf("/")), { recursive: true, mode: 0o755 });
    await Deno.copyFile(from, to);
    await Deno.chmod(to, 0o644);
  }
  const deno = `${home}/deno`;
  await Deno.copyFile(Deno.execPath(), deno);
  await Deno.chmod(deno, 0o755);
  return { root, deno };
}
