/**
 * `codebuild-run explain`: how the server understands one delivery, as JSON: whether it is
 * verified (and why not), the event it parses to (or why it is ignored), the answer `serve`
 * would give, and each build it would start with its full StartBuild input. Secrets appear as
 * their references (environment variable names, Secrets Manager ids), never their values.
 * Exit 0 when the delivery is verified, 1 when it is not, 2 for a usage or config problem.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createApp } from '../server/app.js';
import { awsClients } from '../server/aws.js';
import { buildSummary, understand } from '../server/delivery.js';
import { answerFor } from '../server/http-error.js';
import { createSecretResolver, describeSource, type SecretResolver } from '../server/secrets.js';
import { toStartBuildInput } from '../src/codebuild/index.js';
import { type Config, type HostConfig, parseConfig } from '../src/config.js';
import { silentLogger, systemClock } from '../src/deps.js';
import { driverFor } from '../src/forge/registry.js';
import type { WebhookRequest } from '../src/forge/types.js';
import { RepoFileReader } from '../src/git/read-file.js';
import { SecretReader } from '../src/secrets.js';
import { openSqliteStore } from '../src/store/index.js';
import { prepareStartBuild } from '../src/trigger.js';

export interface ExplainIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
  cwd: string;
}

export const EXPLAIN_USAGE = `Usage: codebuild-run explain --config FILE --host ID --headers FILE --body FILE

Prints, as JSON, how the webhook server understands one delivery: whether it is verified (and
why not), the push event it parses to (or why it is ignored), the answer serve would give, and
the builds it would start with their full StartBuild input. Secrets show as references, never
as values. Buildspec files are read from the repository at the pushed commit, as serve does.

Options:
  --config FILE    the server's config (hosts and rules)
  --host ID        the host id the delivery was sent to (/webhooks/<ID>)
  --headers FILE   the delivery's headers: a JSON object, or "Name: value" lines as hosts show
                   them in their delivery logs
  --body FILE      the delivery's body, byte for byte
  --help           this text

Exit status: 0 when the delivery is verified, 1 when it is not, 2 for a usage or config problem.
`;

class UsageError extends Error {}

/** An error as the report shows it: its stable code where it has one, and its message. */
function problem(error: unknown): { code: string; message: string } {
  const code = (error as { code?: unknown }).code;
  return {
    code: typeof code === 'string' ? code : answerFor(error, 'explain').code,
    message: error instanceof Error ? error.message : String(error),
  };
}

/** A JSON object of names to values, or `Name: value` lines (an HTTP request line is skipped). */
export function parseHeaders(text: string, source: string): Record<string, string> {
  const headers: Record<string, string> = {};
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (error) {
      throw new UsageError(`${source}: not valid JSON: ${(error as Error).message}`);
    }
    for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
      if (typeof value !== 'string' && !Array.isArray(value)) {
        throw new UsageError(`${source}: the value of ${name} must be text`);
      }
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    return headers;
  }
  trimmed.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '' || (index === 0 && /^[A-Z]+ \S+ HTTP\/[\d.]+$/.test(line.trim()))) {
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      throw new UsageError(`${source} line ${index + 1}: expected "Name: value"`);
    }
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  });
  return headers;
}

function readOptions(argv: string[], cwd: string) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      config: { type: 'string' },
      host: { type: 'string' },
      headers: { type: 'string' },
      body: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return null;
  const missing = (['config', 'host', 'headers', 'body'] as const).filter((k) => !values[k]);
  if (missing.length > 0) {
    throw new UsageError(`missing ${missing.map((k) => `--${k}`).join(', ')}`);
  }
  const read = (path: string) => {
    try {
      return readFileSync(resolve(cwd, path));
    } catch (error) {
      throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
    }
  };
  const config = parseConfig(read(values.config!).toString('utf8'), values.config!);
  const hostId = values.host!;
  if (!Object.hasOwn(config.hosts, hostId)) {
    throw new UsageError(
      `no host "${hostId}" in ${values.config}; its hosts are ${Object.keys(config.hosts).join(', ')}`,
    );
  }
  return {
    config,
    hostId,
    request: {
      headers: parseHeaders(read(values.headers!).toString('utf8'), values.headers!),
      body: new Uint8Array(read(values.body!)),
    } satisfies WebhookRequest,
  };
}

/** Which configured secret verifies the delivery, or why none does. */
async function verification(host: HostConfig, request: WebhookRequest, secrets: SecretResolver) {
  const driver = driverFor(host.kind);
  const candidates = [
    ['webhookSecret', host.webhookSecret],
    ['previousWebhookSecret', host.previousWebhookSecret],
  ] as const;
  let firstError: { code: string; message: string } | null = null;
  for (const [key, source] of candidates) {
    if (source === null) continue;
    try {
      driver.verify(request, [await secrets.resolve(source)]);
      const rotation = key === 'previousWebhookSecret' ? '; the host still signs with it' : '';
      return { verified: true, why: `verified with ${key} (${describeSource(source)})${rotation}` };
    } catch (error) {
      firstError ??= problem(error);
    }
  }
  if (firstError) return { verified: false, why: firstError.message, code: firstError.code };
  // No secret configured: the driver's own refusal says so and what to set.
  try {
    driver.verify(request, []);
  } catch (error) {
    const { code, message } = problem(error);
    return { verified: false, why: message, code };
  }
  return { verified: false, why: 'no webhook secret is configured', code: 'webhook.no-secret' };
}

/** What `serve` would answer: the real app over a throwaway store. */
async function serverAnswer(
  config: Config,
  hostId: string,
  request: WebhookRequest,
  secrets: SecretResolver,
) {
  const store = openSqliteStore({ path: ':memory:' });
  try {
    const app = createApp({
      config,
      store,
      secrets,
      worker: { wake() {} },
      logger: silentLogger,
      clock: systemClock,
    });
    const response = await app.request(`/webhooks/${encodeURIComponent(hostId)}`, {
      method: 'POST',
      headers: request.headers as Record<string, string>,
      body: request.body,
    });
    return { status: response.status, body: (await response.json()) as unknown };
  } finally {
    store.close();
  }
}

export async function runExplain(argv: string[], io: ExplainIo): Promise<number> {
  let options: ReturnType<typeof readOptions>;
  try {
    options = readOptions(argv, io.cwd);
  } catch (error) {
    io.stderr.write(`codebuild-run explain: ${(error as Error).message}\nSee --help.\n`);
    return 2;
  }
  if (options === null) {
    io.stdout.write(EXPLAIN_USAGE);
    return 0;
  }
  const { config, hostId, request } = options;
  const host = config.hosts[hostId]!;
  const clients = awsClients(config);
  const secrets = createSecretResolver({
    env: io.env,
    reader: new SecretReader({ client: clients.secretsManager, clock: systemClock }),
  });
  const cacheDir = mkdtempSync(join(tmpdir(), 'codebuild-run-explain-'));
  try {
    const checked = await verification(host, request, secrets);
    const report: Record<string, unknown> = {
      host: { id: hostId, kind: host.kind },
      ...checked,
      answer: await serverAnswer(config, hostId, request, secrets),
    };
    let understood: ReturnType<typeof understand>;
    try {
      understood = understand(config, hostId, driverFor(host.kind), request);
    } catch (error) {
      report.error = problem(error);
      io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return checked.verified ? 0 : 1;
    }
    if (understood.kind === 'ignored') {
      Object.assign(report, { event: null, ignored: understood.reason, builds: [] });
    } else {
      const repoFiles = new RepoFileReader({ cacheDir, logger: silentLogger, gitEnv: io.env });
      const deps = { config, codebuild: clients.codebuild, repoFiles, secrets };
      const builds = [];
      for (const planned of understood.planned) {
        let startBuild: unknown = null;
        let error: unknown = null;
        try {
          const prepared = await prepareStartBuild(deps, hostId, planned.event, planned.build);
          startBuild = toStartBuildInput(prepared);
        } catch (caught) {
          error = problem(caught);
        }
        builds.push({ ...buildSummary(planned), startBuild, ...(error ? { error } : {}) });
      }
      Object.assign(report, {
        event: understood.events[0],
        ...(understood.events.length > 1 ? { events: understood.events } : {}),
        ignored:
          understood.planned.length === 0
            ? understood.skipped.map((s) => s.reason).join('; ')
            : null,
        builds,
        skipped: understood.skipped,
      });
    }
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return checked.verified ? 0 : 1;
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}
