/**
 * The worker side of the server: the one BuildWatcher, the repository file reader (buildspecs
 * at the pushed sha) and the Worker that carries each accepted job to its final status.
 */
import type { Build } from '@aws-sdk/client-codebuild';
import { BuildWatcher, type PollPolicy } from '../src/codebuild/index.js';
import type { Config } from '../src/config.js';
import { type Fetch, type Logger, systemClock } from '../src/deps.js';
import { RepoFileReader } from '../src/git/read-file.js';
import type { Store } from '../src/store/index.js';
import { type PipelineTiming, type TriggerMetrics, Worker } from '../src/trigger.js';
import type { AwsClients } from './aws.js';
import type { SecretResolver } from './secrets.js';

export type { PipelineTiming } from '../src/trigger.js';

export interface PipelineDeps {
  config: Config;
  store: Store;
  clients: AwsClients;
  secrets: SecretResolver;
  metrics: TriggerMetrics;
  logger: Logger;
  fetch: Fetch;
  /** Where fetched repositories are cached to read buildspec files. */
  cacheDir: string;
  /** What git runs with (PATH, proxy variables). */
  gitEnv: Readonly<Record<string, string | undefined>>;
  concurrency: number;
  timing?: Partial<PipelineTiming>;
  /** How often builds are polled; the default suits AWS's rate limits. */
  watchPolicy?: Partial<PollPolicy>;
  buildUrl?: (build: Build) => string;
}

export interface RunningPipeline {
  wake(): void;
  /** BatchGetBuilds calls so far. */
  watcherCalls(): number;
  /** The worker finishes its steps in progress, then the watcher closes. */
  stop(): Promise<void>;
}

export function startPipeline(deps: PipelineDeps): RunningPipeline {
  const watcher = new BuildWatcher({
    client: deps.clients.codebuild,
    clock: systemClock,
    logger: deps.logger,
    ...(deps.watchPolicy ? { policy: deps.watchPolicy } : {}),
  });
  const worker = new Worker({
    config: deps.config,
    store: deps.store,
    codebuild: deps.clients.codebuild,
    watcher,
    secrets: deps.secrets,
    repoFiles: new RepoFileReader({
      cacheDir: deps.cacheDir,
      logger: deps.logger,
      gitEnv: deps.gitEnv,
    }),
    fetch: deps.fetch,
    clock: systemClock,
    logger: deps.logger,
    metrics: deps.metrics,
    concurrency: deps.concurrency,
    ...(deps.timing ? { timing: deps.timing } : {}),
    ...(deps.buildUrl ? { buildUrl: deps.buildUrl } : {}),
  });
  worker.start();
  let stopping: Promise<void> | undefined;
  return {
    wake: () => worker.wake(),
    watcherCalls: () => watcher.calls,
    stop: () => {
      stopping ??= worker.stop().finally(() => watcher.close());
      return stopping;
    },
  };
}
