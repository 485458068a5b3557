import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, lazyChild } from '../../src/log.js';

/** A pino destination that keeps each line, parsed. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('lazyChild', () => {
  it('writes the same lines as pino.child, bindings redacted', () => {
    const { lines, stream } = capture();
    const logger = createLogger('info', stream);
    const bindings = { requestId: 'req-1', reply: { interactionToken: 'secret' } };
    logger.child(bindings).info({ n: 1 }, 'eager');
    lazyChild(logger, bindings).info({ n: 1 }, 'lazy');
    expect(lines).toHaveLength(2);
    const [eager, lazy] = lines.map(({ time: _time, msg: _msg, ...rest }) => rest);
    expect(lazy).toEqual(eager);
    expect(lazy).toMatchObject({ requestId: 'req-1', reply: { interactionToken: '[redacted]' } });
  });

  it('makes no child for a disabled level, and one child however much it writes', () => {
    const { lines, stream } = capture();
    const logger = createLogger('info', stream);
    let children = 0;
    const counting = new Proxy(logger, {
      get(target, property) {
        if (property === 'child') children++;
        return Reflect.get(target, property, target) as unknown;
      },
    });
    const child = lazyChild(counting, { requestId: 'req-2' });
    child.debug('off at info');
    child.trace('off too');
    expect(children).toBe(0);
    child.warn('one');
    child.error({ err: new Error('two') }, 'two');
    expect(child.isLevelEnabled('debug')).toBe(false);
    expect(children).toBe(1);
    expect(lines.map((line) => [line.msg, line.requestId])).toEqual([
      ['one', 'req-2'],
      ['two', 'req-2'],
    ]);
  });
});
