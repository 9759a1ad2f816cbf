import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/deps.js';
import { directoryBytes } from '../../src/git/cache-eviction.js';
import {
  type ReadFileArgs,
  RepoFileReader,
  type RepoFileReaderDeps,
  RepoReadError,
} from '../../src/git/read-file.js';
import { fakeClock } from '../support/fake-clock.js';
import {
  type GitRepo,
  type GitServer,
  isolatedGitEnv,
  startGitServer,
} from '../support/git-server.js';

const TOKEN = 'gh-t0ken-never-in-argv';
const BEARER = `Bearer ${TOKEN}`;
const BIG = 'x'.repeat(300_000);

let server: GitServer;
let repo: GitRepo;
let first: string;
let second: string;
let cacheDir: string;
/** Every process command line seen while the server answered, to prove the token was in none. */
const commandLines: string[] = [];

function scanCommandLines() {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      commandLines.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '));
    } catch {
      // The process ended while we looked.
    }
  }
}

beforeAll(async () => {
  server = await startGitServer({
    auth: { scheme: 'bearer', token: TOKEN },
    onRequest: scanCommandLines,
  });
  repo = server.createRepo('acme/web.git');
  // Let upload-pack honour --filter, as GitHub, GitLab and Gitea do.
  repo.git(['config', 'uploadpack.allowFilter', 'true']);
  first = repo.commit('main', 'first', {
    'buildspec.yml': 'version: 0.2 # first\n',
    'big.bin': BIG,
  });
  second = repo.commit('main', 'second', {
    'buildspec.yml': 'version: 0.2 # second\n',
    'ci/my build.yml': 'version: 0.2 # spaced\n',
    ':(glob)*': 'literal name\n',
    'other.bin': `${BIG}y`,
  });
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  cacheDir = mkdtempSync(join(tmpdir(), 'repo-file-cache-'));
  server.resetCounters();
  commandLines.length = 0;
});

afterEach(() => {
  rmSync(cacheDir, { recursive: true, force: true });
});

function reader(overrides: Partial<RepoFileReaderDeps> = {}): RepoFileReader {
  return new RepoFileReader({
    cacheDir,
    logger: silentLogger,
    gitEnv: isolatedGitEnv(),
    ...overrides,
  });
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

describe('RepoFileReader.readFile', () => {
  it('reads the file at the pushed sha, not at the branch tip', async () => {
    const files = reader();
    expect(
      await files.readFile({
        cloneUrl: repo.url,
        sha: second,
        path: 'buildspec.yml',
        authHeader: BEARER,
      }),
    ).toBe('version: 0.2 # second\n');
    expect(
      await files.readFile({
        cloneUrl: repo.url,
        sha: first,
        path: 'buildspec.yml',
        authHeader: BEARER,
      }),
    ).toBe('version: 0.2 # first\n');
  });

  it('answers null for a file the commit does not have', async () => {
    const files = reader();
    expect(
      await files.readFile({
        cloneUrl: repo.url,
        sha: first,
        path: 'ci/my build.yml',
        authHeader: BEARER,
      }),
    ).toBe(null);
  });

  it('takes paths literally, spaces and pathspec-like names included', async () => {
    const files = reader();
    const read = (path: string) =>
      files.readFile({ cloneUrl: repo.url, sha: second, path, authHeader: BEARER });
    expect(await read('./ci/my build.yml')).toBe('version: 0.2 # spaced\n');
    expect(await read(':(glob)*')).toBe('literal name\n');
    expect(await read('*.yml')).toBe(null);
    expect(await read('ci/my')).toBe(null);
  });

  it('fetches no file contents but the one read, and reuses the cache', async () => {
    const files = reader();
    await files.readFile({
      cloneUrl: repo.url,
      sha: second,
      path: 'buildspec.yml',
      authHeader: BEARER,
    });
    // Shallow and blob-less: the two 300 kB files never cross the wire.
    expect(server.bytesServed()).toBeLessThan(20_000);
    const afterFirst = server.requests.length;
    server.resetCounters();
    await files.readFile({
      cloneUrl: repo.url,
      sha: second,
      path: 'ci/my build.yml',
      authHeader: BEARER,
    });
    // The commit is cached: only the one missing blob is fetched.
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(server.requests.length).toBeLessThan(afterFirst);
    expect(server.bytesServed()).toBeLessThan(5_000);
    expect(readdirSync(cacheDir)).toHaveLength(1);
  });

  it('fetches just the commit asked for, an older one too, not the history between', async () => {
    const long = server.createRepo('acme/long.git');
    long.git(['config', 'uploadpack.allowFilter', 'true']);
    const shas = [0, 1, 2, 3, 4].map((i) =>
      long.commit('main', `c${i}`, { 'buildspec.yml': `version: 0.2 # ${i}\n` }),
    );
    const files = reader();
    for (const index of [4, 1]) {
      expect(
        await files.readFile({
          cloneUrl: long.url,
          sha: shas[index]!,
          path: 'buildspec.yml',
          authHeader: BEARER,
        }),
      ).toBe(`version: 0.2 # ${index}\n`);
    }
    // Listing what is stored fetches nothing on demand, unlike looking an object up.
    const [cached] = readdirSync(cacheDir);
    const objects = execFileSync(
      'git',
      ['--git-dir', join(cacheDir, cached!), 'cat-file', '--batch-all-objects', '--batch-check'],
      {
        env: isolatedGitEnv(),
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    ).toString();
    const commits = objects.split('\n').filter((line) => line.includes(' commit '));
    expect(commits.map((line) => line.split(' ')[0]).sort()).toEqual([shas[1], shas[4]].sort());
  });

  it('sends the header on every request, through the environment only', async () => {
    await reader().readFile({
      cloneUrl: repo.url,
      sha: second,
      path: 'buildspec.yml',
      authHeader: BEARER,
    });
    expect(server.requests.length).toBeGreaterThan(0);
    expect(server.requests.every((r) => r.authScheme === 'bearer' && r.status === 200)).toBe(true);
    expect(commandLines.length).toBeGreaterThan(0);
    expect(commandLines.filter((line) => line.includes(TOKEN))).toEqual([]);
    const [cached] = readdirSync(cacheDir);
    expect(readFileSync(join(cacheDir, cached!, 'config'), 'utf8')).not.toContain(TOKEN);
  });

  it('reads the same remote from concurrent calls, one at a time', async () => {
    const files = reader();
    const shas = [second, first, second, first];
    const texts = await Promise.all(
      shas.map((sha) =>
        files.readFile({ cloneUrl: repo.url, sha, path: 'buildspec.yml', authHeader: BEARER }),
      ),
    );
    expect(texts).toEqual(
      shas.map((sha) => `version: 0.2 # ${sha === first ? 'first' : 'second'}\n`),
    );
  });

  it('evicts the least recently used remote past the byte budget', async () => {
    const other = server.createRepo('acme/api.git');
    const otherSha = other.commit('main', 'api', { 'buildspec.yml': 'version: 0.2 # api\n' });
    const clock = fakeClock();
    const probe = reader({ clock });
    await probe.readFile({
      cloneUrl: repo.url,
      sha: second,
      path: 'buildspec.yml',
      authHeader: BEARER,
    });
    const [webDir] = readdirSync(cacheDir);
    const oneRemote = await directoryBytes(join(cacheDir, webDir!));

    // Room for one remote and a half: reading a second remote pushes the older one out.
    const files = reader({ clock, maxCacheBytes: Math.round(oneRemote * 1.5) });
    await clock.sleep(1_000);
    expect(
      await files.readFile({
        cloneUrl: other.url,
        sha: otherSha,
        path: 'buildspec.yml',
        authHeader: BEARER,
      }),
    ).toBe('version: 0.2 # api\n');
    const remaining = readdirSync(cacheDir);
    expect(remaining).toHaveLength(1);
    expect(remaining).not.toContain(webDir);

    await clock.sleep(1_000);
    await files.readFile({
      cloneUrl: repo.url,
      sha: second,
      path: 'buildspec.yml',
      authHeader: BEARER,
    });
    expect(readdirSync(cacheDir)).toEqual([webDir]);
  });
});

describe('RepoFileReader errors name the repository and the fix', () => {
  it.each<[string, Partial<ReadFileArgs> & { missingRepo?: true }, string, string]>([
    [
      'a wrong token',
      { authHeader: 'Bearer wrong' },
      'git.unauthorized',
      'refused the credentials',
    ],
    [
      'no token for a private repository',
      { authHeader: undefined },
      'git.unauthorized',
      'set cloneToken',
    ],
    ['a missing repository', { missingRepo: true }, 'git.not-found', 'was not found'],
    [
      'a commit the remote does not have',
      { sha: 'f'.repeat(40) },
      'git.commit-missing',
      `did not send commit ${'f'.repeat(40)}`,
    ],
    ['a directory', { path: 'ci/' }, 'git.not-a-file', 'is a directory, not a file'],
  ])('%s', async (_, change, code, message) => {
    const { missingRepo, ...args } = change;
    const cloneUrl = missingRepo ? `${server.url}/acme/missing.git` : repo.url;
    const error = await errorOf(
      reader().readFile({
        cloneUrl,
        sha: second,
        path: 'buildspec.yml',
        authHeader: BEARER,
        ...args,
      }),
    );
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
    expect(error.message).toContain(cloneUrl);
    expect(error.repoUrl).toBe(cloneUrl);
    expect(error.message).not.toContain(TOKEN);
  });

  it.each([
    [
      'credentials in the URL',
      { cloneUrl: 'https://user:pw@example.com/a.git' },
      'carries credentials',
    ],
    [
      'a non-HTTP transport',
      { cloneUrl: 'ext::sh -c touch% /tmp/pwned' },
      'is not an HTTP(S) clone URL',
    ],
    ['a file URL', { cloneUrl: 'file:///etc' }, 'is not an HTTP(S) clone URL'],
    ['text that is no URL', { cloneUrl: 'not a url' }, 'is not a clone URL'],
    ['an abbreviated sha', { sha: 'abc1234' }, 'is not a full commit sha'],
    [
      'a path outside the repository',
      { path: '../etc/passwd' },
      'is not a path inside the repository',
    ],
    [
      'a header with a line break',
      { authHeader: `${BEARER}\r\nX-Evil: 1` },
      'contains a line break',
    ],
  ])('refuses %s before running git', async (_, change, message) => {
    const error = await errorOf(
      reader().readFile({ cloneUrl: repo.url, sha: second, path: 'buildspec.yml', ...change }),
    );
    expect(error.code).toBe('git.bad-input');
    expect(error.message).toContain(message);
    expect(error.message).not.toContain('pw@');
    expect(server.requests).toEqual([]);
  });

  describe('against a host that never answers', () => {
    let silent: Server;
    let url: string;
    beforeAll(async () => {
      silent = createServer(() => {
        // Accept the request, never answer.
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/acme/web.git`;
    });
    afterAll(async () => {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });

    it('gives up at the timeout and leaves no half-fetched cache', async () => {
      const started = Date.now();
      const error = await errorOf(
        reader({ timeoutMs: 500 }).readFile({
          cloneUrl: url,
          sha: second,
          path: 'buildspec.yml',
          authHeader: BEARER,
        }),
      );
      expect(error.code).toBe('git.timeout');
      expect(error.message).toContain(`from ${url} timed out after 0.5 s`);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(readdirSync(cacheDir)).toEqual([]);
    });
  });
});
