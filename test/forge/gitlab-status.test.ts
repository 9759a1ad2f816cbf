import { describe, expect, it } from 'vitest';
import { gitlabDriver } from '../../src/forge/gitlab/index.js';
import type { CommitStatus, StatusTarget } from '../../src/forge/types.js';
import { describeStatusContract, hostApiError, useStatusHost } from './status-contract.js';

const TOKEN = 'glpat-test-token';
const SHA = '2adc9465c4edfc33834e173fe89436a7cb899a1d';
const target: StatusTarget = { repo: { fullName: 'acme/platform/api', id: '4861503' }, sha: SHA };
const status: CommitStatus = {
  state: 'failure',
  context: 'codebuild/api-tests',
  description: 'BUILD failed: make exited 2 after 3m12s',
  targetUrl: 'https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/1/projects/api/build/x',
};
const hostOptions = {
  apiBasePath: '/api/v4',
  token: TOKEN,
  stored: { status: 201, body: { id: 1 } },
};

describeStatusContract({
  ...hostOptions,
  driver: gitlabDriver,
  target,
  status,
  requestPath: `/api/v4/projects/4861503/statuses/${SHA}`,
  errorBody: { message: '500 Internal Server Error' },
  unauthorized: { body: { message: '401 Unauthorized' }, hostMessage: '401 Unauthorized' },
  stateWords: {
    pending: 'pending',
    running: 'running',
    success: 'success',
    failure: 'failed',
    error: 'failed',
    canceled: 'canceled',
  },
});

describe('gitlab postCommitStatus', () => {
  const host = useStatusHost(gitlabDriver, hostOptions);

  it('posts the status to the project by id, with a Bearer token', async () => {
    const { request, body } = await host.postOnce(target, status);
    expect(request.method).toBe('POST');
    expect(request.path).toBe(`/api/v4/projects/4861503/statuses/${SHA}`);
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request.headers['private-token']).toBeUndefined();
    expect(request.headers['content-type']).toBe('application/json');
    expect(body).toEqual({
      state: 'failed',
      name: 'codebuild/api-tests',
      target_url: status.targetUrl,
      description: 'BUILD failed: make exited 2 after 3m12s',
    });
  });

  it('addresses a project without id by its URL-encoded full path', async () => {
    const byPath = { ...target, repo: { ...target.repo, id: null } };
    const { request } = await host.postOnce(byPath, status);
    expect(request.path).toBe(`/api/v4/projects/acme%2Fplatform%2Fapi/statuses/${SHA}`);
  });

  it('cuts a long description to 255 characters', async () => {
    const long = { ...status, description: 'x'.repeat(300) };
    const description = (await host.postOnce(target, long)).body.description;
    expect([...(description as string)]).toHaveLength(255);
    expect(description).toMatch(/…$/);
  });

  // GitLab refuses a transition to the state a status is already in (or, for a late pending,
  // one it has left) with a 400; the status the user sees is then already right.
  const refusedTransitions = [
    { name: 'counts the 400 answering a repeated state as done', state: 'running', verb: 'run' },
    {
      name: 'counts a late pending refused because the build already runs as done',
      state: 'pending',
      verb: 'enqueue',
    },
  ] as const;
  for (const { name, state, verb } of refusedTransitions) {
    it(name, async () => {
      host.recorder.answer({
        status: 400,
        body: {
          message: `Cannot transition status via :${verb} from :running (Reason(s): Status cannot transition via "${verb}")`,
        },
      });
      await expect(host.post(target, { ...status, state })).resolves.toBeUndefined();
      expect(host.recorder.requests).toHaveLength(1);
    });
  }

  it('still fails on any other 400', async () => {
    host.recorder.answer({ status: 400, body: { message: { name: ['is too long'] } } });
    const error = await hostApiError(host.post(target, status));
    expect(error.status).toBe(400);
    expect(error.hostMessage).toContain('is too long');
  });
});
