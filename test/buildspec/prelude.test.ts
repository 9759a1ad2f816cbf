// biome-ignore-all lint/suspicious/noTemplateCurlyInString: buildspec commands are shell text
/**
 * The clone step run for real: generated buildspecs executed as CodeBuild runs them (one shell for
 * all phases, in bash and in dash) against a git smart-HTTP server that requires a token.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CloneSource, injectClonePrelude, parseBuildspec } from '../../src/buildspec/index.js';
import { type GitRepo, type GitServer, startGitServer } from '../support/git-server.js';
import { runBuildspec, runProcess, type Shell, tempRoot } from './run-phases.js';

const TOKEN = 'ghs_TestToken0123456789abcdefXYZ';
const TOKEN_REF = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:git-token:token';
const USERNAME = 'x-access-token';
const BASIC = Buffer.from(`${USERNAME}:${TOKEN}`).toString('base64');

/** Processes whose argv held the token while the server was answering them. */
const argvLeaks: string[] = [];
function scanArgv() {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (argv.includes(TOKEN) || argv.includes(BASIC)) argvLeaks.push(argv.replaceAll('\0', ' '));
    } catch {
      // The process ended between the listing and the read.
    }
  }
}

let server: GitServer;
let repo: GitRepo;
let first: string;
let tagObject: string;
const work = tempRoot('cbr-prelude-');

beforeAll(async () => {
  server = await startGitServer({
    auth: { scheme: 'basic', username: USERNAME, token: TOKEN },
    onRequest: scanArgv,
  });
  repo = server.createRepo('org/app.git');
  first = repo.commit('main', 'first commit', { 'README.md': 'one\n', 'src/a.txt': 'a\n' });
  // The branch moves on: the build must still get `first`, the pushed commit.
  repo.commit('main', 'second commit', { 'README.md': 'two\n' });
  tagObject = repo.tag('v1.0', first, 'release 1.0');
});

afterAll(async () => {
  await server?.close();
  work.remove();
});

function source(overrides: Partial<CloneSource> = {}): CloneSource {
  return {
    cloneUrl: repo.url,
    sha: first,
    ref: 'refs/heads/main',
    refKind: 'branch',
    refName: 'main',
    host: 'github',
    before: '1'.repeat(40),
    tokenSecretRef: TOKEN_REF,
    auth: { scheme: 'basic', username: USERNAME },
    ...overrides,
  };
}

const shellLine = (shell: Shell) => (shell === 'dash' ? '/bin/sh' : 'bash');

/** A user buildspec whose build phase records what a user's command sees. */
function recordingBuildspec(shell: Shell): string {
  return [
    "# the user's own buildspec",
    'version: 0.2',
    'env:',
    `  shell: ${shellLine(shell)}`,
    'phases:',
    '  build:',
    '    commands:',
    '      - env > "$HOME/env-dump"',
    '      - printf "%s\\n" "$-" > "$HOME/options"; pwd > "$HOME/cwd"',
    '      - git rev-parse HEAD > "$HOME/head"',
    '',
  ].join('\n');
}

/** A buildspec where every user command and finally would leave a marker file. */
function markingBuildspec(shell: Shell, onFailure: 'CONTINUE' | null): string {
  const policy = onFailure ? `    on-failure: ${onFailure}\n` : '';
  const phase = (name: string) =>
    `  ${name}:\n${policy}    commands:\n      - touch "$HOME/ran-${name}"\n    finally:\n      - touch "$HOME/ran-${name}-finally"\n`;
  return `version: 0.2\nenv:\n  shell: ${shellLine(shell)}\nphases:\n${['install', 'pre_build', 'build', 'post_build'].map(phase).join('')}`;
}

function homeOf(srcDir: string) {
  return join(srcDir, '..');
}

async function build(shell: Shell, buildspecText: string, clone: CloneSource, token = TOKEN) {
  const injected = injectClonePrelude(parseBuildspec(buildspecText), clone);
  const run = await runBuildspec(injected.buildspec, work.dir, {
    shell,
    environmentVariables: injected.environmentVariables,
    secrets: { [TOKEN_REF]: token },
  });
  return { ...run, buildspec: injected.buildspec, home: homeOf(run.srcDir) };
}

function expectNoToken(texts: Record<string, string>) {
  for (const [where, text] of Object.entries(texts)) {
    expect(text.includes(TOKEN), `token in ${where}`).toBe(false);
    expect(text.includes(BASIC), `encoded token in ${where}`).toBe(false);
  }
}

describe.each(['bash', 'dash'] as const)('the clone step in %s', (shell) => {
  it('checks out exactly the pushed sha, exports what a native source sets, and leaks nothing', async () => {
    server.resetCounters();
    argvLeaks.length = 0;
    const run = await build(shell, recordingBuildspec(shell), source());
    expect(run.phases).toEqual({ install: 'SUCCEEDED', build: 'SUCCEEDED' });
    // `first` is not the branch's tip: the checkout is the pushed commit, not the ref.
    expect(readFileSync(join(run.home, 'head'), 'utf8').trim()).toBe(first);
    expect(readFileSync(join(run.srcDir, 'README.md'), 'utf8')).toBe('one\n');

    const env = readFileSync(join(run.home, 'env-dump'), 'utf8');
    const seen = Object.fromEntries(
      env
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(seen).toMatchObject({
      CODEBUILD_RESOLVED_SOURCE_VERSION: first,
      CODEBUILD_SOURCE_VERSION: first,
      CODEBUILD_SOURCE_REPO_URL: repo.url,
      CODEBUILD_WEBHOOK_TRIGGER: 'branch/main',
      CODEBUILD_WEBHOOK_HEAD_REF: 'refs/heads/main',
      CODEBUILD_WEBHOOK_PREV_COMMIT: '1'.repeat(40),
      CODEBUILD_WEBHOOK_EVENT: 'PUSH',
    });
    expect(seen.CBR_GIT_TOKEN).toBeUndefined();
    expect(Object.keys(seen).filter((name) => /^GIT_CONFIG_(COUNT|KEY|VALUE)/.test(name))).toEqual(
      [],
    );

    // No shell option and no working directory carried out of the clone step.
    expect(readFileSync(join(run.home, 'options'), 'utf8').trim()).toBe(run.initialOptions);
    expect(readFileSync(join(run.home, 'cwd'), 'utf8').trim()).toBe(run.initialCwd);

    // The token went as a header (the server accepted it) and nowhere else.
    expect(server.requests.length).toBeGreaterThan(0);
    expect(server.requests.every((r) => r.authScheme === 'basic' && r.status === 200)).toBe(true);
    expect(server.requests.every((r) => r.gitProtocol === 'version=2')).toBe(true);
    const gitConfig = readFileSync(join(run.srcDir, '.git', 'config'), 'utf8');
    expect(gitConfig).toContain(repo.url);
    expect(gitConfig.toLowerCase()).not.toContain('extraheader');
    expectNoToken({
      stdout: run.stdout,
      stderr: run.stderr,
      'env dump': env,
      '.git/config': gitConfig,
      buildspec: run.buildspec,
      'request URLs': server.requests.map((r) => r.url).join('\n'),
    });
    expect(argvLeaks).toEqual([]);
  });

  it('fails the build and runs no user command when the token is wrong, whatever on-failure says', async () => {
    const run = await build(shell, markingBuildspec(shell, 'CONTINUE'), source(), 'wrong-token');
    expect(run.status).toBe('FAILED');
    expect(run.phases).toEqual({
      install: 'FAILED',
      pre_build: 'FAILED',
      build: 'FAILED',
      post_build: 'FAILED',
    });
    expect(readdirSync(run.home).filter((name) => name.startsWith('ran-'))).toEqual([]);
    expect(run.stderr).toContain('codebuild-run: clone failed');
    expect(run.stderr).toContain('the clone step in the install phase failed');
    expect(existsSync(join(run.srcDir, 'README.md'))).toBe(false);
    expect(run.stderr.includes('wrong-token')).toBe(false);
  });

  it('fails the build when the host does not have the sha, and stops at the install phase', async () => {
    const missing = 'd'.repeat(40);
    const run = await build(shell, markingBuildspec(shell, null), source({ sha: missing }));
    expect(run.phases).toEqual({ install: 'FAILED' });
    expect(run.status).toBe('FAILED');
    expect(run.stderr).toContain(`commit ${missing} is not within 1000 commits of refs/heads/main`);
    expect(readdirSync(run.home).filter((name) => name.startsWith('ran-'))).toEqual([]);
  });

  it('falls back to the ref and deepens when the host refuses to fetch by sha', async () => {
    server.refuseFetchBySha = true;
    try {
      server.resetCounters();
      const run = await build(shell, recordingBuildspec(shell), source());
      expect(run.phases).toEqual({ install: 'SUCCEEDED', build: 'SUCCEEDED' });
      expect(readFileSync(join(run.home, 'head'), 'utf8').trim()).toBe(first);
      expect(run.stderr).toContain('not allow request for unadvertised object');
      expect(run.stdout).toContain('fetching refs/heads/main and deepening to find it');
      expect(run.stderr).toContain('main       -> refs/codebuild-run/ref');
    } finally {
      server.refuseFetchBySha = false;
    }
  });

  it.each([false, true])(
    'builds an annotated tag (host refuses fetch by sha: %s)',
    async (refuse) => {
      server.refuseFetchBySha = refuse;
      try {
        const tag = source({
          ref: 'refs/tags/v1.0',
          refKind: 'tag',
          refName: 'v1.0',
          before: null,
        });
        const run = await build(shell, recordingBuildspec(shell), tag);
        expect(run.phases).toEqual({ install: 'SUCCEEDED', build: 'SUCCEEDED' });
        expect(readFileSync(join(run.home, 'head'), 'utf8').trim()).toBe(first);
        const env = readFileSync(join(run.home, 'env-dump'), 'utf8');
        expect(env).toContain('CODEBUILD_WEBHOOK_TRIGGER=tag/v1.0\n');
        expect(env).toContain('CODEBUILD_WEBHOOK_HEAD_REF=refs/tags/v1.0\n');
        expect(env).toContain(`CODEBUILD_WEBHOOK_PREV_COMMIT=${'0'.repeat(40)}\n`);
        expect(env).not.toContain(tagObject);
      } finally {
        server.refuseFetchBySha = false;
      }
    },
  );
});

describe('submodules and LFS', () => {
  it('checks out submodules on the same host with the same token when asked', async () => {
    const lib = server.createRepo('org/lib.git');
    const libSha = lib.commit('main', 'library', { 'lib.txt': 'library\n' });
    const app = server.createRepo('org/with-submodule.git');
    const gitmodules = '[submodule "lib"]\n\tpath = lib\n\turl = ../lib.git\n';
    const marks = app.fastImport(
      [
        'commit refs/heads/main',
        'mark :1',
        'committer Test <test@example.test> 1767225600 +0000',
        'data 14',
        'add submodule',
        `M 644 inline .gitmodules`,
        `data ${gitmodules.length}`,
        gitmodules,
        `M 160000 ${libSha} lib`,
        '',
      ].join('\n'),
    );
    server.resetCounters();
    const clone = source({ cloneUrl: app.url, sha: marks[':1']!, submodules: true });
    const run = await build('dash', recordingBuildspec('dash'), clone);
    expect(run.phases).toEqual({ install: 'SUCCEEDED', build: 'SUCCEEDED' });
    expect(readFileSync(join(run.srcDir, 'lib', 'lib.txt'), 'utf8')).toBe('library\n');
    const libRequests = server.requests.filter((r) => r.url.startsWith('/org/lib.git/'));
    expect(libRequests.length).toBeGreaterThan(0);
    expect(libRequests.every((r) => r.authScheme === 'basic' && r.status === 200)).toBe(true);
    expectNoToken({ stdout: run.stdout, stderr: run.stderr });
  });

  it('runs git lfs pull when asked, and fails clearly where git-lfs is missing', async () => {
    const lfsInstalled = await runProcess('git', ['lfs', 'version'], {
      env: { PATH: process.env.PATH ?? '' },
      timeoutMs: 10_000,
    }).then((r) => r.code === 0);
    const run = await build('bash', markingBuildspec('bash', null), source({ lfs: true }));
    if (lfsInstalled) {
      expect(run.status).toBe('SUCCEEDED');
    } else {
      expect(run.phases).toEqual({ install: 'FAILED' });
      expect(run.stderr).toContain(
        'git-lfs is not installed in the build image (lfs is on for this build)',
      );
      expect(readdirSync(run.home).filter((name) => name.startsWith('ran-'))).toEqual([]);
    }
  });
});

describe('the clone step with other hosts', () => {
  it('sends a Bearer token to hosts that take one', async () => {
    const bearer = await startGitServer({ auth: { scheme: 'bearer', token: TOKEN } });
    try {
      const other = bearer.createRepo('project/repo.git');
      const sha = other.commit('main', 'only commit', { 'x.txt': 'x\n' });
      const run = await build(
        'bash',
        recordingBuildspec('bash'),
        source({ cloneUrl: other.url, sha, host: 'bitbucket-dc', auth: { scheme: 'bearer' } }),
      );
      expect(run.phases).toEqual({ install: 'SUCCEEDED', build: 'SUCCEEDED' });
      expect(readFileSync(join(run.home, 'head'), 'utf8').trim()).toBe(sha);
      expect(bearer.requests.every((r) => r.authScheme === 'bearer' && r.status === 200)).toBe(
        true,
      );
      expectNoToken({ stdout: run.stdout, stderr: run.stderr });
    } finally {
      await bearer.close();
    }
  });

  it('clones a public repository with no token and sends no Authorization header', async () => {
    const open = await startGitServer();
    try {
      const pub = open.createRepo('public.git');
      const sha = pub.commit('main', 'public commit', { 'y.txt': 'y\n' });
      const run = await build(
        'dash',
        recordingBuildspec('dash'),
        source({ cloneUrl: pub.url, sha, tokenSecretRef: null }),
      );
      expect(run.phases).toEqual({ install: 'SUCCEEDED', build: 'SUCCEEDED' });
      expect(readFileSync(join(run.home, 'head'), 'utf8').trim()).toBe(sha);
      expect(open.requests.every((r) => r.authScheme === null)).toBe(true);
    } finally {
      await open.close();
    }
  });

  it("sends the token only to the clone URL's origin", async () => {
    // Another server on another port: same host name, different origin.
    const elsewhere = await startGitServer();
    try {
      const foreign = elsewhere.createRepo('foreign.git');
      const sha = foreign.commit('main', 'foreign commit', { 'z.txt': 'z\n' });
      const clone = source({ cloneUrl: foreign.url, sha });
      const injected = injectClonePrelude(parseBuildspec(recordingBuildspec('bash')), clone);
      // As if a submodule pointed to another origin: the scope stays the token's own host.
      const scoped = injected.environmentVariables.map((v) =>
        v.name === 'CBR_AUTH_URL' ? { ...v, value: `${server.url}/` } : v,
      );
      const run = await runBuildspec(injected.buildspec, work.dir, {
        shell: 'bash',
        environmentVariables: scoped,
        secrets: { [TOKEN_REF]: TOKEN },
      });
      expect(run.phases).toEqual({ install: 'SUCCEEDED', build: 'SUCCEEDED' });
      expect(elsewhere.requests.length).toBeGreaterThan(0);
      expect(elsewhere.requests.every((r) => r.authScheme === null)).toBe(true);
    } finally {
      await elsewhere.close();
    }
  });
});
