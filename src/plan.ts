/**
 * The planner: which builds one push starts. Every rule that matches the push yields a build,
 * so one push may start several projects, or none; when none, the reason says what the user
 * could change (the rule that nearly matched and what it wanted).
 *
 * A rule matches when, in this order: it listens to the host, a repos glob matches the
 * repository, a branches/tags glob matches the ref, the head commit does not ask to skip CI
 * (unless skipCi: false), and a changed path passes the path filters.
 */
import { createHash } from 'node:crypto';
import {
  type BuildspecSource,
  type Config,
  globMatcher,
  type NameMatcher,
  type Rule,
} from './config.js';
import { CodebuildRunError } from './errors.js';
import type { PushEvent } from './forge/types.js';
import { skipCiMarker } from './plan/skip-ci.js';

export type PlanResult = { builds: PlannedBuild[] } | { skipped: string };

export interface PlannedBuild {
  /** Digest of (host id, repo, ref, sha, project, rule): the same push planned twice gets the same id. */
  planId: string;
  ruleName: string;
  projectName: string;
  statusContext: string;
  buildspec: BuildspecSource;
  overrides: {
    image?: string;
    computeType?: string;
    privilegedMode?: boolean;
    timeoutInMinutes?: number;
    queuedTimeoutInMinutes?: number;
  };
  environmentVariables: Array<{
    name: string;
    value: string;
    type: 'PLAINTEXT' | 'PARAMETER_STORE' | 'SECRETS_MANAGER';
  }>;
  cancelSuperseded: boolean;
  submodules: boolean;
  lfs: boolean;
}

/** How far a rule got before it stopped matching: the furthest ones are the near misses. */
const STAGES = ['host', 'repo', 'ref', 'skip', 'paths'] as const;
type Stage = (typeof STAGES)[number];
type Verdict = { matched: true } | { matched: false; stage: Stage; reason: string };

interface CompiledRule {
  repos: NameMatcher;
  branches: NameMatcher;
  tags: NameMatcher;
  paths: NameMatcher;
  ignorePaths: NameMatcher;
}

/** Globs compile once per rule, not once per push. */
const compiled = new WeakMap<Rule, CompiledRule>();

function compile(rule: Rule): CompiledRule {
  let matchers = compiled.get(rule);
  if (!matchers) {
    matchers = {
      repos: globMatcher(rule.repos, 'repos'),
      branches: rule.branches === null ? () => true : globMatcher(rule.branches, 'branches'),
      tags: globMatcher(rule.tags, 'tags'),
      paths: rule.paths === null ? () => true : globMatcher(rule.paths, 'paths'),
      ignorePaths: globMatcher(rule.ignorePaths, 'ignorePaths'),
    };
    compiled.set(rule, matchers);
  }
  return matchers;
}

/** Throws when `hostId` is not in the config: the caller routed a delivery to no host. */
export function planBuilds(config: Config, hostId: string, event: PushEvent): PlanResult {
  if (!(hostId in config.hosts)) {
    throw new CodebuildRunError(`no host "${hostId}" in the config`, 'plan.unknown-host');
  }
  const what = `the ${event.refKind} ${event.refName}`;
  if (event.deleted) return { skipped: `${what} was deleted; nothing to build` };
  if (event.sha === null)
    return { skipped: `the push of ${what} names no commit; nothing to build` };
  const sha = event.sha;

  const verdicts = config.rules.map((rule) => ({ rule, verdict: judge(rule, hostId, event) }));
  const builds = verdicts
    .filter(({ verdict }) => verdict.matched)
    .map(({ rule }) => plannedBuild(rule, hostId, event, sha));
  if (builds.length > 0) return { builds };
  return { skipped: whyNothing(verdicts, hostId, event) };
}

function judge(rule: Rule, hostId: string, event: PushEvent): Verdict {
  const miss = (stage: Stage, reason: string): Verdict => ({ matched: false, stage, reason });
  const matchers = compile(rule);
  const name = `rule "${rule.name}"`;
  if (rule.hosts !== null && !rule.hosts.includes(hostId)) {
    return miss('host', `${name} listens to hosts ${rule.hosts.join(', ')}`);
  }
  if (!matchers.repos(event.repo.fullName)) {
    return miss('repo', `${name} wants repos ${rule.repos.join(', ')}`);
  }
  if (event.refKind === 'branch' && !matchers.branches(event.refName)) {
    return miss(
      'ref',
      rule.branches?.length === 0
        ? `${name} builds no branches`
        : `${name} wants branches ${rule.branches?.join(', ')}`,
    );
  }
  if (event.refKind === 'tag' && !matchers.tags(event.refName)) {
    return miss(
      'ref',
      rule.tags.length === 0
        ? `${name} builds no tags (add tags: ["*"] to build them)`
        : `${name} wants tags ${rule.tags.join(', ')}`,
    );
  }
  const marker = rule.skipCi ? skipCiMarker(event.headCommitMessage) : null;
  if (marker) return miss('skip', `the head commit message says ${marker}`);
  return pathVerdict(rule, matchers, event) ?? { matched: true };
}

/**
 * Path filters judge only a complete, non-empty list of changed paths. When the host sent none,
 * sent part (truncated), or listed no commit (a new branch at an existing commit, a force-push
 * backwards), nothing shows the change is irrelevant, so the rule builds: fail open.
 */
function pathVerdict(rule: Rule, matchers: CompiledRule, event: PushEvent): Verdict | null {
  if (rule.paths === null && rule.ignorePaths.length === 0) return null;
  const changed = event.changedPaths;
  if (changed === null || changed.truncated || changed.paths.length === 0) return null;
  const included = changed.paths.filter((path) => matchers.paths(path));
  if (included.some((path) => !matchers.ignorePaths(path))) return null;
  const shown = changed.paths.slice(0, 3).join(', ');
  const more = changed.paths.length > 3 ? ` and ${changed.paths.length - 3} more` : '';
  const reason =
    included.length === 0
      ? `rule "${rule.name}" wants paths ${rule.paths?.join(', ')}`
      : `rule "${rule.name}" ignores paths ${rule.ignorePaths.join(', ')}`;
  return { matched: false, stage: 'paths', reason: `${reason} (changed: ${shown}${more})` };
}

function plannedBuild(rule: Rule, hostId: string, event: PushEvent, sha: string): PlannedBuild {
  const planId = createHash('sha256')
    .update(JSON.stringify([hostId, event.repo.fullName, event.ref, sha, rule.project, rule.name]))
    .digest('hex');
  return {
    planId,
    ruleName: rule.name,
    projectName: rule.project,
    statusContext: rule.context,
    buildspec: rule.buildspec,
    overrides: { ...rule.overrides },
    environmentVariables: [
      ...variables(rule.env, 'PLAINTEXT'),
      ...variables(rule.parameters, 'PARAMETER_STORE'),
      ...variables(rule.secrets, 'SECRETS_MANAGER'),
    ],
    cancelSuperseded: rule.cancelSuperseded,
    submodules: rule.submodules,
    lfs: rule.lfs,
  };
}

function variables(
  values: Record<string, string>,
  type: PlannedBuild['environmentVariables'][number]['type'],
): PlannedBuild['environmentVariables'] {
  return Object.entries(values).map(([name, value]) => ({ name, value, type }));
}

/** At most this many rules are named in a reason: it must stay one readable line. */
const MAX_NAMED = 3;

function whyNothing(
  verdicts: Array<{ rule: Rule; verdict: Verdict }>,
  hostId: string,
  event: PushEvent,
): string {
  const misses = verdicts.flatMap(({ verdict }) => (verdict.matched ? [] : [verdict]));
  const subject = `${event.repo.fullName} ${event.ref}`;
  if (misses.length === 0) return `no rule matched ${subject}: the config has no rules`;
  const furthest = Math.max(...misses.map((miss) => STAGES.indexOf(miss.stage)));
  // Rules that matched the repository are the ones the user meant; else those of this host.
  const threshold = Math.min(furthest, STAGES.indexOf('ref'));
  const near = misses.filter((miss) => STAGES.indexOf(miss.stage) >= threshold);
  if (near.every((miss) => miss.stage === 'skip')) {
    return `${near[0]!.reason}; nothing to build for ${subject} (set skipCi: false on a rule to build anyway)`;
  }
  if (furthest === STAGES.indexOf('host')) {
    return `no rule matched ${subject}: no rule listens to host "${hostId}" (${list(near)})`;
  }
  return `no rule matched ${subject}: ${list(near)}`;
}

function list(misses: Array<{ reason: string }>): string {
  const named = misses.slice(0, MAX_NAMED).map((miss) => miss.reason);
  const rest = misses.length - named.length;
  return rest > 0 ? `${named.join('; ')}; and ${rest} more rules` : named.join('; ');
}
