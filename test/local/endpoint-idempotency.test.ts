/**
 * The idempotency token's 5-minute window, on a clock the test moves: the local CodeBuild served
 * in-process on 127.0.0.1, the SDK as the client, builds run by the real executor.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Build,
  CodeBuildClient,
  StartBuildCommand,
  type StartBuildCommandInput,
} from '@aws-sdk/client-codebuild';
import { createAdaptorServer } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/deps.js';
import { createLocalCodeBuild, type LocalCodeBuild } from '../../src/local/index.js';
import { type FakeClock, fakeClock } from '../support/fake-clock.js';
import { isComplete, waitForBuild } from '../support/local-codebuild.js';

let dir: string;
let clock: FakeClock;
let endpoint: LocalCodeBuild;
let server: Server;
let client: CodeBuildClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'endpoint-idempotency-'));
  clock = fakeClock();
  endpoint = createLocalCodeBuild({
    dataDir: dir,
    clock,
    logger: silentLogger,
    projects: { projects: [{ name: 'tokens' }] },
  });
  server = createAdaptorServer({ fetch: endpoint.handle }) as Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new CodeBuildClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await endpoint?.close();
  rmSync(dir, { recursive: true, force: true });
});

const input: StartBuildCommandInput = {
  projectName: 'tokens',
  buildspecOverride: 'version: 0.2\nphases:\n  build:\n    commands: [echo hi]\n',
  idempotencyToken: 'push-abc',
};

const start = async (extra: Partial<StartBuildCommandInput> = {}): Promise<Build> =>
  (await client.send(new StartBuildCommand({ ...input, ...extra }))).build!;

describe('the idempotency token', () => {
  it('answers the first build for 5 minutes, then starts a new one', async () => {
    const first = await start();
    await clock.sleep(4 * 60_000 + 59_000); // the fake clock's sleep moves time on
    expect((await start()).id).toBe(first.id);
    await expect(start({ sourceVersion: 'other' })).rejects.toMatchObject({
      name: 'InvalidInputException',
    });

    await clock.sleep(2_000);
    const second = await start();
    expect(second.id).not.toBe(first.id);
    expect(second.buildNumber).toBe(first.buildNumber! + 1);
    // The token now belongs to the second build, whose parameters are the ones to repeat.
    expect((await start()).id).toBe(second.id);

    for (const build of [first, second]) {
      expect((await waitForBuild(client, build.id!, isComplete)).buildStatus).toBe('SUCCEEDED');
    }
  });
});
