/**
 * The build plan as the API shows it (GET /deployments/{id} `plan`), for the OpenAPI document.
 * Typed against BuildPlan, so the document cannot drift from what the API returns.
 */
import * as z from 'zod';
import type { BuildPlan } from '../deployments/build-plan/build-plan.ts';

const phase = z.enum(['install', 'build', 'start']);
const step = z.object({
  command: z.string().describe('run with bash -l -c in the app directory'),
  reason: z.string().describe('why this command was chosen, in words a user can check'),
  source: z.enum(['option', 'detected']),
});

export const buildPlanSchema = z
  .object({
    runtime: z.enum(['node', 'python', 'static']),
    framework: z.string().optional(),
    packageManager: z.object({ name: z.enum(['npm', 'yarn', 'pnpm', 'bun', 'pip']), version: z.string().optional(), reason: z.string() }).optional(),
    install: step.optional().describe('absent: nothing to install (the notes say why)'),
    build: step.optional(),
    start: step,
    port: z.object({ value: z.number().int(), reason: z.string(), source: z.enum(['option', 'detected', 'default']) }),
    env: z.array(z.object({ name: z.string(), value: z.string(), reason: z.string(), phases: z.array(phase).readonly() })),
    providedFiles: z.array(z.enum(['static-server'])).readonly().optional(),
    notes: z.array(z.string()),
  })
  .describe('How the app is installed, built, started and reached, with the reason for each choice') satisfies z.ZodType<BuildPlan>;
