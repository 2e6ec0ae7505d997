/**
 * What each headline figure means and, where issue 12 ("Fast deploys") or issue 13 ("Large
 * projects") sets one, its goal. The one copy of the goals: `npm run bench` judges every figure
 * against this table. Figures are keyed `<bench>.<figure>`, as the scripts' headlines name them.
 */

export interface Goal {
  /** `≤ 1.3`, `= 0`. */
  text: string;
  met(value: number): boolean;
  source: 'issue 12' | 'issue 13';
  /** The figure when the issue was filed. */
  before?: string;
}

export interface FigureDescription {
  label: string;
  goal?: Goal;
}

const atMost = (limit: number, source: Goal['source'], before?: string): Goal => ({ text: `≤ ${limit}`, met: (value) => value <= limit, source, ...(before ? { before } : {}) });
const exactly = (target: number, source: Goal['source']): Goal => ({ text: `= ${target}`, met: (value) => value === target, source });

export const FIGURES: Record<string, FigureDescription> = {
  'overhead.postToRunningOverDirect': { label: 'POST→RUNNING ÷ direct SDK calls, hello app, same sandbox host (median)', goal: atMost(1.3, 'issue 12', '16.8') },
  'overhead.concurrentP95OverSingle': { label: 'concurrent hello deploys: p95 POST→RUNNING ÷ a single one', goal: atMost(3, 'issue 12') },
  'overhead.concurrentDirectP95OverSingleDirect': { label: 'the sandbox host alone, as many direct SDK runs at once: p95 ÷ a single one (the floor of the figure above)' },
  'overhead.concurrentServiceP95OverDirectP95': { label: 'concurrent deploys: the service\'s p95 ÷ the direct SDK runs\' p95 at the same concurrency' },
  'overhead.sandboxesLeft': { label: 'sandboxes left after deleting the concurrent deploys', goal: exactly(0, 'issue 12') },
  'cache.expressSecondOverFirst': { label: 'Express: second deploy of an unchanged lockfile (new sandbox) ÷ first', goal: atMost(0.4, 'issue 12', '1.0') },
  'cache.nestSecondOverFirst': { label: 'Nest: second deploy of an unchanged lockfile (new sandbox) ÷ first', goal: atMost(0.4, 'issue 12', '1.0') },
  'redeploy.redeployOverFresh': { label: 'redeploy into the live sandbox, unchanged lockfile ÷ fresh deploy (median)', goal: atMost(0.2, 'issue 12', '0.86') },
  'bundles.largestBundleKB': { label: 'largest handler bundle, minified (KB)', goal: atMost(350, 'issue 12', '756') },
  'bundles.getDeploymentBundleKB': { label: '`GET /deployments/{id}` bundle, minified (KB)', goal: atMost(120, 'issue 12', '250') },
  'bundles.getDeploymentInitOverBefore': { label: 'module init of `GET /deployments/{id}` ÷ before (200 ms)', goal: atMost(0.5, 'issue 12', '1.0') },
  'bundles.getDeploymentInitMs': { label: 'module init of `GET /deployments/{id}` (ms, median)' },
  'startup.reusedOverSynthesized': { label: '`npm start` to ready, unchanged sources ÷ synthesizing every start', goal: atMost(0.35, 'issue 12', '1.0 (8.6 s)') },
  'startup.reusedSeconds': { label: '`npm start` to ready, unchanged sources (s)' },
  'cost.stateTransitions': { label: 'state transitions per hello deploy', goal: atMost(12, 'issue 12', 'uncounted') },
  'cost.lambdaInvocations': { label: 'Lambda invocations per hello deploy (POST → RUNNING → DELETE)' },
  'cost.lambdaGbSeconds': { label: 'Lambda GB-seconds per hello deploy (billed, 1 ms rounding)' },
  'cost.dynamoDbReads': { label: 'DynamoDB read requests per hello deploy' },
  'cost.dynamoDbWrites': { label: 'DynamoDB write requests per hello deploy' },
  'cost.s3Requests': { label: 'S3 requests per hello deploy' },
  'cost.eventBridgeEvents': { label: 'EventBridge events per hello deploy' },
  'cost.dollarsPer1000': { label: 'estimated $ per 1,000 hello deploys (us-east-1 list prices)' },
  'large.sandboxRequestsForFiles': { label: '1,000 files / 10 MB: requests to the sandbox writing the files', goal: atMost(10, 'issue 13', 'not possible') },
  'large.writeOverTarX': { label: '1,000 files / 10 MB: write into the sandbox ÷ local `tar -x`', goal: atMost(3, 'issue 13', 'not possible') },
  'large.redeployBytesShare': { label: 'redeploy after one changed file: bytes uploaded ÷ project size', goal: atMost(0.01, 'issue 13', '1.0') },
  'sweep.dynamoDbRequests': { label: 'one sweep: DynamoDB requests' },
  'sweep.requestsPerExpired': { label: 'one sweep: DynamoDB requests per expired record' },
  'sweep.sweepSeconds': { label: 'one sweep: time (s)' },
  'synth.localSeconds': { label: 'in-process synth, no cdk-nag: import + synth (s, median)' },
  'synth.checkedOverLocal': { label: 'synth with cdk-nag ÷ without' },
  'isolation.createOverNamespaces': { label: 'create until a Node server answers: bubblewrap ÷ namespaces' },
  'isolation.killOverNamespaces': { label: 'kill: bubblewrap ÷ namespaces' },
  'isolation.proxyOverDirect': { label: 'a new connection through the port proxy (bubblewrap) ÷ direct on loopback' },
  'corpus.failures': { label: 'corpus apps and failing cases that did not behave as expected' },
};

export type Verdict = 'met' | 'not met' | 'no goal' | 'not measured';

export function verdict(key: string, value: number | null): Verdict {
  const goal = FIGURES[key]?.goal;
  if (value === null) return 'not measured';
  if (!goal) return 'no goal';
  return goal.met(value) ? 'met' : 'not met';
}
