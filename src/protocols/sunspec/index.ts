/** The SunSpec model layer both sides share: definitions, layouts, codec, model API, discovery. */
export * from './defs.js';
export * from './errors.js';
export { convertOfficialModel } from './convert.js';
export { loadModelDir, loadModelFile, parseModelFile } from './loader.js';
export { ModelRegistry } from './registry.js';
export { BUILTIN_MODELS } from './models/index.js';
export { layoutFor, layoutFromBlock, lengthProblem, slotOf, type GroupInstance, type ModelLayout, type PointSlot } from './layout.js';
export { readRaw, writeRaw, writeNotImplemented, isImplemented, type Raw } from './codec.js';
export { decodeValue, encodeValue, type PointInput, type Value } from './value.js';
export { applySf, removeSf } from './scale.js';
export {
  decodeModel,
  decodePoint,
  decodeWrite,
  encodeLayout,
  encodeModel,
  encodePoint,
  planWrites,
  pointsInRange,
  type DecodedModel,
  type DecodedPoint,
  type PlannedWrite,
  type PlanOptions,
  type PointValuesInput,
} from './model.js';
export { chunkReads, chunkWrites, MAX_READ, MAX_WRITE, type RegisterRange, type RegisterWrite } from './chunk.js';
export { findSunSBase, SUNS_BASES, SUNS_MARKER, walkModelChain, type ChainEntry, type ReadRegisters, type WalkOptions } from './discovery.js';
