/**
 * Where the stack's alarms go: one SNS topic, encrypted with its own key (CloudWatch may use it
 * to publish), SSL-only, and an email subscription when the `alarmEmail` context value is given.
 */
import { Stack } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmNotificationsProps {
  /** Subscribed to the topic (it must confirm the subscription from the email it receives). */
  email?: string;
}

export class AlarmNotifications extends Construct {
  readonly topic: Topic;
  readonly #action: SnsAction;

  constructor(scope: Construct, id: string, props: AlarmNotificationsProps = {}) {
    super(scope, id);
    const key = new Key(this, 'TopicKey', { description: 'Encrypts the CodeRunner alarm topic', enableKeyRotation: true });
    // Alarms publish to an encrypted topic only if CloudWatch may use its key (the AWS managed SNS key does not let it).
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.topic = new Topic(this, 'Topic', { displayName: 'CodeRunner alarms', masterKey: key, enforceSSL: true });
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
    this.#action = new SnsAction(this.topic);
  }

  notify(...alarms: Alarm[]): void {
    for (const alarm of alarms) alarm.addAlarmAction(this.#action);
  }
}
