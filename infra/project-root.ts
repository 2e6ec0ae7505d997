import { fileURLToPath } from 'node:url';

/** The repository's root directory (handler entries and the lockfile are relative to it). */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
