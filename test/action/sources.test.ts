/**
 * The bundle's sources against a real git smart-HTTP server and the local CodeBuild: `clone`
 * (NO_SOURCE, the clone prelude fetches the commit, with and without a token from Secrets
 * Manager) and `github` (CodeBuild's own source at the workflow's commit, the PR head on
 * pull_request, a buildspec path read from the source).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitRepo, type GitServer, startGitServer } from '../support/git-server.js';
import { type LocalCodeBuildProcess, startLocalCodeBuild } from '../support/local-codebuild.js';
import { groupText, requireBundle, runAction, type Workspace, workspace } from './harness.js';

requireBundle();

const TOKEN = 'clone-token-for-tests-7f3a';
let local: LocalCodeBuildProcess;
let publicServer: GitServer;
let privateServer: GitServer;
let publicRepo: GitRepo;
let privateRepo: GitRepo;
let mainSha: string;
let featureSha: string;
let privateSha: string;
const workspaces: Workspace[] = [];

const buildspecFile = [
  'version: 0.2',
  'env:',
  '  exported-variables: [BUILT_SHA, GREETING]',
  'phases:',
  '  build:',
  '    commands:',
  '      - cat hello.txt',
  '      - export BUILT_SHA="$CODEBUILD_RESOLVED_SOURCE_VERSION"',
  '      - export GREETING="$(cat hello.txt)"',
  '',
].join('\n');

beforeAll(async () => {
  [local, publicServer, privateServer] = await Promise.all([
    startLocalCodeBuild({
      projects: {
        projects: [{ name: 'app' }],
        secrets: { 'ci/git': JSON.stringify({ token: TOKEN }) },
      },
    }),
    startGitServer(),
    startGitServer({ auth: { scheme: 'basic', username: 'x-access-token', token: TOKEN } }),
  ]);
  publicRepo = publicServer.createRepo('org/app.git');
  mainSha = publicRepo.commit('main', 'first', {
    'hello.txt': 'hello from main\n',
    'buildspec.yml': buildspecFile,
  });
  featureSha = publicRepo.commit('feature', 'second', { 'hello.txt': 'hello from the PR head\n' });
  privateRepo = privateServer.createRepo('org/secret-app.git');
  privateSha = privateRepo.commit('main', 'private', {
    'hello.txt': 'hello from a private repo\n',
  });
});
afterAll(async () => {
  for (const ws of workspaces) ws.close();
  await Promise.all([local?.close(), publicServer?.close(), privateServer?.close()]);
});

/** A runner workspace with the repository's buildspec.yml checked out, as actions/checkout leaves it. */
function checkout(server: GitServer, repository: string, env: Record<string, string> = {}) {
  const ws = workspace({ GITHUB_SERVER_URL: server.url, GITHUB_REPOSITORY: repository, ...env });
  workspaces.push(ws);
  writeFileSync(join(ws.dir, 'buildspec.yml'), buildspecFile);
  ws.env.GITHUB_WORKSPACE = ws.dir;
  return ws;
}

describe('source: clone', () => {
  it("clones the workflow's commit of a public repository and runs the checked-out buildspec.yml", async () => {
    const ws = checkout(publicServer, 'org/app', { GITHUB_SHA: mainSha });
    const result = await runAction(ws, {
      endpoint: local.url,
      inputs: { 'project-name': 'app', source: 'clone' },
    });
    expect(result.code, result.stdout).toBe(0);
    expect(groupText(result.stdout, 'INSTALL')).toContain(`codebuild-run: checked out ${mainSha}`);
    expect(groupText(result.stdout, 'BUILD')).toContain('hello from main');
    expect(result.outputs.BUILT_SHA).toBe(mainSha);
    expect(publicServer.requests.length).toBeGreaterThan(0);
  });

  it('clones a private repository with the token from clone-token-secret; the token is never printed', async () => {
    const ws = checkout(privateServer, 'org/secret-app', { GITHUB_SHA: privateSha });
    const result = await runAction(ws, {
      endpoint: local.url,
      inputs: { 'project-name': 'app', source: 'clone', 'clone-token-secret': 'ci/git:token' },
    });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.GREETING).toBe('hello from a private repo');
    expect(privateServer.requests.some((r) => r.authScheme === 'basic' && r.status === 200)).toBe(
      true,
    );
    expect(result.stdout).not.toContain(TOKEN);
    expect(result.summary).not.toContain(TOKEN);
  });

  it('fails in INSTALL with the clone error when the token is missing', async () => {
    const ws = checkout(privateServer, 'org/secret-app', { GITHUB_SHA: privateSha });
    const result = await runAction(ws, {
      endpoint: local.url,
      inputs: { 'project-name': 'app', source: 'clone' },
    });
    expect(result.code).toBe(1);
    expect(result.outputs['failed-phase']).toBe('INSTALL');
    expect(result.stdout).toMatch(/^::error title=CodeBuild app #\d+ FAILED in INSTALL::/m);
  });
});

describe('source: github', () => {
  it("builds the workflow's commit with CodeBuild's own source, reading a buildspec path from it", async () => {
    const ws = checkout(publicServer, 'org/app', { GITHUB_SHA: mainSha });
    const result = await runAction(ws, {
      endpoint: local.url,
      inputs: { 'project-name': 'app', buildspec: 'buildspec.yml' },
    });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.GREETING).toBe('hello from main');
    expect(result.summary).toContain(`org/app at ${mainSha.slice(0, 12)}`);
  });

  it('builds the pull request head on pull_request events', async () => {
    const ws = checkout(publicServer, 'org/app', {
      GITHUB_SHA: 'b'.repeat(40),
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_REF: 'refs/pull/7/merge',
      GITHUB_HEAD_REF: 'feature',
    });
    writeFileSync(
      ws.env.GITHUB_EVENT_PATH!,
      JSON.stringify({ pull_request: { number: 7, head: { sha: featureSha, ref: 'feature' } } }),
    );
    const result = await runAction(ws, {
      endpoint: local.url,
      inputs: { 'project-name': 'app', buildspec: buildspecFile },
    });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.GREETING).toBe('hello from the PR head');
    expect(result.summary).toContain('the pull request head');
  });
});
