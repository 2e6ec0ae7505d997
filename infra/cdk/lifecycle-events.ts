/**
 * Lifecycle events: the stack's own EventBridge bus, which every status change is published to
 * (source `coderunner`, detail-type "Deployment Status Changed"), and webhook delivery: a rule
 * routes the events of deployments with a callbackUrl to the deliver-webhook function.
 *
 * Retries, outermost first: the rule target retries getting the event to Lambda (throttling,
 * service errors); Lambda retries a failed invocation twice (about 1 and 2 minutes later); each
 * invocation tries the POST up to three times with backoff. What fails all of it lands in the
 * webhook dead-letter queue, whose alarm fires on the first message.
 */
import { Duration } from 'aws-cdk-lib';
import { EventBus, Match, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SOURCE, STATUS_CHANGED } from '../../functions/shared/deployments/events/deployment-event.ts';
import { acknowledge } from './nag-acknowledgements.ts';

/** How long a webhook may still be delivered after its status change. */
const WEBHOOK_MAX_AGE = Duration.hours(1);

export interface LifecycleEventsProps {
  deliverWebhook: NodejsFunction;
}

export class LifecycleEvents extends Construct {
  readonly bus: EventBus;
  readonly webhookRule: Rule;
  readonly webhookDeadLetters: Queue;

  constructor(scope: Construct, id: string, props: LifecycleEventsProps) {
    super(scope, id);
    // Our own bus, not the default one: consumers' rules see only CodeRunner's events, publishers
    // are granted this one bus, and it can be shared with other accounts by its own policy.
    this.bus = new EventBus(this, 'Bus', { description: 'CodeRunner deployment lifecycle events' });

    this.webhookDeadLetters = new Queue(this, 'WebhookDeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledge(
      this.webhookDeadLetters,
      'SQS3',
      'This queue is itself the dead-letter queue: of the WebhookRule target and of the deliver-webhook function\'s failed async ' +
        'invocations, which SQS3 does not recognise. A DLQ for the DLQ would only move the problem: messages stay 14 days and ' +
        'WebhookDeadLettersAlarm fires on the first.',
    );
    props.deliverWebhook.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: WEBHOOK_MAX_AGE,
      onFailure: new SqsDestination(this.webhookDeadLetters),
    });
    this.webhookRule = new Rule(this, 'WebhookRule', {
      description: 'Deliver status changes of deployments with a callbackUrl as signed webhooks',
      eventBus: this.bus,
      eventPattern: { source: [EVENT_SOURCE], detailType: [STATUS_CHANGED], detail: { callbackUrl: Match.exists() } },
      targets: [new LambdaFunction(props.deliverWebhook, { deadLetterQueue: this.webhookDeadLetters, retryAttempts: 8, maxEventAge: WEBHOOK_MAX_AGE })],
    });
  }
}
