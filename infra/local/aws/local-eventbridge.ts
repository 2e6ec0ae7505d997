/**
 * EventBridge on this machine: PutEvents over the real wire protocol (AWS JSON 1.1) for the
 * stack's own bus, and its rules, read from the synthesized template, run against each event:
 * a matching rule's Lambda target is invoked in-process, asynchronously as on AWS (PutEvents
 * answers at once), and a failed invocation is retried as often as the function's
 * EventInvokeConfig says, with backoff. What fails every retry is kept as a dead letter.
 * The default bus's rule (Step Functions execution status changes) is the local stack's own.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CloudFormationTemplate } from '../synthesized-stack.ts';
import { matchesPattern, type EventPattern } from './event-pattern.ts';

export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  /** ISO 8601 without milliseconds, like EventBridge. */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export interface RuleTarget {
  rule: string;
  pattern: EventPattern;
  /** The target function's logical id. */
  functionLogicalId: string;
  /** Retries of a failed invocation (the function's EventInvokeConfig; Lambda's default is 2). */
  retries: number;
  timeoutMs: number;
}

export interface DeadLetter {
  rule: string;
  functionLogicalId: string;
  event: BusEvent;
  error: string;
}

export interface LocalEventBridgeOptions {
  template: CloudFormationTemplate;
  /** The logical id of the stack's bus, and the name it has here. */
  busLogicalId: string;
  busName: string;
  region: string;
  account: string;
  /** Runs a target function's handler once (a rejection is a failed invocation). */
  invoke(functionLogicalId: string, event: BusEvent, timeoutMs: number): Promise<unknown>;
  /** The pause before the first retry, doubling for each next one (Lambda waits about a minute, then two). */
  retryDelayMs?: number;
  /** Sees every event the bus accepted. */
  onEvent?: (event: BusEvent) => void;
  log?: (message: string) => void;
}

export interface LocalEventBridge {
  endpoint: string;
  rules: RuleTarget[];
  deadLetters: DeadLetter[];
  /** Events the bus accepted since start (or the last reset), by detail-type: what PutEvents bills. */
  publishedEvents(): ReadonlyMap<string, number>;
  resetPublishedEvents(): void;
  close(): Promise<void>;
}

/** The Lambda targets of the template's enabled rules on the bus. */
export function ruleTargets(template: CloudFormationTemplate, busLogicalId: string): RuleTarget[] {
  const resources = Object.entries(template.Resources);
  const invokeConfig = (functionLogicalId: string) =>
    resources.find(([, resource]) => resource.Type === 'AWS::Lambda::EventInvokeConfig' && resource.Properties?.FunctionName?.Ref === functionLogicalId)?.[1];
  return resources
    .filter(([, resource]) => resource.Type === 'AWS::Events::Rule' && resource.Properties?.EventBusName?.Ref === busLogicalId && resource.Properties?.State !== 'DISABLED')
    .flatMap(([rule, resource]) =>
      (resource.Properties!.Targets as { Arn: { 'Fn::GetAtt'?: [string, string] } }[]).map((target) => {
        const functionLogicalId = target.Arn['Fn::GetAtt']?.[0];
        const fn = functionLogicalId ? template.Resources[functionLogicalId] : undefined;
        if (!functionLogicalId || fn?.Type !== 'AWS::Lambda::Function') throw new Error(`rule ${rule} has a target that is not one of the stack's functions`);
        return {
          rule,
          pattern: resource.Properties!.EventPattern as EventPattern,
          functionLogicalId,
          retries: invokeConfig(functionLogicalId)?.Properties?.MaximumRetryAttempts ?? 2,
          timeoutMs: (fn.Properties?.Timeout ?? 3) * 1000,
        };
      }),
    );
}

interface PutEventsEntry {
  EventBusName?: string;
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Time?: number | string;
  Resources?: string[];
}

export async function startLocalEventBridge(options: LocalEventBridgeOptions): Promise<LocalEventBridge> {
  const rules = ruleTargets(options.template, options.busLogicalId);
  const deadLetters: DeadLetter[] = [];
  const published = new Map<string, number>();
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const stopping = new AbortController();
  const deliveries = new Set<Promise<void>>();
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  const busArn = `arn:aws:events:${options.region}:${options.account}:event-bus/${options.busName}`;

  const deliver = async (target: RuleTarget, event: BusEvent): Promise<void> => {
    let lastError = '';
    for (let attempt = 0; attempt <= target.retries; attempt++) {
      if (attempt > 0) await sleep(retryDelayMs * 2 ** (attempt - 1), undefined, { signal: stopping.signal });
      try {
        await options.invoke(target.functionLogicalId, event, target.timeoutMs);
        return;
      } catch (error) {
        lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
    }
    deadLetters.push({ rule: target.rule, functionLogicalId: target.functionLogicalId, event, error: lastError });
    log(`[local-eventbridge] ${target.rule} → ${target.functionLogicalId} failed every retry; dead-lettered event ${event.id}: ${lastError}`);
  };

  const accept = (entry: PutEventsEntry): { EventId: string } | { ErrorCode: string; ErrorMessage: string } => {
    if (entry.EventBusName !== options.busName && entry.EventBusName !== busArn) {
      return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${entry.EventBusName ?? 'default'} does not exist locally` };
    }
    if (!entry.Source || !entry.DetailType || !entry.Detail) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Source, DetailType and Detail are required' };
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: options.account,
      time: timeOf(entry.Time),
      region: options.region,
      resources: entry.Resources ?? [],
      detail: JSON.parse(entry.Detail) as Record<string, unknown>,
    };
    published.set(event['detail-type'], (published.get(event['detail-type']) ?? 0) + 1);
    options.onEvent?.(event);
    for (const target of rules.filter((candidate) => matchesPattern(candidate.pattern, event))) {
      const delivery = deliver(target, event).catch(() => undefined);
      deliveries.add(delivery);
      void delivery.finally(() => deliveries.delete(delivery));
    }
    return { EventId: event.id };
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const reply = (status: number, body: unknown, errorType?: string) => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
        response.end(JSON.stringify(body));
      };
      const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1];
      if (operation !== 'PutEvents') return reply(400, { __type: 'UnknownOperationException', message: `${operation} is not supported locally` }, 'UnknownOperationException');
      const { Entries = [] } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { Entries?: PutEventsEntry[] };
      const results = Entries.map(accept);
      reply(200, { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    rules,
    deadLetters,
    publishedEvents: () => published,
    resetPublishedEvents: () => published.clear(),
    close: async () => {
      // Retries waiting for their turn give up; invocations under way finish.
      stopping.abort();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...deliveries]);
    },
  };
}

/** The SDK sends Time as epoch seconds (AWS JSON 1.1). */
function timeOf(time: number | string | undefined): string {
  const date = time === undefined ? new Date() : typeof time === 'number' ? new Date(time * 1000) : new Date(time);
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
