/** The closing table of `npm run bench`: each figure against its goal, and failed scripts shown. */
import { describe, expect, it } from 'vitest';
import { verdict } from '../../../test/bench/bench-goals.ts';
import { figureTable, formatFigure, scriptTable, type ScriptResult } from '../../../test/bench/bench-report.ts';

const result = (overrides: Partial<ScriptResult>): ScriptResult => ({ name: 'bench:cost', args: [], skippedArgs: [], outcome: { kind: 'ok' }, headlines: [], seconds: 12, ...overrides });

describe('verdict', () => {
  it('judges a figure against its goal', () => {
    expect(verdict('cost.stateTransitions', 7)).toBe('met');
    expect(verdict('cost.stateTransitions', 13)).toBe('not met');
    expect(verdict('overhead.sandboxesLeft', 0)).toBe('met');
    expect(verdict('overhead.sandboxesLeft', 1)).toBe('not met');
  });

  it('has no goal for a figure the issues set none for, or one it does not know', () => {
    expect(verdict('cost.s3Requests', 10)).toBe('no goal');
    expect(verdict('new.figure', 1)).toBe('no goal');
  });

  it('says when a figure was not measured', () => {
    expect(verdict('cost.stateTransitions', null)).toBe('not measured');
  });
});

describe('figureTable', () => {
  it('lists every figure with its goal, where it comes from, and the verdict', () => {
    // Prepare
    const results = [result({ headlines: [{ bench: 'cost', figures: { stateTransitions: 7, s3Requests: 10 } }] })];

    // Act
    const lines = figureTable(results).split('\n');

    // Assert
    expect(lines[0]).toMatch(/^SCRIPT\s+FIGURE\s+VALUE\s+GOAL\s+BEFORE\s+VERDICT$/);
    expect(lines[1]).toMatch(/bench:cost\s+stateTransitions: state transitions per hello deploy\s+7\s+≤ 12 \(issue 12\)\s+uncounted\s+met$/);
    expect(lines[2]).toMatch(/ s3Requests: .*\s+10\s+-\s+-\s+no goal$/);
  });

  it('shows a script that failed or timed out instead of hiding it', () => {
    // Prepare
    const results = [
      result({ name: 'bench:large', outcome: { kind: 'failed', exitCode: 1, signal: null } }),
      result({ name: 'bench:corpus', outcome: { kind: 'timed out', minutes: 30 } }),
      result({ name: 'bench:overhead', outcome: { kind: 'failed', exitCode: 1, signal: null }, headlines: [{ bench: 'overhead', figures: { postToRunningOverDirect: 1.1 } }] }),
    ];

    // Act
    const text = figureTable(results);

    // Assert
    expect(text).toMatch(/bench:large .*FAILED \(exit 1\)/);
    expect(text).toMatch(/bench:corpus .*TIMED OUT after 30 min/);
    expect(text).toMatch(/bench:overhead .*1\.1 .*FAILED \(exit 1\)/);
  });
});

describe('scriptTable', () => {
  it('says which quick options a script did not get', () => {
    // Act
    const text = scriptTable([result({ args: ['--runs', '1'], skippedArgs: ['--records'] })]);

    // Assert
    expect(text).toMatch(/bench:cost\s+--runs 1\s+12 s\s+ok, no headline \(not declared, not passed: --records\)/);
  });
});

describe('formatFigure', () => {
  it('prints counts whole, ratios to three digits, tiny shares in exponent form', () => {
    expect([formatFigure(7), formatFigure(12000), formatFigure(0.86123), formatFigure(2.5e-6), formatFigure(null)]).toEqual(['7', '12,000', '0.861', '2.50e-6', '-']);
  });
});
