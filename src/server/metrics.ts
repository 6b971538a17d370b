import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly swaps: Counter<'result'>;
  readonly limitEvents: Counter<'source'>;
  readonly activeAccount: Gauge<'account'>;
  readonly sessions: Gauge<'state'>;
  readonly detectionLatency: Histogram<'source'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  // The event-loop-lag histogram samples every `eventLoopMonitoringPrecision` ms: at its
  // default (10 ms) it alone woke the idle daemon 100 times a second (~1% of a core).
  collectDefaultMetrics({ register: registry, prefix: 'claude_failover_', eventLoopMonitoringPrecision: 500 });
  return {
    registry,
    swaps: new Counter({ name: 'claude_failover_swaps_total', help: 'Swap requests that changed or tried to change the account, by result', labelNames: ['result'], registers: [registry] }),
    limitEvents: new Counter({ name: 'claude_failover_limit_events_total', help: 'New usage limits detected, by the signal that saw them first', labelNames: ['source'], registers: [registry] }),
    activeAccount: new Gauge({ name: 'claude_failover_active_account', help: '1 for the active account', labelNames: ['account'], registers: [registry] }),
    sessions: new Gauge({ name: 'claude_failover_sessions', help: 'Managed sessions by state', labelNames: ['state'], registers: [registry] }),
    detectionLatency: new Histogram({ name: 'claude_failover_detection_latency_seconds', help: 'From the limit being written to the limit event', labelNames: ['source'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5], registers: [registry] }),
  };
}
