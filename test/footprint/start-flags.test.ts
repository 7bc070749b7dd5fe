/**
 * The V8 flags the start scripts pass to node (package.json). They bound the young generation so
 * an idle server does not keep the 32 MB of semi-spaces its start-up grows (BENCHMARKS.md, issue
 * 13). A misspelt flag makes node refuse to start, and one that stopped taking effect would bring
 * the memory back without a sign, so both are checked against a real node process.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';

const scripts = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** The `--flag[=value]` words between `node` and the entry point, the way bench/run.ts reads them. */
function nodeFlags(script: string): string[] {
  const words = script.slice(script.indexOf(' node ') + ' node '.length).split(/\s+/);
  const flags: string[] = [];
  for (let i = 0; i < words.length && words[i]!.startsWith('--'); i++) {
    // `--import tsx` is the TypeScript loader, not a V8 flag.
    if (words[i] === '--import') i++;
    else flags.push(words[i]!);
  }
  return flags;
}

/** Allocates short-lived garbage the way a busy server does, then reports the young generation's size. */
const PROBE = `
let keep = [];
// Enough survivors per scavenge (up to 100,000 live objects) that V8 grows the new space to its limit.
for (let i = 0; i < 2_000_000; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 100_000) keep = []; }
const space = require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
process.stdout.write(String(space.space_size));
`;

describe('start scripts', () => {
  test('the compiled and the TypeScript start pass the same V8 flags', () => {
    expect(nodeFlags(scripts['start:built']!)).toEqual(nodeFlags(scripts['start']!));
    expect(nodeFlags(scripts['demo:reset']!)).toEqual(nodeFlags(scripts['start']!));
  });

  test('node accepts the flags and they cap the young generation', async () => {
    const flags = nodeFlags(scripts['start:built']!);
    const semiSpace = flags.find((flag) => flag.startsWith('--max-semi-space-size='));
    expect(semiSpace, 'start:built bounds the semi-spaces').toBeDefined();
    const capMb = Number(semiSpace!.split('=')[1]);
    const { stdout } = await promisify(execFile)(process.execPath, [...flags, '-e', PROBE]);
    // The new space is two semi-spaces; without the flag this workload grows it to 2 × 16 MB.
    expect(Number(stdout)).toBeLessThanOrEqual(2 * capMb * 1024 * 1024);
    const { stdout: unbounded } = await promisify(execFile)(process.execPath, ['-e', PROBE]);
    expect(Number(unbounded)).toBeGreaterThan(2 * capMb * 1024 * 1024);
  });
});
