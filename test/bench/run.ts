import { existsSync } from 'node:fs';

// Other bench files arrive with their own issues; a missing one is skipped, not an error.
const BENCHES = ['engine', 'recovery', 'discord'];

/** Runs every bench file present under test/bench, one after another, in one process. */
async function runAll(): Promise<void> {
  let failed = 0;
  for (const name of BENCHES) {
    const file = new URL(`./${name}.ts`, import.meta.url);
    if (!existsSync(file)) {
      console.log(`(no ${name} bench yet: test/bench/${name}.ts is missing, skipped)`);
      continue;
    }
    const bench = (await import(file.href)) as { main?: () => Promise<unknown> };
    if (typeof bench.main !== 'function') throw new Error(`test/bench/${name}.ts has no main()`);
    try {
      await bench.main();
    } catch (err) {
      failed++;
      console.error(`${name} bench failed:`, err);
    }
  }
  if (failed) process.exitCode = 1;
}

await runAll();
