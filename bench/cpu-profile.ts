/**
 * Where a bench's process spends its CPU: a sampling profile taken with node:inspector while the
 * measured work runs, summed by frame (self time) and by where the code comes from. Used by the
 * bot process of the ack bench, on a burst of its own so the profiler's cost stays out of the
 * measured one.
 */
import { Session } from 'node:inspector/promises';
import type { Profiler } from 'node:inspector';

export interface FrameRow {
  frame: string;
  where: string;
  selfMs: number;
  share: string;
}

export interface ProfileSummary {
  /** CPU time sampled, without idle time and the profiler's own calls. */
  totalMs: number;
  /** The frames with the most self time. */
  frames: FrameRow[];
  /** Self time by origin: the bot's code, each package, Node's internals, GC, idle. */
  origins: FrameRow[];
}

export class CpuProfiler {
  private session: Session | undefined;

  async start(): Promise<void> {
    this.session = new Session();
    this.session.connect();
    await this.session.post('Profiler.enable');
    // 250 µs between samples: fine enough for a burst of a second or two.
    await this.session.post('Profiler.setSamplingInterval', { interval: 250 });
    await this.session.post('Profiler.start');
  }

  async stop(top = 12): Promise<ProfileSummary> {
    const session = this.session;
    if (!session) throw new Error('the profiler was not started');
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    this.session = undefined;
    return summarise(profile, top);
  }
}

/** Self time per frame and per origin, from the samples and the time between them. */
export function summarise(profile: Profiler.Profile, top: number): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, deltas[i] ?? 0)));
  const frames = new Map<string, { frame: string; where: string; us: number }>();
  const origins = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    totalUs += us;
    const { functionName, url, lineNumber } = node.callFrame;
    // The profiler's own calls, and time with nothing to run, are not the bot's work.
    if (url === 'node:inspector' || functionName === '(idle)') continue;
    // Code loaded through tsx has no line numbers (all 0): the file alone then.
    const where = url === '' ? '' : lineNumber > 0 ? `${shorten(url)}:${lineNumber + 1}` : shorten(url);
    const frame = functionName === '' ? '(anonymous)' : functionName;
    const key = `${frame} ${where}`;
    const entry = frames.get(key) ?? { frame, where, us: 0 };
    entry.us += us;
    frames.set(key, entry);
    const origin = originOf(functionName, url);
    origins.set(origin, (origins.get(origin) ?? 0) + us);
  }
  const row = (frame: string, where: string, us: number): FrameRow => ({
    frame,
    where,
    selfMs: Math.round(us / 100) / 10,
    share: `${((100 * us) / Math.max(1, totalUs)).toFixed(1)}%`,
  });
  return {
    totalMs: Math.round(totalUs / 1000),
    frames: [...frames.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => row(f.frame, f.where, f.us)),
    origins: [...origins.entries()].sort((a, b) => b[1] - a[1]).map(([origin, us]) => row(origin, '', us)),
  };
}

function shorten(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const source = url.search(/\/(src|bench|test)\//);
  return source >= 0 ? url.slice(source + 1) : url.replace(/^file:\/\//, '');
}

/** The package a frame belongs to, the bot's own code, Node's internals, or V8's own entries. */
function originOf(functionName: string, url: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + 'node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? url);
  }
  if (url.startsWith('node:')) return 'node internals';
  if (/\/src\//.test(url)) return 'tracksmith (src)';
  return 'other';
}
