/** middy middleware: records how long a saga step took, by step name. */
import type middy from '@middy/core';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';

export function stepDuration(metrics: Metrics, step: string, metricName: string): middy.MiddlewareObj {
  let started = 0;
  const record = () => {
    const single = metrics.singleMetric();
    single.addDimension('step', step);
    single.addMetric(metricName, MetricUnit.Milliseconds, Math.round(performance.now() - started));
  };
  return {
    before: () => {
      started = performance.now();
    },
    after: record,
    onError: record,
  };
}
