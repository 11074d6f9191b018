import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** The process's Prometheus registry: default Node metrics plus HTTP latency by route. */
export function createMetrics() {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'backflow' });
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'backflow_http_request_duration_seconds',
    help: 'HTTP request duration by route, method and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return { registry, httpDuration };
}

export type Metrics = ReturnType<typeof createMetrics>;
export const METRICS = Symbol('METRICS');
