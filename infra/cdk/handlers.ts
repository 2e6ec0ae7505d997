/**
 * The Lambda functions of the stack and the handler modules behind them. The CDK stack bundles
 * these entries; the local stack imports the same modules in-process.
 */
export const HANDLERS = {
  apiCreateDeployment: 'functions/handlers/api-create-deployment.ts',
  apiCompleteDeployment: 'functions/handlers/api-complete-deployment.ts',
  apiGetDeployment: 'functions/handlers/api-get-deployment.ts',
  apiDeleteDeployment: 'functions/handlers/api-delete-deployment.ts',
  apiListDeployments: 'functions/handlers/api-list-deployments.ts',
  apiListSandboxes: 'functions/handlers/api-list-sandboxes.ts',
  apiKeepalive: 'functions/handlers/api-keepalive.ts',
  apiDeploymentHealth: 'functions/handlers/api-deployment-health.ts',
  apiDeploymentLogs: 'functions/handlers/api-deployment-logs.ts',
  apiDeploymentEvents: 'functions/handlers/api-deployment-events.ts',
  apiGetWebhookSecret: 'functions/handlers/api-get-webhook-secret.ts',
  apiRotateWebhookSecret: 'functions/handlers/api-rotate-webhook-secret.ts',
  apiOpenApi: 'functions/handlers/api-openapi.ts',
  apiQuotas: 'functions/handlers/api-quotas.ts',
  create: 'functions/handlers/create.ts',
  uploadBatch: 'functions/handlers/upload-batch.ts',
  start: 'functions/handlers/start.ts',
  health: 'functions/handlers/health.ts',
  kill: 'functions/handlers/kill.ts',
  sweep: 'functions/handlers/sweep.ts',
  executionStatusChange: 'functions/handlers/execution-status-change.ts',
  deliverWebhook: 'functions/handlers/deliver-webhook.ts',
} as const;

export type HandlerName = keyof typeof HANDLERS;

/** HTTP API routes and the handler behind each; every route needs a JWT unless `public`. */
export const ROUTES: readonly { routeKey: string; handler: HandlerName; public?: boolean }[] = [
  { routeKey: 'POST /deployments', handler: 'apiCreateDeployment' },
  { routeKey: 'POST /deployments/{id}/complete', handler: 'apiCompleteDeployment' },
  { routeKey: 'GET /deployments', handler: 'apiListDeployments' },
  { routeKey: 'GET /deployments/{id}', handler: 'apiGetDeployment' },
  { routeKey: 'DELETE /deployments/{id}', handler: 'apiDeleteDeployment' },
  { routeKey: 'GET /deployments/{id}/health', handler: 'apiDeploymentHealth' },
  { routeKey: 'GET /deployments/{id}/logs', handler: 'apiDeploymentLogs' },
  { routeKey: 'POST /deployments/{id}/keepalive', handler: 'apiKeepalive' },
  { routeKey: 'GET /deployments/{id}/events', handler: 'apiDeploymentEvents' },
  { routeKey: 'GET /webhook-secret', handler: 'apiGetWebhookSecret' },
  { routeKey: 'POST /webhook-secret/rotate', handler: 'apiRotateWebhookSecret' },
  { routeKey: 'GET /sandboxes', handler: 'apiListSandboxes' },
  { routeKey: 'GET /quotas', handler: 'apiQuotas' },
  { routeKey: 'GET /openapi.json', handler: 'apiOpenApi', public: true },
];
