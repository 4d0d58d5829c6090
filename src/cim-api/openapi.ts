/**
 * OpenAPI 3.1 description of the facade's HTTP endpoints: the IEC 61968-100 message endpoint and
 * the REST conveniences beside it (live stream, statuses as JSON, counters). Served at
 * GET /openapi.json; a test checks it covers exactly the routes the server registers.
 */

const cimBody = {
  description: 'An IEC 61968-100 request: XML (bare RequestMessage, a profile wrapper such as CreateDERGroups, or either in a SOAP 1.1/1.2 Envelope) or the JSON mapping of the same tree (docs/cim.md).',
  required: true,
  content: {
    'application/xml': { schema: { type: 'string' } },
    'text/xml': { schema: { type: 'string' } },
    'application/soap+xml': { schema: { type: 'string' } },
    'application/json': { schema: { $ref: '#/components/schemas/JsonMessage' } },
  },
};

const cimResponses = {
  '200': {
    description: 'A ResponseMessage (Reply/Result OK, PARTIAL or FAILED, with Error codes) in the encoding of the request; for an asynchronous request (AsyncReplyFlag + ReplyAddress) an acknowledgment with code 0.3.',
    content: { 'application/xml': { schema: { type: 'string' } }, 'application/json': { schema: { $ref: '#/components/schemas/JsonMessage' } } },
  },
  '400': { description: 'The body is not a readable message (malformed, DOCTYPE, too deep, too many elements): a FaultMessage with code 1.8.', content: { 'application/xml': { schema: { type: 'string' } }, 'application/json': { schema: { $ref: '#/components/schemas/JsonMessage' } } } },
  '413': { description: 'The body is larger than the configured limit: a FaultMessage with code 3.1.', content: { 'application/xml': { schema: { type: 'string' } } } },
};

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'derms-sim CIM facade',
      version: '1',
      description: 'IEC 61968-5 DER group management over IEC 61968-100 messages, plus a live stream. See docs/cim.md.',
    },
    paths: {
      '/cim': { post: { operationId: 'postMessage', summary: 'Send any request message (routed by Header Verb and Noun)', requestBody: cimBody, responses: cimResponses } },
      '/cim/{service}': {
        post: {
          operationId: 'postMessageToService',
          summary: 'The same endpoint under any path below /cim (for DMS that post to one URL per service, e.g. /cim/create/executeDERGroups)',
          parameters: [{ name: 'service', in: 'path', required: true, schema: { type: 'string' }, description: 'Any path, slashes included' }],
          requestBody: cimBody,
          responses: cimResponses,
        },
      },
      '/cim/stream': {
        get: {
          operationId: 'liveStream',
          summary: 'Server-Sent Events: status, group, dispatch, outcome, endDeviceEvent (JSON data)',
          parameters: [
            { name: 'groups', in: 'query', required: false, schema: { type: 'string' }, description: 'Comma-separated group mRIDs to keep' },
            { name: 'events', in: 'query', required: false, schema: { type: 'string' }, description: 'Comma-separated event types (default status,group,dispatch,endDeviceEvent)' },
          ],
          responses: {
            '200': { description: 'An endless text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
            '400': { description: 'Unknown event type', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
          },
        },
      },
      '/cim/status': {
        get: {
          operationId: 'groupStatuses',
          summary: 'Live status of every group (or of the groups named) as JSON, in SI units',
          parameters: [{ name: 'groups', in: 'query', required: false, schema: { type: 'string' }, description: 'Comma-separated group mRIDs or names' }],
          responses: {
            '200': { description: 'Statuses', content: { 'application/json': { schema: { type: 'object', properties: { statuses: { type: 'array', items: { $ref: '#/components/schemas/GroupStatus' } } }, required: ['statuses'] } } } },
            '404': { description: 'A named group does not exist', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
          },
        },
      },
      '/cim/stats': {
        get: {
          operationId: 'stats',
          summary: 'Request counters, outbox depth and drops, delivery state per DMS endpoint',
          responses: { '200': { description: 'Counters', content: { 'application/json': { schema: { $ref: '#/components/schemas/Stats' } } } } },
        },
      },
      '/openapi.json': {
        get: { operationId: 'openApi', summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } },
      },
    },
    components: {
      schemas: {
        JsonMessage: {
          type: 'object',
          description: 'The XML tree mirrored: element names as keys, arrays for repeatable elements, attributes as "@name", text beside attributes as "#text". Optionally under one key naming the message.',
          properties: { Header: { type: 'object' }, Request: { type: 'object' }, Reply: { type: 'object' }, Payload: { type: 'object' } },
        },
        Error: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] },
        GroupStatus: {
          type: 'object',
          required: ['groupId', 'at', 'activePowerW', 'reactivePowerVar', 'members'],
          properties: {
            groupId: { type: 'string' },
            version: { type: 'object' },
            at: { type: 'number', description: 'epoch ms' },
            newestSampleAt: { type: ['number', 'null'] },
            activePowerW: { type: 'number' },
            reactivePowerVar: { type: 'number' },
            installedMaxW: { type: 'number' },
            installedMinW: { type: 'number' },
            availableMaxW: { type: 'number' },
            availableMinW: { type: 'number' },
            headroomUpW: { type: 'number' },
            headroomDownW: { type: 'number' },
            storage: { type: ['object', 'null'] },
            members: { type: 'object' },
          },
        },
        Stats: {
          type: 'object',
          required: ['requests', 'outbox', 'endpoints'],
          properties: {
            requests: { type: 'object', description: 'requests, ok, partial, failed, malformed' },
            outbox: { type: 'object', description: 'capacity, depth, enqueued, coalesced, dropped, depthByEndpoint' },
            endpoints: { type: 'object', description: 'per endpoint: delivered, failedAttempts, refused, lastError, lastDeliveredAt, retryAt' },
          },
        },
      },
    },
  };
}
