/**
 * The Node framework a project uses, from its dependencies. The order matters: Nest depends on
 * Express, and meta-frameworks built on Vite must not be taken for a plain Vite app.
 */
import type { PackageJson } from './project-files.ts';

export type NodeFramework =
  | 'next'
  | 'nest'
  | 'nuxt'
  | 'sveltekit'
  | 'astro'
  | 'remix'
  | 'react-router'
  | 'vite'
  | 'fastify'
  | 'hono'
  | 'koa'
  | 'express';

/** Frameworks that decide how the whole app builds and starts, first match wins. */
const META_FRAMEWORKS: readonly (readonly [NodeFramework, readonly string[]])[] = [
  ['next', ['next']],
  ['nest', ['@nestjs/core']],
  ['nuxt', ['nuxt']],
  ['sveltekit', ['@sveltejs/kit']],
  ['astro', ['astro']],
  ['remix', ['@remix-run/dev', '@remix-run/node', '@remix-run/serve']],
  ['react-router', ['@react-router/dev', '@react-router/serve']],
];

/** HTTP server frameworks. */
const SERVER_FRAMEWORKS: readonly (readonly [NodeFramework, readonly string[]])[] = [
  ['fastify', ['fastify']],
  ['hono', ['hono', '@hono/node-server']],
  ['koa', ['koa']],
  ['express', ['express']],
];

export function hasDependency(manifest: PackageJson, name: string): boolean {
  return name in manifest.dependencies || name in manifest.devDependencies;
}

/**
 * A server framework among the runtime dependencies wins over Vite (an Express server that builds
 * its client with Vite is a server app); Vite wins over a server framework in devDependencies only.
 */
export function detectNodeFramework(manifest: PackageJson): NodeFramework | undefined {
  const inRuntime = (name: string) => name in manifest.dependencies;
  const anywhere = (name: string) => hasDependency(manifest, name);
  return (
    firstMatch(META_FRAMEWORKS, anywhere) ??
    firstMatch(SERVER_FRAMEWORKS, inRuntime) ??
    (anywhere('vite') ? 'vite' : undefined) ??
    firstMatch(SERVER_FRAMEWORKS, anywhere)
  );
}

function firstMatch(signatures: readonly (readonly [NodeFramework, readonly string[]])[], has: (name: string) => boolean): NodeFramework | undefined {
  return signatures.find(([, packages]) => packages.some(has))?.[0];
}

/** Frameworks whose dev and preview servers are Vite's, with its allowed-hosts check. */
export function servesThroughVite(manifest: PackageJson): boolean {
  return hasDependency(manifest, 'vite') || ['nuxt', 'sveltekit', 'astro'].includes(detectNodeFramework(manifest) ?? '');
}
