import type { Suite } from '../lib/types.js';
import { cimSuite } from './cim.js';
import { coreSuite } from './core.js';
import { dnp3Suite } from './dnp3.js';
import { openfmbSuite } from './openfmb.js';
import { simSuite } from './sim.js';
import { sunspecSuite } from './sunspec.js';

/**
 * Every benchmark suite, in the order they run and appear in docs/benchmarks.md. A new suite
 * (sunspec, dnp3, openfmb, cim-api, ...) implements `Suite`, returns a `SuiteResult` and is listed here.
 */
export const suites: readonly Suite[] = [coreSuite, simSuite, sunspecSuite, dnp3Suite, openfmbSuite, cimSuite];
