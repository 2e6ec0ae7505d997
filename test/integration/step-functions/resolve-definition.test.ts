import { describe, expect, it } from 'vitest';
import {
  lambdaTasks,
  resolveStateMachine,
  resolveStateMachineDefinition,
} from '../../../infra/local/step-functions/resolve-definition.ts';
import type { CfnTemplate } from '../../../infra/local/step-functions/resolve-definition.ts';
import { loadWorkflowTemplate } from './workflow-fixture.ts';

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const fakeArn = (logicalId: string) => `arn:aws:lambda:local:000000000000:function:${logicalId}`;

/** A template with one state machine, a Lambda function and a table, around the given DefinitionString. */
function templateWith(definitionString: unknown, extra: Record<string, unknown> = {}): CfnTemplate {
  return {
    Resources: {
      WorkerFnA1B2C3D4: { Type: 'AWS::Lambda::Function', Properties: {} },
      JobsTable0F1E2D3C: { Type: 'AWS::DynamoDB::Table', Properties: {} },
      Machine: { Type: 'AWS::StepFunctions::StateMachine', Properties: { DefinitionString: definitionString, ...extra } },
    },
  };
}

describe('resolving the state machine of a synthesized template', () => {
  it('turns the Fn::Join definition into plain ASL with fake Lambda ARNs carrying the logical ids', () => {
    const template = loadWorkflowTemplate();

    const definition = resolveStateMachineDefinition(template);

    expect(definition.StartAt).toBe('PrepareSandbox');
    expect(definition.TimeoutSeconds).toBe(300);
    expect(definition.States.PrepareSandbox).toMatchObject({
      Type: 'Task',
      Resource: LAMBDA_INVOKE,
      TimeoutSeconds: 30,
      Parameters: {
        FunctionName: fakeArn('PrepareSandboxFn8A1C5D2E'),
        Payload: { 'jobId.$': '$.jobId', 'files.$': '$.files', 'executionId.$': '$$.Execution.Id' },
      },
      Retry: [
        { ErrorEquals: expect.arrayContaining(['Lambda.ServiceException']), IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2 },
        { ErrorEquals: ['UploadFailedError'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2 },
      ],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailedStep' }],
    });
    expect(definition.States.RunFiles).toMatchObject({
      Type: 'Map',
      MaxConcurrency: 2,
      ItemSelector: { 'file.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index', 'sandboxId.$': '$.sandbox.sandboxId' },
      ItemProcessor: {
        StartAt: 'RunFile',
        States: { RunFile: { Resource: LAMBDA_INVOKE, Parameters: { FunctionName: fakeArn('RunFileFn3F9B0C41'), 'Payload.$': '$' } } },
      },
    });
    expect(definition.States.RecordFailedStep).toEqual({
      Type: 'Pass',
      Parameters: { failedStep: 'PrepareSandbox', 'jobId.$': '$.jobId', 'error.$': '$.error' },
      Next: 'CleanupAfterFailure',
    });
    expect(definition.States.Failed).toMatchObject({ Type: 'Fail', Error: 'SandboxPreparationFailed' });
  });

  it('maps every Lambda task, including the one inside the Map, to its function logical id', () => {
    const definition = resolveStateMachineDefinition(loadWorkflowTemplate());

    const mapping = lambdaTasks(definition).map(({ stateName, functionLogicalId }) => ({ stateName, functionLogicalId }));

    expect(mapping).toEqual([
      { stateName: 'PrepareSandbox', functionLogicalId: 'PrepareSandboxFn8A1C5D2E' },
      { stateName: 'RunFile', functionLogicalId: 'RunFileFn3F9B0C41' },
      { stateName: 'Cleanup', functionLogicalId: 'CleanupFn7D2E4A90' },
      { stateName: 'CleanupAfterFailure', functionLogicalId: 'CleanupFn7D2E4A90' },
    ]);
  });

  it('names the state machine by its logical id when the stack sets no StateMachineName', () => {
    const resolved = resolveStateMachine(loadWorkflowTemplate());

    expect(resolved).toMatchObject({ logicalId: 'CodeRunnerWorkflow6E8D1F37', name: 'CodeRunnerWorkflow6E8D1F37' });
  });

  it('resolves Fn::Sub (both forms), Fn::Select, pseudo parameters and DefinitionSubstitutions', () => {
    const definitionString = {
      'Fn::Join': [
        '',
        [
          '{"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"arn:',
          { Ref: 'AWS::Partition' },
          ':states:::lambda:invoke","Parameters":{"FunctionName":"${WorkerArn}","Payload":{"table":"${TableName}","region":"',
          { 'Fn::Sub': '${AWS::Region}/${AWS::AccountId}/${AWS::URLSuffix}' },
          '","literal":"',
          { 'Fn::Sub': ['${!Kept}-${Suffix}', { Suffix: { 'Fn::Select': [1, ['a', 'b', 'c']] } }] },
          '"}},"End":true}}}',
        ],
      ],
    };
    const template = templateWith(definitionString, {
      DefinitionSubstitutions: {
        WorkerArn: { 'Fn::Sub': '${WorkerFnA1B2C3D4.Arn}:$LATEST' },
        TableName: { Ref: 'JobsTable0F1E2D3C' },
      },
    });

    const definition = resolveStateMachineDefinition(template, 'Machine');

    expect(definition.States.Work).toEqual({
      Type: 'Task',
      Resource: LAMBDA_INVOKE,
      Parameters: {
        FunctionName: `${fakeArn('WorkerFnA1B2C3D4')}:$LATEST`,
        Payload: { table: 'JobsTable0F1E2D3C', region: 'local/000000000000/amazonaws.com', literal: '${Kept}-b' },
      },
      End: true,
    });
    expect(lambdaTasks(definition)).toEqual([
      expect.objectContaining({ stateName: 'Work', functionLogicalId: 'WorkerFnA1B2C3D4', integration: 'invoke' }),
    ]);
  });

  it('finds Lambda tasks in Parallel branches and tasks that call the function ARN directly', () => {
    const definition = resolveStateMachineDefinition(
      templateWith(
        JSON.stringify({
          StartAt: 'Both',
          States: {
            Both: {
              Type: 'Parallel',
              End: true,
              Branches: [
                { StartAt: 'Left', States: { Left: { Type: 'Task', Resource: LAMBDA_INVOKE, Parameters: { FunctionName: 'LeftFn' }, End: true } } },
                { StartAt: 'Right', States: { Right: { Type: 'Task', Resource: fakeArn('RightFn'), End: true } } },
              ],
            },
          },
        }),
      ),
    );

    const tasks = lambdaTasks(definition);

    expect(tasks).toEqual([
      expect.objectContaining({ stateName: 'Left', functionLogicalId: 'LeftFn', integration: 'invoke' }),
      expect.objectContaining({ stateName: 'Right', functionLogicalId: 'RightFn', integration: 'direct' }),
    ]);
  });

  it('asks for a logical id when the template holds several state machines', () => {
    const template = loadWorkflowTemplate();
    const resources = template.Resources ?? {};
    const twoMachines: CfnTemplate = { ...template, Resources: { ...resources, Other: { Type: 'AWS::StepFunctions::StateMachine' } } };

    const resolving = () => resolveStateMachineDefinition(twoMachines);

    expect(resolving).toThrow(/found 2 \(CodeRunnerWorkflow6E8D1F37, Other\)/);
  });
});
