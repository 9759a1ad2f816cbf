import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryResolvers } from '../../src/local/executor/index.js';
import { removeTempDirs, runBuild, yaml } from './executor-harness.js';

afterEach(removeTempDirs);

const printEnv = (...names: string[]) =>
  names.map((name) => `      - echo "${name}=\${${name}-<unset>}"`);

describe('executeBuild: variables', () => {
  it('sets the variables CodeBuild sets', async () => {
    const { messages, workRoot } = await runBuild(
      yaml(
        'version: 0.2',
        'phases:',
        '  build:',
        '    commands:',
        ...printEnv(
          'CODEBUILD_BUILD_ID',
          'CODEBUILD_BUILD_ARN',
          'CODEBUILD_BUILD_NUMBER',
          'CODEBUILD_SRC_DIR',
          'CODEBUILD_INITIATOR',
          'CODEBUILD_BUILD_IMAGE',
          'CODEBUILD_LOG_PATH',
          'CODEBUILD_PROJECT_ARN',
          'CODEBUILD_BUILD_SUCCEEDING',
          'AWS_REGION',
          'AWS_DEFAULT_REGION',
          'CODEBUILD_RESOLVED_SOURCE_VERSION',
        ),
        '      - echo "start=$CODEBUILD_START_TIME pwd=$(pwd)"',
      ),
      { image: 'aws/codebuild/standard:7.0' },
    );
    const uuid = '0b7e3c1a-2f4d-4e5b-9a6c-7d8e9f0a1b2c';
    expect(messages).toEqual(
      expect.arrayContaining([
        `CODEBUILD_BUILD_ID=demo:${uuid}`,
        `CODEBUILD_BUILD_ARN=arn:aws:codebuild:eu-west-1:123456789012:build/demo:${uuid}`,
        'CODEBUILD_BUILD_NUMBER=7',
        `CODEBUILD_SRC_DIR=${workRoot}/src`,
        'CODEBUILD_INITIATOR=tester',
        'CODEBUILD_BUILD_IMAGE=aws/codebuild/standard:7.0',
        `CODEBUILD_LOG_PATH=${uuid}`,
        'CODEBUILD_PROJECT_ARN=arn:aws:codebuild:eu-west-1:123456789012:project/demo',
        'CODEBUILD_BUILD_SUCCEEDING=1',
        'AWS_REGION=eu-west-1',
        'AWS_DEFAULT_REGION=eu-west-1',
        // Source-dependent: absent for NO_SOURCE.
        'CODEBUILD_RESOLVED_SOURCE_VERSION=<unset>',
      ]),
    );
    const start = Number(
      /^start=(\d+) /.exec(messages.find((m) => m.startsWith('start=')) ?? '')?.[1],
    );
    expect(start).toBeGreaterThan(Date.UTC(2024, 0, 1));
    expect(start).toBeLessThanOrEqual(Date.now());
    expect(messages).toContain(`start=${start} pwd=${workRoot}/src`);
  });

  it('ranks StartBuild/project variables above buildspec variables', async () => {
    const { messages } = await runBuild(
      yaml(
        'version: 0.2',
        'env:',
        '  variables: { STAGE: from-buildspec, ONLY_BUILDSPEC: kept, AWS_REGION: us-west-2 }',
        'phases:',
        '  build:',
        '    commands:',
        ...printEnv('STAGE', 'ONLY_BUILDSPEC', 'AWS_REGION', 'CODEBUILD_BUILD_ID'),
      ),
      {
        environmentVariables: [
          { name: 'STAGE', value: 'from-override', type: 'PLAINTEXT' },
          // Reserved: CodeBuild's own value wins.
          { name: 'CODEBUILD_BUILD_ID', value: 'forged', type: 'PLAINTEXT' },
        ],
      },
    );
    expect(messages).toEqual(
      expect.arrayContaining([
        'STAGE=from-override',
        'ONLY_BUILDSPEC=kept',
        'AWS_REGION=us-west-2',
        'CODEBUILD_BUILD_ID=demo:0b7e3c1a-2f4d-4e5b-9a6c-7d8e9f0a1b2c',
      ]),
    );
  });

  it('resolves secrets-manager, parameter-store and typed variables, masking every value in the log', async () => {
    const resolvers = createMemoryResolvers(
      new Map([
        ['deploy-token', 'tok-9f8e7d6c'],
        ['db', JSON.stringify({ password: 'pw-correct-horse', user: 'app' })],
        ['api-key', 'key-5a4b3c'],
      ]),
      new Map([
        ['/team/license', 'lic-0042-xyz'],
        ['/team/region-pin', 'param-from-override'],
      ]),
    );
    const { result, logs, messages } = await runBuild(
      yaml(
        'version: 0.2',
        'env:',
        '  secrets-manager:',
        '    TOKEN: deploy-token',
        '    DB_PASSWORD: db:password',
        '  parameter-store:',
        '    LICENSE: /team/license',
        'phases:',
        '  build:',
        '    commands:',
        '      - echo "token is $TOKEN, in a sentence"',
        '      - echo "db=$DB_PASSWORD license=$LICENSE"',
        '      - echo "typed=$API_KEY pin=$PIN"',
        '      - echo "$TOKEN" | rev | rev',
        '      - test "$DB_PASSWORD" = pw-correct-horse && echo value-intact',
      ),
      {
        ...resolvers,
        environmentVariables: [
          { name: 'API_KEY', value: 'api-key', type: 'SECRETS_MANAGER' },
          { name: 'PIN', value: '/team/region-pin', type: 'PARAMETER_STORE' },
        ],
      },
    );
    expect(result.buildStatus).toBe('SUCCEEDED');
    expect(messages).toEqual(
      expect.arrayContaining([
        'token is ***, in a sentence',
        'db=*** license=***',
        'typed=*** pin=***',
        '***',
        'value-intact',
      ]),
    );
    const all = logs.join('\n');
    for (const secret of [
      'tok-9f8e7d6c',
      'pw-correct-horse',
      'key-5a4b3c',
      'lic-0042-xyz',
      'param-from-override',
    ]) {
      expect(all).not.toContain(secret);
    }
  });

  it('resolves a secret named by its ARN, with a JSON key and a version stage', async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf';
    const { result, messages } = await runBuild(
      yaml(
        'version: 0.2',
        'env:',
        '  secrets-manager:',
        `    USER_NAME: ${arn}:user:AWSCURRENT`,
        'phases:',
        '  build: { commands: [\'test "$USER_NAME" = app-user && echo arn-resolved\'] }',
      ),
      createMemoryResolvers(new Map([[arn, JSON.stringify({ user: 'app-user' })]]), new Map()),
    );
    expect(result.buildStatus).toBe('SUCCEEDED');
    expect(messages).toContain('arn-resolved');
  });

  it('fails DOWNLOAD_SOURCE when a secret or parameter cannot be resolved, naming it', async () => {
    const secret = await runBuild(
      yaml(
        'version: 0.2',
        'env: { secrets-manager: { TOKEN: "missing:key" } }',
        'phases:',
        '  build: { commands: [echo never] }',
      ),
    );
    expect(secret.result.buildStatus).toBe('FAILED');
    expect(secret.phase('DOWNLOAD_SOURCE')?.contexts).toEqual([
      {
        statusCode: 'Secrets Manager Error',
        message:
          'cannot resolve secrets-manager variable TOKEN (secret "missing:key"): secret "missing" is not defined',
      },
    ]);
    expect(secret.messages).not.toContain('never');

    const parameter = await runBuild(
      yaml('version: 0.2', 'phases:', '  build: { commands: [true] }'),
      {
        environmentVariables: [{ name: 'LICENSE', value: '/nope', type: 'PARAMETER_STORE' }],
      },
    );
    expect(parameter.phase('DOWNLOAD_SOURCE')?.contexts?.[0]).toEqual({
      statusCode: 'Decrypted Variables Error',
      message:
        'cannot resolve PARAMETER_STORE variable LICENSE (parameter "/nope"): parameter "/nope" is not defined',
    });
  });

  it('returns exported-variables with their values at the end of the build', async () => {
    const { result } = await runBuild(
      yaml(
        'version: 0.2',
        'env:',
        '  variables: { FROM_SPEC: spec-value }',
        '  exported-variables: [VERSION, FROM_SPEC, NEVER_SET, CODEBUILD_BUILD_NUMBER]',
        'phases:',
        '  install: { commands: [export VERSION=1.0] }',
        '  post_build: { commands: ["export VERSION=\\"1.2.3 final\\""] }',
      ),
    );
    expect(result.exportedVariables).toEqual([
      { name: 'VERSION', value: '1.2.3 final' },
      { name: 'FROM_SPEC', value: 'spec-value' },
      { name: 'NEVER_SET', value: '' },
      { name: 'CODEBUILD_BUILD_NUMBER', value: '7' },
    ]);
  });
});
