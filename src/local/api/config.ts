/**
 * The projects file of `local serve --projects FILE` (YAML or JSON): projects in CreateProject's
 * shape (fields it requires may be left out), Parameter Store values, and secrets.
 *
 *   projects:
 *     - name: demo
 *       source: { type: NO_SOURCE, buildspec: "version: 0.2\n…" }
 *   parameters: { /ci/region: eu-west-1 }
 *   secrets: { ci/token: "…", ci/db: { user: app, password: "…" } }
 */
import { randomUUID } from 'node:crypto';
import { parse } from 'yaml';
import type { EndpointContext } from './context.js';
import { projectFromInput } from './projects.js';
import { createSecret } from './secrets.js';
import type { Input } from './wire.js';

export interface LocalConfig {
  projects?: Input[];
  parameters?: Record<string, string>;
  secrets?: Record<string, string | object>;
}

export class LocalConfigError extends Error {}

const isMapping = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

export function parseLocalConfig(text: string, source: string): LocalConfig {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new LocalConfigError(
      `${source}: not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  if (Array.isArray(document)) document = { projects: document };
  if (!isMapping(document)) {
    throw new LocalConfigError(
      `${source}: expected a mapping with projects, parameters and secrets`,
    );
  }
  const unknown = Object.keys(document).filter(
    (k) => !['projects', 'parameters', 'secrets'].includes(k),
  );
  if (unknown.length > 0) {
    throw new LocalConfigError(
      `${source}: unknown key "${unknown[0]}"; the keys are projects, parameters and secrets`,
    );
  }
  const { projects, parameters, secrets } = document;
  if (projects !== undefined && (!Array.isArray(projects) || !projects.every(isMapping))) {
    throw new LocalConfigError(
      `${source}: projects must be a list of projects (name, source, environment, …)`,
    );
  }
  if (parameters !== undefined && !isMapping(parameters)) {
    throw new LocalConfigError(`${source}: parameters must map parameter names to values`);
  }
  if (secrets !== undefined && !isMapping(secrets)) {
    throw new LocalConfigError(`${source}: secrets must map secret names to values`);
  }
  return {
    ...(projects ? { projects: projects as Input[] } : {}),
    ...(parameters
      ? {
          parameters: Object.fromEntries(
            Object.entries(parameters).map(([k, v]) => [k, String(v)]),
          ),
        }
      : {}),
    ...(secrets ? { secrets: secrets as Record<string, string | object> } : {}),
  };
}

/**
 * Writes the file's projects (replacing stored ones of the same name), parameters and secrets (a
 * changed value becomes the secret's new AWSCURRENT version).
 */
export function applyLocalConfig(ctx: EndpointContext, config: LocalConfig, source: string): void {
  for (const [index, input] of (config.projects ?? []).entries()) {
    let project: ReturnType<typeof projectFromInput>;
    try {
      project = projectFromInput(ctx, input, true);
    } catch (error) {
      throw new LocalConfigError(`${source}: projects[${index}]: ${(error as Error).message}`);
    }
    const existing = ctx.store.projects.get(project.name);
    ctx.store.projects.put(existing ? { ...project, created: existing.created } : project);
  }
  for (const [name, value] of Object.entries(config.parameters ?? {})) {
    ctx.store.parameters.put(name, value);
  }
  for (const [name, value] of Object.entries(config.secrets ?? {})) {
    const secretString = typeof value === 'string' ? value : JSON.stringify(value);
    const existing = ctx.store.secrets.find(name);
    if (!existing) {
      try {
        createSecret(ctx, { Name: name, SecretString: secretString });
      } catch (error) {
        throw new LocalConfigError(`${source}: secrets.${name}: ${(error as Error).message}`);
      }
      continue;
    }
    const current = ctx.store.secrets.versions(name).find((v) => v.stages.includes('AWSCURRENT'));
    if (current?.secretString !== secretString) {
      ctx.store.secrets.addVersion(name, {
        versionId: randomUUID(),
        secretString,
        stages: ['AWSCURRENT'],
        created: ctx.clock.now(),
      });
    }
  }
}
