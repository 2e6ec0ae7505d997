/**
 * The HTTP API's OpenAPI document, generated from the same zod schemas that validate requests
 * (`npm run openapi` writes it to openapi.json; the API serves it at GET /openapi.json).
 */
import * as z from 'zod';
import { deploymentRequestSchema } from '../deployments/deployment-request.ts';
import { DEPLOYMENT_STATUSES } from '../deployments/deployment-status.ts';
import { manifestRequestSchema } from '../deployments/manifest/manifest-request.ts';
import { buildPlanSchema } from './plan-schema.ts';
import { keepaliveBody, listDeploymentsQuery, listSandboxesQuery, logsQuery } from './query-schemas.ts';

type JsonSchema = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function queryParametersOf(schema: z.ZodObject): unknown[] {
  const json = schemaOf(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    schema: property,
  }));
}

const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const jsonResponse = (description: string, ref: string) => ({ description, content: { 'application/json': { schema: { $ref: ref } } } });
const common = {
  '401': errorResponse('No valid token'),
  '404': errorResponse('Not found (or another caller\'s)'),
};

export function openApiDocument(): JsonSchema {
  return {
    openapi: '3.1.0',
    info: { title: 'CodeRunner API', version: '1.0.0', description: 'Deploy a project\'s files into a sandbox and get back a running, health-checked app.' },
    security: [{ jwt: [] }],
    components: {
      securitySchemes: { jwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The caller is the token\'s sub.' } },
      schemas: {
        DeploymentRequest: schemaOf(deploymentRequestSchema()),
        ManifestDeploymentRequest: {
          ...schemaOf(manifestRequestSchema()),
          description:
            'A project by manifest (path, size, sha256, mode) instead of contents: up to 20,000 files, 100 MiB per file, 500 MiB in all. ' +
            'Files the build plan reads (package.json, lockfiles, Procfile, entry files) carry their content inline; a 400 names any it needs.',
        },
        Upload: {
          type: 'object',
          description:
            'How to upload the blobs the service does not hold for the caller: PUT each part to its URL, its body the concatenation of its pieces ' +
            '(bytes [offset, offset+length) of the blob with that sha256), then POST the complete link.',
          properties: {
            deadline: { type: 'string', description: 'Complete before this, or the deployment ends FAILED' },
            filesInManifest: { type: 'integer' },
            blobsToUpload: { type: 'integer' },
            bytesToUpload: { type: 'integer' },
            bytesHeld: { type: 'integer', description: 'Bytes the service already held, skipped' },
            partsTotal: { type: 'integer' },
            blobs: { type: 'array', items: { type: 'object', properties: { sha256: { type: 'string' }, size: { type: 'integer' } } } },
            parts: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  partNumber: { type: 'integer' },
                  size: { type: 'integer' },
                  url: { type: 'string', description: 'Presigned S3 PUT' },
                  pieces: { type: 'array', items: { type: 'object', properties: { sha256: { type: 'string' }, offset: { type: 'integer' }, length: { type: 'integer' } } } },
                },
              },
            },
            complete: { type: 'string', description: 'The completion link' },
          },
        },
        KeepaliveRequest: schemaOf(keepaliveBody),
        BuildPlan: schemaOf(buildPlanSchema, 'output'),
        Deployment: {
          type: 'object',
          properties: {
            deploymentId: { type: 'string' },
            projectId: { type: 'string' },
            status: { type: 'string', enum: [...DEPLOYMENT_STATUSES], description: 'AWAITING_UPLOAD (a manifest deployment before its completion), PENDING, CREATING, UPLOADING, STARTING, CHECKING_HEALTH, RUNNING, STOPPING (being ended: its sandbox is being killed), FAILED, TERMINATED, EXPIRED, LOST' },
            step: { type: ['string', 'null'] },
            sandboxId: { type: ['string', 'null'] },
            url: { type: ['string', 'null'] },
            error: { type: ['object', 'null'], properties: { step: { type: 'string' }, name: { type: 'string' }, message: { type: 'string' } } },
            progress: { type: 'object', properties: { filesUploaded: { type: 'integer' }, filesTotal: { type: 'integer' }, batchesTotal: { type: 'integer' } } },
            plan: { oneOf: [{ $ref: '#/components/schemas/BuildPlan' }, { type: 'null' }] },
            healthyPath: { type: ['string', 'null'], description: 'The path that answered the health check: the health path, or / when that answered 404' },
            upload: { description: 'A manifest deployment\'s transfer (with parts and URLs only in the POST answer)', oneOf: [{ $ref: '#/components/schemas/Upload' }, { type: 'null' }] },
            dependencies: {
              description: 'How the dependencies got into the sandbox (set by the start step; null before it, or when the plan installs nothing)',
              oneOf: [{ $ref: '#/components/schemas/Dependencies' }, { type: 'null' }],
            },
            timestamps: { type: 'object', additionalProperties: { type: 'string' } },
            callbackUrl: { type: ['string', 'null'], description: 'Where each status change is POSTed as a signed webhook' },
          },
        },
        Dependencies: {
          type: 'object',
          description:
            'The dependency cache: per owner, keyed by the lockfile, the package manager and its release, the install command, the sandbox\'s Node major and architecture. ' +
            'A key seen before restores node_modules instead of installing; a redeploy into a live sandbox with the same key keeps them.',
          properties: {
            key: { type: ['string', 'null'], description: 'SHA-256 (hex) of the cache key\'s inputs; null when the install is not cached' },
            source: { type: 'string', enum: ['cache', 'installed', 'kept-from-previous-deployment'] },
            cache: {
              type: 'string',
              enum: ['hit', 'miss', 'unreadable', 'kept', 'off'],
              description: 'hit: restored; miss: installed, none stored yet; unreadable: an archive could not be restored, so installed; kept: a redeploy kept them; off: not cached (message says why)',
            },
            message: { type: 'string', description: 'As the install log says it, e.g. "dependencies restored from cache (...)"' },
            lockfile: { type: 'string' },
            archive: { type: 'object', properties: { format: { type: 'string', enum: ['tar.zst', 'tar.gz'] }, bytes: { type: 'integer' } } },
            saving: { type: 'boolean', description: 'An archive of this install is being saved in the background' },
            durationMs: { type: 'integer' },
          },
        },
        Sandbox: {
          type: 'object',
          properties: {
            sandboxId: { type: 'string' },
            deploymentId: { type: 'string' },
            projectId: { type: 'string' },
            status: { type: 'string' },
            url: { type: ['string', 'null'] },
            createdAt: { type: 'string' },
            expiresAt: { type: ['string', 'null'] },
          },
        },
        DeploymentEvent: {
          type: 'object',
          description:
            'A status change ("Deployment Status Changed"). The same object is the detail of the EventBridge event and the body of the webhook. ' +
            'Delivery is at least once: dedupe by eventId; order by time.',
          properties: {
            eventId: { type: 'string', description: '<deploymentId>:<status>: a status is entered at most once' },
            deploymentId: { type: 'string' },
            userId: { type: 'string' },
            projectId: { type: 'string' },
            status: { type: 'string', enum: [...DEPLOYMENT_STATUSES] },
            previousStatus: { type: ['string', 'null'] },
            step: { type: ['string', 'null'], description: 'The saga step, or for FAILED the step that failed' },
            sandboxId: { type: ['string', 'null'] },
            url: { type: ['string', 'null'], description: 'The app URL, once RUNNING' },
            error: { type: ['object', 'null'], properties: { step: { type: 'string' }, name: { type: 'string' }, message: { type: 'string' } } },
            replacedBy: { type: ['string', 'null'] },
            version: { type: 'integer' },
            time: { type: 'string', format: 'date-time' },
          },
        },
        WebhookSecret: {
          type: 'object',
          description:
            'Signs webhooks: X-CodeRunner-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">. ' +
            'Accept a delivery when any v1 matches and t is within 5 minutes of your clock.',
          properties: {
            secret: { type: 'string' },
            createdAt: { type: 'string', format: 'date-time' },
            previousSecretValidUntil: { type: ['string', 'null'], format: 'date-time', description: 'After a rotation, the previous secret also signs until then' },
          },
        },
        LogLine: {
          type: 'object',
          properties: { timestamp: { type: 'string' }, source: { type: 'string' }, line: { type: 'string' }, timestampSource: { type: 'string' } },
        },
        Error: {
          type: 'object',
          properties: {
            message: { type: 'string' },
            errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, rule: { type: 'string' }, message: { type: 'string' } } } },
          },
        },
      },
    },
    paths: {
      '/deployments': {
        post: {
          summary: 'Deploy a project (or redeploy into a live sandbox with sandboxId / reuse)',
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 } }],
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: { oneOf: [{ $ref: '#/components/schemas/DeploymentRequest' }, { $ref: '#/components/schemas/ManifestDeploymentRequest' }] } },
            },
          },
          responses: {
            '202': jsonResponse('Accepted; the deployment continues in the background (a manifest deployment awaits its upload, see upload)', '#/components/schemas/Deployment'),
            '400': errorResponse('Invalid request: each error names the field and the rule'),
            '409': errorResponse('The sandbox to redeploy into is no longer alive'),
            '415': errorResponse('The body is not JSON'),
            '422': errorResponse('Idempotency-Key reused with another body'),
            ...common,
          },
        },
        get: {
          summary: 'The caller\'s deployment history, newest first',
          parameters: queryParametersOf(listDeploymentsQuery),
          responses: { '200': { description: 'A page of deployments' }, '400': errorResponse('Invalid query'), ...common },
        },
      },
      '/deployments/{id}': {
        get: { summary: 'A deployment', parameters: [idParameter], responses: { '200': jsonResponse('The deployment', '#/components/schemas/Deployment'), ...common } },
        delete: { summary: 'Kill the sandbox and end TERMINATED (idempotent)', parameters: [idParameter], responses: { '200': jsonResponse('The terminated deployment', '#/components/schemas/Deployment'), ...common } },
      },
      '/deployments/{id}/complete': {
        post: {
          summary: 'A manifest deployment\'s upload is done: checked against the manifest (every blob present, every SHA-256), then the deployment starts',
          parameters: [idParameter],
          responses: {
            '202': jsonResponse('Complete; the deployment continues in the background', '#/components/schemas/Deployment'),
            '400': errorResponse('A blob missing or hashing differently (each named as manifest[i]); nothing started, the deployment still awaits its upload'),
            '409': errorResponse('The deployment does not await an upload'),
            ...common,
          },
        },
      },
      '/deployments/{id}/health': {
        get: { summary: 'Probe the app now', parameters: [idParameter], responses: { '200': { description: 'The probe, or the sandbox state when the app does not answer' }, ...common } },
      },
      '/deployments/{id}/logs': {
        get: {
          summary: 'The last lines of the app, install, npm, PM2, journal and app log files, merged in time order',
          parameters: [idParameter, ...queryParametersOf(logsQuery)],
          responses: { '200': { description: 'Log lines' }, '400': errorResponse('Invalid query'), '409': errorResponse('No live sandbox'), ...common },
        },
      },
      '/deployments/{id}/keepalive': {
        post: {
          summary: 'Extend the sandbox\'s lifetime (bounded by the configured maximum)',
          parameters: [idParameter],
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/KeepaliveRequest' } } } },
          responses: { '200': jsonResponse('The deployment with its new expiry', '#/components/schemas/Deployment'), '400': errorResponse('Out of bounds'), '409': errorResponse('No live sandbox'), ...common },
        },
      },
      '/deployments/{id}/events': {
        get: {
          summary: 'The deployment\'s status changes, oldest first (kept 30 days)',
          parameters: [idParameter],
          responses: {
            '200': {
              description: 'Events',
              content: { 'application/json': { schema: { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/DeploymentEvent' } } } } } },
            },
            ...common,
          },
        },
      },
      '/webhook-secret': {
        get: {
          summary: 'The caller\'s webhook signing secret (made on first use)',
          responses: { '200': jsonResponse('The secret', '#/components/schemas/WebhookSecret'), '401': common['401'] },
        },
      },
      '/webhook-secret/rotate': {
        post: {
          summary: 'Replace the webhook signing secret; the previous one keeps signing for 24 hours',
          responses: { '200': jsonResponse('The new secret', '#/components/schemas/WebhookSecret'), '409': errorResponse('Rotated concurrently; retry'), '401': common['401'] },
        },
      },
      '/sandboxes': {
        get: {
          summary: 'The caller\'s live sandboxes (with projectId: the live sandbox of that project first)',
          parameters: queryParametersOf(listSandboxesQuery),
          responses: { '200': { description: 'A page of sandboxes' }, '400': errorResponse('Invalid query'), ...common },
        },
      },
      '/openapi.json': { get: { summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1' } } } },
    },
  };
}
