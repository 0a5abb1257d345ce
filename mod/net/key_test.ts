import assert from "node:assert/strict";
import {
  defaultKeyPath,
  findKey,
  formatKey,
  generateKey,
  KEY_ENV,
  KeyFileError,
  readKeyFile,
  writeKeyFile,
} from "./key.ts";

async function inDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "octane-key-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a generated key is written as 64 hex digits with mode 0600 and read back; an existing file is kept", async () => {
  await inDir(async (dir) => {
    const key = generateKey();
    assert.equal(key.length, 32);
    assert.notDeepEqual(key, generateKey());
    const path = `${dir}/sub/key`;
    await writeKeyFile(path, key);
    assert.match(await Deno.readTextFile(path), /^[0-9a-f]{64}\n$/);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${dir}/sub`)).mode! & 0o777, 0o700);
    assert.deepEqual(await readKeyFile(path), key);
    await assert.rejects(writeKeyFile(path, generateKey()), Deno.errors.AlreadyExists);
    await writeKeyFile(path, generateKey(), { overwrite: true });
    assert.notDeepEqual(await readKeyFile(path), key);
  });
});

Deno.test("a key file that is missing, not a key, or readable by others is refused with what to do", async () => {
  await inDir(async (dir) => {
    const refused = (path: string, pattern: RegExp) =>
      assert.rejects(readKeyFile(path), (e: unknown) => e instanceof KeyFileError && pattern.test(e.message));
    await refused(`${dir}/none`, /does not exist: make one with "octane key generate -o .*none"/);
    for (
      const [name, text] of [["short", "abcd\n"], ["words", "correct horse battery staple\n"], [
        "long",
        `${"a".repeat(66)}\n`,
      ]] as const
    ) {
      await Deno.writeTextFile(`${dir}/${name}`, text, { mode: 0o600 });
      await refused(
        `${dir}/${name}`,
        /is not a 256-bit key \(64 hex digits\): make one with "octane key generate/,
      );
    }
    await Deno.writeTextFile(`${dir}/open`, formatKey(generateKey()));
    await Deno.chmod(`${dir}/open`, 0o640);
    await refused(`${dir}/open`, /is readable by others \(mode 0640\): run "chmod 600 .*open"/);
    await refused(dir, /is not a file/);
    // white space around the digits, and upper case, are fine
    await Deno.writeTextFile(`${dir}/spaced`, `  ${"AB".repeat(32)}\r\n`, { mode: 0o600 });
    assert.deepEqual(await readKeyFile(`${dir}/spaced`), new Uint8Array(32).fill(0xab));
  });
});

Deno.test("the key is found from --key-file, then OCTANE_KEY_FILE, then the default file; none is fine", async () => {
  await inDir(async (dir) => {
    const env = (vars: Record<string, string>) => (name: string) => vars[name];
    assert.equal(defaultKeyPath(env({ HOME: "/home/u" }), "linux"), "/home/u/.config/octane/key");
    assert.equal(
      defaultKeyPath(env({ HOME: "/home/u", XDG_CONFIG_HOME: "/cfg" }), "linux"),
      "/cfg/octane/key",
    );
    assert.equal(
      defaultKeyPath(env({ HOME: "/Users/u" }), "darwin"),
      "/Users/u/Library/Application Support/octane/key",
    );
    assert.match(
      defaultKeyPath(env({ APPDATA: "C:\\Users\\u\\AppData\\Roaming" }), "windows")!,
      /octane.key$/,
    );
    assert.equal(await findKey(undefined, env({ HOME: dir })), undefined);
    const a = generateKey(), b = generateKey(), c = generateKey();
    await writeKeyFile(`${dir}/.config/octane/key`, a);
    await writeKeyFile(`${dir}/b`, b);
    await writeKeyFile(`${dir}/c`, c);
    assert.deepEqual((await findKey(undefined, env({ HOME: dir })))?.key, a);
    assert.deepEqual((await findKey(undefined, env({ HOME: dir, [KEY_ENV]: `${dir}/b` })))?.key, b);
    assert.deepEqual((await findKey(`${dir}/c`, env({ HOME: dir, [KEY_ENV]: `${dir}/b` })))?.key, c);
    await assert.rejects(findKey(`${dir}/missing`, env({ HOME: dir })), KeyFileError);
  });
});
