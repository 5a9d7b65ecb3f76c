import type { CustomRoute } from '@slack/bolt';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** donedone's own telemetry, served at `GET /metrics` in Prometheus' text format. */
export class BotMetrics {
  readonly registry = new Registry();
  readonly commands = new Counter({
    name: 'donedone_commands_total',
    help: 'Slash commands handled, by subcommand and outcome',
    labelNames: ['command', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly commandSeconds = new Histogram({
    name: 'donedone_command_duration_seconds',
    help: 'Time from receiving a slash command to finishing its work',
    labelNames: ['command'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly checks = new Counter({
    name: 'donedone_checks_total',
    help: 'Checks made, by verdict and kind',
    labelNames: ['verdict', 'kind'] as const,
    registers: [this.registry],
  });
  readonly telemetryErrors = new Counter({
    name: 'donedone_telemetry_errors_total',
    help: 'Telemetry calls that failed, by source',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly jobs: Gauge<'state'>;

  constructor(jobCounts: () => Promise<Record<string, number>> = async () => ({})) {
    // Process metrics keep their standard names (process_*, nodejs_*), so the usual Node.js
    // dashboards work unchanged; donedone's own are under donedone_.
    collectDefaultMetrics({ register: this.registry });
    this.jobs = new Gauge({
      name: 'donedone_jobs',
      help: 'Scheduled jobs by state (waiting, delayed, active, failed, completed)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      // Read on scrape, so the numbers are current and nothing polls Redis in between.
      async collect() {
        const counts = await jobCounts().catch(() => ({}) as Record<string, number>);
        for (const state of ['waiting', 'delayed', 'active', 'failed', 'completed'])
          this.set({ state }, counts[state] ?? 0);
      },
    });
  }

  route(): CustomRoute {
    return {
      path: '/metrics',
      method: ['GET'],
      handler: (_req, res) => {
        this.registry
          .metrics()
          .then((text) => {
            res.writeHead(200, { 'content-type': this.registry.contentType });
            res.end(text);
          })
          .catch(() => {
            res.writeHead(500).end();
          });
      },
    };
  }
}
