import { filter, type SchedulerLike } from 'rxjs';
import type { ByteChannel } from '../../protocols/dnp3/index.js';
import type { FaultState } from '../inverter.js';

/**
 * A connection as a simulated device with faults sees it: during a communication loss nothing
 * gets through either way (the master's requests time out, no unsolicited report leaves); with a
 * response delay every octet the device sends leaves that much later, in order.
 */
export function faultChannel(inner: ByteChannel, faults: Readonly<FaultState>, scheduler: SchedulerLike): ByteChannel {
  return {
    received$: inner.received$.pipe(filter(() => !faults.commsLoss)),
    online$: inner.online$,
    get online() {
      return inner.online;
    },
    write(bytes) {
      if (faults.commsLoss) return;
      const delay = faults.responseDelayMs;
      if (delay > 0) scheduler.schedule(() => inner.write(bytes), delay);
      else inner.write(bytes);
    },
    close: () => inner.close(),
  };
}
