/** The plan says when the app or its locked packages ask for another Node than the sandbox's. */
import { describe, expect, it } from 'vitest';
import { planBuild } from '../../../../functions/shared/deployments/build-plan/build-plan.ts';
import { project } from './project.ts';

const SERVER = { 'server.js': "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT)" };

function lockWith(packages: Record<string, { version: string; engines?: unknown }>) {
  return { name: 'app', lockfileVersion: 3, packages: { '': { name: 'app' }, ...packages } };
}

describe('Node engines', () => {
  it("notes an app whose engines.node the sandbox's Node does not satisfy", () => {
    // Prepare
    const files = project({ 'package.json': { scripts: { start: 'node server.js' }, engines: { node: '>=22' } }, ...SERVER });

    // Act
    const plan = planBuild(files, {}, { nodeMajorVersion: 20 });

    // Assert
    expect(plan.notes).toContain('package.json asks for Node >=22 (engines.node), but the sandbox runs Node 20: npm warns EBADENGINE and the app may fail to build or start');
  });

  it("says nothing when the sandbox's major can satisfy the range", () => {
    // Prepare
    const files = project({ 'package.json': { scripts: { start: 'node server.js' }, engines: { node: '^20.19.0 || >=22.12.0' } }, ...SERVER });

    // Act
    const plan = planBuild(files, {}, { nodeMajorVersion: 20 });

    // Assert
    expect(plan.notes.join('\n')).not.toContain('engines.node');
  });

  it('names the locked packages that ask for a newer Node, and counts the rest', () => {
    // Prepare
    const files = project({
      'package.json': { scripts: { start: 'node server.js' }, dependencies: { a: '1.0.0' } },
      'package-lock.json': lockWith({
        'node_modules/a': { version: '1.0.0', engines: { node: '>=22' } },
        'node_modules/b': { version: '2.0.0', engines: { node: '>=24' } },
        'node_modules/@scope/c': { version: '3.0.0', engines: { node: '>=23' } },
        'node_modules/a/node_modules/d': { version: '4.0.0', engines: { node: '>=22.3' } },
        'node_modules/fine': { version: '1.0.0', engines: { node: '>=18' } },
        'node_modules/old-style': { version: '1.0.0', engines: ['node >= 0.8'] },
      }),
      ...SERVER,
    });

    // Act
    const plan = planBuild(files, {}, { nodeMajorVersion: 20 });

    // Assert
    expect(plan.notes).toContain(
      "4 locked packages ask for another Node than the sandbox's 20 (engines.node): a@1.0.0 (>=22), b@2.0.0 (>=24), @scope/c@3.0.0 (>=23) and 1 more: npm warns EBADENGINE and they may fail",
    );
  });

  it('gives an unreadable range the benefit of the doubt', () => {
    // Prepare
    const files = project({ 'package.json': { scripts: { start: 'node server.js' }, engines: { node: 'the latest, please' } }, ...SERVER });

    // Act
    const plan = planBuild(files, {}, { nodeMajorVersion: 20 });

    // Assert
    expect(plan.notes.join('\n')).not.toContain('engines.node');
  });
});
