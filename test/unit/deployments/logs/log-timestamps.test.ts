/** Foreign timestamp formats, as epoch milliseconds. */
import { describe, expect, it } from 'vitest';
import { npmLogStartTime, parseLeadingTimestamp } from '../../../../functions/shared/deployments/logs/log-timestamps.ts';

const iso = (text: string): string | undefined => {
  const ms = parseLeadingTimestamp(text);
  return ms === undefined ? undefined : new Date(ms).toISOString();
};

describe('parseLeadingTimestamp', () => {
  it.each([
    ['2026-11-25T11:08:39.425Z message', '2026-11-25T11:08:39.425Z'],
    ['2026-11-25T11:08:39.123456789Z nanoseconds', '2026-11-25T11:08:39.123Z'],
    ['2026-11-25T11:08:39+0000 host unit[1]: journal', '2026-11-25T11:08:39.000Z'],
    ['2026-11-25T12:08:39+01:00 offset', '2026-11-25T11:08:39.000Z'],
    ['2026-11-25T06:08:39-05 short offset', '2026-11-25T11:08:39.000Z'],
    ['2026-11-25T11:08:39: pm2', '2026-11-25T11:08:39.000Z'],
    ['[2026-11-25 11:08:39,5] bracketed', '2026-11-25T11:08:39.500Z'],
  ])('reads %j', (line, expected) => {
    expect(iso(line)).toBe(expected);
  });

  it.each([
    'no time here',
    '  2026-11-25T11:08:39Z indented',
    '2026-11-25 only a date',
    '2026-11-25T11:08 no seconds',
    '2026-02-30T99:00:00Z out of range',
    '20261-11-25T11:08:39Z',
  ])('finds nothing in %j', (line) => {
    expect(parseLeadingTimestamp(line)).toBeUndefined();
  });
});

describe('npmLogStartTime', () => {
  it('reads the time in a debug log name, from a full path', () => {
    expect(npmLogStartTime('/home/user/.npm/_logs/2026-11-25T11_08_39_425Z-debug-0.log')).toBe(Date.parse('2026-11-25T11:08:39.425Z'));
  });

  it.each(['2026-11-25T11_08_39_425Z-eresolve-report.txt', 'debug-0.log', '2026-11-25T11:08:39.425Z-debug-0.log'])('ignores %j', (name) => {
    expect(npmLogStartTime(name)).toBeUndefined();
  });
});
