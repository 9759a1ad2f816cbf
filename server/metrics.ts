/**
 * The server's counters and the Prometheus text exposition of them (format 0.0.4), written by
 * hand: a few counters, gauges read at scrape time, and one latency histogram.
 */
import type { StoreStats } from '../src/store/index.js';

/** Upper bounds of the request latency buckets, in seconds. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** What the worker reports (TriggerDeps.metrics). */
export interface WorkerMetrics {
  statusPosted(host: string, state: string): void;
  statusFailed(host: string): void;
  buildStarted(project: string): void;
}

/** Read at scrape time. */
export interface ScrapeSources {
  stats(): StoreStats;
  /** BatchGetBuilds calls the watcher made; null when this process runs no watcher. */
  watcherCalls(): number | null;
}

type Labels = Record<string, string>;

class Counter {
  readonly #values = new Map<string, { labels: Labels; value: number }>();

  add(labels: Labels, by = 1): void {
    const key = JSON.stringify(labels);
    const entry = this.#values.get(key);
    if (entry) entry.value += by;
    else this.#values.set(key, { labels, value: by });
  }

  get(labels: Labels): number {
    return this.#values.get(JSON.stringify(labels))?.value ?? 0;
  }

  entries() {
    return [...this.#values.values()];
  }
}

class Histogram {
  readonly #series = new Map<
    string,
    { labels: Labels; buckets: number[]; sum: number; n: number }
  >();

  observe(labels: Labels, seconds: number): void {
    const key = JSON.stringify(labels);
    let series = this.#series.get(key);
    if (!series) {
      series = { labels, buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, n: 0 };
      this.#series.set(key, series);
    }
    // Stored per bucket; the text format wants cumulative counts, summed when written.
    const at = LATENCY_BUCKETS.findIndex((bound) => seconds <= bound);
    if (at >= 0) series.buckets[at]! += 1;
    series.sum += seconds;
    series.n += 1;
  }

  entries() {
    return [...this.#series.values()];
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

function header(lines: string[], name: string, type: string, help: string): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
}

export class ServerMetrics implements WorkerMetrics {
  readonly deliveries = new Counter();
  readonly buildsStarted = new Counter();
  readonly statusesPosted = new Counter();
  readonly statusFailures = new Counter();
  readonly latency = new Histogram();

  delivery(host: string, outcome: string): void {
    this.deliveries.add({ host, outcome });
  }

  buildStarted(project: string): void {
    this.buildsStarted.add({ project });
  }

  statusPosted(host: string, state: string): void {
    this.statusesPosted.add({ host, state });
  }

  statusFailed(host: string): void {
    this.statusFailures.add({ host });
  }

  observeRequest(route: string, seconds: number): void {
    this.latency.observe({ route }, seconds);
  }

  /** The exposition text; `sources` are read now (queue depth, watcher calls). */
  render(sources: ScrapeSources): string {
    const lines: string[] = [];
    const counter = (name: string, help: string, values: Counter) => {
      header(lines, name, 'counter', help);
      for (const { labels, value } of values.entries()) {
        lines.push(`${name}${labelText(labels)} ${value}`);
      }
    };
    counter(
      'codebuild_run_webhook_deliveries_total',
      'Webhook deliveries answered, by host id and outcome.',
      this.deliveries,
    );
    counter(
      'codebuild_run_builds_started_total',
      'CodeBuild builds started, by project.',
      this.buildsStarted,
    );
    counter(
      'codebuild_run_statuses_posted_total',
      'Commit statuses the git hosts accepted, by host id and state.',
      this.statusesPosted,
    );
    counter(
      'codebuild_run_status_failures_total',
      'Commit status posts that failed after their retries, by host id.',
      this.statusFailures,
    );

    const stats = sources.stats();
    header(lines, 'codebuild_run_jobs', 'gauge', 'Planned builds in the store, by step.');
    for (const [step, n] of Object.entries(stats.jobsByStep)) {
      lines.push(`codebuild_run_jobs${labelText({ step })} ${n}`);
    }
    const queued = Object.entries(stats.jobsByStep)
      .filter(([step]) => step !== 'done')
      .reduce((sum, [, n]) => sum + n, 0);
    header(lines, 'codebuild_run_queue_depth', 'gauge', 'Planned builds not done yet.');
    lines.push(`codebuild_run_queue_depth ${queued}`);
    header(
      lines,
      'codebuild_run_deliveries_stored',
      'gauge',
      'Deliveries in the store, by outcome.',
    );
    for (const [outcome, n] of Object.entries(stats.deliveriesByOutcome)) {
      lines.push(`codebuild_run_deliveries_stored${labelText({ outcome })} ${n}`);
    }
    const calls = sources.watcherCalls();
    if (calls !== null) {
      header(
        lines,
        'codebuild_run_watcher_calls_total',
        'counter',
        'BatchGetBuilds calls made by the build watcher.',
      );
      lines.push(`codebuild_run_watcher_calls_total ${calls}`);
    }

    const name = 'codebuild_run_http_request_duration_seconds';
    header(lines, name, 'histogram', 'Time to answer an HTTP request, by route.');
    for (const { labels, buckets, sum, n } of this.latency.entries()) {
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((bound, i) => {
        cumulative += buckets[i]!;
        lines.push(`${name}_bucket${labelText({ ...labels, le: String(bound) })} ${cumulative}`);
      });
      lines.push(`${name}_bucket${labelText({ ...labels, le: '+Inf' })} ${n}`);
      lines.push(`${name}_sum${labelText(labels)} ${sum}`);
      lines.push(`${name}_count${labelText(labels)} ${n}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
