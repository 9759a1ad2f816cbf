/** Sample deliveries and jobs for the store tests, and throwaway store files. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PushEvent } from '../../src/forge/types.js';
import type { NewDelivery, NewJob } from '../../src/store/index.js';

export function sampleEvent(sha: string, ref = 'refs/heads/main'): PushEvent {
  return {
    host: 'github',
    deliveryId: `delivery-for-${sha}`,
    repo: {
      fullName: 'octo/app',
      id: null,
      cloneUrl: 'https://github.com/octo/app.git',
      webUrl: 'https://github.com/octo/app',
      defaultBranch: 'main',
      private: false,
    },
    ref,
    refName: ref.replace(/^refs\/(heads|tags)\//, ''),
    refKind: 'branch',
    before: null,
    sha,
    created: false,
    deleted: false,
    headCommitMessage: 'Fix the build',
    changedPaths: { paths: ['src/index.ts', 'README.md'], truncated: false },
    pusher: 'octocat',
  };
}

export function sampleJob(id: string, fields: Partial<NewJob> = {}): NewJob {
  const sha = fields.sha ?? `sha-${id}`;
  const ref = fields.ref ?? 'refs/heads/main';
  return {
    id,
    repo: 'octo/app',
    ref,
    sha,
    ruleName: 'default',
    projectName: 'app-ci',
    statusContext: 'codebuild/app-ci',
    event: sampleEvent(sha, ref),
    plan: { projectName: 'app-ci', tokenSecret: { secretsManagerArn: 'arn:aws:secretsmanager:x' } },
    ...fields,
  };
}

export function sampleDelivery(
  deliveryId: string,
  jobs: NewJob[],
  fields: Partial<NewDelivery> = {},
): NewDelivery {
  return {
    hostId: 'github',
    deliveryId,
    receivedAt: 1_000,
    outcome: jobs.length > 0 ? 'planned' : 'ignored',
    reason: null,
    jobs,
    ...fields,
  };
}

/** A fresh directory for store files; call the returned `remove` in afterEach. */
export function tempDir(): { dir: string; path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'store-test-'));
  return {
    dir,
    path: join(dir, 'data', 'codebuild-run.sqlite'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The crash test's delivery number `n`: 1 to 3 jobs, each with a few pages of event JSON. */
export function crashDelivery(n: number): NewDelivery {
  const jobs = Array.from({ length: 1 + (n % 3) }, (_, j) => {
    const job = sampleJob(`crash-${n}-job-${j}`);
    const paths = Array.from({ length: 100 }, (_, p) => `src/module-${n}/file-${j}-${p}.ts`);
    return { ...job, event: { ...job.event, changedPaths: { paths, truncated: false } } };
  });
  return sampleDelivery(`crash-${n}`, jobs, { receivedAt: 1_000 + n });
}
