/**
 * What one hello deployment (one file, one batch) costs, counted on the local stack with every
 * component real: Step Functions state transitions, Lambda invocations and billed GB-seconds,
 * DynamoDB reads and writes, S3 requests and EventBridge events, from `POST /deployments` to
 * RUNNING and then its `DELETE`; and the estimated dollars per 1,000 such deployments at
 * us-east-1 list prices, with each service's share. N runs, each counted from zero; the headline
 * takes the median of each figure.
 *
 *   npm run bench:cost [-- --runs 3]
 */
import { parseArgs } from 'node:util';
import { startLocalStack } from '../../infra/local/local-stack.ts';
import { loadSynthesizedStack } from '../../infra/local/synthesized-stack.ts';
import { table } from '../../cli/format.ts';
import { measureDeployment, totalUsage, type DeploymentUsage, type PhaseUsage } from '../support/deployment-usage.ts';
import { projectFiles } from '../support/project-files.ts';
import { estimateCost, totalDollars, US_EAST_1_PRICES } from './aws-prices.ts';
import { printHeadline } from './bench-headline.ts';
import { median } from './statistics.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Number(values.runs);

const stack = await startLocalStack({
  synthesized: await loadSynthesizedStack(),
  environment: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
});
const measured: DeploymentUsage[] = [];
try {
  const token = await stack.issueToken('bench-cost');
  const body = { projectId: 'hello', files: await projectFiles('hello-node'), options: { startCommand: 'node server.js' } };
  // A first deployment loads modules and opens connections; it is not counted.
  await measureDeployment(stack, token, body);
  for (let run = 0; run < runs; run++) measured.push(await measureDeployment(stack, token, body));
} finally {
  await stack.stop();
}

const counts = (usage: PhaseUsage) => Object.entries(usage.lambda.byFunction).map(([name, count]) => `${name} ${count}`).join(', ');
const operations = (byOperation: Record<string, number>) => Object.entries(byOperation).map(([name, count]) => `${name} ${count}`).join(', ') || '-';
const dollars = (value: number) => `$${value.toFixed(4)}`;

console.log(`hello app (1 file, 1 batch), ${runs} run(s) after a warm-up, each counted from zero:\n`);
measured.forEach((usage, run) => {
  for (const phase of ['deploy', 'delete'] as const) {
    const figures = usage[phase];
    console.log(`run ${run + 1}, ${phase === 'deploy' ? 'POST → RUNNING' : 'DELETE → TERMINATED'}:`);
    if (phase === 'deploy') console.log(`  Step Functions: ${figures.stateTransitions} state transitions (${operations(figures.transitionsByState)})`);
    console.log(`  Lambda:         ${figures.lambda.invocations} invocations (${counts(figures)}), ${figures.lambda.billedMs} ms billed, ${figures.lambda.gbSeconds.toFixed(3)} GB-s`);
    console.log(`  DynamoDB:       ${figures.dynamoDb.reads} reads, ${figures.dynamoDb.writes} writes (${operations(figures.dynamoDb.byOperation)})`);
    console.log(`  S3:             ${figures.s3.requests} requests (${operations(figures.s3.byOperation)})`);
    console.log(`  EventBridge:    ${figures.eventBridge.events} events (${operations(figures.eventBridge.byDetailType)})`);
  }
});

const totals = measured.map(totalUsage);
const pick = (read: (usage: PhaseUsage) => number) => median(totals.map(read));
const costs = totals.map((usage) => estimateCost(usage));
const perDeployment = median(costs.map(totalDollars));
const typical = costs[totals.findIndex((_, index) => totalDollars(costs[index]!) === perDeployment)] ?? costs[0]!;
console.log(`\nestimated cost per 1,000 hello deployments (deploy + delete), us-east-1 list prices, median run:`);
console.log(
  table(
    ['SERVICE', 'COUNTED PER DEPLOYMENT', '$ PER 1,000', 'SHARE'],
    [
      ...typical.map((line) => [line.service, line.counted, dollars(line.dollars * 1000), `${((line.dollars / perDeployment) * 100).toFixed(1)} %`]),
      ['total', '', dollars(perDeployment * 1000), '100 %'],
    ],
  ),
);
console.log(`\nprices (us-east-1, $ per unit): ${Object.entries(US_EAST_1_PRICES).map(([name, price]) => `${name} ${Number(price.toPrecision(6))}`).join(', ')}`);
console.log('not counted: API Gateway (1 POST and 1 DELETE, $1.00 per million), CloudWatch Logs and metrics, X-Ray traces, Secrets Manager reads (cached in each warm function), data transfer, S3 storage.');
console.log('Lambda durations are this machine\'s, with every component in one process; DynamoDB counts one unit per request (index writes not included).');

printHeadline('cost', {
  stateTransitions: pick((usage) => usage.stateTransitions),
  lambdaInvocations: pick((usage) => usage.lambda.invocations),
  lambdaGbSeconds: pick((usage) => usage.lambda.gbSeconds),
  dynamoDbReads: pick((usage) => usage.dynamoDb.reads),
  dynamoDbWrites: pick((usage) => usage.dynamoDb.writes),
  s3Requests: pick((usage) => usage.s3.requests),
  eventBridgeEvents: pick((usage) => usage.eventBridge.events),
  dollarsPer1000: perDeployment * 1000,
});
