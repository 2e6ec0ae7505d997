/**
 * A folder of static files with an index.html, served by the product's own static file server:
 * nothing to install, and it listens on $PORT on every interface.
 */
import { shellQuote } from '../../shell-quote.ts';
import type { ProjectFiles } from './project-files.ts';
import type { PlanStep } from './plan-types.ts';
import { STATIC_SERVER_PATH } from './static-server.ts';

/** Where a static site keeps its index.html, in the order the plan looks. */
export const STATIC_ROOTS = ['.', 'public', 'dist', 'build'] as const;

/** The folder that holds the site's index.html, or undefined when there is none. */
export function findStaticRoot(files: ProjectFiles): string | undefined {
  return STATIC_ROOTS.find((dir) => files.has(dir === '.' ? 'index.html' : `${dir}/index.html`));
}

export function staticServerCommand(dir: string): string {
  return `node ${STATIC_SERVER_PATH} ${/^[\w./-]+$/.test(dir) ? dir : shellQuote(dir)}`;
}

export function staticStartStep(dir: string, why: string): PlanStep {
  return {
    command: staticServerCommand(dir),
    reason: `${why}: the product's static file server serves ${dir === '.' ? 'the app folder' : `${dir}/`} on $PORT (no dependency to install)`,
    source: 'detected',
  };
}
