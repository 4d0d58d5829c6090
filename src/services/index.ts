/** Customer services' public face (see docs/customer-services.md). */
export { registerCustomerServices, type CustomerServicesHttpOptions } from './http.js';
export { CustomerServices, eligibilityIssues, type CustomerServicesDeps, type HostingCheck } from './customer-services.js';
export { serveCustomerServices, type CustomerServicesServer, type CustomerServicesServerOptions } from './serve.js';
export { bootstrapDso, bootstrapOptionsFromEnv, type BootstrapOptions, type Bootstrapped } from './bootstrap.js';
export { seedDemo, demoUsers, DEMO_PROVIDER, type DemoUser, type SeedDemoOptions, type SeededDemo } from './seed-demo.js';
export { adapterProbe, probeByProtocol, tcpProbe, type Probe, type ProbeResult } from './probe.js';
export { EnergyRollups, type EnergyRollupOptions } from './energy-rollups.js';
export { DispatchRecorder } from './dispatch-recorder.js';
export { registryFollower } from './registry-follower.js';
export { openApiDocument } from './openapi.js';
export { DurableCimOutbox, CIM_PUSH_TOPIC } from './cim-outbox.js';
export { topics, registryTopic, type CimGroupEvent, type CustomerNotification, type ProviderNotification, type RegistryChangeMessage } from './topics.js';
