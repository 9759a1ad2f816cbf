/**
 * Checks that need the whole config: references between keys, combinations of keys, and the
 * inline buildspecs. They run once the shape is right, so they can trust the types.
 */
import { BuildspecError, parseBuildspec } from '../buildspec/index.js';
import type { HostKind } from '../forge/types.js';
import { SELF_HOSTED_KINDS } from './host.js';
import type { Config } from './schema.js';

export interface PathIssue {
  path: (string | number)[];
  message: string;
}

const API_URL_EXAMPLES: Partial<Record<HostKind, string>> = {
  'bitbucket-dc': 'https://bitbucket.example.com',
  gitea: 'https://gitea.example.com/api/v1',
  forgejo: 'https://codeberg.org/api/v1',
};

export function crossReferenceIssues(config: Config): PathIssue[] {
  const issues: PathIssue[] = [];
  const hostIds = Object.keys(config.hosts);
  if (hostIds.length === 0) {
    issues.push({
      path: ['hosts'],
      message:
        'no hosts: add one, e.g. hosts: { github: { kind: github, webhookSecret: { env: GH_WEBHOOK_SECRET } } }',
    });
  }
  for (const [id, host] of Object.entries(config.hosts)) {
    if (host.apiUrl === null && SELF_HOSTED_KINDS.includes(host.kind)) {
      issues.push({
        path: ['hosts', id, 'apiUrl'],
        message: `required for kind ${host.kind}, which has no public service to default to: the API base, e.g. apiUrl: ${API_URL_EXAMPLES[host.kind]}`,
      });
    }
    // Git over HTTPS on these hosts takes a token only with its user's name: both the clone step
    // (cloneToken) and reading a buildspec file (apiToken) need it.
    if (host.account === null && (host.kind === 'gitea' || host.kind === 'forgejo')) {
      issues.push({
        path: ['hosts', id, 'account'],
        message: `required on ${host.kind}: git sends a token with its user name, e.g. account: ci-bot`,
      });
    }
    if (host.previousWebhookSecret !== null && host.webhookSecret === null) {
      issues.push({
        path: ['hosts', id, 'previousWebhookSecret'],
        message:
          'only used next to webhookSecret, while rotating it: set webhookSecret to the new secret',
      });
    }
  }

  const firstRuleNamed = new Map<string, number>();
  config.rules.forEach((rule, index) => {
    rule.hosts?.forEach((hostId, position) => {
      if (!(hostId in config.hosts)) {
        issues.push({
          path: ['rules', index, 'hosts', position],
          message: `no host "${hostId}" under hosts: use one of ${hostIds.join(', ') || '(none defined)'}`,
        });
      }
    });
    const first = firstRuleNamed.get(rule.name);
    if (first === undefined) {
      firstRuleNamed.set(rule.name, index);
    } else {
      issues.push({
        path: ['rules', index, 'name'],
        message: `"${rule.name}" is also the name of rules[${first}] (a rule without name: is named after its project): give each rule its own name`,
      });
    }
    if (rule.branches?.length === 0 && rule.tags.length === 0) {
      issues.push({
        path: ['rules', index, 'branches'],
        message:
          'with branches: [] and no tags: this rule never builds: list branches or tags to build',
      });
    }
    const sourceOf = new Map<string, string>();
    for (const section of ['env', 'parameters', 'secrets'] as const) {
      for (const name of Object.keys(rule[section])) {
        const earlier = sourceOf.get(name);
        if (earlier) {
          issues.push({
            path: ['rules', index, section, name],
            message: `${name} is also set under ${earlier}: give each variable one source`,
          });
        }
        sourceOf.set(name, section);
      }
    }
    if (rule.buildspec.kind === 'inline') {
      try {
        parseBuildspec(rule.buildspec.text, 'inline buildspec');
      } catch (error) {
        if (!(error instanceof BuildspecError)) throw error;
        issues.push({ path: ['rules', index, 'buildspec', 'inline'], message: error.message });
      }
    }
  });
  return issues;
}
