/** Runs real buildspecs through executeBuild in temporary directories, collecting what it reports. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/deps.js';
import {
  createMemoryResolvers,
  type ExecuteOptions,
  type ExecuteResult,
  executeBuild,
  type PhaseRecord,
} from '../../src/local/executor/index.js';

const workRoots: string[] = [];

export async function tempDir(prefix = 'cbr-exec-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  workRoots.push(dir);
  return dir;
}

/** For afterEach: removes every directory tempDir made. */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(workRoots.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

export interface BuildRun {
  result: ExecuteResult;
  logs: string[];
  /** Log lines without the `[Container] <time> ` prefix, command output as is. */
  messages: string[];
  /** currentPhase at each onPhase call. */
  transitions: string[];
  /** The phases each onPhase call saw. */
  snapshots: PhaseRecord[][];
  workRoot: string;
  phase(type: string): PhaseRecord | undefined;
  phaseTypes(): string[];
}

export async function runBuild(
  buildspec: string,
  overrides: Partial<ExecuteOptions> = {},
): Promise<BuildRun> {
  const workRoot = overrides.workRoot ?? (await tempDir());
  const logs: string[] = [];
  const transitions: string[] = [];
  const snapshots: PhaseRecord[][] = [];
  const resolvers = createMemoryResolvers(new Map(), new Map());
  const result = await executeBuild({
    buildId: 'demo:0b7e3c1a-2f4d-4e5b-9a6c-7d8e9f0a1b2c',
    buildArn:
      'arn:aws:codebuild:eu-west-1:123456789012:build/demo:0b7e3c1a-2f4d-4e5b-9a6c-7d8e9f0a1b2c',
    buildNumber: 7,
    projectName: 'demo',
    region: 'eu-west-1',
    accountId: '123456789012',
    initiator: 'tester',
    buildspec,
    source: { type: 'NO_SOURCE' },
    environmentVariables: [],
    ...resolvers,
    workRoot,
    timeoutMs: 20_000,
    signal: new AbortController().signal,
    clock: systemClock,
    onLog: (line) => logs.push(line),
    onPhase: (phases, current) => {
      snapshots.push(phases);
      transitions.push(current);
    },
    ...overrides,
  });
  const messages = logs.map((line) =>
    line.replace(/^\[Container\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} /, ''),
  );
  return {
    result,
    logs,
    messages,
    transitions,
    snapshots,
    workRoot,
    phase: (type) => result.phases.find((p) => p.phaseType === type),
    phaseTypes: () => result.phases.map((p) => p.phaseType),
  };
}

/** A buildspec from lines, so tests read like the YAML they run. */
export function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}
