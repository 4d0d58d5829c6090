import type { z } from 'zod';
import type { Actor } from '../store/records.js';
import type { Action } from './authz.js';
import type { CustomerServices } from './customer-services.js';
import {
  applicationBody,
  applicationQuery,
  auditQuery,
  customerBody,
  decisionBody,
  feederBody,
  groupRequestBody,
  optionalReasonBody,
  organizationBody,
  outboxQuery,
  periodQuery,
  providerBody,
  reasonBody,
  servicePointBody,
  tariffBody,
  tokenBody,
  userBody,
  workOrderBody,
  workOrderQuery,
} from './schemas.js';

export interface RouteInput<B, Q> {
  readonly params: Readonly<Record<string, string>>;
  readonly body: B;
  readonly query: Q;
}

/** One operation of the API: what the HTTP layer mounts and the OpenAPI document describes. */
export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT';
  /** Fastify path under /api, `:name` for parameters. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  readonly action: Action;
  readonly body?: z.ZodType;
  readonly query?: z.ZodType;
  /** Status of a successful answer. */
  readonly status: 200 | 201;
  readonly handle: (s: CustomerServices, actor: Actor, input: RouteInput<unknown, unknown>) => Promise<unknown>;
}

function route<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined>(r: {
  method: Route['method'];
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  action: Action;
  body?: B;
  query?: Q;
  status?: 200 | 201;
  handle: (s: CustomerServices, actor: Actor, input: RouteInput<B extends z.ZodType ? z.output<B> : undefined, Q extends z.ZodType ? z.output<Q> : undefined>) => Promise<unknown>;
}): Route {
  return { ...r, status: r.status ?? 200, handle: r.handle as Route['handle'] };
}

const id = (i: RouteInput<unknown, unknown>): string => i.params.id!;

export const routes: readonly Route[] = [
  route({ method: 'GET', path: '/me', operationId: 'getMe', summary: 'The user, organization and role the token speaks for', tag: 'administration', action: 'me.read', handle: (s, a) => s.admin.me(a) }),
  route({ method: 'POST', path: '/organizations', operationId: 'createOrganization', summary: 'Create an organization (the DSO or a third-party provider)', tag: 'administration', action: 'organization.manage', body: organizationBody, status: 201, handle: (s, a, i) => s.admin.createOrganization(a, i.body) }),
  route({ method: 'GET', path: '/organizations', operationId: 'listOrganizations', summary: 'Organizations (a provider sees its own)', tag: 'administration', action: 'organization.read', handle: (s, a) => s.admin.listOrganizations(a) }),
  route({ method: 'POST', path: '/users', operationId: 'createUser', summary: 'Create a user with a role in an organization', tag: 'administration', action: 'user.create', body: userBody, status: 201, handle: (s, a, i) => s.admin.createUser(a, i.body) }),
  route({ method: 'POST', path: '/users/:id/tokens', operationId: 'issueToken', summary: 'Issue an API token for a user (shown once)', tag: 'administration', action: 'token.issue', body: tokenBody, status: 201, handle: (s, a, i) => s.admin.issueToken(a, id(i), i.body.label) }),
  route({ method: 'POST', path: '/tariffs', operationId: 'createTariff', summary: 'Define a tariff: eligibility, telemetry and control requirements, settlement rate, grouping rules', tag: 'administration', action: 'tariff.manage', body: tariffBody, status: 201, handle: (s, a, i) => s.admin.createTariff(a, i.body) }),
  route({ method: 'GET', path: '/tariffs', operationId: 'listTariffs', summary: 'Tariffs a DER can be registered under', tag: 'administration', action: 'tariff.read', handle: (s, a) => s.admin.listTariffs(a) }),
  route({ method: 'PUT', path: '/feeders/:id', operationId: 'putFeeder', summary: 'Create a feeder or change its hosting limit (a network upgrade lists the applications held for it)', tag: 'engineering', action: 'feeder.manage', body: feederBody, handle: (s, a, i) => s.admin.upsertFeeder(a, id(i), i.body) }),
  route({ method: 'GET', path: '/feeders', operationId: 'listFeeders', summary: 'Feeders with hosting limit and committed DER rating', tag: 'engineering', action: 'feeder.read', handle: (s, a) => s.admin.listFeeders(a) }),

  route({ method: 'POST', path: '/customers', operationId: 'createCustomer', summary: 'Open a customer account (a provider opens its own customers)', tag: 'customers', action: 'customer.create', body: customerBody, status: 201, handle: (s, a, i) => s.registration.createCustomer(a, i.body) }),
  route({ method: 'GET', path: '/customers', operationId: 'listCustomers', summary: 'Customers visible to the caller', tag: 'customers', action: 'customer.read', handle: (s, a) => s.registration.listCustomers(a) }),
  route({ method: 'GET', path: '/customers/:id', operationId: 'getCustomer', summary: 'A customer with service points, DER and agreements', tag: 'customers', action: 'customer.read', handle: (s, a, i) => s.registration.getCustomer(a, id(i)) }),
  route({ method: 'POST', path: '/customers/:id/service-points', operationId: 'addServicePoint', summary: 'Add a service point (feeder, phase) to a customer', tag: 'customers', action: 'service-point.create', body: servicePointBody, status: 201, handle: (s, a, i) => s.registration.addServicePoint(a, id(i), i.body) }),
  route({ method: 'GET', path: '/customers/:id/statement', operationId: 'getCustomerStatement', summary: "A customer's statement for a period: energy, dispatch participation and credit per DER", tag: 'settlement', action: 'statement.read', query: periodQuery, handle: (s, a, i) => s.settlement.customerStatement(a, id(i), i.query) }),

  route({ method: 'POST', path: '/applications', operationId: 'submitApplication', summary: 'Flow A: register a DER at a service point under a tariff; the application is created and acknowledged', tag: 'applications', action: 'application.submit', body: applicationBody, status: 201, handle: (s, a, i) => s.registration.submitApplication(a, i.body) }),
  route({ method: 'GET', path: '/applications', operationId: 'listApplications', summary: 'Applications visible to the caller', tag: 'applications', action: 'application.read', query: applicationQuery, handle: (s, a, i) => s.registration.listApplications(a, i.query) }),
  route({ method: 'GET', path: '/applications/:id', operationId: 'getApplication', summary: 'An application with its DER, agreement, state history and work orders', tag: 'applications', action: 'application.read', handle: (s, a, i) => s.registration.getApplication(a, id(i)) }),
  route({ method: 'POST', path: '/applications/:id/review', operationId: 'reviewApplication', summary: 'Flow B: send a submitted application to engineering review', tag: 'applications', action: 'application.review', body: optionalReasonBody, handle: (s, a, i) => s.registration.reviewApplication(a, id(i)) }),
  route({ method: 'GET', path: '/applications/:id/hosting-capacity', operationId: 'getHostingCapacity', summary: "Flow B: the DER's rating against its feeder's hosting limit and what is already committed", tag: 'engineering', action: 'application.hosting', handle: (s, a, i) => s.registration.hostingCheck(a, id(i)) }),
  route({ method: 'POST', path: '/applications/:id/decision', operationId: 'decideApplication', summary: 'Flow B: approve (raises the installation work order), hold for a network upgrade, or reject with a reason', tag: 'engineering', action: 'application.decide', body: decisionBody, handle: (s, a, i) => s.registration.decideApplication(a, id(i), i.body) }),
  route({ method: 'POST', path: '/applications/:id/work-orders', operationId: 'openWorkOrder', summary: 'Open a new installation check after a failed one', tag: 'engineering', action: 'work-order.manage', status: 201, handle: (s, a, i) => s.registration.openWorkOrder(a, id(i)) }),
  route({ method: 'POST', path: '/applications/:id/connect', operationId: 'connectApplication', summary: 'Flow C: hand a verified DER to the DERMS (it must answer on its endpoint if the tariff requires monitoring or control)', tag: 'applications', action: 'application.connect', handle: (s, a, i) => s.registration.connectApplication(a, id(i)) }),
  route({ method: 'POST', path: '/applications/:id/withdraw', operationId: 'withdrawApplication', summary: 'Withdraw an application before it is connected', tag: 'applications', action: 'application.withdraw', body: reasonBody, handle: (s, a, i) => s.registration.withdrawApplication(a, id(i), i.body.reason) }),
  route({ method: 'GET', path: '/work-orders', operationId: 'listWorkOrders', summary: 'Installation work orders', tag: 'engineering', action: 'work-order.read', query: workOrderQuery, handle: (s, a, i) => s.registration.listWorkOrders(a, i.query) }),
  route({ method: 'POST', path: '/work-orders/:id/complete', operationId: 'completeWorkOrder', summary: "Flow B: record the crew's result; passed verifies the installation against the tariff", tag: 'engineering', action: 'work-order.manage', body: workOrderBody, handle: (s, a, i) => s.registration.completeWorkOrder(a, id(i), i.body) }),

  route({ method: 'GET', path: '/ders', operationId: 'listDers', summary: 'DER visible to the caller (the DSO sees the whole registry)', tag: 'registry', action: 'der.read', handle: (s, a) => s.ders.listDers(a) }),
  route({ method: 'GET', path: '/ders/:id', operationId: 'getDer', summary: 'A DER with its connectivity, tariff, application state, provider and groups', tag: 'registry', action: 'der.read', handle: (s, a, i) => s.ders.getDer(a, id(i)) }),
  route({ method: 'PUT', path: '/ders/:id/provider', operationId: 'setDerProvider', summary: "Share a DER's registration with a third-party provider, move it to another, or back to the DSO (null)", tag: 'third parties', action: 'der.assign-provider', body: providerBody, handle: (s, a, i) => s.ders.setDerProvider(a, id(i), i.body) }),
  route({ method: 'GET', path: '/ders/:id/provider-history', operationId: 'getDerProviderHistory', summary: 'Every provider that has owned the relationship for a DER', tag: 'third parties', action: 'der.provider-history', handle: (s, a, i) => s.ders.derProviderHistory(a, id(i)) }),
  route({ method: 'GET', path: '/ders/:id/participation', operationId: 'getDerParticipation', summary: 'Per dispatch: energy requested, delivered and settled for one DER over a period', tag: 'settlement', action: 'participation.read', query: periodQuery, handle: (s, a, i) => s.settlement.derParticipation(a, id(i), i.query) }),

  route({ method: 'GET', path: '/groups', operationId: 'listGroups', summary: 'Active DER groups (a provider sees the groups it formed)', tag: 'groups', action: 'group.read', handle: (s, a) => s.groups.listGroups(a) }),
  route({ method: 'GET', path: '/groups/:id', operationId: 'getGroup', summary: 'A DER group with owner and tariff', tag: 'groups', action: 'group.read', handle: (s, a, i) => s.groups.getGroup(a, id(i)) }),
  route({ method: 'GET', path: '/groups/:id/membership-history', operationId: 'getGroupMembershipHistory', summary: 'Every join and leave of a group: when, why, by whose request (append-only)', tag: 'groups', action: 'group.read', handle: (s, a, i) => s.groups.groupHistory(a, id(i)) }),
  route({ method: 'GET', path: '/groups/:id/invoice', operationId: 'getGroupInvoice', summary: 'Per dispatch and in total for a period: the energy a group delivered and what its owner invoices the DSO', tag: 'settlement', action: 'invoice.read', query: periodQuery, handle: (s, a, i) => s.settlement.groupInvoice(a, id(i), i.query) }),
  route({ method: 'POST', path: '/group-requests', operationId: 'submitGroupRequest', summary: 'Request to form a group, add or remove members, or dissolve it; checked against the tariff rules at once', tag: 'groups', action: 'group-request.submit', body: groupRequestBody, status: 201, handle: (s, a, i) => s.groups.submitGroupRequest(a, i.body) }),
  route({ method: 'GET', path: '/group-requests', operationId: 'listGroupRequests', summary: 'Group requests (a provider sees its own)', tag: 'groups', action: 'group-request.read', handle: (s, a) => s.groups.listGroupRequests(a) }),
  route({ method: 'GET', path: '/group-requests/:id', operationId: 'getGroupRequest', summary: 'A group request and its decision', tag: 'groups', action: 'group-request.read', handle: (s, a, i) => s.groups.getGroupRequest(a, id(i)) }),
  route({ method: 'POST', path: '/group-requests/:id/approve', operationId: 'approveGroupRequest', summary: 'Approve: the group is formed, changed or dissolved in the DERMS and Operations is told', tag: 'groups', action: 'group-request.decide', handle: (s, a, i) => s.groups.approveGroupRequest(a, id(i)) }),
  route({ method: 'POST', path: '/group-requests/:id/refuse', operationId: 'refuseGroupRequest', summary: 'Refuse a pending group request with a reason', tag: 'groups', action: 'group-request.decide', body: reasonBody, handle: (s, a, i) => s.groups.refuseGroupRequest(a, id(i), i.body.reason) }),

  route({ method: 'GET', path: '/audit', operationId: 'listAudit', summary: 'The audit log of every state change', tag: 'administration', action: 'audit.read', query: auditQuery, handle: (s, a, i) => s.admin.listAudit(a, i.query) }),
  route({ method: 'GET', path: '/outbox', operationId: 'listOutbox', summary: 'Outbox messages (CIM pushes, notifications) and their delivery state', tag: 'administration', action: 'outbox.read', query: outboxQuery, handle: (s, a, i) => s.admin.listOutbox(a, i.query) }),
];
