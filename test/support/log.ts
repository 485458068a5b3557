import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';

/** A real pino logger whose lines a test can read back as parsed objects. */
export function captureLogs(level: 'debug' | 'info' | 'trace' = 'debug'): {
  logger: Logger;
  lines: Record<string, unknown>[];
  text: () => string;
} {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger(level, sink);
  return {
    logger,
    get lines() {
      return raw
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    text: () => raw.join(''),
  };
}

/** Polls `check` until it returns true (for effects that land just after an awaited event). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The last lines of a captured log, one short line each: ms since the first, level, message, ids, error. */
export function logTail(lines: readonly Record<string, unknown>[], count = 60): string {
  const first = Number(lines[0]?.time ?? 0);
  return lines
    .slice(-count)
    .map((line) => {
      const err = line.err as { message?: unknown } | undefined;
      return [
        `+${Number(line.time ?? 0) - first}ms`,
        String(line.level),
        JSON.stringify(line.msg ?? ''),
        line.requestId === undefined ? '' : `request=${JSON.stringify(line.requestId)}`,
        err?.message === undefined ? '' : `err=${JSON.stringify(err.message)}`,
      ]
        .filter((part) => part !== '')
        .join(' ');
    })
    .join('\n');
}
