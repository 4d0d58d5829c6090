import { MqttConnection } from '../../../src/protocols/mqtt/connection.js';
import type { BrokerTarget } from '../../../src/protocols/mqtt/url.js';
import { decodeProfile, parseTopic, type ProfileInfo, type ProfileMessages, type ProfileName } from '../../../src/protocols/openfmb/index.js';

export interface Seen {
  readonly topic: string;
  readonly profile: ProfileInfo;
  readonly mRID: string;
  readonly msg: ProfileMessages[ProfileName];
}

/**
 * A bystander on the broker: subscribes to `filter` (everything OpenFMB by default), decodes what
 * passes and keeps it, so tests can wait for what a publisher put on the wire.
 */
export class Observer {
  readonly seen: Seen[] = [];
  readonly conn: MqttConnection;

  private constructor(broker: BrokerTarget, clientId: string) {
    this.conn = new MqttConnection({ broker, clientId, clean: true, reconnectMs: 100 });
    this.conn.onMessage((topic, payload) => {
      const t = parseTopic(topic);
      if (!t) return;
      this.seen.push({ topic, profile: t.profile, mRID: t.mRID, msg: decodeProfile(t.profile.name, payload) });
    });
  }

  static async start(broker: BrokerTarget, filter = 'openfmb/#', clientId = `observer-${Math.random().toString(36).slice(2)}`): Promise<Observer> {
    const o = new Observer(broker, clientId);
    await o.conn.whenOnline(3000);
    await o.conn.subscribe([filter], 1);
    return o;
  }

  of<N extends ProfileName>(name: N, mRID?: string): ProfileMessages[N][] {
    return this.seen.filter((s) => s.profile.name === name && (mRID === undefined || s.mRID === mRID)).map((s) => s.msg as ProfileMessages[N]);
  }

  /** Wait (real time) until `pred` holds over what has been seen. */
  async until(pred: (seen: readonly Seen[]) => boolean, what: string, ms = 3000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred(this.seen)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what} (seen ${this.seen.length}: ${[...new Set(this.seen.map((s) => s.profile.name))].join(', ')})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): Promise<void> {
    return this.conn.close();
  }
}

/** Wait (real time) until `pred()` holds. */
export async function eventually(pred: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
