/**
 * The AWS clients, configured from the job's environment the way aws-actions/configure-aws-
 * credentials leaves it (AWS_REGION, credentials in variables or a web identity). The SDK reads
 * AWS_ENDPOINT_URL too, which is how the local CodeBuild is reached. The SDK's own retries are
 * off: the Action retries and backs off itself, so every call is counted and none hides a wait.
 */
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { CodebuildRunError } from '../src/errors.js';

export interface AwsClients {
  codebuild: CodeBuildClient;
  /** The logs client is loaded on first use, after the build started. */
  logs: () => Promise<CloudWatchLogsClient>;
}

export function awsClients(env: Readonly<Record<string, string | undefined>>): AwsClients {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region) {
    throw new CodebuildRunError(
      'no AWS region: run aws-actions/configure-aws-credentials (with aws-region) before this ' +
        'step, or set AWS_REGION in the job',
      'action.no-region',
    );
  }
  const config = { region, maxAttempts: 1, customUserAgent: 'codebuild-run-action' };
  let logs: Promise<CloudWatchLogsClient> | undefined;
  return {
    codebuild: new CodeBuildClient(config),
    logs: () => {
      logs ??= import('@aws-sdk/client-cloudwatch-logs').then(
        ({ CloudWatchLogsClient }) => new CloudWatchLogsClient(config),
      );
      return logs;
    },
  };
}

/** A hint for errors whose fix is in the workflow rather than in the message. */
export function awsHint(error: unknown): string {
  const name = (error as { name?: unknown })?.name;
  if (name === 'CredentialsProviderError') {
    return ' Run aws-actions/configure-aws-credentials before this step so the job has AWS credentials.';
  }
  if (name === 'AccessDeniedException' || name === 'UnauthorizedOperation') {
    return " The role's policy must allow the calls listed in docs/action.md (IAM policy).";
  }
  return '';
}
