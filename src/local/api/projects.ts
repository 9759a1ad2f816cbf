/** CreateProject, BatchGetProjects and ListProjects, and the project shape the builds start from. */
import { SourceType } from '@aws-sdk/client-codebuild';
import type { EnvironmentVariable, StoredProject } from '../store/index.js';
import { defaultServiceRole, type EndpointContext, projectArn, projectNameOf } from './context.js';
import { AwsError, defined, type Input, InputReader, invalidInput, seconds } from './wire.js';

const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9\-_]{1,254}$/;
/** CodeBuild's source types, from the SDK's own model. */
const SOURCE_TYPES: readonly string[] = Object.values(SourceType);
const VARIABLE_TYPES = ['PLAINTEXT', 'PARAMETER_STORE', 'SECRETS_MANAGER'] as const;
const PAGE = 100;

export function checkSourceType(type: string, key: string): string {
  if (!SOURCE_TYPES.includes(type)) {
    throw invalidInput(`${key} must be one of ${SOURCE_TYPES.join(', ')} (found "${type}")`);
  }
  return type;
}

/** `environmentVariables` or `environmentVariablesOverride`; CODEBUILD_ names are reserved. */
export function readVariables(
  list: InputReader[] | undefined,
  key: string,
): EnvironmentVariable[] | undefined {
  if (!list) return undefined;
  return list.map((item) => {
    const name = item.string('name');
    const value = item.string('value');
    const type = item.optionalString('type') ?? 'PLAINTEXT';
    if (!(VARIABLE_TYPES as readonly string[]).includes(type)) {
      throw invalidInput(
        `${key}: variable ${name} has type "${type}"; use PLAINTEXT, PARAMETER_STORE or SECRETS_MANAGER`,
      );
    }
    if (name.startsWith('CODEBUILD_')) {
      throw invalidInput(
        `Invalid input: ${key}: the name ${name} is reserved (names starting with CODEBUILD_ belong to CodeBuild); rename the variable`,
      );
    }
    return { name, value, type: type as EnvironmentVariable['type'] };
  });
}

/**
 * A project from a CreateProject body. With `fillDefaults` (the projects file), the fields
 * CreateProject requires may be left out and get local defaults.
 */
export function projectFromInput(
  ctx: EndpointContext,
  input: Input,
  fillDefaults: boolean,
): StoredProject {
  const reader = new InputReader(input);
  const name = reader.string('name');
  if (!PROJECT_NAME.test(name)) {
    throw invalidInput(
      `Invalid project name "${name}": use 2-255 letters, digits, - and _, starting with a letter or digit`,
    );
  }
  const need = (key: string) => !fillDefaults || reader.has(key);
  // CreateProject requires these; the projects file may leave them to the local defaults.
  const field = (of: InputReader | undefined, key: string, fallback: string) =>
    (fillDefaults ? of?.optionalString(key) : of?.string(key)) ?? fallback;
  const source = need('source') ? reader.object('source') : undefined;
  const artifacts = need('artifacts') ? reader.object('artifacts') : undefined;
  const environment = need('environment') ? reader.object('environment') : undefined;
  const serviceRole = field(reader, 'serviceRole', defaultServiceRole(ctx));
  const cloudWatchLogs = reader.optionalObject('logsConfig')?.optionalObject('cloudWatchLogs');
  const now = ctx.clock.now();
  return defined({
    name,
    arn: projectArn(ctx, name),
    description: reader.optionalString('description'),
    source: defined({
      type: checkSourceType(field(source, 'type', 'NO_SOURCE'), 'source.type'),
      location: source?.optionalString('location'),
      buildspec: source?.optionalString('buildspec'),
      gitCloneDepth: source?.optionalNumber('gitCloneDepth', 0, 2147483647),
    }),
    sourceVersion: reader.optionalString('sourceVersion'),
    artifacts: defined({
      type: field(artifacts, 'type', 'NO_ARTIFACTS'),
      location: artifacts?.optionalString('location'),
    }),
    environment: defined({
      type: field(environment, 'type', 'LINUX_CONTAINER'),
      image: field(environment, 'image', 'aws/codebuild/standard:7.0'),
      computeType: field(environment, 'computeType', 'BUILD_GENERAL1_SMALL'),
      privilegedMode: environment?.optionalBoolean('privilegedMode') ?? false,
      imagePullCredentialsType:
        environment?.optionalString('imagePullCredentialsType') ?? 'CODEBUILD',
      environmentVariables:
        readVariables(environment?.optionalList('environmentVariables'), 'environment') ?? [],
    }),
    serviceRole,
    timeoutInMinutes: reader.optionalNumber('timeoutInMinutes', 5, 2160) ?? 60,
    queuedTimeoutInMinutes: reader.optionalNumber('queuedTimeoutInMinutes', 5, 480) ?? 480,
    logsConfig: cloudWatchLogs
      ? {
          cloudWatchLogs: defined({
            status: cloudWatchLogs.optionalString('status') ?? 'ENABLED',
            groupName: cloudWatchLogs.optionalString('groupName'),
            streamName: cloudWatchLogs.optionalString('streamName'),
          }),
        }
      : undefined,
    tags: reader.raw('tags') as StoredProject['tags'],
    created: now,
    lastModified: now,
  });
}

export function renderProject(project: StoredProject): object {
  return defined({
    ...project,
    secondarySources: [],
    secondarySourceVersions: [],
    secondaryArtifacts: [],
    cache: { type: 'NO_CACHE' },
    logsConfig: project.logsConfig ?? {
      cloudWatchLogs: { status: 'ENABLED' },
      s3Logs: { status: 'DISABLED', encryptionDisabled: false },
    },
    badge: { badgeEnabled: false },
    projectVisibility: 'PRIVATE',
    created: seconds(project.created),
    lastModified: seconds(project.lastModified),
  });
}

export function requireProject(ctx: EndpointContext, nameOrArn: string): StoredProject {
  const project = ctx.store.projects.get(projectNameOf(nameOrArn));
  if (!project) {
    throw new AwsError(
      'ResourceNotFoundException',
      `Project cannot be found: ${projectArn(ctx, projectNameOf(nameOrArn))}`,
    );
  }
  return project;
}

export function createProject(ctx: EndpointContext, input: Input): object {
  const project = projectFromInput(ctx, input, false);
  if (!ctx.store.projects.insert(project)) {
    throw new AwsError(
      'ResourceAlreadyExistsException',
      `Project already exists: ${projectArn(ctx, project.name)}`,
    );
  }
  return { project: renderProject(project) };
}

export function batchGetProjects(ctx: EndpointContext, input: Input): object {
  const names = new InputReader(input).stringList('names', 1, 100);
  const projects: object[] = [];
  const projectsNotFound: string[] = [];
  for (const name of new Set(names)) {
    const project = ctx.store.projects.get(projectNameOf(name));
    if (project) projects.push(renderProject(project));
    else projectsNotFound.push(name);
  }
  return { projects, projectsNotFound };
}

export function listProjects(ctx: EndpointContext, input: Input): object {
  const reader = new InputReader(input);
  const sortBy = reader.optionalString('sortBy') ?? 'NAME';
  const descending = (reader.optionalString('sortOrder') ?? 'ASCENDING') === 'DESCENDING';
  const key = (p: StoredProject): string | number =>
    sortBy === 'CREATED_TIME'
      ? p.created
      : sortBy === 'LAST_MODIFIED_TIME'
        ? p.lastModified
        : p.name;
  const sorted = ctx.store.projects
    .all()
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.name.localeCompare(b.name)));
  if (descending) sorted.reverse();
  const start = pageStart(reader.optionalString('nextToken'));
  const page = sorted.slice(start, start + PAGE);
  return defined({
    projects: page.map((p) => p.name),
    nextToken: start + PAGE < sorted.length ? String(start + PAGE) : undefined,
  });
}

function pageStart(token: string | undefined): number {
  if (token === undefined) return 0;
  if (!/^\d+$/.test(token)) throw invalidInput(`Invalid nextToken "${token}"`);
  return Number(token);
}
