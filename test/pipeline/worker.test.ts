/**
 * The worker carries accepted jobs through start → pending → watch → final status, over real
 * HTTP to a fake CodeBuild and a recording host API, with a real SQLite store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  API_TOKEN,
  CLONE_TOKEN_REF,
  failsInBuild,
  type Harness,
  hexSha,
  startHarness,
  succeeds,
  waitFor,
} from './harness.js';

let h: Harness;

afterEach(async () => {
  await h?.close();
});

const CONSOLE =
  /^https:\/\/us-east-1\.console\.aws\.amazon\.com\/codesuite\/codebuild\/123456789012\/projects\/demo\/build\/demo%3A[0-9a-f-]+\/\?region=us-east-1$/;

describe('a job from accepted to final status', () => {
  it('starts the build once, then posts pending and success with the build link, in order', async () => {
    h = await startHarness();
    h.fake.onStart = succeeds;
    const sha = hexSha(1);
    const [job] = h.push(sha);
    h.worker().start();
    await waitFor('the job to be done', () => h.job(job!.id).step === 'done');

    expect(h.fake.count('StartBuild')).toBe(1);
    const statuses = h.statuses();
    expect(statuses.map((s) => [s.state, s.description])).toEqual([
      ['pending', 'build queued: demo'],
      ['success', 'BUILD succeeded in 3m12s'],
    ]);
    for (const status of statuses) {
      expect(status.sha).toBe(sha);
      expect(status.context).toBe('codebuild/demo');
      expect(status.targetUrl).toMatch(CONSOLE);
      expect(status.authorization).toBe(`Bearer ${API_TOKEN}`);
    }
    const done = h.job(job!.id);
    expect(statuses[0]!.targetUrl).toBe(done.buildUrl);
    expect(done).toMatchObject({ finalState: 'success', attempts: 0 });
    expect(h.metrics).toEqual({
      posted: [
        ['gh', 'pending'],
        ['gh', 'success'],
      ],
      failed: [],
      started: ['demo'],
    });
  });

  it('sends a NO_SOURCE build with the clone step, the token only as a reference, and routing', async () => {
    h = await startHarness({
      rule: ['env: { STAGE: ci }', 'secrets: { NPM_TOKEN: "ci/npm:token" }'],
    });
    h.fake.onStart = succeeds;
    const sha = hexSha(2);
    const [job] = h.push(sha);
    h.worker().start();
    await waitFor('the job to be done', () => h.job(job!.id).step === 'done');

    const [start] = h.fake.calls.filter((c) => c.op === 'StartBuild');
    const body = start!.body as {
      sourceTypeOverride: string;
      buildspecOverride: string;
      idempotencyToken: string;
      environmentVariablesOverride: { name: string; value: string; type: string }[];
    };
    expect(body.sourceTypeOverride).toBe('NO_SOURCE');
    expect(body.buildspecOverride).toContain('codebuild-run: check out the pushed commit');
    expect(body.buildspecOverride).toContain('- make');
    expect(body.idempotencyToken).toMatch(/^cbr-[0-9a-f]{48}$/);
    const variables = Object.fromEntries(
      body.environmentVariablesOverride.map((v) => [v.name, [v.type, v.value]]),
    );
    expect(variables).toMatchObject({
      CBR_SHA: ['PLAINTEXT', sha],
      CBR_CLONE_URL: ['PLAINTEXT', 'https://github.com/octo/app.git'],
      CBR_GIT_TOKEN: ['SECRETS_MANAGER', CLONE_TOKEN_REF],
      STAGE: ['PLAINTEXT', 'ci'],
      NPM_TOKEN: ['SECRETS_MANAGER', 'ci/npm:token'],
      CBR_ROUTE_HOST_ID: ['PLAINTEXT', 'gh'],
      CBR_ROUTE_REPO: ['PLAINTEXT', 'octo/app'],
      CBR_ROUTE_SHA: ['PLAINTEXT', sha],
      CBR_ROUTE_CONTEXT: ['PLAINTEXT', 'codebuild/demo'],
      CBR_ROUTE_PLAN_ID: ['PLAINTEXT', job!.id],
    });
    // The API token the server holds never reaches CodeBuild, a log line or the store.
    expect(JSON.stringify(h.fake.calls)).not.toContain(API_TOKEN);
    expect(JSON.stringify(h.logs)).not.toContain(API_TOKEN);
    expect(JSON.stringify(h.job(job!.id))).not.toContain(API_TOKEN);
  });

  it('reports a failing build as failure with the failed command and phase', async () => {
    h = await startHarness();
    h.fake.onStart = failsInBuild;
    const [job] = h.push(hexSha(3));
    h.worker().start();
    await waitFor('the job to be done', () => h.job(job!.id).step === 'done');

    expect(h.statuses().map((s) => [s.state, s.description])).toEqual([
      ['pending', 'build queued: demo'],
      ['failure', 'BUILD failed: make exited 2 after 42s'],
    ]);
  });

  it('posts one error status naming the missing project, and does not retry StartBuild', async () => {
    h = await startHarness();
    h.fake.projects.delete('demo');
    const [job] = h.push(hexSha(4));
    h.worker().start();
    await waitFor('the job to be done', () => h.job(job!.id).step === 'done');

    expect(h.fake.count('StartBuild')).toBe(1);
    const statuses = h.statuses();
    expect(statuses).toHaveLength(1);
    expect(statuses[0]).toMatchObject({ state: 'error', targetUrl: 'https://github.com/octo/app' });
    expect(statuses[0]!.description).toMatch(
      /^CodeBuild project "demo" not found: create it, or fix the project of rule "ci"/,
    );
    expect(h.metrics.started).toEqual([]);
  });

  it('retries a throttled StartBuild with back-off and starts one build', async () => {
    h = await startHarness();
    h.fake.onStart = succeeds;
    h.fake.failWhen('StartBuild', (n) => n <= 2, 'ThrottlingException');
    const [job] = h.push(hexSha(5));
    h.worker().start();
    await waitFor('the job to be done', () => h.job(job!.id).step === 'done');

    const starts = h.fake.calls.filter((c) => c.op === 'StartBuild');
    expect(starts.map((c) => c.error ?? 'ok')).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      'ok',
    ]);
    // The same request each time: the idempotency token would refuse anything else.
    expect(new Set(starts.map((c) => JSON.stringify(c.body))).size).toBe(1);
    expect(h.statuses().map((s) => s.state)).toEqual(['pending', 'success']);
    expect(h.logs.filter((l) => l.message === 'StartBuild failed; will retry')).toHaveLength(2);
  });

  it('gives up on a StartBuild that stays throttled and says it could not start', async () => {
    h = await startHarness();
    h.deps.timing = { ...h.deps.timing, startAttempts: 3 };
    h.fake.failWhen('StartBuild', () => true, 'ThrottlingException');
    const [job] = h.push(hexSha(6));
    h.worker().start();
    await waitFor('the job to be done', () => h.job(job!.id).step === 'done');

    expect(h.fake.count('StartBuild')).toBe(3);
    const statuses = h.statuses();
    expect(statuses.map((s) => s.state)).toEqual(['error']);
    expect(statuses[0]!.description).toMatch(/^could not start: CodeBuild throttled StartBuild/);
  });

  it('still delivers every status when the host API fails half the time', async () => {
    h = await startHarness({
      hostAnswer: (_request, index) =>
        index % 2 === 0 ? { status: 502, body: { message: 'bad gateway' } } : { status: 201 },
    });
    h.fake.onStart = succeeds;
    const shas = [hexSha(7), hexSha(8), hexSha(9)];
    const jobs = shas.flatMap((sha, i) => h.push(sha, `branch-${i}`));
    h.worker().start();
    await waitFor('every job to be done', () => jobs.every((j) => h.job(j.id).step === 'done'));

    for (const sha of shas) {
      const delivered = h.statuses().filter((s) => s.sha === sha && s.answered === 201);
      expect(delivered.map((s) => s.state)).toEqual(['pending', 'success']);
    }
    expect(h.fake.count('StartBuild')).toBe(3);
    expect(h.metrics.failed).toEqual([]);
  });

  it('re-reads a token the host refuses (401) once, and posts with the new one', async () => {
    h = await startHarness({
      hostAnswer: (request) =>
        request.headers.authorization === `Bearer ${API_TOKEN}`
          ? { status: 401, body: { message: 'Bad credentials' } }
          : { status: 201 },
    });
    h.fake.onStart = succeeds;
    const [job] = h.push(hexSha(10));
    h.deps.secrets.invalidate = () => {
      h.secrets.invalidations++;
      h.secrets.token = 'api-token-value-2';
    };
    h.worker().start();
    await waitFor('the job to be done', () => h.job(job!.id).step === 'done');

    expect(h.secrets.invalidations).toBe(1);
    expect(h.statuses().map((s) => [s.state, s.answered, s.authorization])).toEqual([
      ['pending', 401, `Bearer ${API_TOKEN}`],
      ['pending', 201, 'Bearer api-token-value-2'],
      ['success', 201, 'Bearer api-token-value-2'],
    ]);
  });

  it('logs and counts a status the host refuses for good, and still posts the final one', async () => {
    h = await startHarness({
      hostAnswer: (request) =>
        JSON.parse(request.body).state === 'pending'
          ? { status: 422, body: { message: 'Validation Failed: context too long' } }
          : { status: 201 },
    });
    h.fake.onStart = succeeds;
    const [job] = h.push(hexSha(11));
    h.worker().start();
    await waitFor('the job to be done', () => h.job(job!.id).step === 'done');

    expect(h.statuses().map((s) => [s.state, s.answered])).toEqual([
      ['pending', 422],
      ['success', 201],
    ]);
    expect(h.metrics.failed).toEqual(['gh']);
    const refused = h.logs.filter((l) => l.level === 'error');
    expect(refused).toHaveLength(1);
    expect(String(refused[0]!.fields.hostMessage)).toContain('Validation Failed: context too long');
  });
});
