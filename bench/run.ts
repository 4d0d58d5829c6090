/**
 * Benchmark harness: `npm run bench [-- options]`.
 *
 * Runs the benchmark suites (see bench/suites/index.ts), stores each suite's result in
 * `bench/results/<suite>.json` and regenerates `docs/benchmarks.md` from every stored result, so a
 * suite rerun alone replaces only its own section.
 *
 *   --only <suite>   run only this suite (repeatable, or comma-separated)
 *   --json           print the results as one JSON object on stdout, nothing else (progress on stderr);
 *                    with one suite the object is that suite's flat metrics, else { <suite>: metrics }
 *   --quick          smaller workloads, for a smoke test; writes nothing
 *   --runs <n>       measured runs, overriding each suite's default
 *   --samples <n>    samples per measured run, overriding each suite's default
 *   --no-write       do not write bench/results or docs/benchmarks.md
 *   --check          exit with status 3 when a figure misses its target
 *
 * Exit status: 0 done, 1 a benchmark failed a sanity check or crashed, 2 bad arguments, 3 target missed
 * (with --check). Note: `npm run` prints its own banner on stdout; use `npm run -s bench -- --json`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadResults, missedTargets, renderMarkdown, renderSummary, saveResult } from './lib/report.js';
import type { SuiteOptions, SuiteResult } from './lib/types.js';
import { suites } from './suites/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = path.join(root, 'bench', 'results');
const docsFile = path.join(root, 'docs', 'benchmarks.md');

class UsageError extends Error {}

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

function parseCli(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      only: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      samples: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const known = suites.map((s) => s.name);
  const only = (values.only ?? []).flatMap((o) => o.split(',')).map((o) => o.trim()).filter(Boolean);
  const unknown = only.filter((o) => !known.includes(o));
  if (unknown.length) throw new UsageError(`unknown suite ${unknown.join(', ')}; known: ${known.join(', ')}`);
  return {
    only,
    json: values.json,
    quick: values.quick,
    runs: positiveInt('runs', values.runs),
    samples: positiveInt('samples', values.samples),
    write: !values['no-write'] && !values.quick,
    check: values.check,
    help: values.help,
  };
}

const log = (message: string): void => {
  process.stderr.write(`${message}\n`);
};

async function main(): Promise<number> {
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (e) {
    log(`bench: ${e instanceof Error ? e.message : String(e)}`);
    log('usage: npm run bench -- [--only <suite>] [--json] [--quick] [--runs n] [--samples n] [--no-write] [--check]');
    return 2;
  }
  if (cli.help) {
    log('usage: npm run bench -- [--only <suite>] [--json] [--quick] [--runs n] [--samples n] [--no-write] [--check]');
    log(`suites: ${suites.map((s) => s.name).join(', ')}`);
    return 0;
  }
  // Keep stdout for the JSON object: anything else that logs goes to stderr.
  if (cli.json) {
    console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args);
  }

  const selected = cli.only.length ? suites.filter((s) => cli.only.includes(s.name)) : suites;
  const options: SuiteOptions = { quick: cli.quick, runs: cli.runs, samples: cli.samples, log };
  const results: SuiteResult[] = [];
  for (const suite of selected) {
    log(`bench: suite ${suite.name}${cli.quick ? ' (quick)' : ''}`);
    const result = await suite.run(options);
    results.push(result);
    if (cli.write) log(`bench: wrote ${path.relative(root, await saveResult(resultsDir, result))}`);
  }
  if (cli.write) {
    const all = await loadResults(resultsDir, suites.map((s) => s.name));
    await mkdir(path.dirname(docsFile), { recursive: true });
    await writeFile(docsFile, renderMarkdown(all));
    log(`bench: wrote ${path.relative(root, docsFile)}`);
  } else {
    log('bench: nothing written (--quick or --no-write)');
  }

  if (cli.json) {
    const flat = (r: SuiteResult) => ({ suite: r.suite, date: r.date, machine: r.machine, params: r.params, ...r.metrics, targets: targets(r) });
    const out = results.length === 1 ? flat(results[0]!) : Object.fromEntries(results.map((r) => [r.suite, flat(r)]));
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    for (const r of results) process.stdout.write(`${renderSummary(r)}\n`);
  }

  const missed = results.flatMap((r) => missedTargets(r).map((f) => `${r.suite}.${f.key}`));
  if (missed.length) log(`bench: targets not met: ${missed.join(', ')}`);
  return cli.check && missed.length ? 3 : 0;
}

/** Each targeted figure: its target and whether this result meets it. */
function targets(r: SuiteResult): Record<string, { target: string; met: boolean }> {
  const missed = new Set(missedTargets(r).map((f) => f.key));
  return Object.fromEntries(
    r.figures
      .filter((f) => f.target !== undefined && typeof r.metrics[f.key] === 'number')
      .map((f) => [f.key, { target: `${f.target!.op} ${f.target!.value}`, met: !missed.has(f.key) }]),
  );
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    log(`bench: FAILED: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = 1;
  },
);
