/** The store's public face (see README.md). */
export { openStore, type DermsStore, type StoreOptions, type StoreTx } from './store.js';
export { parseStoreUrl, redactStoreUrl, DEFAULT_STORE_URL, StoreUrlError, type StoreLocation } from './url.js';
export { DurableRegistry, loadRegistry, type RegistryOps } from './durable-registry.js';
export { OutboxRelay, webhookHandler, type OutboxHandler, type OutboxRelayOptions } from './outbox-relay.js';
export type { Outbox, OutboxMessage, OutboxOptions, OutboxState } from './outbox.js';
export type { AuditActor } from './repos/context.js';
export type { GroupChangeContext, GroupOwnership } from './repos/groups.js';
export * from './records.js';
