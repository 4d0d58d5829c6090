/** The IEC 61968-100 / 61968-5 facade: server, DMS-side client and listener, message builders. */
export { createCimFacade, createCimServer, type CimFacade, type CimLimits, type CimServer, type CimServerOptions, type CimStats } from './server.js';
export { coreForecaster, ratioLearner, type CimSystem, type CoreForecasterOptions, type GroupForecaster } from './system.js';
export { CimClient, readReply, type CimClientOptions, type CimReply, type ClientEncoding } from './client.js';
export { startDmsListener, type DmsListener, type DmsListenerOptions, type ReceivedMessage } from './listener.js';
export * from './requests.js';
export { cimNamespaces, type CimNamespaces, type NamespaceOverrides } from './namespaces.js';
export { MemoryOutbox, Deliverer, type Outbox, type OutboundMessage, type OutboxCounters, type RetryOptions } from './outbox.js';
export { ReplyCode, type CimError } from './codes.js';
export type { PushEndpoint, PushKind, PushOptions } from './pushes.js';
