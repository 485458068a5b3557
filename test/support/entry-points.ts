import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * The scripts that tests start as child processes, compiled once per test process into plain
 * JavaScript. Starting them through tsx costs over a second of CPU more per process (its loader
 * resolves and transforms every module of the bot on each start), and the crash, command-line and
 * worker tests start dozens of processes. The bundle holds only the project's own modules: every
 * package stays an import resolved from node_modules, so the bot runs exactly the code it runs under
 * tsx or after `npm run build`.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));

export const ENTRY_POINTS = {
  /** The bot's entry point, as `npm start` runs it. */
  main: 'src/main.ts',
  /** `npm run deploy-commands`. */
  deploy: 'src/deploy.ts',
  /** The bot with the quick test timings, for the crash test. */
  crashBot: 'test/crash/bot-process.ts',
  /** A process with the bot's process guards installed (test/unit/process-guards.test.ts). */
  guarded: 'test/support/guarded-process.ts',
  /** One of the processes racing for reservations (test/store/store.test.ts). */
  reserver: 'test/store/reserve-process.ts',
} as const;
export type EntryPoint = keyof typeof ENTRY_POINTS;

/**
 * Under node_modules, so that the bundle's package imports resolve from the project's own
 * node_modules wherever the process is started from (some tests start it in an empty directory).
 */
const outDir = join(root, 'node_modules/.cache/tracksmith-test');

const built = new Map<EntryPoint, Promise<string>>();

/** The path of `entry` compiled to JavaScript, built on first use in this process. */
export function entryPoint(entry: EntryPoint): Promise<string> {
  let path = built.get(entry);
  if (path === undefined) {
    path = compile(entry);
    built.set(entry, path);
  }
  return path;
}

async function compile(entry: EntryPoint): Promise<string> {
  const result = await build({
    entryPoints: [join(root, ENTRY_POINTS[entry])],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node24',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.text;
  if (code === undefined) throw new Error(`esbuild produced nothing for ${ENTRY_POINTS[entry]}`);
  await mkdir(outDir, { recursive: true });
  // Written beside its final name and renamed over it: test processes build at the same time, and a
  // child already loading the previous copy keeps reading the file it opened.
  const target = join(outDir, `${entry}.mjs`);
  const temporary = `${target}.${process.pid}.tmp`;
  await writeFile(temporary, code);
  await rename(temporary, target);
  return target;
}

/**
 * Environment for a child started from a compiled entry point: Node keeps the compiled code of
 * every module it loads (discord.js and the rest) in this cache, which roughly halves the next
 * start. Node checks each cached entry against the file's content, so a stale cache is harmless.
 */
export const compileCacheEnv = { NODE_COMPILE_CACHE: join(outDir, 'compile-cache') };
