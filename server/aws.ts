/**
 * Where builds run: AWS, when this process has AWS credentials (or an endpoint) in its
 * environment, or the local CodeBuild started in this process on 127.0.0.1 when it has none.
 * The same SDK clients talk to either; only their endpoint and credentials differ.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import {
  BatchGetProjectsCommand,
  type BatchGetProjectsCommandOutput,
  CodeBuildClient,
} from '@aws-sdk/client-codebuild';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Config } from '../src/config.js';

export type CodeBuildMode = 'auto' | 'aws' | 'local';

/** Variables that say this process is meant to reach AWS (or an AWS-compatible endpoint). */
const AWS_HINTS = [
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_CODEBUILD',
  'AWS_ACCESS_KEY_ID',
  'AWS_PROFILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
] as const;

/** `local` unless asked for AWS or the environment names AWS credentials or an endpoint. */
export function chooseMode(
  requested: CodeBuildMode,
  env: Readonly<Record<string, string | undefined>>,
): { mode: 'aws' | 'local'; why: string } {
  if (requested === 'aws') return { mode: 'aws', why: '--aws was given' };
  if (requested === 'local') return { mode: 'local', why: '--local was given' };
  const hint = AWS_HINTS.find((name) => env[name]);
  if (hint) return { mode: 'aws', why: `${hint} is set` };
  return {
    mode: 'local',
    why: `no AWS configuration in the environment (none of ${AWS_HINTS.join(', ')} is set)`,
  };
}

export interface AwsClients {
  codebuild: CodeBuildClient;
  logs: CloudWatchLogsClient;
  secretsManager: SecretsManagerClient;
}

/** Clients for AWS itself: region from the config, else the SDK's own chain (env, profile). */
export function awsClients(config: Config): AwsClients {
  const settings = config.region ? { region: config.region } : {};
  return {
    codebuild: new CodeBuildClient(settings),
    logs: new CloudWatchLogsClient(settings),
    secretsManager: new SecretsManagerClient(settings),
  };
}

/** Clients for the local CodeBuild: its URL, its region, any credentials (it checks none). */
export function localClients(endpoint: string, region: string): AwsClients {
  const settings = {
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  return {
    codebuild: new CodeBuildClient(settings),
    logs: new CloudWatchLogsClient(settings),
    secretsManager: new SecretsManagerClient(settings),
  };
}

/** The projects the rules start, each once. */
export function ruleProjects(config: Config): string[] {
  return [...new Set(config.rules.map((rule) => rule.project))];
}

/**
 * For /readyz: CodeBuild answers, with these credentials, and knows every project the rules
 * name (BatchGetProjects takes up to 100 names). Rejects with what is wrong.
 */
export function awsReadiness(codebuild: CodeBuildClient, config: Config): () => Promise<void> {
  const names = ruleProjects(config).slice(0, 100);
  return async () => {
    let answer: BatchGetProjectsCommandOutput;
    try {
      answer = await codebuild.send(new BatchGetProjectsCommand({ names }));
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new Error(`CodeBuild BatchGetProjects failed: ${name}: ${message}`);
    }
    const missing = answer.projectsNotFound ?? [];
    if (missing.length > 0) {
      throw new Error(
        `CodeBuild has no project ${missing.join(', ')}: create it, or fix the project of the rules naming it`,
      );
    }
  };
}

/** The region the SDK settled on, or null with none configured anywhere. */
export async function resolvedRegion(client: CodeBuildClient): Promise<string | null> {
  try {
    return await client.config.region();
  } catch {
    return null;
  }
}
