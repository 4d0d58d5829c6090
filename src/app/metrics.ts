import { Counter, Gauge, Histogram, Registry as PromRegistry } from 'prom-client';
import type { Subscription } from 'rxjs';
import type { CoreParts } from './core.js';

/** What /metrics reports, in Prometheus text format (prom-client). */
export class SystemMetrics {
  readonly registry = new PromRegistry();
  private readonly samples: Counter;
  private readonly pollSeconds: Histogram;
  private readonly dispatches: Counter;
  private readonly outcomes: Counter;
  private readonly subs: Subscription[] = [];

  constructor(
    core: CoreParts,
    protocolOf: (derId: string) => string,
    extra: { pushQueueDepth?: () => number } = {},
  ) {
    const r = this.registry;
    new Gauge({
      name: 'derms_devices',
      help: 'Devices by protocol and state (fresh, stale, offline).',
      labelNames: ['protocol', 'state'],
      registers: [r],
      collect() {
        this.reset();
        for (const der of core.registry.allDers()) {
          const v = core.aggregator.view(der.mRID);
          this.inc({ protocol: protocolOf(der.mRID), state: v?.freshness ?? 'offline' });
        }
      },
    });
    new Gauge({ name: 'derms_groups', help: 'DER groups.', registers: [r], collect() { this.set([...core.registry.allGroups()].length); } });
    this.samples = new Counter({ name: 'derms_samples_total', help: 'Telemetry samples received from adapters.', labelNames: ['protocol'], registers: [r] });
    const dropped = new Counter({ name: 'derms_samples_dropped_total', help: 'Samples the aggregator refused as implausible.', registers: [r] });
    this.pollSeconds = new Histogram({
      name: 'derms_poll_latency_seconds',
      help: 'Time from a poll request to its answer, per protocol.',
      labelNames: ['protocol'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [r],
    });
    this.dispatches = new Counter({ name: 'derms_dispatch_events_total', help: 'Dispatch lifecycle events: accepted, planned (each plan and re-plan), and how they ended.', labelNames: ['event'], registers: [r] });
    this.outcomes = new Counter({ name: 'derms_setpoint_outcomes_total', help: 'Setpoint write outcomes.', labelNames: ['status'], registers: [r] });
    new Gauge({ name: 'derms_setpoint_backlog', help: 'Setpoint writes waiting in the per-endpoint queues.', registers: [r], collect() { this.set(core.tracker.backlog); } });
    new Gauge({ name: 'derms_push_queue_depth', help: 'Events waiting to be pushed to DMS endpoints.', registers: [r], collect() { this.set(extra.pushQueueDepth?.() ?? 0); } });
    this.subs.push(
      core.aggregator.dropped$.subscribe(() => dropped.inc()),
      core.tracker.events$.subscribe((e) => {
        if (e.type === 'outcome') this.outcomes.inc({ status: e.outcome.status });
        else if (e.type === 'accepted' || e.type === 'planned') this.dispatches.inc({ event: e.type });
        else if (e.type === 'ended') this.dispatches.inc({ event: e.state });
      }),
    );
  }

  /** Count one sample (called from each adapter's telemetry stream). */
  sample(protocol: string): void {
    this.samples.inc({ protocol });
  }

  pollLatency(protocol: string, seconds: number): void {
    this.pollSeconds.observe({ protocol }, seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  stop(): void {
    for (const s of this.subs) s.unsubscribe();
  }
}
