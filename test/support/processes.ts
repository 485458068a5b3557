import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { compileCacheEnv, entryPoint } from './entry-points.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A bot started as `npm start -- --role <role>` would start it, in a child process of the test. */
export interface BotProcess {
  readonly role: string;
  readonly child: ChildProcess;
  /** Every log line so far, parsed (pino writes JSON lines). */
  readonly logs: Record<string, unknown>[];
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<void>;
  /** Sends `signal` and resolves when the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export async function spawnBot(
  role: 'all' | 'gateway' | 'worker',
  env: Record<string, string>,
): Promise<BotProcess> {
  // src/main.ts compiled (see entry-points.ts), run by node itself so that a signal reaches the bot.
  const child = spawn(process.execPath, [await entryPoint('main'), '--role', role], {
    cwd: root,
    // Only what the bot needs: no variable of the test runner's own leaks into its configuration.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LOG_LEVEL: 'info',
      ...compileCacheEnv,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  const stderr: string[] = [];
  const lines = createInterface({ input: child.stdout });
  // Every line the process wrote is read once its stdout closes, which may come after 'exit'.
  const read = once(lines, 'close');
  lines.on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      logs.push({ msg: line });
    }
    for (const wake of [...waiters]) wake();
  });
  createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
  const exited = once(child, 'exit');

  const bot: BotProcess = {
    role,
    child,
    logs,
    waitForLog: (match, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!logs.some(match)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `${role} process: no matching log line within ${timeoutMs} ms (exit code ${String(child.exitCode)}):\n` +
                [...logs.slice(-15).map((l) => JSON.stringify(l)), ...stderr.slice(-15)].join('\n'),
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await Promise.all([exited, read]);
    },
  };
  await bot.waitForLog((line) => line.msg === 'started');
  return bot;
}
