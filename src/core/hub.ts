import { Subscription } from 'rxjs';
import type { Aggregator } from './aggregator.js';
import type { DeviceAdapter } from './ports.js';

/**
 * Merges every attached adapter's telemetry and link state into the aggregator, and keeps the
 * adapters by DER so the tracker can write to them. Attaching a DER again replaces its adapter.
 * Each adapter's streams feed the aggregator directly (no per-sample wrapping) because this is
 * the hot path of the whole system.
 */
export class TelemetryHub {
  private readonly adapters = new Map<string, { adapter: DeviceAdapter; sub: Subscription }>();

  constructor(private readonly aggregator: Aggregator) {}

  attach(adapter: DeviceAdapter): void {
    this.detach(adapter.derId);
    const sub = new Subscription();
    sub.add(adapter.telemetry$.subscribe((s) => this.aggregator.ingest(s)));
    sub.add(adapter.link$.subscribe((l) => this.aggregator.setLink(adapter.derId, l)));
    this.adapters.set(adapter.derId, { adapter, sub });
  }

  detach(derId: string): DeviceAdapter | undefined {
    const entry = this.adapters.get(derId);
    if (!entry) return undefined;
    entry.sub.unsubscribe();
    this.adapters.delete(derId);
    this.aggregator.setLink(derId, 'offline');
    return entry.adapter;
  }

  adapter(derId: string): DeviceAdapter | undefined {
    return this.adapters.get(derId)?.adapter;
  }

  all(): DeviceAdapter[] {
    return [...this.adapters.values()].map((e) => e.adapter);
  }

  stop(): void {
    for (const id of [...this.adapters.keys()]) this.detach(id);
  }
}
