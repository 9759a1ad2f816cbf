import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGitServer } from '../support/git-server.js';
import { removeTempDirs, runBuild, tempDir, yaml } from './executor-harness.js';

afterEach(removeTempDirs);

const LIST = yaml(
  'version: 0.2',
  'phases:',
  '  build:',
  '    commands:',
  `      - 'echo "files: $(ls -A | grep -v "^.git$" | sort | tr "\\n" " ")"'`,
  `      - 'echo "version=\${CODEBUILD_RESOLVED_SOURCE_VERSION-none} repo=\${CODEBUILD_SOURCE_REPO_URL-none} asked=\${CODEBUILD_SOURCE_VERSION-none}"'`,
  '      - echo changed > marker.txt',
);

describe('executeBuild: source', () => {
  it('gives a NO_SOURCE build an empty source directory', async () => {
    const { result, messages, workRoot } = await runBuild(LIST);
    expect(result.buildStatus).toBe('SUCCEEDED');
    expect(messages).toContain('files: ');
    expect(messages).toContain(`CODEBUILD_SRC_DIR=${workRoot}/src`);
  });

  it('copies a local directory and never touches the original', async () => {
    const project = await tempDir('cbr-project-');
    await mkdir(join(project, 'lib'));
    await writeFile(join(project, 'lib', 'code.txt'), 'code');
    await writeFile(join(project, '.hidden'), 'dot file');
    await writeFile(join(project, 'marker.txt'), 'original');
    const { result, messages, workRoot } = await runBuild(LIST, {
      source: { type: 'DIRECTORY', path: project },
    });
    expect(result.buildStatus).toBe('SUCCEEDED');
    expect(messages).toContain('files: .hidden lib marker.txt ');
    expect(await readFile(join(project, 'marker.txt'), 'utf8')).toBe('original');
    expect(await readFile(join(workRoot, 'src', 'marker.txt'), 'utf8')).toBe('changed\n');
  });

  it('keeps file modes and symbolic links of a copied directory', async () => {
    const project = await tempDir('cbr-project-');
    await writeFile(join(project, 'tool.sh'), '#!/bin/sh\necho tool-ran\n', { mode: 0o755 });
    await symlink('tool.sh', join(project, 'link.sh'));
    const { result, messages } = await runBuild(
      yaml('version: 0.2', 'phases:', '  build: { commands: [./link.sh, readlink link.sh] }'),
      { source: { type: 'DIRECTORY', path: project } },
    );
    expect(result.buildStatus).toBe('SUCCEEDED');
    expect(messages).toEqual(expect.arrayContaining(['tool-ran', 'tool.sh']));
  });

  it('does not copy the build into itself when the work root lies inside the source', async () => {
    const project = await tempDir('cbr-project-');
    await writeFile(join(project, 'a.txt'), 'a');
    const workRoot = join(project, '.builds', 'one');
    await mkdir(workRoot, { recursive: true });
    const { result, messages } = await runBuild(LIST, {
      source: { type: 'DIRECTORY', path: project },
      workRoot,
    });
    expect(result.buildStatus).toBe('SUCCEEDED');
    expect(messages).toContain('files: .builds a.txt ');
    expect(await readdir(join(workRoot, 'src', '.builds'))).toEqual([]);
  });

  it('fails DOWNLOAD_SOURCE when the directory does not exist', async () => {
    const { result, phase } = await runBuild(LIST, {
      source: { type: 'DIRECTORY', path: '/nonexistent/project' },
    });
    expect(result.buildStatus).toBe('FAILED');
    expect(phase('DOWNLOAD_SOURCE')?.contexts).toEqual([
      {
        statusCode: 'CLIENT_ERROR',
        message: 'source directory /nonexistent/project does not exist or is not a directory',
      },
    ]);
  });

  describe('from git', () => {
    let repo: string;
    const commits: Record<string, string> = {};

    beforeAll(async () => {
      repo = await mkdtemp(join(tmpdir(), 'cbr-repo-'));
      const git = (...args: string[]) =>
        execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], {
          cwd: repo,
          encoding: 'utf8',
        }).trim();
      git('init', '--quiet', '--initial-branch=main');
      await writeFile(join(repo, 'one.txt'), '1');
      git('add', '.');
      git('commit', '--quiet', '-m', 'one');
      commits.first = git('rev-parse', 'HEAD');
      git('tag', '-a', 'v1', '-m', 'v1');
      await writeFile(join(repo, 'two.txt'), '2');
      git('add', '.');
      git('commit', '--quiet', '-m', 'two');
      commits.second = git('rev-parse', 'HEAD');
      git('checkout', '--quiet', '-b', 'feature');
      await writeFile(join(repo, 'feature.txt'), 'f');
      git('add', '.');
      git('commit', '--quiet', '-m', 'feature');
      commits.feature = git('rev-parse', 'HEAD');
      git('checkout', '--quiet', 'main');
    });
    afterAll(() => rm(repo, { recursive: true, force: true }));

    it.each([
      ['the default branch', undefined, 'one.txt two.txt', 'second'],
      ['a branch', 'feature', 'feature.txt one.txt two.txt', 'feature'],
      ['a tag', 'v1', 'one.txt', 'first'],
      ['a commit', 'first-sha', 'one.txt', 'first'],
    ])('clones %s with real git', async (_label, version, files, commit) => {
      const asked = version === 'first-sha' ? commits.first : version;
      const { result, messages } = await runBuild(LIST, {
        source: { type: 'GIT', url: `file://${repo}`, ...(asked ? { version: asked } : {}) },
      });
      expect(result.buildStatus).toBe('SUCCEEDED');
      expect(messages).toContain(`files: ${files} `);
      expect(messages).toContain(
        `version=${commits[commit!]} repo=file://${repo} asked=${asked ?? 'none'}`,
      );
    });

    it('fails DOWNLOAD_SOURCE with a context when the clone or the version fails', async () => {
      const missing = await runBuild(LIST, {
        source: { type: 'GIT', url: `file://${repo}-missing` },
      });
      expect(missing.result.buildStatus).toBe('FAILED');
      expect(missing.phaseTypes()).not.toContain('BUILD');
      expect(missing.phase('DOWNLOAD_SOURCE')?.contexts?.[0]).toEqual({
        statusCode: 'CLIENT_ERROR',
        message: expect.stringMatching(
          new RegExp(`^git clone of file://${repo}-missing failed: .+`),
        ),
      });

      const badVersion = await runBuild(LIST, {
        source: { type: 'GIT', url: `file://${repo}`, version: 'no-such-branch' },
      });
      expect(badVersion.phase('DOWNLOAD_SOURCE')?.contexts?.[0]).toEqual({
        statusCode: 'CLIENT_ERROR',
        message: 'reference not found for primary source and source version no-such-branch',
      });
    });

    it('clones over HTTP with credentials in the URL, keeping them out of logs, variables and .git/config', async () => {
      const token = 'tok-5e5e5e5e5e';
      const server = await startGitServer({
        auth: { scheme: 'basic', username: 'x-access-token', token },
      });
      try {
        const repo = server.createRepo('org/app.git');
        const sha = repo.commit('main', 'first', { 'app.txt': 'app\n' });
        const url = repo.url.replace('http://', `http://x-access-token:${token}@`);
        const { result, logs, messages } = await runBuild(
          yaml(
            'version: 0.2',
            'phases:',
            '  build:',
            '    commands:',
            `      - 'echo "repo=$CODEBUILD_SOURCE_REPO_URL sha=$CODEBUILD_RESOLVED_SOURCE_VERSION"'`,
            '      - cat .git/config',
          ),
          { source: { type: 'GIT', url, version: 'main' } },
        );
        expect(result.buildStatus).toBe('SUCCEEDED');
        expect(messages).toContain(`repo=${repo.url} sha=${sha}`);
        expect(messages).toContain(`\turl = ${repo.url}`);
        expect(logs.join('\n')).not.toContain(token);
      } finally {
        await server.close();
      }
    });

    it('never shows credentials of a clone URL', async () => {
      const { logs, phase } = await runBuild(LIST, {
        source: { type: 'GIT', url: 'http://user:hunter2-token@127.0.0.1:9/repo.git' },
      });
      expect(phase('DOWNLOAD_SOURCE')?.phaseStatus).toBe('FAILED');
      const shown = JSON.stringify([logs, phase('DOWNLOAD_SOURCE')]);
      expect(shown).not.toContain('hunter2-token');
      expect(shown).toContain('http://127.0.0.1:9/repo.git');
    });
  });
});
