// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the hostile values are shell text
/**
 * Hostile values through the clone step: ref names, clone URLs and commit messages built to run a
 * command (each would create its own canary file) if any shell ever evaluated them. They reach the
 * step only as environment values; the buildspec text is the same for all of them. The cases run
 * batched, many builds per shell process: bash with fetch by sha, dash through the fallback.
 */
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CloneSource,
  type EnvironmentVariable,
  injectClonePrelude,
  parseBuildspec,
} from '../../src/buildspec/index.js';
import { type GitRepo, type GitServer, startGitServer } from '../support/git-server.js';
import { runProcess, type Shell, tempRoot } from './run-phases.js';

const TOKEN = 'glpat-InjectionTestToken-0123456789';
const TOKEN_REF = 'git-token';
const USERNAME = 'oauth2';

const work = tempRoot('cbr-inject-');
const canaries = join(work.dir, 'canary');

/** Shapes that run `command` when evaluated by a shell (no spaces: ref names cannot hold them). */
const shapes: Array<(command: string, file: string) => string> = [
  (c) => `$(${c})`,
  (c) => `\`${c}\``,
  (c) => `;${c}`,
  (c) => `|${c}`,
  (c) => `&&${c}`,
  (c) => `'$(${c})'`,
  (c) => `"$(${c})"`,
  (c) => `"';${c};'"`,
  (c) => `$(${c})#`,
  (c) => `-$(${c})`,
  (c) => `--upload-pack=${c}`,
  (c) => `-c${'${IFS}'}core.sshCommand=${c}`,
  (c) => `ünï-çødé-$(${c})`,
  (c) => `日本-$(${c})-🚀`,
  (c) => `$((0))$(${c})`,
  (c) => `a&${c}&`,
  (c) => `$(eval${'${IFS}'}${c})`,
  (_c, f) => `{touch,${f}}`,
  (c) => `!$(${c})`,
  (_c, f) => `>${f}`,
  (_c, f) => `${'${IFS}'}>${f}`,
  (_c, f) => `$(printf${'${IFS}'}x>${f})`,
  (c) => `%s%n$(${c})`,
  (c) => `@$(${c})`,
  (c) => `=$(${c})`,
  (c) => `+$(${c})`,
];

function hostile(kind: string, index: number, shape: (typeof shapes)[number]): string {
  const file = join(canaries, `${kind}${index}`);
  return shape(`touch${'${IFS}'}${file}`, file);
}

const refs: Array<Pick<CloneSource, 'ref' | 'refKind' | 'refName'>> = [];
const messages: string[] = [];

shapes.forEach((shape, i) => {
  refs.push({ refKind: 'branch', refName: hostile('rb', i, shape), ref: '' });
  refs.push({ refKind: 'branch', refName: `feature/${hostile('rf', i, shape)}/x`, ref: '' });
  refs.push({ refKind: 'tag', refName: hostile('rt', i, shape), ref: '' });
  messages.push(hostile('m', i, shape));
  // With real spaces and newlines, which commit messages may hold.
  const file = join(canaries, `ms${i}`);
  messages.push(`subject\n\n${shape(`touch ${file}`, file)}\n`);
});
for (const ref of refs)
  ref.ref = `${ref.refKind === 'branch' ? 'refs/heads/' : 'refs/tags/'}${ref.refName}`;
messages.push(`\n$(touch ${join(canaries, 'n1')})\n`, `line\r\n\`touch ${join(canaries, 'n2')}\``);
messages.push(`\t$(touch\t${join(canaries, 'n3')})`, `\\$(touch ${join(canaries, 'n4')})`);
/**
 * URL paths (relative to a server). `%` and `#` go percent-encoded: a URL cannot hold them raw
 * (escape, fragment); the servers decode the path back to the hostile text.
 */
const urlPaths = shapes.flatMap((shape, i) =>
  [
    `/${hostile('ua', i, shape)}/repo.git`,
    `/org/${hostile('ub', i, shape)}.git`,
    `/org/repo-${hostile('uc', i, shape)}`,
  ].map((path) => path.replaceAll('%', '%25').replaceAll('#', '%23')),
);

interface Case {
  source: CloneSource;
  message: string;
  expectSuccess: boolean;
}

let bySha: GitServer;
let refusing: GitServer;
let repo: GitRepo;
const cases: Case[] = [];
/** Cases whose sha the host does not have: the failure path also sees hostile values. */
const FAILING = 2;

beforeAll(async () => {
  mkdirSync(canaries);
  bySha = await startGitServer({ auth: { scheme: 'basic', username: USERNAME, token: TOKEN } });
  refusing = await startGitServer({ auth: { scheme: 'basic', username: USERNAME, token: TOKEN } });
  refusing.refuseFetchBySha = true;
  repo = bySha.createRepo('real/repo.git');
  // One fast-import stream: a commit per case (its hostile message, on its hostile branch or
  // under its hostile tag, annotated for odd cases), bytes counted as fast-import wants them.
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const who = 'Test Committer <committer@example.test> 1767225600 +0000';
  const stream = refs.map((ref, i) => {
    const message = messages[i % messages.length]!;
    const branch = ref.refKind === 'branch' ? ref.ref : `refs/heads/case-${i}`;
    let entry = `commit ${branch}\nmark :${i + 1}\ncommitter ${who}\n${data(message)}M 644 inline case.txt\n${data(`${i}\n`)}`;
    if (ref.refKind === 'tag') {
      entry +=
        i % 2
          ? `tag ${ref.refName}\nfrom :${i + 1}\ntagger ${who}\n${data(`tag ${message}`)}`
          : `reset ${ref.ref}\nfrom :${i + 1}\n\n`;
    }
    return entry;
  });
  const marks = repo.fastImport(stream.join(''));
  refs.forEach((ref, i) => {
    const message = messages[i % messages.length]!;
    const sha = marks[`:${i + 1}`]!;
    const failing = i >= refs.length - FAILING;
    cases.push({
      message,
      expectSuccess: !failing,
      source: {
        ...ref,
        cloneUrl: urlPaths[i % urlPaths.length]!,
        sha: failing ? 'e'.repeat(40) : sha,
        host: 'gitlab',
        before: sha.replace(/^./, 'a'),
        tokenSecretRef: TOKEN_REF,
        auth: { scheme: 'basic', username: USERNAME },
      },
    });
  });
  // Every hostile URL path leads to the one real repository, on both servers. The servers find
  // a repository at the decoded path (the raw path when it does not decode).
  for (const server of [bySha, refusing]) {
    for (const path of urlPaths) {
      let decoded = path;
      try {
        decoded = decodeURIComponent(path);
      } catch {
        decoded = path;
      }
      const target = join(server.root, decoded);
      mkdirSync(dirname(target), { recursive: true });
      symlinkSync(repo.dir, target);
    }
  }
});

afterAll(async () => {
  await bySha?.close();
  await refusing?.close();
  work.remove();
});

function sourceFor(server: GitServer, c: Case): CloneSource {
  return { ...c.source, cloneUrl: `${server.url}${c.source.cloneUrl}` };
}

/**
 * Runs the clone step once per case in ONE shell process. The driver copies each case's values
 * from CASE_<i>_<name> variables by assignment (never by evaluating them), then runs the step
 * and a user command that records what it sees.
 */
async function runBatch(shell: Shell, server: GitServer, prelude: string) {
  const root = join(work.dir, `batch-${shell}`);
  mkdirSync(root);
  const preludeFile = join(root, 'prelude.sh');
  writeFileSync(preludeFile, prelude);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: root,
    LANG: 'C.UTF-8',
    GIT_CONFIG_NOSYSTEM: '1',
    ROOT: root,
    PRELUDE: preludeFile,
  };
  cases.forEach((c, i) => {
    const variables: EnvironmentVariable[] = injectClonePrelude(
      parseBuildspec('version: 0.2\nphases:\n  build:\n    commands: [make]\n'),
      sourceFor(server, c),
    ).environmentVariables;
    env[`CASE_${i}__NAMES`] = variables.map((v) => v.name).join(' ');
    for (const v of variables) {
      env[`CASE_${i}_${v.name}`] = v.type === 'SECRETS_MANAGER' ? TOKEN : v.value;
    }
  });
  const exported =
    'CBR_CLONE_OK CODEBUILD_RESOLVED_SOURCE_VERSION CODEBUILD_SOURCE_VERSION CODEBUILD_SOURCE_REPO_URL CODEBUILD_WEBHOOK_TRIGGER CODEBUILD_WEBHOOK_HEAD_REF CODEBUILD_WEBHOOK_PREV_COMMIT CODEBUILD_WEBHOOK_EVENT';
  const driver = [
    '__i=0',
    `while [ "$__i" -lt ${cases.length} ]; do`,
    '  __dir="$ROOT/$__i"; mkdir -p "$__dir/src"; cd "$__dir/src"',
    '  eval "__names=\\$CASE_${__i}__NAMES"',
    '  for __n in $__names; do eval "$__n=\\$CASE_${__i}_$__n; export $__n"; done',
    '  CODEBUILD_SRC_DIR="$__dir/src"; export CODEBUILD_SRC_DIR',
    '  . "$PRELUDE"; printf "%s" "$?" > "$__dir/status"',
    '  printf "%s" "${CODEBUILD_WEBHOOK_HEAD_REF:-}" > "$__dir/ref"',
    '  printf "%s" "${CODEBUILD_SOURCE_REPO_URL:-}" > "$__dir/url"',
    '  git rev-parse HEAD > "$__dir/head" 2>/dev/null',
    `  for __n in $__names ${exported}; do unset "$__n"; done`,
    '  cd "$ROOT"; __i=$((__i + 1))',
    'done',
  ].join('\n');
  const result = await runProcess(shell, ['-c', driver], { cwd: root, env, timeoutMs: 60_000 });
  const read = (i: number, name: string) => {
    try {
      return readFileSync(join(root, String(i), name), 'utf8');
    } catch {
      return null;
    }
  };
  return { result, read };
}

describe('hostile values in the clone step', () => {
  it('has at least 200 hostile values, each with its own canary', () => {
    const values = [...refs.map((r) => r.refName), ...urlPaths, ...messages];
    expect(values.length).toBeGreaterThanOrEqual(200);
    expect(new Set(values).size).toBe(values.length);
    expect(urlPaths.length).toBeLessThanOrEqual(cases.length);
  });

  it('puts none of them in the buildspec text, only in PLAINTEXT values', () => {
    const user = parseBuildspec('version: 0.2\nphases:\n  build:\n    commands:\n      - make\n');
    const texts = new Set<string>();
    for (const c of cases) {
      const source = sourceFor(bySha, c);
      const injected = injectClonePrelude(user, source);
      texts.add(injected.buildspec);
      const value = (name: string) => injected.environmentVariables.find((v) => v.name === name);
      expect(value('CBR_REF')).toEqual({ name: 'CBR_REF', value: source.ref, type: 'PLAINTEXT' });
      expect(value('CBR_CLONE_URL')?.value).toBe(source.cloneUrl);
    }
    expect(texts.size).toBe(1);
    const [text] = [...texts];
    for (const c of cases) {
      expect(text!.includes(c.source.refName)).toBe(false);
      expect(text!.includes(c.source.cloneUrl)).toBe(false);
    }
    for (const message of messages) expect(text!.includes(message)).toBe(false);
    expect(text).not.toContain(canaries);
  });

  it('runs none of them in bash (fetch by sha) or dash (fallback through the ref)', async () => {
    const user = parseBuildspec('version: 0.2\nphases:\n  build:\n    commands: [make]\n');
    const prelude = parseBuildspec(injectClonePrelude(user, sourceFor(bySha, cases[0]!)).buildspec)
      .spec.phases!.install!.commands[0]!;
    const [bash, dash] = await Promise.all([
      runBatch('bash', bySha, prelude),
      runBatch('dash', refusing, prelude),
    ]);
    expect(readdirSync(canaries)).toEqual([]);
    for (const [server, batch] of [
      [bySha, bash],
      [refusing, dash],
    ] as const) {
      expect(batch.result.code).toBe(0);
      cases.forEach((c, i) => {
        const source = sourceFor(server, c);
        const seen = { status: batch.read(i, 'status'), head: batch.read(i, 'head')?.trim() };
        if (c.expectSuccess) {
          expect(seen, `case ${i}: ${source.ref}`).toEqual({ status: '0', head: c.source.sha });
          expect(batch.read(i, 'ref')).toBe(source.ref);
          expect(batch.read(i, 'url')).toBe(source.cloneUrl);
        } else {
          expect(seen.status, `case ${i}`).toBe('1');
          expect(batch.read(i, 'ref')).toBe('');
        }
      });
    }
    expect(dash.result.stdout).toContain('deepening to find it');
    expect(`${bash.result.stdout}${bash.result.stderr}`).not.toContain(TOKEN);
  });
});
