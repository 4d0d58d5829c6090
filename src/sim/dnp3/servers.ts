import { interval, type SchedulerLike, type Subscription } from 'rxjs';
import { DermsError } from '../../core/errors.js';
import { Dnp3TcpServer, formatDnp3Url } from '../../protocols/dnp3/index.js';
import type { DerPointMap } from '../../protocols/dnp3/der-profile/point-map.js';
import type { SimInverter } from '../inverter.js';
import { DerOutstation } from './der-outstation.js';

export interface Dnp3ServedDevice {
  readonly device: SimInverter;
  /**
   * The outstation's link address. 'port' devices default to 10; 'shared' ones get the next free
   * address of their port from 10 up. A shared port never holds one address twice.
   */
  readonly outstation?: number | undefined;
  /** 'port': a listening port of its own; 'shared': one of up to `perPort` outstations behind a port, by link address. */
  readonly mode: 'port' | 'shared';
  /** 'port' mode: this listening port (a fleet file's pinned one) instead of the next one. */
  readonly port?: number | undefined;
}

export interface Dnp3Endpoint {
  readonly mRID: string;
  readonly protocol: 'dnp3';
  /** `dnp3://HOST:PORT?outstation=N&master=M` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly outstation: number;
  readonly master: number;
}

export interface Dnp3ServersOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** First port; later ones count up. Default 0: the OS picks free ports. */
  readonly basePort?: number;
  /** The master link address every outstation answers. Default 1. */
  readonly master?: number;
  /** Outstations behind one shared port. Default 250. */
  readonly perPort?: number;
  readonly map?: DerPointMap;
  /**
   * Protocol timers (select, confirm, unsolicited retries) and fault delays run on it. Default
   * asyncScheduler: they are wire timers, in wall time even when the simulation runs faster.
   */
  readonly scheduler?: SchedulerLike;
  /** Refresh every outstation this often (e.g. the simulation step); 0 = only when `refresh()` is called. Default 0. */
  readonly refreshMs?: number;
  /** The clock of `refreshMs` (the simulation's). Default `scheduler`. */
  readonly refreshOn?: SchedulerLike;
  readonly log?: (line: string) => void;
}

export interface Dnp3ServersStats {
  readonly outstations: number;
  readonly ports: number;
  readonly openConnections: number;
  /** Frames for an address no outstation on the port has. */
  readonly unknownDestination: number;
  readonly badCrc: number;
  readonly commands: number;
  readonly malformedApdus: number;
}

const FIRST_ADDRESS = 10;
const MAX_ADDRESS = 0xffef;

interface SharedPort {
  readonly devices: [Dnp3ServedDevice, number][];
  readonly taken: Set<number>;
  /** The next address to try for a device without one. */
  next: number;
}

/**
 * Serve simulated devices as DNP3 outstations over TCP under the DER profile: each on a port of
 * its own, or up to `perPort` behind one port told apart by link address (so thousands fit on one
 * machine). Published values follow the devices on each `refresh()` (or every `refreshMs`).
 */
export class Dnp3Servers {
  private readonly servers: Dnp3TcpServer[] = [];
  private readonly list: Dnp3Endpoint[] = [];
  private readonly stations: DerOutstation[] = [];
  private readonly byId = new Map<string, DerOutstation>();
  private timer: Subscription | null = null;

  private constructor(
    private readonly host: string,
    private readonly master: number,
  ) {}

  static async start(devices: readonly Dnp3ServedDevice[], opts: Dnp3ServersOptions = {}): Promise<Dnp3Servers> {
    const master = opts.master ?? 1;
    const perPort = opts.perPort ?? 250;
    if (!Number.isInteger(master) || master < 0 || master > MAX_ADDRESS) throw new DermsError('INVALID_INPUT', `DNP3 master address ${master}: a link address is 0..${MAX_ADDRESS}`);
    if (!Number.isInteger(perPort) || perPort < 1) throw new DermsError('INVALID_INPUT', `DNP3 outstations per port ${perPort}: at least 1`);
    const s = new Dnp3Servers(opts.host ?? '127.0.0.1', master);
    let nextPort = opts.basePort ?? 0;
    const port = (): number => (nextPort === 0 ? 0 : nextPort++);
    const station = (d: Dnp3ServedDevice, address: number): DerOutstation => {
      if (s.byId.has(d.device.id)) throw new DermsError('INVALID_INPUT', `device ${d.device.id} is served twice`);
      if (!Number.isInteger(address) || address < 0 || address > MAX_ADDRESS || address === master) {
        throw new DermsError('INVALID_INPUT', `device ${d.device.id}: outstation address ${address} (a link address 0..${MAX_ADDRESS}, not the master's ${master})`);
      }
      const st = new DerOutstation(d.device, { address, masterAddress: master, map: opts.map, scheduler: opts.scheduler, log: opts.log });
      s.stations.push(st);
      s.byId.set(d.device.id, st);
      return st;
    };
    try {
      for (const d of devices.filter((x) => x.mode === 'port')) {
        const st = station(d, d.outstation ?? FIRST_ADDRESS);
        const srv = await s.listen(d.port ?? port());
        srv.add(st.outstation, st.decorate);
        s.add(st, srv.port);
      }
      for (const g of groupShared(devices.filter((x) => x.mode === 'shared'), perPort, master)) {
        const srv = await s.listen(port());
        for (const [d, address] of g) {
          const st = station(d, address);
          srv.add(st.outstation, st.decorate);
          s.add(st, srv.port);
        }
      }
    } catch (e) {
      await s.close();
      throw e;
    }
    const every = opts.refreshMs ?? 0;
    if (every > 0) s.timer = interval(every, opts.refreshOn ?? opts.scheduler).subscribe(() => s.refresh());
    return s;
  }

  endpoints(): readonly Dnp3Endpoint[] {
    return this.list;
  }

  /** The outstation serving a device. */
  outstation(mRID: string): DerOutstation | undefined {
    return this.byId.get(mRID);
  }

  /** Publish every device's current values: events where they moved past their deadbands. */
  refresh(): void {
    for (const st of this.stations) st.refresh();
  }

  stats(): Dnp3ServersStats {
    let openConnections = 0;
    let unknownDestination = 0;
    let badCrc = 0;
    for (const srv of this.servers) {
      const x = srv.stats();
      openConnections += x.openConnections;
      unknownDestination += x.unknownDestination;
      badCrc += x.badHeaderCrc + x.badDataCrc;
    }
    let commands = 0;
    let malformedApdus = 0;
    for (const st of this.stations) {
      const x = st.outstation.stats();
      commands += x.commands;
      malformedApdus += x.malformedApdus;
    }
    return { outstations: this.stations.length, ports: this.servers.length, openConnections, unknownDestination, badCrc, commands, malformedApdus };
  }

  async close(): Promise<void> {
    this.timer?.unsubscribe();
    this.timer = null;
    await Promise.all(this.servers.splice(0).map((srv) => srv.close()));
    for (const st of this.stations.splice(0)) st.close();
  }

  private async listen(port: number): Promise<Dnp3TcpServer> {
    const srv = await Dnp3TcpServer.listen({ host: this.host, port });
    this.servers.push(srv);
    return srv;
  }

  private add(st: DerOutstation, port: number): void {
    const t = { host: this.host, port, outstation: st.outstation.localAddress, master: this.master };
    this.list.push({ mRID: st.device.id, protocol: 'dnp3', url: formatDnp3Url(t), ...t });
  }
}

/**
 * Shared ports and the address of each device on them: a device goes to the first port with
 * room that does not have its address yet; one without an address takes its port's next free one.
 */
function groupShared(devices: readonly Dnp3ServedDevice[], perPort: number, master: number): [Dnp3ServedDevice, number][][] {
  const ports: SharedPort[] = [];
  const freeAddress = (p: SharedPort): number => {
    while (p.taken.has(p.next) || p.next === master) p.next++;
    return p.next;
  };
  for (const d of devices) {
    let p = ports.find((x) => x.devices.length < perPort && (d.outstation === undefined || !x.taken.has(d.outstation)));
    if (!p) ports.push((p = { devices: [], taken: new Set(), next: FIRST_ADDRESS }));
    const address = d.outstation ?? freeAddress(p);
    p.taken.add(address);
    p.devices.push([d, address]);
  }
  return ports.map((p) => p.devices);
}
