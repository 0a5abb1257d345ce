import assert from "node:assert/strict";
import { decodeExr, decodePfm, decodePng } from "../mod/render/mod.ts";
import { encodeHdr } from "../mod/scene/mod.ts";
import { COMMANDS } from "../mod/cli/commands.ts";
import { flagsOf, helpText } from "../mod/cli/flags.ts";
import { NETS, processes, startDaemon, startMaster } from "./_harness.ts";

const root = new URL("..", import.meta.url).pathname;

function octane(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return octaneWithEnv({}, ...args);
}

async function octaneWithEnv(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(`${root}octane`, {
    args,
    env,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

for (
  const [name, args, pattern] of [
    ["an unknown flag", ["render", "--bogus"], /Unknown option "--bogus"/],
    [
      "a missing scene file",
      ["render", "no/such/scene.gltf"],
      /Cannot open scene "no\/such\/scene.gltf": no such file/,
    ],
    ["--spp 0", ["render", "--spp", "0"], /Invalid --spp "0"/],
    ["--width -5", ["render", "--width", "-5"], /Invalid --width "-5"/],
    ["--hdr with an unknown extension", ["render", "--hdr", "out.tiff"], /--hdr takes a .pfm or .exr file/],
    [
      "an output folder that does not exist",
      ["render", "-o", "no/such/dir/x.png"],
      /folder "no\/such\/dir" does not exist/,
    ],
    ["an unknown command", ["rendr"], /Unknown command "rendr"/],
    ["compile without -o", ["compile", "cornell"], /Missing -o FILE.ocrd/],
    ["slave without --master", ["slave"], /Missing --master HOST:PORT/],
    [
      "slave with a malformed address",
      ["slave", "--master", "10.0.0.1"],
      /Invalid --master "10.0.0.1": expected HOST:PORT/,
    ],
    [
      "a missing key file",
      ["slave", "--master", "127.0.0.1:9", "--key-file", "no/such/key"],
      /Key file "no\/such\/key" does not exist: make one with "octane key generate -o no\/such\/key"/,
    ],
    [
      "a key file that is not a key",
      ["master", "--key-file", "deno.json"],
      /Key file "deno.json" is (not a 256-bit key|readable by others)/,
    ],
    ["key without a subcommand", ["key"], /Missing subcommand: run "octane key generate \[-o FILE\]"/],
    [
      "master with --verify over 1",
      ["master", "--verify", "2"],
      /Invalid --verify "2": must be a number from 0 to 1/,
    ],
    [
      "master with --unit-timeout 0",
      ["master", "--unit-timeout", "0"],
      /Invalid --unit-timeout "0": must be a number above 0/,
    ],
    [
      "the old --secret-file",
      ["daemon", "--secret-file", "x"],
      /Unknown option "--secret-file" for "octane daemon"/,
    ],
    [
      "master with an unknown flag",
      ["master", "--subnet-x", "1"],
      /Unknown option "--subnet-x" for "octane master"/,
    ],
    ["compile of a missing scene", ["compile", "nope.obj", "-o", "x.ocrd"], /Cannot open scene "nope.obj"/],
    [
      "compile of compiled render data",
      ["compile", "x.ocrd", "-o", "y.ocrd"],
      /Cannot compile "x\.ocrd": it is compiled render data already; render it as it is, or compile its scene file/,
    ],
    [
      "master with a subnet too large to scan",
      ["master", "--subnet", "10.0.0.0/8"],
      /Invalid --subnet: Subnet "10\.0\.0\.0\/8" is too large to scan: use a \/16 or smaller/,
    ],
    [
      "master with a malformed subnet",
      ["master", "--subnet", "192.168.1/24"],
      /"192\.168\.1\/24" is not an IPv4 subnet: write it as 192\.168\.1\.0\/24/,
    ],
    [
      "master with --daemon-port but no scanning",
      ["master", "--daemon-port", "48001"],
      /--daemon-port needs scanning: add --net, --subnet CIDR or --enable/,
    ],
    [
      "master with an empty --enable",
      ["master", "--enable", ","],
      /Invalid --enable ",": expected all, none/,
    ],
    [
      "daemon with a port past 65535",
      ["daemon", "--port", "65536"],
      /Invalid --port "65536": must be an integer from 0 to 65535/,
    ],
    ["daemon with an unknown flag", ["daemon", "--prot", "1"], /Unknown option "--prot" for "octane daemon"/],
    ["a flag without its value", ["master", "--port"], /Option "--port" needs a value \(--port N\)/],
    [
      "a flag followed by another flag instead of its value",
      ["render", "--spp", "-o", "x.png"],
      /Option "--spp" needs a value \(--spp N\): run "octane render --help"$/,
    ],
    [
      "a short flag followed by another flag",
      ["master", "-o", "--port", "1"],
      /Option "--output" needs a value \(--output FILE\)/,
    ],
    ["a switch given a value", ["render", "--quiet=yes"], /Option "--quiet" takes no value/],
    [
      "master on an address this machine lacks, said before the scene is read",
      ["master", "no-such-scene.glb", "--bind", "192.0.2.1", "--port", "48998", "--no-local-render"],
      /Cannot listen on "192\.0\.2\.1": no interface has that address: pass --bind with one of this machine's/,
    ],
    [
      "daemon on an address this machine lacks",
      ["daemon", "--bind", "192.0.2.1", "--port", "48999"],
      /Cannot listen on "192\.0\.2\.1": no interface has that address/,
    ],
  ] as const
) {
  Deno.test(`octane: ${name} gives a one-line error and exit code 2`, async () => {
    const r = await octane(...args);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^octane: /);
    assert.match(lines[0]!, pattern);
  });
}

Deno.test("octane master on a port in use says so before the scene is read", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = String(taken.addr.port);
  const r = await octane("master", "no-such-scene.glb", "--bind", "127.0.0.1", "--port", port);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, `octane: Port ${port} is in use: pass --auto-port, or another --port\n`);
});

Deno.test("octane master, daemon and --ui take port 0: a free port from the OS, printed where each listens", async () => {
  await processes(async (start) => {
    const daemon = await startDaemon(start, { address: `${NETS.cli}.2` });
    const master = await startMaster(start, {
      args: ["--no-local-render", "--spp", "1", "--width", "8", "--height", "8", "--ui", "127.0.0.1:0"],
    });
    const ui = Number((await master.waitFor(/Live view: http:\/\/127\.0\.0\.1:(\d+)\/\?token=/))[1]);
    for (const port of [daemon.port, master.port, ui]) assert.ok(port > 0 && port < 65536, `port ${port}`);
    // each listens on the port it printed
    for (const [hostname, port] of [[daemon.host, daemon.port], [master.host, master.port]] as const) {
      (await Deno.connect({ hostname, port })).close();
    }
    const page = await fetch(`http://127.0.0.1:${ui}/api/status`);
    await page.body?.cancel();
    assert.equal(page.status, 401, "the live view answers (without its token)");
  });
});

Deno.test("octane render and master refuse an image the GPU cannot bind a row of, before any work, naming the largest that fits", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // 1024 pixels of 16 bytes a binding (the test knob): a 4096-pixel row cannot be rendered
    const env = { OCTANE_DIAG_MAX_BINDING_BYTES: String(1024 * 16) };
    const size = ["--width", "4096", "--height", "2160", "-o", `${dir}/x.png`];
    for (const args of [["render", ...size], ["master", "--bind", "127.0.0.1", "--port", "0", ...size]]) {
      const r = await octaneWithEnv(env, ...args);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, "", `${args[0]} started work: ${r.stdout}`);
      assert.match(
        r.stderr,
        /^octane: Cannot render 4096x2160: a row of 4096 pixels does not fit one buffer of ".+" \(it binds 16384 bytes: 1024 pixels\); the largest image that fits at this aspect is 1024x540 \(--width 1024 --height 540\)\n$/,
      );
    }
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing was written");
    // the largest size named renders
    const r = await octaneWithEnv(
      env,
      "render",
      "--quiet",
      "--spp",
      "1",
      "--width",
      "1024",
      "--height",
      "540",
      "-o",
      `${dir}/x.png`,
    );
    assert.equal(r.code, 0, r.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("octane render writes the PNG, the PFM and the report asked for", async () => {
  const dir = await Deno.makeTempDir({ prefix: "octane-cli-" });
  try {
    const r = await octane(
      "render",
      "--spp",
      "4",
      "--width",
      "24",
      "--height",
      "16",
      "-o",
      `${dir}/a.png`,
      "--hdr",
      `${dir}/a.pfm`,
      "--report",
      `${dir}/r.json`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Rendered 4 spp/);
    const png = decodePng(await Deno.readFile(`${dir}/a.png`));
    assert.deepEqual([png.width, png.height], [24, 16]);
    assert.ok(png.rgb.some((v) => v > 0), "the PNG is not black");
    const pfm = decodePfm(await Deno.readFile(`${dir}/a.pfm`));
    assert.deepEqual([pfm.width, pfm.height], [24, 16]);
    const again = await octane(
      "render",
      "--quiet",
      "--spp",
      "4",
      "--width",
      "24",
      "--height",
      "16",
      "-o",
      `${dir}/b.png`,
      "--hdr",
      `${dir}/a.exr`,
    );
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(
      decodeExr(await Deno.readFile(`${dir}/a.exr`)).rgb,
      pfm.rgb,
      "EXR and PFM hold the same floats",
    );
    const report = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
    assert.equal(report.samplesPerPixel, 4);
    assert.equal(report.width, 24);
    assert.match(report.sceneHash, /^[0-9a-f]{64}$/);
    assert.equal(report.nodes.length, 1);
    assert.equal(report.nodes[0].samples, 4 * 24 * 16);
    assert.ok(report.samplesPerSecond > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("octane render: the same seed and spp give the same image, another seed another", async () => {
  const dir = await Deno.makeTempDir({ prefix: "octane-cli-" });
  try {
    for (const [file, seed] of [["a", "5"], ["b", "5"], ["c", "6"]]) {
      const r = await octane(
        "render",
        "--quiet",
        "--spp",
        "2",
        "--width",
        "16",
        "--height",
        "16",
        "--seed",
        seed!,
        "-o",
        `${dir}/x.png`,
        "--hdr",
        `${dir}/${file}.pfm`,
      );
      assert.equal(r.code, 0, r.stderr);
    }
    const [a, b, c] = await Promise.all(
      ["a", "b", "c"].map(async (f) => decodePfm(await Deno.readFile(`${dir}/${f}.pfm`)).rgb),
    );
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("octane compile writes a .ocrd that renders the same image as its scene; a corrupt one is one line, exit 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "octane-cli-" });
  try {
    const c = await octane("compile", "cornell", "-o", `${dir}/c.ocrd`);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stderr, /Compiled cornell: 38 triangles/);
    const common = ["--quiet", "--spp", "2", "--width", "16", "--height", "16", "-o", `${dir}/x.png`];
    assert.equal((await octane("render", `${dir}/c.ocrd`, ...common, "--hdr", `${dir}/a.pfm`)).code, 0);
    assert.equal((await octane("render", "cornell", ...common, "--hdr", `${dir}/b.pfm`)).code, 0);
    assert.deepEqual(await Deno.readFile(`${dir}/a.pfm`), await Deno.readFile(`${dir}/b.pfm`));
    const bytes = await Deno.readFile(`${dir}/c.ocrd`);
    await Deno.writeFile(`${dir}/bad.ocrd`, bytes.subarray(0, bytes.length - 100));
    const bad = await octane("render", `${dir}/bad.ocrd`);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
    assert.match(bad.stderr, /Cannot load ".*bad.ocrd": .*(truncated|past the end)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("octane render --env lights with a .hdr map, --env-intensity scales it; .ocrd refuses --env", async () => {
  const dir = await Deno.makeTempDir({ prefix: "octane-cli-" });
  try {
    await Deno.writeFile(
      `${dir}/white.hdr`,
      encodeHdr({ width: 8, height: 4, rgb: new Float32Array(96).fill(1) }),
    );
    const common = ["--quiet", "--spp", "64", "--width", "8", "--height", "8", "-o", `${dir}/x.png`];
    const r = await octane(
      "render",
      "furnace",
      "--env",
      `${dir}/white.hdr`,
      "--env-intensity",
      "0.5",
      ...common,
      "--hdr",
      `${dir}/a.pfm`,
    );
    assert.equal(r.code, 0, r.stderr);
    const img = decodePfm(await Deno.readFile(`${dir}/a.pfm`));
    const mean = img.rgb.reduce((s, v) => s + v, 0) / img.rgb.length;
    assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
    assert.equal((await octane("compile", "cornell", "-o", `${dir}/c.ocrd`)).code, 0);
    const bad = await octane("render", `${dir}/c.ocrd`, "--env", `${dir}/white.hdr`, ...common);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /recompile with --env/);
    const wrong = await octane("render", "--env", `${dir}/x.png`);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /--env takes a Radiance .hdr file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("octane render --time-limit and Ctrl-C stop early and write what was rendered", async () => {
  const dir = await Deno.makeTempDir({ prefix: "octane-cli-" });
  try {
    const limited = await octane(
      "render",
      "--quiet",
      "--spp",
      "100000",
      "--width",
      "32",
      "--height",
      "32",
      "--time-limit",
      "1",
      "-o",
      `${dir}/t.png`,
      "--report",
      `${dir}/t.json`,
    );
    assert.equal(limited.code, 0, limited.stderr);
    assert.match(limited.stderr, /\(time limit\)/);
    const t = JSON.parse(await Deno.readTextFile(`${dir}/t.json`));
    assert.ok(t.samplesPerPixel > 0 && t.samplesPerPixel < 100000, `${t.samplesPerPixel} spp`);
    const child = new Deno.Command(`${root}octane`, {
      args: [
        "render",
        "--spp",
        "100000",
        "--width",
        "32",
        "--height",
        "32",
        "-o",
        `${dir}/i.png`,
        "--report",
        `${dir}/i.json`,
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // read stderr to the end (a closed pipe would fail the render's last line); Ctrl-C once it is rendering
    let text = "";
    let interrupted = false;
    const kill = setTimeout(() => child.kill("SIGKILL"), 60_000);
    for await (const chunk of child.stderr) {
      text += new TextDecoder().decode(chunk);
      if (!interrupted && /\d+\/100000 spp/.test(text)) {
        interrupted = true;
        child.kill("SIGINT");
      }
    }
    clearTimeout(kill);
    const status = await child.status;
    assert.equal(status.code, 0, text);
    assert.match(text, /\(interrupted\)/);
    const i = JSON.parse(await Deno.readTextFile(`${dir}/i.json`));
    assert.equal(i.interrupted, true);
    assert.ok(i.samplesPerPixel > 0 && i.samplesPerPixel < 100000);
    await Deno.stat(`${dir}/i.png`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("octane info --json reports version, protocol, OS/arch and adapters", async () => {
  const r = await octane("info", "--json");
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.match(info.version, /^\d+\.\d+\.\d+$/);
  assert.equal(typeof info.protocolVersion, "number");
  assert.equal(info.os, Deno.build.os);
  assert.ok(info.adapters.length >= 1, "at least one WebGPU adapter");
  assert.equal(typeof info.adapters[0].software, "boolean");
  for (const a of info.adapters) {
    // a readable vendor ("Mesa" for lavapipe's 65541), the number kept beside it
    assert.doesNotMatch(a.vendor, /^\d+$/, JSON.stringify(a));
    if (a.vendorId !== undefined) assert.match(a.vendorId, /^0x[0-9a-f]{4,}$/);
  }
});

Deno.test("octane key generate writes a 0600 key file, to the default place without -o, and keeps an existing one", async () => {
  const home = await Deno.makeTempDir({ prefix: "octane-key-cli-" });
  try {
    const env = { HOME: home, XDG_CONFIG_HOME: `${home}/config` };
    const run = async (...args: string[]) => {
      const out = await new Deno.Command(`${root}octane`, { args, env, stdout: "piped", stderr: "piped" })
        .output();
      const dec = new TextDecoder();
      return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
    };
    const first = await run("key", "generate");
    assert.equal(first.code, 0, first.stderr);
    const path = `${home}/config/octane/key`;
    assert.match(first.stdout, new RegExp(`Wrote a new farm key to ${path} \\(mode 0600\\)`));
    const key = await Deno.readTextFile(path);
    assert.match(key, /^[0-9a-f]{64}\n$/);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const again = await run("key", "generate");
    assert.equal(again.code, 2);
    assert.match(again.stderr, /exists already: keep it, or pass --force/);
    assert.equal(await Deno.readTextFile(path), key, "the existing key was kept");
    const printed = await run("key", "generate", "-o", "-");
    assert.match(printed.stdout, /^[0-9a-f]{64}\n$/);
    assert.notEqual(printed.stdout, key);
    const forced = await run("key", "generate", "--force");
    assert.equal(forced.code, 0);
    assert.notEqual(await Deno.readTextFile(path), key);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("octane --version and --help", async () => {
  const v = await octane("--version");
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^octane \d+\.\d+\.\d+\n$/);
  const h = await octane("--help");
  assert.equal(h.code, 0);
  for (const line of h.stdout.trimEnd().split("\n")) assert.ok(line.length <= 80, `too wide: ${line}`);
  for (const spec of COMMANDS) assert.match(h.stdout, new RegExp(`^  ${spec.name.split(" ")[0]} `, "m"));
});

for (const spec of COMMANDS) {
  Deno.test(`octane ${spec.name} --help lists every flag it accepts, in lines of at most 80 columns`, async () => {
    const shown = await octane(...spec.name.split(" "), "--help");
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(shown.stdout, helpText(spec) + "\n");
    const lines = shown.stdout.trimEnd().split("\n");
    for (const line of lines) assert.ok(line.length <= 80, `too wide (${line.length}): ${line}`);
    // the flags as the help shows them: each with a description, and a default where it takes a value
    const listed: { name: string; value?: string; text: string }[] = [];
    for (const line of lines) {
      const m = /^ {2}(?:-\w, )?--([\w-]+)(?: (\S+))?(?:\s+(\S.*))?$/.exec(line);
      if (m) listed.push({ name: m[1]!, value: m[2], text: m[3] ?? "" });
      else if (/^ {24}\S/.test(line) && listed.length) listed.at(-1)!.text += ` ${line.trim()}`;
    }
    assert.deepEqual(listed.map((f) => f.name).sort(), flagsOf(spec).map((f) => f.name).sort());
    for (const f of listed) {
      assert.ok(f.text.trim() !== "", `--${f.name} has a description`);
      if (f.value) assert.match(f.text, /\[default: [^\]]+\]$/, `--${f.name} shows its default`);
    }
    for (const name of ["help", "verbose", "debug"]) assert.ok(listed.some((f) => f.name === name), name);
    // the command's parser takes every flag its help lists (help is answered before any value is read)
    const all = listed.flatMap((f) => f.value ? [`--${f.name}`, "1"] : [`--${f.name}`]);
    const taken = await octane(...spec.name.split(" "), ...all);
    assert.equal(taken.code, 0, taken.stderr);
    assert.equal(taken.stdout, shown.stdout);
  });
}

Deno.test("./octane task runs a project task with the Deno the launcher finds when PATH has none", async () => {
  const home = await Deno.makeTempDir({ prefix: "octane-task-" });
  try {
    // Deno where its official installer puts it (~/.deno/bin), which is often not on PATH
    await Deno.mkdir(`${home}/.deno/bin`, { recursive: true });
    await Deno.symlink(Deno.execPath(), `${home}/.deno/bin/deno`);
    const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" })
      .output();
    const env = {
      HOME: home,
      PATH: "/usr/bin:/bin",
      DENO_INSTALL: "",
      DENO_DIR: JSON.parse(new TextDecoder().decode(info.stdout)).denoDir, // the modules cached already
    };
    const run = async (command: string, args: string[]) => {
      const out = await new Deno.Command(command, { args, env, cwd: home, stdout: "piped", stderr: "piped" })
        .output();
      return {
        code: out.code,
        out: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
      };
    };
    const without = await run("bash", ["-c", "deno --version"]);
    assert.notEqual(without.code, 0, "the test's PATH has no deno");
    assert.match(without.out, /deno: command not found/);
    const check = await run(`${root}octane`, ["task", "check"]);
    assert.equal(check.code, 0, check.out);
    assert.doesNotMatch(check.out, /setting up Deno|command not found/);
    // the task's own "deno" is the same Deno: an unknown file for "deno check" is its error, not the shell's
    const failing = await run(`${root}octane`, ["task", "check", "no-such-file.ts"]);
    assert.notEqual(failing.code, 0);
    assert.match(failing.out, /no-such-file\.ts/);
    assert.doesNotMatch(failing.out, /command not found/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
