import { z } from 'zod';
import { permissions } from './authz.js';
import type { Route } from './routes.js';

type Json = Record<string, unknown>;

/** JSON Schema (2020-12, as OpenAPI 3.1 uses) of what a client sends: the input side of a schema. */
function schemaOf(s: z.ZodType): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Json;
  return rest;
}

const errorSchema: Json = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Stable code: INVALID_INPUT, NOT_FOUND, ALREADY_EXISTS, CONFLICT, UNSUPPORTED, INFEASIBLE, TIMEOUT, UNAVAILABLE, UNAUTHENTICATED, FORBIDDEN' },
        message: { type: 'string', description: 'What went wrong, naming the field for bad input' },
        issues: { type: 'array', items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } } },
      },
    },
  },
};

const errorResponse = (description: string): Json => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

/** The OpenAPI 3.1 document of the customer-services API, built from the same route table the server mounts. */
export function openApiDocument(routes: readonly Route[], o: { version: string }): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    const path = `/api${r.path.replace(/:(\w+)/g, '{$1}')}`;
    const parameters: Json[] = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string', minLength: 1 } }));
    if (r.query) {
      const q = schemaOf(r.query) as { properties?: Record<string, Json>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) parameters.push({ name, in: 'query', required: (q.required ?? []).includes(name), schema });
    }
    const op: Json = {
      operationId: r.operationId,
      summary: r.summary,
      tags: [r.tag],
      'x-roles': [...permissions[r.action]],
      responses: {
        [String(r.status)]: { description: r.status === 201 ? 'Created' : 'OK', content: { 'application/json': { schema: {} } } },
        '400': errorResponse('Bad input: the message and issues name the field'),
        '401': errorResponse('No valid bearer token'),
        '403': errorResponse("The caller's role may not do this"),
        '404': errorResponse('Not found, or not visible to the caller'),
        '409': errorResponse('Conflicts with the current state (the message gives the reason)'),
      },
    };
    if (parameters.length) op.parameters = parameters;
    if (r.body) op.requestBody = { required: !r.body.safeParse({}).success, content: { 'application/json': { schema: schemaOf(r.body) } } };
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  paths['/api/openapi.json'] = {
    get: { operationId: 'getOpenApi', summary: 'This document', tags: ['meta'], security: [], responses: { '200': { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } } } },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'DERMS customer services',
      version: o.version,
      description:
        'Registration, engineering review, hand-over to the DERMS, third-party providers, group formation and dissolution, participation and invoicing ' +
        '(the flows of the EPRI report on customer services and DERMS integration). Authenticate with `Authorization: Bearer <token>`; x-roles lists the roles that may call each operation.',
    },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: errorSchema },
    },
    security: [{ bearer: [] }],
  };
}
