/**
 * OpenFMB over MQTT, the parts the simulator and the DERMS adapter share: the schema (our own
 * .proto subset of OpenFMB v2.1, generated into descriptor.ts and messages.ts), the codec, the
 * topic scheme, device URLs, profile builders and flat views of decoded profiles.
 */
export * from './build.js';
export * from './codec.js';
export * from './points.js';
export * from './profiles.js';
export * from './topics.js';
export * from './url.js';
export * from './view.js';
