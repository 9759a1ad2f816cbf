/**
 * RepoFileReader.resolveCommit against a real git server: Bitbucket Data Center and Azure DevOps
 * send an annotated tag's own object id as the pushed sha, and the pipeline needs its commit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/deps.js';
import { RepoFileReader, RepoReadError } from '../../src/git/read-file.js';
import {
  type GitRepo,
  type GitServer,
  isolatedGitEnv,
  startGitServer,
} from '../support/git-server.js';

const TOKEN = 'bbdc-t0ken-never-in-argv';
const BEARER = `Bearer ${TOKEN}`;

let server: GitServer;
let repo: GitRepo;
let commit: string;
let annotated: string;
let tagOfTag: string;
let tagOfTree: string;
let cacheDir: string;

beforeAll(async () => {
  server = await startGitServer({ auth: { scheme: 'bearer', token: TOKEN } });
  repo = server.createRepo('proj/app.git');
  repo.git(['config', 'uploadpack.allowFilter', 'true']);
  repo.commit('main', 'first', { 'buildspec.yml': 'version: 0.2 # first\n' });
  commit = repo.commit('main', 'second', { 'buildspec.yml': 'version: 0.2 # tagged\n' });
  // A later commit on the branch: the tag, not the branch tip, decides the commit.
  repo.commit('main', 'third', { 'buildspec.yml': 'version: 0.2 # tip\n' });
  annotated = repo.tag('v1.0', commit, 'Release 1.0');
  tagOfTag = repo.tag('v1.0-signed-off', annotated, 'A tag of the release tag');
  tagOfTree = repo.tag('tree-only', repo.git(['rev-parse', `${commit}^{tree}`]), 'Just a tree');
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  cacheDir = mkdtempSync(join(tmpdir(), 'resolve-commit-cache-'));
  server.resetCounters();
  server.refuseFetchBySha = false;
});

afterEach(() => {
  rmSync(cacheDir, { recursive: true, force: true });
});

function reader(): RepoFileReader {
  return new RepoFileReader({ cacheDir, logger: silentLogger, gitEnv: isolatedGitEnv() });
}

async function errorOf(promise: Promise<unknown>): Promise<RepoReadError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RepoReadError) return error;
    throw error;
  }
  throw new Error('expected a RepoReadError');
}

describe('RepoFileReader.resolveCommit', () => {
  it('gives the commit an annotated tag points to, and a commit as itself', async () => {
    expect(annotated).not.toBe(commit);
    const files = reader();
    const resolve = (sha: string) =>
      files.resolveCommit({ cloneUrl: repo.url, sha, authHeader: BEARER });
    expect(await resolve(annotated)).toBe(commit);
    expect(await resolve(commit)).toBe(commit);
    expect(await resolve(tagOfTag)).toBe(commit);
    // A fresh cache: a commit resolves from its own fetch, no tag involved.
    expect(
      await reader().resolveCommit({ cloneUrl: repo.url, sha: commit, authHeader: BEARER }),
    ).toBe(commit);
    expect(server.requests.every((r) => r.authScheme === 'bearer' && r.status === 200)).toBe(true);
  });

  it('resolves a tag from a host that sends only advertised objects', async () => {
    // Such a host refuses a commit asked for by its sha, but the tag's own ref advertises it.
    server.refuseFetchBySha = true;
    expect(
      await reader().resolveCommit({ cloneUrl: repo.url, sha: annotated, authHeader: BEARER }),
    ).toBe(commit);
  });

  it('leaves the commit cached: reading a file at it fetches only that file', async () => {
    const files = reader();
    expect(
      await files.resolveCommit({ cloneUrl: repo.url, sha: annotated, authHeader: BEARER }),
    ).toBe(commit);
    const fetches = server.requests.filter((r) => r.method === 'POST').length;
    expect(
      await files.readFile({
        cloneUrl: repo.url,
        sha: commit,
        path: 'buildspec.yml',
        authHeader: BEARER,
      }),
    ).toBe('version: 0.2 # tagged\n');
    // One request for the blob git fetches on demand; the commit is not fetched again.
    expect(server.requests.filter((r) => r.method === 'POST').length).toBe(fetches + 1);
  });

  it('names a tag of something that is not a commit', async () => {
    const error = await errorOf(
      reader().resolveCommit({ cloneUrl: repo.url, sha: tagOfTree, authHeader: BEARER }),
    );
    expect(error.code).toBe('git.not-a-commit');
    expect(error.message).toContain(`${tagOfTree} in ${repo.url} is neither a commit nor a tag`);
  });

  it('names a sha the remote does not have, and a refused token, without the token', async () => {
    const missing = await errorOf(
      reader().resolveCommit({ cloneUrl: repo.url, sha: 'e'.repeat(40), authHeader: BEARER }),
    );
    expect(missing.code).toBe('git.commit-missing');
    expect(missing.message).toContain(`${repo.url} did not send ${'e'.repeat(40)}: the tag may`);
    const refused = await errorOf(
      reader().resolveCommit({ cloneUrl: repo.url, sha: annotated, authHeader: 'Bearer wrong' }),
    );
    expect(refused.code).toBe('git.unauthorized');
    expect(refused.message).not.toContain('wrong');
    expect(`${missing.message}${refused.message}`).not.toContain(TOKEN);
  });

  it('refuses an abbreviated sha before running git', async () => {
    const error = await errorOf(
      reader().resolveCommit({ cloneUrl: repo.url, sha: annotated.slice(0, 12) }),
    );
    expect(error.code).toBe('git.bad-input');
    expect(server.requests).toEqual([]);
  });
});
