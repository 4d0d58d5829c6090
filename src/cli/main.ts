#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { DEMO_FLEET, runDemo } from './demo.js';
import { simRun } from './sim-run.js';

function intIn(min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}
function positive(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

const program = new Command()
  .name('derms')
  .description('Open DERMS simulator: group and dispatch inverters and batteries over SunSpec Modbus, DNP3 and OpenFMB')
  .showHelpAfterError();

program
  .command('start')
  .description('run the reactive core on a simulated fleet with a scripted dispatch sequence')
  .option('--fleet <file>', 'fleet file (YAML)', DEMO_FLEET)
  .option('--speed <x>', "virtual seconds per real second (default: the fleet file's pace)", positive)
  .option('--duration <s>', 'stop after this many virtual seconds (default: run until Ctrl-C)', positive)
  .option('--json', 'print one JSON object per line instead of text', false)
  .action(async (opts: { fleet: string; speed?: number; duration?: number; json: boolean }) => {
    await runDemo({ fleet: opts.fleet, speed: opts.speed, durationS: opts.duration, json: opts.json, out: (l) => console.log(l) });
  });

const sim = program.command('sim').description('the simulated fleet on its own');
sim
  .command('run')
  .description('run a fleet file without the DERMS and print a summary')
  .requiredOption('--fleet <file>', 'fleet file (YAML), e.g. fixtures/fleets/day.yaml')
  .option('--hours <h>', 'simulated hours', positive, 1)
  .option('--fast', 'as fast as the CPU allows, whatever the file says', false)
  .option('--json', 'print the summary as one JSON object', false)
  .option('--workers <n>', 'worker threads, each running whole feeders', intIn(1, 256), 1)
  .action(async (opts: { fleet: string; hours: number; fast: boolean; json: boolean; workers: number }) => {
    await simRun({ ...opts, out: (l) => console.log(l), progress: process.stderr.isTTY === true && !opts.json });
  });

program.parseAsync().catch((e: unknown) => {
  console.error(`derms: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
