/**
 * A real git smart-HTTP server for tests and benches: `git http-backend` (CGI) behind a node:http
 * server on 127.0.0.1, serving bare repositories from a temporary directory.
 *
 *   const server = await startGitServer({ auth: { scheme: 'basic', username: 'x-access-token', token } });
 *   const repo = server.createRepo('org/app.git');
 *   const sha = repo.commit('main', 'first', { 'README.md': 'hi\n' });
 *   // git fetch repo.url ...; then look at server.requests / server.bytesServed()
 *   await server.close(); // also deletes the repositories
 *
 * - Protocol v2 when the client asks for it (the Git-Protocol header becomes GIT_PROTOCOL).
 * - `refuseFetchBySha = true` makes it behave like a host that refuses to send unadvertised objects:
 *   it answers in protocol v0 with uploadpack.allowReachableSHA1InWant and allowAnySHA1InWant false
 *   (git's v2 upload-pack does not enforce those settings, so v0 is how git itself refuses).
 * - With `auth`, every request must carry `Authorization: Basic base64(username:token)` or
 *   `Bearer token`; others get 401. Records never hold the header's value, only its scheme.
 * - The server answers on this process's event loop: run git clients asynchronously (spawn,
 *   execFile), never with execFileSync, or client and server wait on each other for ever.
 *   The repository helpers are synchronous; they do not talk to the server.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type GitServerAuth =
  | { scheme: 'basic'; username: string; token: string }
  | { scheme: 'bearer'; token: string };

export interface GitServerRequest {
  method: string;
  /** The request target exactly as received (path and query). */
  url: string;
  /** The Git-Protocol header, or null. */
  gitProtocol: string | null;
  /** The scheme of the Authorization header (`basic`, `bearer`, …), or null when absent. */
  authScheme: string | null;
  status: number;
  /** Response body bytes sent. */
  bytes: number;
}

export interface GitServerOptions {
  /** Require this credential on every request. */
  auth?: GitServerAuth;
  /** Called before each request is served (e.g. to look at the processes of the client). */
  onRequest?: (request: { method: string; url: string }) => void;
}

export interface GitRepo {
  /** The bare repository's directory. */
  readonly dir: string;
  readonly url: string;
  /**
   * Commits `files` (path → content) on top of `branch` (a root commit when the branch does not
   * exist yet) and moves the branch to it. The branch name is used as given (`refs/heads/<branch>`),
   * never through a shell. Returns the commit's sha.
   */
  commit(branch: string, message: string, files?: Record<string, string>): string;
  /** Creates `refs/tags/<name>` at `target`: annotated when `message` is given. Returns the tag ref's value. */
  tag(name: string, target: string, message?: string): string;
  /**
   * Feeds a `git fast-import` stream (fast for many commits) and returns its marks, `:1` → sha.
   * Stream commits need `committer` lines; refs are created as the stream names them.
   */
  fastImport(stream: string | Uint8Array): Record<string, string>;
  /** Runs git in the bare repository (argv, no shell); `input` goes to stdin. Returns trimmed stdout. */
  git(args: readonly string[], input?: string | Uint8Array): string;
}

export interface GitServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The directory the repositories are served from; `<url>/<path>` serves `<root>/<path>`. */
  readonly root: string;
  /** Every request so far, in order. */
  readonly requests: readonly GitServerRequest[];
  refuseFetchBySha: boolean;
  /** Creates an empty bare repository at `<root>/<name>` (name may hold `/`); HEAD names `main`. */
  createRepo(name: string): GitRepo;
  bytesServed(): number;
  /** Forgets the recorded requests (counters start again from zero). */
  resetCounters(): void;
  /** Stops the server and deletes the repositories. */
  close(): Promise<void>;
}

/** An environment for git that reads no user or system configuration. */
export function isolatedGitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: tmpdir(),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Test Author',
    GIT_AUTHOR_EMAIL: 'author@example.test',
    GIT_COMMITTER_NAME: 'Test Committer',
    GIT_COMMITTER_EMAIL: 'committer@example.test',
    LANG: 'C.UTF-8',
    ...extra,
  };
}

function runGit(dir: string, args: readonly string[], input?: string | Uint8Array, env = {}) {
  return execFileSync('git', ['--git-dir', dir, ...args], {
    env: isolatedGitEnv(env),
    input,
    maxBuffer: 512 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
    .toString('utf8')
    .trim();
}

function openRepo(dir: string, url: string): GitRepo {
  const git = (args: readonly string[], input?: string | Uint8Array) => runGit(dir, args, input);
  return {
    dir,
    url,
    git,
    commit(branch, message, files = {}) {
      const ref = `refs/heads/${branch}`;
      let parent: string | null = null;
      try {
        parent = git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
      } catch {
        parent = null;
      }
      // A private index file: the bare repository has no work tree.
      const index = join(mkdtempSync(join(tmpdir(), 'git-index-')), 'index');
      try {
        const withIndex = (args: string[], input?: string) =>
          runGit(dir, args, input, { GIT_INDEX_FILE: index });
        if (parent) withIndex(['read-tree', parent]);
        for (const [path, content] of Object.entries(files)) {
          const blob = withIndex(['hash-object', '-w', '--stdin'], content);
          withIndex(['update-index', '--add', '--cacheinfo', `100644,${blob},${path}`]);
        }
        const tree = withIndex(['write-tree']);
        const sha = git(
          ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-F', '-'],
          message,
        );
        git(['update-ref', ref, sha]);
        return sha;
      } finally {
        rmSync(join(index, '..'), { recursive: true, force: true });
      }
    },
    fastImport(stream) {
      const marksDir = mkdtempSync(join(tmpdir(), 'git-marks-'));
      try {
        const marksFile = join(marksDir, 'marks');
        git(['fast-import', '--quiet', `--export-marks=${marksFile}`], stream);
        const marks: Record<string, string> = {};
        for (const line of readFileSync(marksFile, 'utf8').split('\n')) {
          const [mark, sha] = line.split(' ');
          if (mark && sha) marks[mark] = sha;
        }
        return marks;
      } finally {
        rmSync(marksDir, { recursive: true, force: true });
      }
    },
    tag(name, target, message) {
      const ref = `refs/tags/${name}`;
      if (message === undefined) {
        git(['update-ref', ref, target]);
        return target;
      }
      const type = git(['cat-file', '-t', target]);
      const tagText = `object ${target}\ntype ${type}\ntag ${name}\ntagger Test Tagger <tagger@example.test> 1767225600 +0000\n\n${message}\n`;
      const tagSha = git(['mktag'], tagText);
      git(['update-ref', ref, tagSha]);
      return tagSha;
    },
  };
}

/** Splits a CGI answer's header block from its body. */
function splitCgiHead(buffer: Buffer): { head: string; body: Buffer } | null {
  for (const separator of ['\r\n\r\n', '\n\n']) {
    const at = buffer.indexOf(separator);
    if (at >= 0) {
      return {
        head: buffer.subarray(0, at).toString('latin1'),
        body: buffer.subarray(at + separator.length),
      };
    }
  }
  return null;
}

export async function startGitServer(options: GitServerOptions = {}): Promise<GitServer> {
  const root = mkdtempSync(join(tmpdir(), 'git-server-'));
  const requests: GitServerRequest[] = [];
  const children = new Set<ReturnType<typeof spawn>>();
  const expected =
    options.auth?.scheme === 'basic'
      ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.token}`).toString('base64')}`
      : options.auth?.scheme === 'bearer'
        ? `Bearer ${options.auth.token}`
        : null;

  const state = { refuseFetchBySha: false };

  function serve(req: IncomingMessage, res: ServerResponse) {
    const url = req.url ?? '/';
    options.onRequest?.({ method: req.method ?? '', url });
    const authorization = req.headers.authorization;
    const record: GitServerRequest = {
      method: req.method ?? '',
      url,
      gitProtocol: (req.headers['git-protocol'] as string | undefined) ?? null,
      authScheme: authorization ? (authorization.split(' ')[0] ?? '').toLowerCase() : null,
      status: 0,
      bytes: 0,
    };
    requests.push(record);
    if (expected !== null && authorization !== expected) {
      record.status = 401;
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git-server"' });
      res.end();
      return;
    }
    const query = url.indexOf('?');
    const path = query >= 0 ? url.slice(0, query) : url;
    let pathInfo: string;
    try {
      pathInfo = decodeURIComponent(path);
    } catch {
      pathInfo = path;
    }
    const refuse = state.refuseFetchBySha;
    const env: NodeJS.ProcessEnv = {
      ...isolatedGitEnv(),
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: pathInfo,
      QUERY_STRING: query >= 0 ? url.slice(query + 1) : '',
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: '127.0.0.1',
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: 'uploadpack.allowReachableSHA1InWant',
      GIT_CONFIG_VALUE_0: String(!refuse),
      GIT_CONFIG_KEY_1: 'uploadpack.allowAnySHA1InWant',
      GIT_CONFIG_VALUE_1: String(!refuse),
    };
    if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
    if (req.headers['content-encoding'])
      env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
    if (record.gitProtocol && !refuse) env.GIT_PROTOCOL = record.gitProtocol;

    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    child.stdin.on('error', () => {});
    req.pipe(child.stdin);
    let pending: Buffer | null = Buffer.alloc(0);
    child.stdout.on('data', (chunk: Buffer) => {
      if (pending === null) {
        record.bytes += chunk.length;
        res.write(chunk);
        return;
      }
      pending = Buffer.concat([pending, chunk]);
      const split = splitCgiHead(pending);
      if (!split) return;
      pending = null;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of split.head.split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
        else headers[name] = value;
      }
      record.status = status;
      res.writeHead(status, headers);
      record.bytes += split.body.length;
      res.write(split.body);
    });
    child.stderr.resume();
    child.on('close', () => {
      children.delete(child);
      if (pending !== null) {
        record.status = 502;
        if (!res.headersSent) res.writeHead(502);
      }
      res.end();
    });
  }

  const server = createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    root,
    requests,
    get refuseFetchBySha() {
      return state.refuseFetchBySha;
    },
    set refuseFetchBySha(value: boolean) {
      state.refuseFetchBySha = value;
    },
    createRepo(name) {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', dir], {
        env: isolatedGitEnv(),
      });
      return openRepo(dir, `${url}/${name}`);
    },
    bytesServed: () => requests.reduce((sum, r) => sum + r.bytes, 0),
    resetCounters() {
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const child of children) child.kill('SIGKILL');
        server.closeAllConnections();
        server.close(() => {
          rmSync(root, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
