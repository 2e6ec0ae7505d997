/** What `coderunner deploy` reads of a project directory: links never bring in what lies outside it. */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listProject } from '../../../cli/project-reader.ts';

let workDir: string;
let project: string;

beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'project-reader-'));
  project = join(workDir, 'app');
  await mkdir(project);
  await writeFile(join(project, 'server.js'), 'console.log("hi")\n');
});

afterEach(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('listing a project', () => {
  it('skips a link to a file outside the project, and names it', async () => {
    // Prepare: a cloned repository that links to the user's credentials
    await mkdir(join(workDir, '.aws'));
    await writeFile(join(workDir, '.aws', 'credentials'), '[default]\naws_secret_access_key=secret\n');
    await symlink(join(workDir, '.aws', 'credentials'), join(project, 'credentials'));

    // Act
    const listing = await listProject(project);

    // Assert
    expect(listing.found.map((file) => file.path)).toEqual(['server.js']);
    expect(listing.skippedLinks).toEqual(['credentials']);
  });

  it('keeps a link to a file inside the project, with the size of what it points to', async () => {
    // Prepare
    await symlink('server.js', join(project, 'index.js'));

    // Act
    const listing = await listProject(project);

    // Assert
    expect(listing.found.map((file) => [file.path, file.size])).toEqual([
      ['index.js', 18],
      ['server.js', 18],
    ]);
    expect(listing.skippedLinks).toEqual([]);
  });

  it('skips a linked directory, even one inside the project', async () => {
    // Prepare
    await mkdir(join(project, 'src'));
    await writeFile(join(project, 'src', 'a.js'), '');
    await symlink(join(project, 'src'), join(project, 'lib'));

    // Act
    const listing = await listProject(project);

    // Assert
    expect(listing.found.map((file) => file.path)).toEqual(['server.js', 'src/a.js']);
    expect(listing.skippedLinks).toEqual(['lib']);
  });

  it('skips a link that escapes through a relative path', async () => {
    // Prepare
    await writeFile(join(workDir, 'secret.txt'), 'secret');
    await symlink('../secret.txt', join(project, 'notes.txt'));

    // Act
    const listing = await listProject(project);

    // Assert
    expect(listing.found.map((file) => file.path)).toEqual(['server.js']);
    expect(listing.skippedLinks).toEqual(['notes.txt']);
  });
});
