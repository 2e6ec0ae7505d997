/** The `BENCH {json}` line each benchmark prints, and how `npm run bench` reads it back. */
import { describe, expect, it } from 'vitest';
import { formatHeadline, HeadlineError, parseHeadlines, printHeadline } from '../../../test/bench/bench-headline.ts';

describe('printHeadline', () => {
  it('prints one line that parses back to the same figures, rounded to four digits', () => {
    // Prepare
    const lines: string[] = [];

    // Act
    printHeadline('overhead', { postToRunningOverDirect: 1.234567, sandboxesLeft: 0, share: 2.5e-6 }, (line) => lines.push(line));

    // Assert
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^BENCH \{/);
    expect(parseHeadlines(lines[0]!)).toEqual([{ bench: 'overhead', figures: { postToRunningOverDirect: 1.235, sandboxesLeft: 0, share: 2.5e-6 } }]);
  });

  it('writes a figure that could not be measured as null', () => {
    expect(parseHeadlines(formatHeadline('sweep', { requestsPerExpired: Number.NaN, missing: null }))).toEqual([{ bench: 'sweep', figures: { requestsPerExpired: null, missing: null } }]);
  });
});

describe('parseHeadlines', () => {
  it('finds the headlines among the other lines of a script, in order', () => {
    // Prepare
    const output = ['loading ...', formatHeadline('a', { x: 1 }), 'BENCHMARK done', '  indented BENCH {"bench":"no"}', formatHeadline('b', { y: 2 }), ''].join('\n');

    // Act
    const headlines = parseHeadlines(output);

    // Assert
    expect(headlines).toEqual([
      { bench: 'a', figures: { x: 1 } },
      { bench: 'b', figures: { y: 2 } },
    ]);
  });

  it('finds none in output without one', () => {
    expect(parseHeadlines('fresh deploy: 2416 ms\nredeploy / fresh: 0.86\n')).toEqual([]);
  });

  it('refuses a BENCH line that is not JSON', () => {
    expect(() => parseHeadlines('BENCH {figures: 1}')).toThrow(HeadlineError);
  });

  it('refuses a headline without a bench name or figures object', () => {
    expect(() => parseHeadlines('BENCH {"figures":{"x":1}}')).toThrow(/needs \{"bench"/);
    expect(() => parseHeadlines('BENCH {"bench":"a","figures":[1]}')).toThrow(HeadlineError);
  });

  it('refuses a figure that is not a number', () => {
    expect(() => parseHeadlines('BENCH {"bench":"a","figures":{"x":"fast"}}')).toThrow(/figure x is not a number/);
  });
});
