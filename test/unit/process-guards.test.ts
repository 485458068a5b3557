import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileCacheEnv, entryPoint } from '../support/entry-points.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('process guards', () => {
  it('log a stray rejection with its interaction and carry on; exit 1 on an uncaught exception, with its interaction', async () => {
    const child = spawn(process.execPath, [await entryPoint('guarded')], {
      cwd: root,
      env: { ...process.env, ...compileCacheEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    const lines = out
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    // The fatal line is flushed at once, before the buffered ones: compare them by message, not order.
    const byMessage = new Map(lines.map((l) => [l.msg, l]));
    expect([...byMessage.keys()].sort()).toEqual([
      'a promise rejected with nobody waiting for it; the bot carries on',
      'still running',
      'uncaught exception; exiting so the supervisor restarts the bot',
    ]);
    expect(byMessage.get('a promise rejected with nobody waiting for it; the bot carries on')).toMatchObject({
      level: 50,
      requestId: 'req-1',
      interactionId: '1300000000000000001',
      guildId: '100',
      command: 'music',
      err: { message: 'a stray rejection' },
    });
    expect(byMessage.get('uncaught exception; exiting so the supervisor restarts the bot')).toMatchObject({
      level: 60,
      requestId: 'req-2',
      interactionId: '1300000000000000002',
      err: { message: 'a thrown exception' },
    });
    expect(code).toBe(1);
  });
});
