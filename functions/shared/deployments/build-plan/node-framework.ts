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

/** Each framework and the packages that reveal it, first match wins. */
const SIGNATURES: readonly (readonly [NodeFramework, readonly string[]])[] = [
  ['next', ['next']],
  ['nest', ['@nestjs/core']],
  ['nuxt', ['nuxt']],
  ['sveltekit', ['@sveltejs/kit']],
  ['astro', ['astro']],
  ['remix', ['@remix-run/dev', '@remix-run/node', '@remix-run/serve']],
  ['react-router', ['@react-router/dev', '@react-router/serve']],
  ['vite', ['vite']],
  ['fastify', ['fastify']],
  ['hono', ['hono', '@hono/node-server']],
  ['koa', ['koa']],
  ['express', ['express']],
];

export function hasDependency(manifest: PackageJson, name: string): boolean {
  return name in manifest.dependencies || name in manifest.devDependencies;
}

export function detectNodeFramework(manifest: PackageJson): NodeFramework | undefined {
  return SIGNATURES.find(([, packages]) => packages.some((name) => hasDependency(manifest, name)))?.[0];
}

/** Frameworks whose dev and preview servers are Vite's, with its allowed-hosts check. */
export function servesThroughVite(manifest: PackageJson): boolean {
  return hasDependency(manifest, 'vite') || ['nuxt', 'sveltekit', 'astro'].includes(detectNodeFramework(manifest) ?? '');
}
