/**
 * A buildspec's `batch:` section → the member builds of a batch: build-list (all at once),
 * build-graph (each after its `depend-on`) and build-matrix (every combination of the `dynamic`
 * values, with the `static` settings).
 */
import { parse } from 'yaml';
import type { EnvironmentVariable } from '../store/index.js';
import type { MemberSettings } from './build-request.js';
import { chooseBuildspec } from './buildspec-source.js';

export interface BatchMember {
  identifier: string;
  dependsOn: string[];
  ignoreFailure: boolean;
  settings: MemberSettings;
}

export interface BatchSpec {
  members: BatchMember[];
  fastFail: boolean;
}

export class BatchSpecError extends Error {}

type Mapping = Record<string, unknown>;
const isMapping = (value: unknown): value is Mapping =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const IDENTIFIER = /^[A-Za-z0-9_]{1,127}$/;

function envSettings(env: unknown, where: string): MemberSettings {
  if (env === undefined || env === null) return {};
  if (!isMapping(env)) throw new BatchSpecError(`${where}.env must be a mapping`);
  const variables = env.variables;
  if (variables !== undefined && !isMapping(variables)) {
    throw new BatchSpecError(`${where}.env.variables must be a mapping of NAME: value`);
  }
  const settings: MemberSettings = {};
  if (variables) {
    settings.variables = Object.entries(variables).map(
      ([name, value]): EnvironmentVariable => ({ name, value: String(value), type: 'PLAINTEXT' }),
    );
  }
  if (env.image !== undefined) settings.image = String(env.image);
  if (env['compute-type'] !== undefined) settings.computeType = String(env['compute-type']);
  if (env['privileged-mode'] !== undefined)
    settings.privilegedMode = env['privileged-mode'] === true;
  return settings;
}

function task(entry: unknown, index: number, section: string, graph: boolean): BatchMember {
  const where = `batch.${section}[${index}]`;
  if (!isMapping(entry)) throw new BatchSpecError(`${where} must be a mapping with an identifier`);
  const identifier = String(entry.identifier ?? '');
  if (!IDENTIFIER.test(identifier)) {
    throw new BatchSpecError(
      `${where}.identifier "${identifier}" must be 1-127 letters, digits and underscores`,
    );
  }
  const dependOn = entry['depend-on'] ?? [];
  if (!graph && entry['depend-on'] !== undefined) {
    throw new BatchSpecError(
      `${where}.depend-on is for build-graph; build-list builds run together`,
    );
  }
  if (!Array.isArray(dependOn))
    throw new BatchSpecError(`${where}.depend-on must be a list of identifiers`);
  const settings = envSettings(entry.env, where);
  if (entry.buildspec !== undefined) settings.buildspec = chooseBuildspec(String(entry.buildspec));
  return {
    identifier,
    dependsOn: dependOn.map(String),
    ignoreFailure: entry['ignore-failure'] === true,
    settings,
  };
}

function matrix(section: unknown): BatchMember[] {
  if (!isMapping(section))
    throw new BatchSpecError('batch.build-matrix must be a mapping with static and dynamic');
  const fixed = isMapping(section.static) ? section.static : {};
  const dynamic = isMapping(section.dynamic) ? section.dynamic : {};
  const base = envSettings(fixed.env, 'batch.build-matrix.static');
  const env = isMapping(dynamic.env) ? dynamic.env : {};
  const asList = (value: unknown, key: string): unknown[] => {
    if (value === undefined) return [undefined];
    if (!Array.isArray(value) || value.length === 0) {
      throw new BatchSpecError(`batch.build-matrix.dynamic.${key} must be a non-empty list`);
    }
    return value;
  };
  const variables = isMapping(env.variables) ? Object.entries(env.variables) : [];
  const axes: Array<[string, unknown[]]> = [
    ['buildspec', asList(dynamic.buildspec, 'buildspec')],
    ['image', asList(env.image, 'env.image')],
    ['compute-type', asList(env['compute-type'], 'env.compute-type')],
    ...variables.map(([name, values]): [string, unknown[]] => [
      `var:${name}`,
      asList(values, `env.variables.${name}`),
    ]),
  ];
  let combinations: Array<Record<string, unknown>> = [{}];
  for (const [axis, values] of axes) {
    combinations = combinations.flatMap((combo) =>
      values.map((value) => ({ ...combo, [axis]: value })),
    );
  }
  return combinations.map((combo, index) => {
    const settings: MemberSettings = { ...base, variables: [...(base.variables ?? [])] };
    for (const [axis, value] of Object.entries(combo)) {
      if (value === undefined) continue;
      if (axis === 'buildspec') settings.buildspec = chooseBuildspec(String(value));
      else if (axis === 'image') settings.image = String(value);
      else if (axis === 'compute-type') settings.computeType = String(value);
      else
        settings.variables!.push({ name: axis.slice(4), value: String(value), type: 'PLAINTEXT' });
    }
    return {
      identifier: `matrix_${index + 1}`,
      dependsOn: [],
      ignoreFailure: fixed['ignore-failure'] === true,
      settings,
    };
  });
}

/** Reads the batch section of a buildspec's YAML text. */
export function readBatchSpec(text: string): BatchSpec {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new BatchSpecError(
      `the buildspec is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  const batch = isMapping(document) ? document.batch : undefined;
  if (!isMapping(batch)) {
    throw new BatchSpecError(
      'the buildspec has no batch section: add batch with build-list, build-graph or build-matrix, or start it with StartBuild',
    );
  }
  let members: BatchMember[];
  if (Array.isArray(batch['build-list'])) {
    members = batch['build-list'].map((entry, i) => task(entry, i, 'build-list', false));
  } else if (Array.isArray(batch['build-graph'])) {
    members = batch['build-graph'].map((entry, i) => task(entry, i, 'build-graph', true));
  } else if (batch['build-matrix'] !== undefined) {
    members = matrix(batch['build-matrix']);
  } else {
    throw new BatchSpecError(
      'batch needs build-list, build-graph or build-matrix (build-fanout is not supported locally)',
    );
  }
  if (members.length === 0) throw new BatchSpecError('the batch has no builds');
  const seen = new Set<string>();
  for (const member of members) {
    if (seen.has(member.identifier))
      throw new BatchSpecError(`identifier ${member.identifier} is used twice`);
    seen.add(member.identifier);
  }
  for (const member of members) {
    for (const dependency of member.dependsOn) {
      if (!seen.has(dependency)) {
        throw new BatchSpecError(
          `${member.identifier} depends on ${dependency}, which is not in the batch`,
        );
      }
    }
  }
  const ordered = new Set<string>();
  while (ordered.size < members.length) {
    const ready = members.filter(
      (m) => !ordered.has(m.identifier) && m.dependsOn.every((d) => ordered.has(d)),
    );
    if (ready.length === 0) {
      const stuck = members.filter((m) => !ordered.has(m.identifier)).map((m) => m.identifier);
      throw new BatchSpecError(`build-graph has a dependency cycle among ${stuck.join(', ')}`);
    }
    for (const m of ready) ordered.add(m.identifier);
  }
  return { members, fastFail: batch['fast-fail'] === true };
}
