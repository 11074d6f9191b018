import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

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
  const routedTasks = new Counter({
    name: 'backflow_routed_tasks_total',
    help: 'Tasks created by routing, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const routingDropped = new Counter({
    name: 'backflow_routing_dropped_total',
    help: 'Predictions routing chose but did not make tasks of, by reason and cause (budget)',
    labelNames: ['reason', 'cause'] as const,
    registers: [registry],
  });
  return { registry, httpDuration, routedTasks, routingDropped };
}

export type Metrics = ReturnType<typeof createMetrics>;
export const METRICS = Symbol('METRICS');
