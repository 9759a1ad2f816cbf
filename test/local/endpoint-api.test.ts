/**
 * The local CodeBuild's answers for projects, build listings and Secrets Manager, checked through
 * the SDK against a real `local serve` process: shapes, paging, and AWS's error names.
 */
import { GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  BatchGetBuildsCommand,
  BatchGetProjectsCommand,
  CreateProjectCommand,
  type CreateProjectCommandInput,
  ListBuildsForProjectCommand,
  ListProjectsCommand,
  StartBuildCommand,
} from '@aws-sdk/client-codebuild';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LocalCodeBuildProcess,
  startLocalCodeBuild,
  waitFor,
} from '../support/local-codebuild.js';

let local: LocalCodeBuildProcess;

beforeAll(async () => {
  local = await startLocalCodeBuild({
    projects: { projects: [{ name: 'from-file', environment: { image: 'custom:1' } }] },
  });
});

afterAll(async () => {
  await local?.close();
});

const project = (name: string): CreateProjectCommandInput => ({
  name,
  source: {
    type: 'NO_SOURCE',
    buildspec: 'version: 0.2\nphases:\n  build:\n    commands: [echo from-project]\n',
  },
  artifacts: { type: 'NO_ARTIFACTS' },
  environment: {
    type: 'LINUX_CONTAINER',
    image: 'aws/codebuild/standard:7.0',
    computeType: 'BUILD_GENERAL1_SMALL',
    environmentVariables: [{ name: 'FROM_PROJECT', value: 'p', type: 'PLAINTEXT' }],
  },
  serviceRole: 'arn:aws:iam::000000000000:role/builder',
  timeoutInMinutes: 30,
});

describe('projects', () => {
  it('creates, lists and reads projects, refusing a duplicate name', async () => {
    const client = local.codebuild();
    const created = await client.send(new CreateProjectCommand(project('web')));
    expect(created.project).toMatchObject({
      name: 'web',
      arn: 'arn:aws:codebuild:us-east-1:000000000000:project/web',
      timeoutInMinutes: 30,
      environment: { image: 'aws/codebuild/standard:7.0' },
    });
    expect(created.project?.created).toBeInstanceOf(Date);
    await expect(client.send(new CreateProjectCommand(project('web')))).rejects.toMatchObject({
      name: 'ResourceAlreadyExistsException',
    });
    await expect(
      client.send(new CreateProjectCommand({ ...project('no-role'), serviceRole: undefined })),
    ).rejects.toMatchObject({
      name: 'InvalidInputException',
      message: expect.stringContaining("'serviceRole'"),
    });

    const { projects, projectsNotFound } = await client.send(
      new BatchGetProjectsCommand({ names: ['web', 'from-file', 'ghost'] }),
    );
    expect(projects?.map((p) => p.name)).toEqual(['web', 'from-file']);
    expect(projects?.[1]?.environment?.image).toBe('custom:1');
    expect(projectsNotFound).toEqual(['ghost']);
    const listed = await client.send(
      new ListProjectsCommand({ sortBy: 'NAME', sortOrder: 'ASCENDING' }),
    );
    expect(listed.projects).toEqual(['from-file', 'web']);
  });

  it('builds with the project’s buildspec and variables when StartBuild overrides none', async () => {
    await local.codebuild().send(new CreateProjectCommand(project('defaults')));
    const { build } = await local
      .codebuild()
      .send(new StartBuildCommand({ projectName: 'defaults' }));
    expect(build?.environment?.environmentVariables).toEqual([
      { name: 'FROM_PROJECT', value: 'p', type: 'PLAINTEXT' },
    ]);
    expect(build?.timeoutInMinutes).toBe(30);
    await waitFor('the project build to finish', async () => {
      const { builds } = await local
        .codebuild()
        .send(new BatchGetBuildsCommand({ ids: [build!.id!] }));
      return builds?.[0]?.buildStatus === 'SUCCEEDED';
    });
    const { events } = await local.logs().send(
      new GetLogEventsCommand({
        logGroupName: '/aws/codebuild/defaults',
        logStreamName: build!.id!.split(':')[1],
        startFromHead: true,
      }),
    );
    expect(events?.map((e) => e.message)).toContain('from-project');
  });
});

describe('build listings', () => {
  it('pages ListBuildsForProject by 100, newest first, and answers unknown ids in buildsNotFound', async () => {
    const client = local.codebuild();
    await client.send(new CreateProjectCommand(project('paged')));
    const ids: string[] = [];
    for (let chunk = 0; chunk < 101; chunk += 20) {
      const count = Math.min(20, 101 - chunk);
      const started = await Promise.all(
        Array.from({ length: count }, () =>
          client.send(
            new StartBuildCommand({
              projectName: 'paged',
              buildspecOverride: 'version: 0.2\nphases:\n  build:\n    commands: [true]\n',
            }),
          ),
        ),
      );
      ids.push(...started.map((out) => out.build!.id!));
    }
    const first = await client.send(new ListBuildsForProjectCommand({ projectName: 'paged' }));
    expect(first.ids).toHaveLength(100);
    expect(first.nextToken).toBeDefined();
    const second = await client.send(
      new ListBuildsForProjectCommand({ projectName: 'paged', nextToken: first.nextToken }),
    );
    expect(second.ids).toHaveLength(1);
    expect(second.nextToken).toBeUndefined();
    const all = [...first.ids!, ...second.ids!];
    expect(new Set(all)).toEqual(new Set(ids));
    const { builds } = await client.send(new BatchGetBuildsCommand({ ids: all.slice(0, 100) }));
    const numbers = all.slice(0, 100).map((id) => builds!.find((b) => b.id === id)!.buildNumber!);
    expect(numbers).toEqual([...numbers].sort((a, b) => b - a));
    expect(numbers[0]).toBe(101);

    const ascending = await client.send(
      new ListBuildsForProjectCommand({ projectName: 'paged', sortOrder: 'ASCENDING' }),
    );
    expect(ascending.ids?.[0]).toBe(all.at(-1));

    const found = await client.send(new BatchGetBuildsCommand({ ids: [ids[0]!, 'paged:missing'] }));
    expect(found.builds?.map((b) => b.id)).toEqual([ids[0]]);
    expect(found.buildsNotFound).toEqual(['paged:missing']);
    await expect(client.send(new BatchGetBuildsCommand({ ids: [] }))).rejects.toMatchObject({
      name: 'InvalidInputException',
    });
    await expect(
      client.send(
        new BatchGetBuildsCommand({ ids: Array.from({ length: 101 }, (_, i) => `paged:${i}`) }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidInputException' });
    await expect(
      client.send(new ListBuildsForProjectCommand({ projectName: 'ghost' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await waitFor(
      'the 101 builds to finish',
      async () => {
        const { builds: page } = await client.send(
          new BatchGetBuildsCommand({ ids: all.slice(0, 100) }),
        );
        return page!.every((b) => b.buildComplete);
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  });
});

describe('Secrets Manager', () => {
  it('keeps versions with AWSCURRENT and AWSPREVIOUS, found by name, ARN or partial ARN', async () => {
    const client = local.secrets();
    const created = await client.send(
      new CreateSecretCommand({ Name: 'app/db', SecretString: 'one' }),
    );
    expect(created.ARN).toMatch(
      /^arn:aws:secretsmanager:us-east-1:000000000000:secret:app\/db-[A-Za-z0-9]{6}$/,
    );
    const put = await client.send(
      new PutSecretValueCommand({ SecretId: created.ARN, SecretString: 'two' }),
    );
    expect(put.VersionStages).toEqual(['AWSCURRENT']);

    const current = await client.send(new GetSecretValueCommand({ SecretId: 'app/db' }));
    expect(current).toMatchObject({
      SecretString: 'two',
      VersionId: put.VersionId,
      VersionStages: ['AWSCURRENT'],
      Name: 'app/db',
    });
    expect(current.CreatedDate).toBeInstanceOf(Date);
    const previous = await client.send(
      new GetSecretValueCommand({
        SecretId: created.ARN!.slice(0, -7),
        VersionStage: 'AWSPREVIOUS',
      }),
    );
    expect(previous).toMatchObject({ SecretString: 'one', VersionId: created.VersionId });
    const byId = await client.send(
      new GetSecretValueCommand({ SecretId: created.ARN, VersionId: created.VersionId }),
    );
    expect(byId.SecretString).toBe('one');
  });

  it('answers Secrets Manager’s error names', async () => {
    const client = local.secrets();
    await client.send(new CreateSecretCommand({ Name: 'app/once', SecretString: 'x' }));
    await expect(
      client.send(new CreateSecretCommand({ Name: 'app/once', SecretString: 'y' })),
    ).rejects.toMatchObject({
      name: 'ResourceExistsException',
    });
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: 'app/missing' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
    });
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: 'app/once', VersionStage: 'AWSPENDING' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
