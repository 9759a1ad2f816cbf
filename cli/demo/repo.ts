/**
 * The demo's repository: a bare repository served over HTTP (what the build clones) and a work
 * tree pushing to it (where commits are made), plus the GitHub push payload a git host would
 * send for a push to it. git runs with no user or system configuration.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const DEMO_REPO = 'demo/app';
export const DEMO_BRANCH = 'main';
const ZERO_SHA = '0'.repeat(40);

export const DEMO_BUILDSPEC = `version: 0.2
phases:
  build:
    commands:
      - echo "Building $CODEBUILD_RESOLVED_SOURCE_VERSION of $CODEBUILD_SOURCE_REPO_URL"
      - cat hello.txt
      - test -f buildspec.yml
  post_build:
    commands:
      - echo "The checkout holds $(ls | wc -l) files"
`;

export interface DemoRepo {
  /** The work tree: commit here and `git push`, the demo sends the webhook. */
  readonly workDir: string;
  /** The bare repository the git HTTP server serves. */
  readonly bareDir: string;
  /** Runs git in the work tree (argv, no shell); returns trimmed stdout. */
  git(args: readonly string[]): string;
  /** The sha `refs/heads/<branch>` of the bare repository points to, or null. */
  pushedSha(branch?: string): string | null;
}

/** No user or system configuration, a fixed identity: the same on every machine. */
export function demoGitEnv(env: Readonly<Record<string, string | undefined>>, home: string) {
  return {
    PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Demo Developer',
    GIT_AUTHOR_EMAIL: 'developer@demo.invalid',
    GIT_COMMITTER_NAME: 'Demo Developer',
    GIT_COMMITTER_EMAIL: 'developer@demo.invalid',
    LANG: 'C.UTF-8',
  };
}

/** Creates `<root>/demo/app.git` and a work tree with a buildspec, pushed as the first commit. */
export function createDemoRepo(options: {
  root: string;
  workDir: string;
  env: NodeJS.ProcessEnv;
}): DemoRepo {
  const { root, workDir, env } = options;
  const bareDir = join(root, `${DEMO_REPO}.git`);
  const run = (cwd: string, args: readonly string[]) =>
    execFileSync('git', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
      .toString('utf8')
      .trim();
  mkdirSync(dirname(bareDir), { recursive: true });
  run(root, ['init', '--quiet', '--bare', bareDir]);
  mkdirSync(workDir, { recursive: true });
  run(workDir, ['init', '--quiet', `--initial-branch=${DEMO_BRANCH}`]);
  run(workDir, ['remote', 'add', 'origin', bareDir]);
  writeFileSync(join(workDir, 'buildspec.yml'), DEMO_BUILDSPEC);
  writeFileSync(join(workDir, 'hello.txt'), 'Hello from the pushed commit.\n');
  run(workDir, ['add', '--all']);
  run(workDir, ['commit', '--quiet', '-m', 'Add a buildspec']);
  run(workDir, ['push', '--quiet', '--set-upstream', 'origin', DEMO_BRANCH]);
  return {
    workDir,
    bareDir,
    git: (args) => run(workDir, args),
    pushedSha(branch = DEMO_BRANCH) {
      try {
        return run(bareDir, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]);
      } catch {
        return null;
      }
    },
  };
}

interface PushCommit {
  id: string;
  tree_id: string;
  distinct: boolean;
  message: string;
  timestamp: string;
  url: string;
  author: { name: string; email: string; username: string };
  committer: { name: string; email: string; username: string };
  added: string[];
  removed: string[];
  modified: string[];
}

function describeCommit(repo: DemoRepo, sha: string, webUrl: string): PushCommit {
  const [tree, message, timestamp, name, email] = repo
    .git(['show', '-s', '--format=%T%x00%B%x00%cI%x00%an%x00%ae', sha])
    .split('\0');
  const changes = repo
    .git(['diff-tree', '--root', '--no-commit-id', '--name-status', '-r', sha])
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t') as [string, string]);
  const paths = (status: string) => changes.filter(([s]) => s === status).map(([, p]) => p);
  const person = { name: name ?? '', email: email ?? '', username: 'demo-developer' };
  return {
    id: sha,
    tree_id: tree ?? '',
    distinct: true,
    message: (message ?? '').trim(),
    timestamp: timestamp ?? '',
    url: `${webUrl}/commit/${sha}`,
    author: person,
    committer: person,
    added: paths('A'),
    removed: paths('D'),
    modified: paths('M'),
  };
}

/** GitHub's `push` payload for `before..after` on the demo branch (GitHub's field names). */
export function pushPayload(options: {
  repo: DemoRepo;
  cloneUrl: string;
  before: string | null;
  after: string;
}): object {
  const { repo, cloneUrl, after } = options;
  const before = options.before ?? ZERO_SHA;
  const webUrl = cloneUrl.replace(/\.git$/, '');
  const range = options.before ? `${options.before}..${after}` : after;
  const shas = repo.git(['rev-list', '--reverse', range]).split('\n').filter(Boolean);
  const commits = shas.map((sha) => describeCommit(repo, sha, webUrl));
  const [owner, name] = DEMO_REPO.split('/') as [string, string];
  return {
    ref: `refs/heads/${DEMO_BRANCH}`,
    before,
    after,
    repository: {
      id: 1,
      node_id: 'R_demo',
      name,
      full_name: DEMO_REPO,
      private: false,
      owner: { name: owner, login: owner, id: 1, type: 'Organization' },
      html_url: webUrl,
      description: 'The codebuild-run demo repository',
      fork: false,
      url: webUrl,
      clone_url: cloneUrl,
      default_branch: DEMO_BRANCH,
      master_branch: DEMO_BRANCH,
    },
    pusher: { name: 'demo-developer', email: 'developer@demo.invalid' },
    sender: { login: 'demo-developer', id: 2, type: 'User' },
    created: options.before === null,
    deleted: false,
    forced: false,
    base_ref: null,
    compare: `${webUrl}/compare/${before.slice(0, 12)}...${after.slice(0, 12)}`,
    commits,
    head_commit: commits.at(-1) ?? null,
  };
}
