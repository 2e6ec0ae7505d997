/**
 * Acknowledging cdk-nag findings (AWS Solutions rules) on the construct they are about, never on
 * the app or the stack, so that every new resource is still checked. The acknowledgement covers
 * the construct and its children (a role covers its default policy).
 */
import { Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

/** `rule` without the pack prefix, e.g. `APIG4` or `IAM5[Resource::*]`. */
export function acknowledge(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${rule}`, reason });
}

/**
 * Acknowledges the wildcard finding (IAM5) for one resource ARN in the policies under `scope`.
 * cdk-nag names such a finding after the ARN as the template holds it (`<Logical.Arn>/prefix/*`),
 * so the id is derived from the same ARN the grant uses, not written out by hand.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resourceArn: string, reason: string): void {
  acknowledge(scope, `IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(resourceArn))}]`, reason);
}
