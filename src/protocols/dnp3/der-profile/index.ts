/**
 * The DNP3 DER profile for the DERMS side (adapters): the point map and the pure functions over
 * it. The outstation side (device-points.ts, control-model.ts) is imported directly by src/sim so
 * that nothing here pulls in simulator types.
 */
export * from './commands.js';
export * from './curves.js';
export * from './loader.js';
export * from './master.js';
export * from './point-map.js';
export * from './snapshot.js';
