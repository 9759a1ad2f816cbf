import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { handler } from '../../server/lambda.js';
import { openSqliteStore } from '../../src/store/index.js';
import { CONFIG, github, SECRETS, shared } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'lambda-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A Lambda function URL event (payload format 2.0), as AWS hands it to the function. */
function functionUrlEvent(path: string, headers: Record<string, string>, body: Uint8Array) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abc123',
      domainName: 'abc123.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abc123',
      http: {
        method: 'POST',
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.1',
        userAgent: 'GitHub-Hookshot/test',
      },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 1767225600000,
    },
    body: Buffer.from(body).toString('base64'),
    isBase64Encoded: true,
  };
}

describe('the Lambda handler', () => {
  it('verifies the raw bytes of a base64 body, records the delivery and answers 202', async () => {
    const config = join(dir, 'config.yml');
    writeFileSync(config, CONFIG);
    Object.assign(process.env, SECRETS, {
      CODEBUILD_RUN_CONFIG: config,
      CODEBUILD_RUN_DATA_DIR: join(dir, 'data'),
      AWS_REGION: 'us-east-1',
    });
    const delivery = github(shared('github'));
    const answer = (await handler(
      functionUrlEvent('/webhooks/gh', delivery.headers, delivery.body) as never,
      {} as never,
    )) as { statusCode: number; body: string };
    expect(answer.statusCode).toBe(202);
    expect(JSON.parse(answer.body)).toMatchObject({
      status: 'accepted',
      builds: [{ project: 'demo' }],
    });

    const tampered = (await handler(
      functionUrlEvent('/webhooks/gh', delivery.headers, shared('gitea')) as never,
      {} as never,
    )) as { statusCode: number; body: string };
    expect(tampered.statusCode).toBe(401);

    const store = openSqliteStore({ path: join(dir, 'data', 'server.sqlite') });
    try {
      expect(store.stats().jobsByStep.start).toBe(1);
      expect(store.getDelivery('gh', delivery.headers['x-github-delivery']!)).not.toBeNull();
    } finally {
      store.close();
    }
  });
});
