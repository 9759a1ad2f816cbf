/**
 * The webhook server on AWS Lambda (behind a function URL or API Gateway): the same createApp,
 * through hono's aws-lambda adapter. A Lambda invocation only answers deliveries: it verifies,
 * plans and records them durably, then returns. The steps after that (StartBuild, statuses,
 * watching builds) are not run here: drive them with a Worker elsewhere, e.g. a function invoked
 * by an EventBridge schedule (or by EventBridge "CodeBuild Build State Change" events) that runs
 * the worker over the same store for a bounded time, or a `codebuild-run serve` process sharing it.
 *
 * Environment: CODEBUILD_RUN_CONFIG (the config file in the bundle), CODEBUILD_RUN_DATA_DIR (a
 * directory every invocation and the worker share, e.g. an EFS mount: Lambda's /tmp is neither
 * durable nor shared), AWS_REGION (set by Lambda), and the variables the config's secrets name.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';
import { parseConfig } from '../src/config.js';
import { systemClock } from '../src/deps.js';
import { SecretReader } from '../src/secrets.js';
import { openSqliteStore } from '../src/store/index.js';
import { type AppEnv, createApp } from './app.js';
import { awsClients, awsReadiness } from './aws.js';
import { createLogger } from './logger.js';
import { createSecretResolver } from './secrets.js';

let app: Hono<AppEnv> | undefined;

/** Built on the first invocation and kept while the execution environment lives. */
function appFromEnvironment(): Hono<AppEnv> {
  const env = process.env;
  const configPath = env.CODEBUILD_RUN_CONFIG;
  const dataDir = env.CODEBUILD_RUN_DATA_DIR;
  if (!configPath || !dataDir) {
    throw new Error(
      'set CODEBUILD_RUN_CONFIG (the config file) and CODEBUILD_RUN_DATA_DIR (a shared, durable directory such as an EFS mount) on the function',
    );
  }
  const config = parseConfig(readFileSync(configPath, 'utf8'), configPath);
  const clients = awsClients(config);
  const logger = createLogger({ bindings: { runtime: 'lambda' } });
  return createApp({
    config,
    store: openSqliteStore({ path: join(dataDir, 'server.sqlite') }),
    secrets: createSecretResolver({
      env,
      reader: new SecretReader({
        client: clients.secretsManager,
        clock: systemClock,
        logger: logger.child({ component: 'secrets' }),
      }),
    }),
    // The worker runs elsewhere and finds the new jobs on its next look at the store.
    worker: { wake() {} },
    logger,
    clock: systemClock,
    checkAws: awsReadiness(clients.codebuild, config),
  });
}

export const handler: ReturnType<typeof handle> = (event, context) => {
  app ??= appFromEnvironment();
  return handle(app)(event, context);
};
