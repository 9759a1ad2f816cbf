/**
 * What the clone step costs beside a plain git clone, on a repository with a long history.
 *
 *   npx tsx bench/clone.ts            (suggested script: "bench:clone": "tsx bench/clone.ts")
 *
 * Generates a repository (20,000 commits, 5,000 files, with git fast-import), serves it over the
 * local smart-HTTP server (git http-backend, protocol v2, token required), then measures, in one
 * run: the clone step (run by bash exactly as a build runs it), the same with a host that refuses
 * fetching by sha, `git clone --depth 1 --single-branch` and a full `git clone`. Each is run
 * REPEATS times from an empty directory; the table shows the median time and the bytes the server
 * sent. Everything is bounded (each process and the whole run) and the temp dirs are removed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloneEnvironment, clonePreludeScript } from '../src/buildspec/index.js';
import { type GitServer, isolatedGitEnv, startGitServer } from '../test/support/git-server.js';

const COMMITS = 20_000;
const FILES = 5_000;
const REPEATS = 3;
const PROCESS_TIMEOUT_MS = 60_000;
const RUN_DEADLINE_MS = 170_000;
const TOKEN = 'bench-token-0123456789';
const USERNAME = 'x-access-token';

/** Deterministic content: a small xorshift generator, so every run builds the same repository. */
function generator(seed: number) {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function fastImportStream(): string {
  const random = generator(0x5eed);
  const word = () => Math.floor(random() * 1e9).toString(36);
  const fileLines: string[][] = [];
  const pathOf = (i: number) => `src/module-${i % 50}/file-${i}.txt`;
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const parts: string[] = [];
  let time = 1_700_000_000;
  const commit = (mark: number, message: string, changes: number[]) => {
    parts.push(
      `commit refs/heads/main\nmark :${mark}\ncommitter Bench <bench@example.test> ${time++} +0000\n`,
      data(message),
    );
    for (const i of changes)
      parts.push(`M 644 inline ${pathOf(i)}\n`, data(fileLines[i]!.join('\n')));
  };
  const all: number[] = [];
  for (let i = 0; i < FILES; i++) {
    fileLines.push(Array.from({ length: 12 }, () => `${word()} ${word()} ${word()} ${word()}`));
    all.push(i);
  }
  commit(1, 'initial import', all);
  for (let n = 2; n <= COMMITS; n++) {
    const changed = [Math.floor(random() * FILES), Math.floor(random() * FILES)];
    for (const i of changed) {
      fileLines[i]![Math.floor(random() * 12)] = `${word()} ${word()} change ${n}`;
    }
    commit(n, `change ${n}: touch ${changed.length} files`, changed);
  }
  return parts.join('');
}

interface Measured {
  ms: number;
  bytes: number;
  requests: number;
}

function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; stdin?: string },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...options,
      detached: true,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, PROCESS_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${stderr}`));
    });
    child.stdin.end(options.stdin ?? '');
  });
}

interface Method {
  name: string;
  refuseFetchBySha: boolean;
  attempt: (dir: string) => Promise<void>;
}

interface Summary {
  median: Measured;
  min: Measured;
}

/**
 * Runs the methods round-robin, REPEATS rounds, so load that comes and goes on the machine falls
 * on all of them alike; each attempt starts from an empty directory.
 */
async function measureAll(server: GitServer, work: string, methods: Method[]): Promise<Summary[]> {
  const results = methods.map(() => [] as Measured[]);
  for (let round = 0; round < REPEATS; round++) {
    for (const [index, method] of methods.entries()) {
      const dir = mkdtempSync(join(work, 'clone-'));
      server.refuseFetchBySha = method.refuseFetchBySha;
      server.resetCounters();
      const start = performance.now();
      await method.attempt(dir);
      const ms = performance.now() - start;
      results[index]!.push({ ms, bytes: server.bytesServed(), requests: server.requests.length });
      rmSync(dir, { recursive: true, force: true });
    }
  }
  server.refuseFetchBySha = false;
  return results.map((runs) => {
    const sorted = [...runs].sort((a, b) => a.ms - b.ms);
    return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]! };
  });
}

/**
 * Where the repository and the clones go: tmpfs when the machine has one. Writing 5,000 files to a
 * busy disk can take seconds and swings from run to run, which would drown what is measured here.
 */
function workRoot(): { root: string; kind: string } {
  try {
    rmSync(mkdtempSync('/dev/shm/bench-clone-probe-'), { recursive: true, force: true });
    return { root: '/dev/shm', kind: 'tmpfs (/dev/shm)' };
  } catch {
    return { root: tmpdir(), kind: `${tmpdir()} (no /dev/shm)` };
  }
}

function printTable(methods: Method[], measured: Summary[]) {
  const base = measured[0]!.median;
  const full = measured.at(-1)!.median;
  const head = [
    'method',
    'median',
    'min',
    'bytes served',
    'requests',
    'time / clone step',
    'bytes / clone step',
    'bytes / full clone',
  ];
  const rows = methods.map(({ name }, i) => {
    const { median, min } = measured[i]!;
    return [
      name,
      `${median.ms.toFixed(0)} ms`,
      `${min.ms.toFixed(0)} ms`,
      median.bytes.toLocaleString('en-US'),
      String(median.requests),
      `${(median.ms / base.ms).toFixed(2)}x`,
      `${(median.bytes / base.bytes).toFixed(2)}x`,
      `${((median.bytes / full.bytes) * 100).toFixed(1)}%`,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

async function main() {
  const { root, kind } = workRoot();
  // The git server makes its directory under TMPDIR: keep the served repository there too.
  process.env.TMPDIR = root;
  const work = mkdtempSync(join(root, 'bench-clone-'));
  let server: GitServer | undefined;
  const cleanUp = () => {
    rmSync(work, { recursive: true, force: true });
    if (server) rmSync(server.root, { recursive: true, force: true });
  };
  const deadline = setTimeout(() => {
    console.error(`bench/clone: over ${RUN_DEADLINE_MS / 1000} s, giving up`);
    cleanUp();
    process.exit(2);
  }, RUN_DEADLINE_MS);
  process.once('SIGINT', () => {
    cleanUp();
    process.exit(130);
  });
  try {
    server = await startGitServer({ auth: { scheme: 'basic', username: USERNAME, token: TOKEN } });
    const repo = server.createRepo('bench/big.git');
    let t = performance.now();
    const marks = repo.fastImport(fastImportStream());
    const imported = performance.now() - t;
    // fast-import stores each file's newer versions as deltas on older ones; a host's repacked
    // repository does the opposite (recent versions whole), which is what a shallow fetch needs.
    repo.git(['repack', '-a', '-d', '-f', '--quiet', '--window=10', '--depth=50']);
    const repacked = performance.now() - t - imported;
    const tip = marks[`:${COMMITS}`]!;
    const behind = marks[`:${COMMITS - 50}`]!;
    const count = repo.git(['rev-list', '--count', 'main']);
    const files = repo.git(['ls-tree', '-r', '--name-only', 'main']).split('\n').length;
    const size = repo.git(['count-objects', '-vH']).match(/size-pack: (.*)/)?.[1];
    console.log(`${execFileSync('git', ['version']).toString().trim()}; clones written to ${kind}`);
    console.log(
      `repository: ${count} commits, ${files} files, pack ${size}; fast-import ${(imported / 1000).toFixed(1)} s, repack ${(repacked / 1000).toFixed(1)} s`,
    );

    const header = `Authorization: Basic ${Buffer.from(`${USERNAME}:${TOKEN}`).toString('base64')}`;
    const gitEnv = isolatedGitEnv({
      HOME: work,
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: header,
    });
    const script = clonePreludeScript();
    // The clone step as a build runs it: bash, the override variables set, the token resolved.
    const prelude = (sha: string) => async (dir: string) => {
      const src = join(dir, 'src');
      mkdirSync(src);
      const env: NodeJS.ProcessEnv = { ...isolatedGitEnv({ HOME: work }), CODEBUILD_SRC_DIR: src };
      const variables = cloneEnvironment({
        cloneUrl: repo.url,
        sha,
        ref: 'refs/heads/main',
        refKind: 'branch',
        refName: 'main',
        host: 'github',
        before: null,
        tokenSecretRef: 'bench-token',
        auth: { scheme: 'basic', username: USERNAME },
      });
      for (const v of variables) env[v.name] = v.type === 'SECRETS_MANAGER' ? TOKEN : v.value;
      await run('bash', ['-c', script], { cwd: src, env });
    };
    const clone = (args: string[]) => (dir: string) =>
      run('git', ['clone', '--quiet', ...args, repo.url, 'c'], { cwd: dir, env: gitEnv });
    const methods: Method[] = [
      { name: 'clone step (fetch by sha)', refuseFetchBySha: false, attempt: prelude(tip) },
      { name: 'clone step, sha refused (tip)', refuseFetchBySha: true, attempt: prelude(tip) },
      {
        name: 'clone step, sha refused (50 back)',
        refuseFetchBySha: true,
        attempt: prelude(behind),
      },
      {
        name: 'git clone --depth 1 --single-branch',
        refuseFetchBySha: false,
        attempt: clone(['--depth', '1', '--single-branch', '--branch', 'main']),
      },
      { name: 'git clone (full)', refuseFetchBySha: false, attempt: clone([]) },
    ];
    t = performance.now();
    const measured = await measureAll(server, work, methods);
    console.log(
      `\n${REPEATS} rounds, round-robin, measured in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    printTable(methods, measured);
  } finally {
    clearTimeout(deadline);
    await server?.close();
    cleanUp();
  }
}

await main();
