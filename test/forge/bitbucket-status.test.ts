import { describe, expect, it } from 'vitest';
import { bitbucketDriver } from '../../src/forge/bitbucket/index.js';
import { buildStatusKey } from '../../src/forge/bitbucket/shared.js';
import type { CommitStatus, StatusTarget } from '../../src/forge/types.js';
import { describeStatusContract, useStatusHost } from './status-contract.js';

const TOKEN = 'bb-access-token';
const SHA = '141977fedf5cf35aa290ac87d4b5177ac4cd9de1';
const target: StatusTarget = { repo: { fullName: 'acme-team/storefront', id: null }, sha: SHA };
const status: CommitStatus = {
  state: 'running',
  context: 'codebuild/storefront',
  description: 'BUILD running',
  targetUrl: 'https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/1/projects/shop/build/x',
};
const hostOptions = { apiBasePath: '', token: TOKEN, stored: { status: 201, body: { key: 'x' } } };
const rejected = 'Token is invalid, expired, or not supported for this endpoint.';

describeStatusContract({
  ...hostOptions,
  driver: bitbucketDriver,
  target,
  status,
  requestPath: `/2.0/repositories/acme-team/storefront/commit/${SHA}/statuses/build`,
  errorBody: { type: 'error', error: { message: 'Something went wrong' } },
  unauthorized: { body: { type: 'error', error: { message: rejected } }, hostMessage: rejected },
  stateWords: {
    pending: 'INPROGRESS',
    running: 'INPROGRESS',
    success: 'SUCCESSFUL',
    failure: 'FAILED',
    error: 'FAILED',
    canceled: 'STOPPED',
  },
});

describe('bitbucket cloud postCommitStatus', () => {
  const host = useStatusHost(bitbucketDriver, hostOptions);

  it('posts a build status for the commit, with a Bearer token', async () => {
    const { request, body } = await host.postOnce(target, status);
    expect(request.method).toBe('POST');
    expect(request.path).toBe(
      `/2.0/repositories/acme-team/storefront/commit/${SHA}/statuses/build`,
    );
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(body).toEqual({
      key: 'codebuild/storefront',
      state: 'INPROGRESS',
      name: 'codebuild/storefront',
      url: status.targetUrl,
      description: 'BUILD running',
    });
  });

  it('derives a stable 40-character key from a longer context and keeps the whole name', async () => {
    const context = 'codebuild/storefront-integration-tests-eu-west-1';
    const other = 'codebuild/storefront-integration-tests-eu-central-1';
    await host.post(target, { ...status, context });
    await host.post(target, { ...status, context });
    await host.post(target, { ...status, context: other });
    const bodies = host.recorder.requests.map((r) => JSON.parse(r.body));
    expect(bodies[0].key).toHaveLength(40);
    expect(bodies[0].key).toMatch(/^codebuild\/storefront-integratio-[0-9a-f]{8}$/);
    expect(bodies[1].key).toBe(bodies[0].key);
    expect(bodies[2].key).toHaveLength(40);
    expect(bodies[2].key).not.toBe(bodies[0].key);
    expect(bodies[0].name).toBe(context);
  });

  it('leaves a key of exactly 40 characters as it is', () => {
    expect(buildStatusKey('k'.repeat(40), 40)).toBe('k'.repeat(40));
    expect(buildStatusKey('k'.repeat(41), 40)).toHaveLength(40);
  });

  it('refuses a repository name that is not workspace/slug before sending anything', async () => {
    const bad = { ...target, repo: { fullName: 'just-a-name', id: null } };
    await expect(host.post(bad, status)).rejects.toThrow(
      'the Bitbucket Cloud repository "just-a-name" is not of the form workspace/repo-slug',
    );
    expect(host.recorder.requests).toHaveLength(0);
  });
});
