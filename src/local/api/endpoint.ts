/**
 * Assembles the local CodeBuild from its parts: the store in the data directory, the build and
 * batch runners around an executor, the faults, and the request handler. Builds a previous process
 * left running are settled (FAILED, naming the restart) before the first request is answered.
 */
import { join } from 'node:path';
import type { Clock, Logger } from '../../deps.js';
import { openLocalStore } from '../store/index.js';
import { BatchRunner } from './batches.js';
import { BuildRunner, type ExecuteBuild } from './build-runner.js';
import { applyLocalConfig, type LocalConfig } from './config.js';
import type { EndpointContext } from './context.js';
import { Faults, parseFault } from './faults.js';
import { createApiHandler } from './index.js';
import { resolveSecretReference } from './secrets.js';

export interface LocalEndpointOptions {
  dataDir: string;
  clock: Clock;
  logger: Logger;
  region?: string;
  accountId?: string;
  /** Projects, parameters and secrets to write at start (the projects file). */
  config?: LocalConfig;
  /** Names the config in error messages, e.g. its path. */
  configSource?: string;
  /** Faults active from the start, e.g. `StartBuild=throttle:2` (see faults.ts). */
  faults?: string[];
  executeBuild: ExecuteBuild;
  /** What a build's processes start with (PATH, …); the executor has a minimal default. */
  baseEnvironment?: Record<string, string>;
  /** How long close() lets running builds wind down. Default 5 s. */
  shutdownGraceMs?: number;
}

export interface LocalEndpoint {
  handle(request: Request): Promise<Response>;
  /** Ends running builds (recorded FAILED, naming the shutdown) and closes the store. */
  close(): Promise<void>;
  readonly region: string;
  readonly accountId: string;
  readonly dataDir: string;
  /** How many builds a previous process left running, now FAILED. */
  readonly recoveredBuilds: number;
  readonly faults: Faults;
}

export function createLocalEndpoint(options: LocalEndpointOptions): LocalEndpoint {
  const faultRules = (options.faults ?? []).map(parseFault);
  const store = openLocalStore(options.dataDir);
  const ctx: EndpointContext = {
    store,
    clock: options.clock,
    logger: options.logger,
    region: options.region ?? 'us-east-1',
    accountId: options.accountId ?? '000000000000',
  };
  try {
    const runner = new BuildRunner(ctx, {
      executeBuild: options.executeBuild,
      workDir: join(options.dataDir, 'work'),
      ...(options.baseEnvironment ? { baseEnvironment: options.baseEnvironment } : {}),
      resolveSecret: async (reference) => resolveSecretReference(ctx, reference),
      resolveParameter: async (name) => {
        const value = store.parameters.get(name);
        if (value === undefined) {
          throw new Error(
            `Parameter Store parameter ${name} is not defined in the local CodeBuild; add it under parameters in the --projects file`,
          );
        }
        return value;
      },
    });
    const batches = new BatchRunner(ctx, runner, join(options.dataDir, 'work'));
    const recoveredBuilds = runner.recover();
    batches.recover();
    if (recoveredBuilds > 0) {
      ctx.logger.warn(
        { builds: recoveredBuilds },
        'builds left running by the previous process are now FAILED',
      );
    }
    if (options.config)
      applyLocalConfig(ctx, options.config, options.configSource ?? 'projects file');
    const faults = new Faults();
    faults.add(faultRules);
    const handle = createApiHandler({ ctx, runner, batches, faults });
    let closing: Promise<void> | undefined;
    return {
      handle,
      close: () => {
        batches.close();
        closing ??= runner.close(options.shutdownGraceMs ?? 5000).finally(() => store.close());
        return closing;
      },
      region: ctx.region,
      accountId: ctx.accountId,
      dataDir: options.dataDir,
      recoveredBuilds,
      faults,
    };
  } catch (error) {
    store.close();
    throw error;
  }
}
