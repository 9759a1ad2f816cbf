/**
 * The local CodeBuild: a CodeBuild, CloudWatch Logs and Secrets Manager endpoint for one machine,
 * running builds with the local executor. Serve `handle` on 127.0.0.1 and point any AWS SDK at it
 * (`AWS_ENDPOINT_URL=http://127.0.0.1:<port>`, any credentials).
 */
import type { Clock, Logger } from '../deps.js';
import type { ExecuteBuild } from './api/build-runner.js';
import type { LocalConfig } from './api/config.js';
import { createLocalEndpoint, type LocalEndpoint } from './api/endpoint.js';
import { executeBuild } from './executor/index.js';

export { type LocalConfig, LocalConfigError, parseLocalConfig } from './api/config.js';
export type { LocalEndpoint as LocalCodeBuild } from './api/endpoint.js';
export { FaultSyntaxError, parseFault } from './api/faults.js';

export interface LocalCodeBuildOptions {
  /** Where builds, logs, secrets and projects are kept; reopening it restores them. */
  dataDir: string;
  clock: Clock;
  logger: Logger;
  region?: string;
  accountId?: string;
  /** Projects (CreateProject's shape), or a whole config with parameters and secrets too. */
  projects?: LocalConfig | NonNullable<LocalConfig['projects']>;
  /** Names the projects config in error messages (its path). */
  projectsSource?: string;
  /** Faults active from the start, e.g. `StartBuild=throttle:2`. */
  faults?: string[];
  /** What build processes start with; the executor's default is a minimal PATH and a fresh HOME. */
  baseEnvironment?: Record<string, string>;
  shutdownGraceMs?: number;
  /** Only for tests of the endpoint itself: the real executor runs builds otherwise. */
  executeBuild?: ExecuteBuild;
}

export function createLocalCodeBuild(options: LocalCodeBuildOptions): LocalEndpoint {
  return createLocalEndpoint({
    dataDir: options.dataDir,
    clock: options.clock,
    logger: options.logger,
    executeBuild: options.executeBuild ?? executeBuild,
    ...(options.region ? { region: options.region } : {}),
    ...(options.accountId ? { accountId: options.accountId } : {}),
    ...(options.projects
      ? {
          config: Array.isArray(options.projects)
            ? { projects: options.projects }
            : options.projects,
        }
      : {}),
    ...(options.projectsSource ? { configSource: options.projectsSource } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.baseEnvironment ? { baseEnvironment: options.baseEnvironment } : {}),
    ...(options.shutdownGraceMs !== undefined ? { shutdownGraceMs: options.shutdownGraceMs } : {}),
  });
}
