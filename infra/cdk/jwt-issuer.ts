/**
 * The JWT issuer as a template parameter with a rule: a CDK app cannot tell `cdk synth` from
 * `cdk deploy` (both just synthesize), but CloudFormation evaluates a template's Rules before it
 * creates or changes anything. So synth (tests, the local stack) works with the placeholder
 * issuer, and a deploy with it fails at once, saying what to set. CDK's own bootstrap-version
 * check works the same way.
 */
import { CfnParameter, CfnRule, Fn } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/** What the app uses when no `jwtIssuer` context is given: fine to synthesize, refused on deploy. */
export const PLACEHOLDER_JWT_ISSUER = 'https://auth.example.com/';

export const JWT_ISSUER_REQUIRED =
  `Set the JWT issuer: cdk deploy -c jwtIssuer=https://<your issuer>/ -c jwtAudience=<audience>. ` +
  `This template was synthesized with the placeholder issuer ${PLACEHOLDER_JWT_ISSUER}, which no real token comes from.`;

/** The issuer the authorizer trusts: a parameter whose default is `issuer`, refused on deploy while it is the placeholder. */
export function jwtIssuerParameter(scope: Construct, issuer: string): string {
  const parameter = new CfnParameter(scope, 'JwtIssuer', {
    type: 'String',
    default: issuer,
    allowedPattern: '^https://\\S+$',
    constraintDescription: 'must be the https URL of the JWT issuer',
    description: 'The issuer (iss) of the JWTs the HTTP API accepts',
  });
  new CfnRule(scope, 'JwtIssuerIsSet', {
    assertions: [{ assert: Fn.conditionNot(Fn.conditionEquals(parameter.valueAsString, PLACEHOLDER_JWT_ISSUER)), assertDescription: JWT_ISSUER_REQUIRED }],
  });
  return parameter.valueAsString;
}
