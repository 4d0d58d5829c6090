import { VirtualAction, VirtualTimeScheduler } from 'rxjs';

/**
 * A clock whose time moves only when told to, for tests and for running the simulator faster
 * than real time. `advanceBy` runs due timers in order and lets promise callbacks settle between
 * them, so async work (adapter writes) interleaves with timers as it would in real time.
 */
export class VirtualClock extends VirtualTimeScheduler {
  constructor(startMs = Date.UTC(2026, 0, 1)) {
    super(VirtualAction, Infinity);
    this.frame = startMs;
  }

  async advanceBy(ms: number): Promise<void> {
    await this.advanceTo(this.frame + ms);
  }

  async advanceTo(target: number): Promise<void> {
    for (;;) {
      await settle();
      const next = this.actions[0];
      if (!next || next.delay > target) break;
      this.maxFrames = next.delay;
      this.flush();
    }
    this.maxFrames = Infinity;
    if (target > this.frame) this.frame = target;
    await settle();
  }
}

/** Let queued promise reactions run (several turns, for chained awaits). */
async function settle(): Promise<void> {
  for (let i = 0; i < 8; i++) await Promise.resolve();
}
