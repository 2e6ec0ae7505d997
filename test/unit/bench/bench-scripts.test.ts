/** How `npm run bench` finds its scripts in package.json and what `--only` and `--quick` give them. */
import { describe, expect, it } from 'vitest';
import { declaredOptions, discoverBenchScripts, quickArguments, scriptFile, selectBenchScripts, UnknownBenchScriptError } from '../../../test/bench/bench-scripts.ts';

const PACKAGE_JSON = {
  scripts: {
    test: 'vitest run',
    'bench:sweep': 'node test/bench/sweep-cost.ts',
    bench: 'node test/bench/run-all.ts',
    'bench:cost': 'node test/bench/deployment-cost.ts',
    'bench:': 'node nothing.ts',
    benchmark: 'node other.ts',
    'bench:cache': 'node test/bench/dependency-cache.ts',
  },
};

describe('discoverBenchScripts', () => {
  it('finds every bench:* script in the order package.json lists them, and nothing else', () => {
    // Act
    const scripts = discoverBenchScripts(PACKAGE_JSON);

    // Assert
    expect(scripts).toEqual([
      { name: 'bench:sweep', command: 'node test/bench/sweep-cost.ts' },
      { name: 'bench:cost', command: 'node test/bench/deployment-cost.ts' },
      { name: 'bench:cache', command: 'node test/bench/dependency-cache.ts' },
    ]);
  });

  it('finds none in a package.json without scripts', () => {
    expect(discoverBenchScripts({})).toEqual([]);
  });
});

describe('selectBenchScripts', () => {
  const scripts = discoverBenchScripts(PACKAGE_JSON);

  it('keeps every script without --only', () => {
    expect(selectBenchScripts(scripts, undefined)).toBe(scripts);
  });

  it('selects by short or full name, in package.json order', () => {
    // Act
    const selected = selectBenchScripts(scripts, 'cache, bench:sweep');

    // Assert
    expect(selected.map((script) => script.name)).toEqual(['bench:sweep', 'bench:cache']);
  });

  it('refuses a name that is no bench script, naming the known ones', () => {
    // Act
    const select = () => selectBenchScripts(scripts, 'cost,nope');

    // Assert
    expect(select).toThrow(UnknownBenchScriptError);
    expect(select).toThrow(/bench:nope.*known: bench:sweep, bench:cost, bench:cache/);
  });
});

describe('quickArguments', () => {
  const source = `const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'dry-run': { type: 'boolean' } } });`;

  it('passes the quick options the script declares', () => {
    // Act
    const quick = quickArguments('bench:x', source, { 'bench:x': ['--runs', '1', '--dry-run'] });

    // Assert
    expect(quick).toEqual({ args: ['--runs', '1', '--dry-run'], unsupported: [] });
  });

  it('leaves out options the script does not declare, and says which', () => {
    // Act
    const quick = quickArguments('bench:x', source, { 'bench:x': ['--records', '10', '--runs', '2'] });

    // Assert
    expect(quick).toEqual({ args: ['--runs', '2'], unsupported: ['--records'] });
  });

  it('gives nothing to a script without quick arguments', () => {
    expect(quickArguments('bench:y', source, { 'bench:x': ['--runs', '1'] })).toEqual({ args: [], unsupported: [] });
  });

  it('passes nothing when the script file cannot be read', () => {
    expect(quickArguments('bench:x', undefined, { 'bench:x': ['--runs', '1'] })).toEqual({ args: [], unsupported: ['--runs'] });
  });
});

describe('script sources', () => {
  it('finds the file a command runs', () => {
    expect(scriptFile('node test/bench/deployment-cost.ts --runs 3')).toBe('test/bench/deployment-cost.ts');
    expect(scriptFile('vitest run')).toBeUndefined();
  });

  it('reads the option names declared to parseArgs', () => {
    // Act
    const options = declaredOptions(`parseArgs({ options: { only: { type: 'string' }, cold: { type: 'boolean', default: false }, "timeout-minutes": {type: "string"} } })`);

    // Assert
    expect([...options].sort()).toEqual(['cold', 'only', 'timeout-minutes']);
  });
});
