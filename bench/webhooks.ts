/**
 * Webhook receiving, side by side with a peer: `npx tsx bench/webhooks.ts [--rates 100,250,500]
 * [--seconds 5] [--store-dir DIR] [--max-batch N]`.
 *
 * - ours: codebuild-run's createApp on @hono/node-server: verify the signature, parse, plan,
 *   write the delivery and its job to SQLite (WAL, synchronous=FULL: fsynced before the answer),
 *   log a JSON line and answer 202. Writes go through the server's AcceptBatcher (group commit):
 *   the deliveries that arrive while one commit is fsyncing share the next, so the figure
 *   "deliveries/commit" says how much sharing the rate caused (1.00: one fsync per delivery).
 *   The worker is a no-op here: what is measured is the answer, as a git host sees it.
 * - peer: @octokit/webhooks' createNodeMiddleware on node:http: verify and parse only, no write.
 *
 * "commit p99 ms" is how long one of those transactions blocked the event loop (fsync included):
 * a delivery cannot be answered sooner, and the deliveries arriving meanwhile wait for it.
 *
 * Each server runs in a child process of its own (one at a time, the machine has 2 cores); this
 * process sends signed GitHub push deliveries (the real payload, each with its own delivery id
 * and commit, so each is a new build) over loopback at a fixed rate for a fixed time (open loop:
 * latency counts from when a request was due, so a slow server cannot hide its queue).
 * Bounded: every rate runs `--seconds` and then waits at most 10 s for the stragglers.
 * `--store-dir DIR` puts our SQLite file elsewhere (e.g. /dev/shm, to see what fsync costs).
 * `--max-batch 1` writes each delivery in a transaction of its own, as the server did before
 * group commit: run it beside the default to see what the sharing buys on this disk. On a quiet
 * disk (commits of 1-3 ms) the two are alike; the difference is on a busy one (another process
 * fsyncing large files, commits of ~30 ms): one fsync per delivery then falls behind at 500/s and
 * its queue grows for as long as the load lasts, while shared commits keep up.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const SECRET = 'bench-webhook-secret-1f3a';
const here = fileURLToPath(import.meta.url);
const FIXTURE = join(
  here,
  '..',
  '..',
  '..',
  'shared',
  'fixtures',
  'webhooks',
  'github',
  'push.json',
);
const STRAGGLER_WAIT_MS = 10_000;

type Kind = 'ours' | 'peer';

/** How long each store transaction took, the event loop blocked (ours; the peer writes nothing). */
let commitMs: number[] = [];

// ---- the servers (child processes) -------------------------------------------------------

/** How the child runs our server. */
interface Setup {
  storeDir: string;
  /** Deliveries per transaction at most; undefined: the server's own default. */
  maxBatch: number | undefined;
}

async function serveOurs({ storeDir, maxBatch }: Setup): Promise<number> {
  const { serve } = await import('@hono/node-server');
  const { parseConfig } = await import('../src/config.js');
  const { systemClock } = await import('../src/deps.js');
  const { createLogger } = await import('../server/logger.js');
  const { pino } = await import('pino');
  const { openSqliteStore } = await import('../src/store/index.js');
  const { createApp } = await import('../server/app.js');
  const { AcceptBatcher } = await import('../server/accept-batcher.js');
  const { createSecretResolver } = await import('../server/secrets.js');
  const dir = mkdtempSync(join(storeDir, 'bench-webhooks-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const config = parseConfig(
    [
      'hosts:',
      '  gh: { kind: github, webhookSecret: { env: BENCH_SECRET } }',
      'rules:',
      '  - { repos: ["**"], project: bench, branches: [master] }',
    ].join('\n'),
    'bench.yml',
  );
  const store = openSqliteStore({ path: join(dir, 'server.sqlite') });
  const accepts = new AcceptBatcher(
    {
      acceptDeliveries: (batch) => {
        const started = performance.now();
        try {
          return store.acceptDeliveries(batch);
        } finally {
          commitMs.push(performance.now() - started);
        }
      },
    },
    maxBatch,
  );
  const app = createApp({
    config,
    store,
    accepts,
    secrets: createSecretResolver({ env: { BENCH_SECRET: SECRET }, reader: null }),
    worker: { wake() {} },
    // A JSON line per request, as serve writes them (to /dev/null here, not to the terminal).
    logger: createLogger({ destination: pino.destination({ dest: '/dev/null', sync: true }) }),
    clock: systemClock,
  });
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      resolve(info.port),
    ) as import('node:http').Server;
    server.keepAliveTimeout = 30_000;
  });
}

async function servePeer(): Promise<number> {
  const { Webhooks, createNodeMiddleware } = await import('@octokit/webhooks');
  const webhooks = new Webhooks({ secret: SECRET });
  webhooks.on('push', () => {});
  const middleware = createNodeMiddleware(webhooks, { path: '/webhooks/gh' });
  const server = createServer((req, res) => {
    void middleware(req, res);
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

async function runChild(kind: Kind, setup: Setup): Promise<void> {
  const port = kind === 'ours' ? await serveOurs(setup) : await servePeer();
  let peakRss = process.memoryUsage().rss;
  let cpuFrom = process.cpuUsage();
  setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50).unref();
  process.on('message', (message) => {
    if (message === 'measure') {
      cpuFrom = process.cpuUsage();
      commitMs = [];
    }
    if (message === 'report') {
      const cpu = process.cpuUsage(cpuFrom);
      process.send?.({ peakRss, cpuMs: (cpu.user + cpu.system) / 1000, commitMs });
    }
    if (message === 'exit') process.exit(0);
  });
  process.send?.({ port });
}

// ---- the load (this process) -------------------------------------------------------------

interface Started {
  child: ChildProcess;
  port: number;
}

function startServer(kind: Kind, { storeDir, maxBatch }: Setup): Promise<Started> {
  const args = ['--import', 'tsx', here, '--serve', kind, '--store-dir', storeDir];
  if (maxBatch !== undefined) args.push('--max-batch', String(maxBatch));
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${kind} server did not start in 20 s`)),
      20_000,
    );
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve({ child, port: (message as { port: number }).port });
    });
  });
}

function ask<T>(child: ChildProcess, question: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (answer) => resolve(answer as T));
    child.send(question);
  });
}

async function stopServer({ child }: Started): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send('exit');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

interface Delivery {
  body: Buffer;
  headers: Record<string, string>;
}

/** `count` distinct pushes: each a new commit and delivery id, signed over its exact bytes. */
function deliveries(count: number, tag: string): Delivery[] {
  const template = JSON.parse(readFileSync(FIXTURE, 'utf8')) as {
    after: string;
    head_commit: { id: string };
    commits: Array<{ id: string }>;
  };
  return Array.from({ length: count }, (_, i) => {
    const sha = createHmac('sha1', tag).update(String(i)).digest('hex');
    template.after = sha;
    template.head_commit.id = sha;
    if (template.commits[0]) template.commits[0].id = sha;
    const body = Buffer.from(JSON.stringify(template));
    const signature = createHmac('sha256', SECRET).update(body).digest('hex');
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'content-length': String(body.length),
        'x-github-event': 'push',
        'x-github-delivery': `${tag}-${i}`,
        'x-hub-signature-256': `sha256=${signature}`,
      },
    };
  });
}

interface Result {
  sent: number;
  ok: number;
  failed: number;
  seconds: number;
  latencies: number[];
}

async function load(
  agent: Agent,
  port: number,
  rate: number,
  seconds: number,
  batch: Delivery[],
): Promise<Result> {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let done = 0;
  const start = performance.now();
  let finishedAt = start;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });

  const send = (i: number, due: number) => {
    const delivery = batch[i]!;
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/webhooks/gh',
        method: 'POST',
        headers: delivery.headers,
        agent,
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const now = performance.now();
          latencies.push(now - due);
          if (res.statusCode === 200 || res.statusCode === 202) ok++;
          else failed++;
          finish(now);
        });
      },
    );
    req.on('error', () => {
      failed++;
      finish(performance.now());
    });
    req.end(delivery.body);
  };
  const finish = (now: number) => {
    done++;
    finishedAt = now;
    if (done === total) allDone();
  };

  // Open loop: every tick sends what is due by now, whatever is still in flight.
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && start + (next * 1000) / rate <= now) {
        send(next, start + (next * 1000) / rate);
        next++;
      }
      if (next < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.race([finished, new Promise((r) => setTimeout(r, STRAGGLER_WAIT_MS))]);
  return {
    sent: total,
    ok,
    failed: failed + (total - done),
    seconds: (finishedAt - start) / 1000,
    latencies,
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Row {
  rate: number;
  kind: Kind;
  throughput: number;
  p50: number;
  p99: number;
  failed: number;
  cpuMsPerRequest: number;
  /** Deliveries per store transaction; null for the peer, which writes nothing. */
  perCommit: number | null;
  /** The 99th percentile of one store transaction's time (fsync included); null for the peer. */
  commitP99: number | null;
  peakRssMb: number;
}

async function measure(kind: Kind, rate: number, seconds: number, setup: Setup): Promise<Row> {
  const server = await startServer(kind, setup);
  // One pool of keep-alive connections for the warm-up and the run, as a busy host keeps them.
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  try {
    // Warm-up (JIT, SQLite pages, connections): one second at the same rate, not counted.
    await load(agent, server.port, rate, 1, deliveries(rate, `warm-${kind}-${rate}`));
    const batch = deliveries(rate * seconds, `${kind}-${rate}`);
    server.child.send('measure');
    const result = await load(agent, server.port, rate, seconds, batch);
    const usage = await ask<{ peakRss: number; cpuMs: number; commitMs: number[] }>(
      server.child,
      'report',
    );
    const sorted = [...result.latencies].sort((a, b) => a - b);
    return {
      rate,
      kind,
      throughput: result.ok / result.seconds,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      failed: result.failed,
      cpuMsPerRequest: usage.cpuMs / result.sent,
      perCommit: usage.commitMs.length > 0 ? result.ok / usage.commitMs.length : null,
      commitP99:
        usage.commitMs.length > 0
          ? percentile(
              [...usage.commitMs].sort((a, b) => a - b),
              99,
            )
          : null,
      peakRssMb: usage.peakRss / 1024 / 1024,
    };
  } finally {
    agent.destroy();
    await stopServer(server);
  }
}

function table(rows: Row[]): string {
  const out = [
    '| rate/s | server | ok/s | p50 ms | p99 ms | failed | CPU ms/req | deliveries/commit | commit p99 ms | peak RSS MB |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const perCommit = row.perCommit === null ? '-' : row.perCommit.toFixed(2);
    const commitP99 = row.commitP99 === null ? '-' : row.commitP99.toFixed(2);
    out.push(
      `| ${row.rate} | ${row.kind} | ${row.throughput.toFixed(0)} | ${row.p50.toFixed(2)} | ${row.p99.toFixed(2)} | ${row.failed} | ${row.cpuMsPerRequest.toFixed(2)} | ${perCommit} | ${commitP99} | ${row.peakRssMb.toFixed(0)} |`,
    );
  }
  out.push(
    '',
    '| rate/s | throughput ours/peer | p99 ours/peer | RSS ours/peer |',
    '|---:|---:|---:|---:|',
  );
  for (const rate of new Set(rows.map((r) => r.rate))) {
    const ours = rows.find((r) => r.rate === rate && r.kind === 'ours')!;
    const peer = rows.find((r) => r.rate === rate && r.kind === 'peer')!;
    out.push(
      `| ${rate} | ${(ours.throughput / peer.throughput).toFixed(2)} | ${(ours.p99 / peer.p99).toFixed(2)} | ${(ours.peakRssMb / peer.peakRssMb).toFixed(2)} |`,
    );
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: 'string' },
      rates: { type: 'string', default: '100,250,500' },
      seconds: { type: 'string', default: '5' },
      'store-dir': { type: 'string', default: tmpdir() },
      'max-batch': { type: 'string' },
    },
  });
  const storeDir = values['store-dir'];
  const maxBatch = values['max-batch'] === undefined ? undefined : Number(values['max-batch']);
  if (maxBatch !== undefined && !(Number.isInteger(maxBatch) && maxBatch >= 1)) {
    throw new Error('--max-batch: a whole number of deliveries per transaction, 1 or more');
  }
  const setup: Setup = { storeDir, maxBatch };
  if (values.serve === 'ours' || values.serve === 'peer') return runChild(values.serve, setup);
  const rates = values.rates.split(',').map(Number);
  const seconds = Number(values.seconds);
  if (rates.some((r) => !(r > 0 && r <= 5000)) || !(seconds > 0 && seconds <= 60)) {
    throw new Error('--rates: comma-separated rates from 1 to 5000; --seconds: 1 to 60');
  }
  const rows: Row[] = [];
  for (const rate of rates) {
    for (const kind of ['ours', 'peer'] as const) {
      process.stderr.write(`${kind} at ${rate}/s for ${seconds} s…\n`);
      rows.push(await measure(kind, rate, seconds, setup));
    }
  }
  process.stdout.write(
    `Signed GitHub push deliveries (${readFileSync(FIXTURE).length} bytes) over loopback, ${seconds} s per rate, open loop; store in ${storeDir}.\n` +
      `ours: verify + parse + plan + durable SQLite write (${maxBatch === 1 ? 'one transaction per delivery' : `group commit, at most ${maxBatch ?? 'the default'} per transaction`}) + 202; peer: @octokit/webhooks createNodeMiddleware, verify + parse.\n\n` +
      `${table(rows)}\n`,
  );
}

await main();
