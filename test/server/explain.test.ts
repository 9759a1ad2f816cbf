import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExplain } from '../../cli/explain.js';
import { type GitServer, startGitServer } from '../support/git-server.js';
import { edited, github, SECRETS, shared } from './harness.js';

const API_TOKEN = 'ghp_explainTestTokenValue000000000000000';
const BUILDSPEC = 'version: 0.2\nphases:\n  build:\n    commands:\n      - make test\n';

let dir: string;
let git: GitServer;
let sha: string;
let cloneUrl: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'explain-test-'));
  git = await startGitServer();
  const repo = git.createRepo('acme/app.git');
  sha = repo.commit('main', 'Add a buildspec', { 'buildspec.yml': BUILDSPEC });
  cloneUrl = repo.url;
  writeFileSync(
    join(dir, 'config.yml'),
    `hosts:
  gh:
    kind: github
    apiUrl: "${git.url}"
    webhookSecret: { env: GH_SECRET }
    previousWebhookSecret: { env: GH_OLD_SECRET }
    apiToken: { env: GH_API_TOKEN }
    cloneToken: "ci/github:token"
rules:
  - repos: ["acme/*"]
    project: app-ci
    branches: [main]
    secrets: { NPM_TOKEN: "ci/npm:token" }
`,
  );
});
afterAll(async () => {
  await git.close();
  rmSync(dir, { recursive: true, force: true });
});

const push = () =>
  edited(shared('github'), (p) => {
    p.ref = 'refs/heads/main';
    p.after = sha;
    (p.head_commit as { id: string }).id = sha;
    Object.assign(p.repository as object, {
      full_name: 'acme/app',
      clone_url: cloneUrl,
      html_url: cloneUrl,
    });
  });

/** The parts of the report the tests read beyond toMatchObject. */
interface Report {
  why: string;
  ignored: string | null;
  builds: Array<{
    startBuild: {
      buildspecOverride: string;
      idempotencyToken: string;
      environmentVariablesOverride: Array<Record<string, string>>;
    } | null;
    error?: { code: string; message: string };
  }>;
}

async function explain(headers: string, body: Uint8Array, env: Record<string, string> = {}) {
  writeFileSync(join(dir, 'headers'), headers);
  writeFileSync(join(dir, 'body.json'), body);
  let out = '';
  let err = '';
  const code = await runExplain(
    ['--config', 'config.yml', '--host', 'gh', '--headers', 'headers', '--body', 'body.json'],
    {
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (err += t) },
      env: {
        PATH: process.env.PATH,
        GH_SECRET: SECRETS.GH_SECRET,
        GH_OLD_SECRET: 'previous-secret-9d2e',
        GH_API_TOKEN: API_TOKEN,
        AWS_REGION: 'us-east-1',
        ...env,
      },
      cwd: dir,
    },
  );
  return { code, out, err, report: out ? (JSON.parse(out) as Report) : null };
}

describe('codebuild-run explain', () => {
  it('shows a verified push, the answer, and the full StartBuild input with secrets as references', async () => {
    const delivery = github(push());
    const { code, out, report } = await explain(JSON.stringify(delivery.headers), delivery.body);
    expect(code).toBe(0);
    expect(report).toMatchObject({
      host: { id: 'gh', kind: 'github' },
      verified: true,
      why: 'verified with webhookSecret (env:GH_SECRET)',
      answer: { status: 202, body: { status: 'accepted' } },
      event: { repo: { fullName: 'acme/app', cloneUrl }, ref: 'refs/heads/main', sha },
      ignored: null,
    });
    const [build] = report!.builds;
    expect(build).toMatchObject({ project: 'app-ci', context: 'codebuild/app-ci', sha });
    const input = build!.startBuild!;
    expect(input).toMatchObject({ projectName: 'app-ci', sourceTypeOverride: 'NO_SOURCE' });
    expect(input.idempotencyToken).toMatch(/\S/);
    // The user's buildspec, read from the repository at the pushed sha, behind the clone step.
    expect(input.buildspecOverride).toContain('make test');
    expect(input.buildspecOverride).toContain('CBR_CLONE_OK');
    const variables = input.environmentVariablesOverride;
    expect(variables).toContainEqual({
      name: 'NPM_TOKEN',
      value: 'ci/npm:token',
      type: 'SECRETS_MANAGER',
    });
    expect(variables).toContainEqual({
      name: 'CBR_GIT_TOKEN',
      value: 'ci/github:token',
      type: 'SECRETS_MANAGER',
    });
    expect(variables).toContainEqual(expect.objectContaining({ name: 'CBR_SHA', value: sha }));
    for (const secret of [SECRETS.GH_SECRET, 'previous-secret-9d2e', API_TOKEN]) {
      expect(out).not.toContain(secret);
    }
  });

  it('names the previous secret when the host still signs with it', async () => {
    const delivery = github(push(), { secret: 'previous-secret-9d2e' });
    const { code, report } = await explain(JSON.stringify(delivery.headers), delivery.body);
    expect(code).toBe(0);
    expect(report!.why).toBe(
      'verified with previousWebhookSecret (env:GH_OLD_SECRET); the host still signs with it',
    );
  });

  it('exits 1 for a delivery no secret verifies, saying why, with the 401 serve would answer', async () => {
    const delivery = github(push(), { secret: 'someone-else' });
    const { code, report } = await explain(JSON.stringify(delivery.headers), delivery.body);
    expect(code).toBe(1);
    expect(report).toMatchObject({
      verified: false,
      code: 'webhook.mismatch',
      answer: { status: 401 },
    });
    expect(report!.why).toContain('X-Hub-Signature-256');
  });

  it('reads headers as "Name: value" lines, and explains an ignored event', async () => {
    const delivery = github(shared('github'), { event: 'ping' });
    const lines = [
      'POST /webhooks/gh HTTP/1.1',
      ...Object.entries(delivery.headers).map(([k, v]) => `${k}: ${v}`),
    ].join('\r\n');
    const { code, report } = await explain(lines, delivery.body);
    expect(code).toBe(0);
    expect(report).toMatchObject({
      verified: true,
      event: null,
      builds: [],
      answer: { status: 200 },
    });
    expect(report!.ignored).toContain('ping');
  });

  it('shows why a build could not be prepared (a buildspec missing at that commit)', async () => {
    const missing = git.createRepo('acme/empty.git');
    const bare = missing.commit('main', 'No buildspec', { 'README.md': 'hi\n' });
    const body = edited(push(), (p) => {
      p.after = bare;
      (p.head_commit as { id: string }).id = bare;
      Object.assign(p.repository as object, { full_name: 'acme/empty', clone_url: missing.url });
    });
    const delivery = github(body);
    const { code, report } = await explain(JSON.stringify(delivery.headers), delivery.body);
    expect(code).toBe(0);
    expect(report!.builds[0]).toMatchObject({
      startBuild: null,
      error: { code: 'pipeline.buildspec-missing' },
    });
    expect(report!.builds[0]!.error!.message).toContain('buildspec.yml not found');
  });

  it('exits 2 for missing options or an unknown host, and 0 for --help', async () => {
    const usage = await runExplain(['--config', 'x'], {
      stdout: { write: () => true },
      stderr: { write: () => true },
      env: {},
      cwd: dir,
    });
    expect(usage).toBe(2);
    let err = '';
    const unknown = await runExplain(
      ['--config', 'config.yml', '--host', 'nope', '--headers', 'headers', '--body', 'body.json'],
      {
        stdout: { write: () => true },
        stderr: { write: (t: string) => (err += t) },
        env: {},
        cwd: dir,
      },
    );
    expect(unknown).toBe(2);
    expect(err).toContain('no host "nope" in config.yml; its hosts are gh');
    let out = '';
    const help = await runExplain(['--help'], {
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: () => true },
      env: {},
      cwd: dir,
    });
    expect(help).toBe(0);
    expect(out).toContain('Usage: codebuild-run explain');
  });
});
