/** The logs query: default and range of `lines`, ISO `since`, clear errors otherwise. */
import { describe, expect, it } from 'vitest';
import { InvalidLogQueryError } from '../../../../functions/shared/deployments/logs/log-errors.ts';
import { parseLogQueryParameters, resolveLogQuery } from '../../../../functions/shared/deployments/logs/log-query.ts';

describe('resolveLogQuery', () => {
  it('defaults to 100 lines and no since', () => {
    expect(resolveLogQuery({})).toEqual({ lines: 100 });
  });

  it('accepts 1 to 1000 lines and a valid since', () => {
    const since = new Date('2026-11-25T11:00:00Z');

    expect(resolveLogQuery({ lines: 1, since })).toEqual({ lines: 1, since });
    expect(resolveLogQuery({ lines: 1000 })).toEqual({ lines: 1000 });
  });

  it.each([0, 1001, -5, 2.5, Number.NaN])('refuses %s lines with a named error', (lines) => {
    expect(() => resolveLogQuery({ lines })).toThrow(InvalidLogQueryError);
    expect(() => resolveLogQuery({ lines })).toThrow(/lines must be an integer from 1 to 1000/);
  });

  it('refuses an invalid date', () => {
    expect(() => resolveLogQuery({ since: new Date('nonsense') })).toThrow(InvalidLogQueryError);
  });

  it('names the error', () => {
    expect(() => resolveLogQuery({ lines: 0 })).toThrow(expect.objectContaining({ name: 'InvalidLogQueryError' }));
  });
});

describe('parseLogQueryParameters', () => {
  it('reads the query string values', () => {
    expect(parseLogQueryParameters({ lines: '50', since: '2026-11-25T12:00:00.5+01:00' })).toEqual({
      lines: 50,
      since: new Date('2026-11-25T11:00:00.500Z'),
    });
  });

  it('treats absent and empty values as defaults', () => {
    expect(parseLogQueryParameters({})).toEqual({ lines: 100 });
    expect(parseLogQueryParameters({ lines: '', since: '' })).toEqual({ lines: 100 });
  });

  it.each(['ten', '1e3', '0x10', '-1', '5000', ' 5'])('refuses lines=%j', (lines) => {
    expect(() => parseLogQueryParameters({ lines })).toThrow(InvalidLogQueryError);
  });

  it.each(['yesterday', '1732530519', '2026-11-25T11:00:00', '2026-13-45T11:00:00Z'])('refuses since=%j', (since) => {
    expect(() => parseLogQueryParameters({ since })).toThrow(/since must be an ISO-8601 timestamp with a zone/);
  });
});
