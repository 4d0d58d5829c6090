import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { httpStatusOf, isDermsError } from '../core/errors.js';
import { parseWith } from '../core/model/validate.js';
import type { Actor } from '../store/records.js';
import { AccessError, authorize } from './authz.js';
import { CustomerServices, type CustomerServicesDeps } from './customer-services.js';
import { openApiDocument } from './openapi.js';
import { routes } from './routes.js';

export interface CustomerServicesHttpOptions {
  /** Version shown in the OpenAPI document. */
  readonly version?: string;
  /** Errors that are not the client's fault (500s); Fastify's logger otherwise. */
  readonly onInternalError?: (e: unknown, req: FastifyRequest) => void;
}

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  const m = h === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

function sendError(reply: FastifyReply, status: number, code: string, message: string, issues: readonly unknown[] = []): FastifyReply {
  return reply.code(status).send({ error: { code, message, issues } });
}

/**
 * Mount the customer-services API under /api on a Fastify instance (next to the CIM server in
 * `derms start`): JSON in and out, bearer tokens, bodies validated with the route's schema
 * (4xx naming the field), errors as `{ error: { code, message, issues } }`, and the OpenAPI
 * document at /api/openapi.json. Returns the services, for callers that act without HTTP.
 */
export async function registerCustomerServices(app: FastifyInstance, deps: CustomerServicesDeps, o: CustomerServicesHttpOptions = {}): Promise<CustomerServices> {
  const services = new CustomerServices(deps);
  const document = openApiDocument(routes, { version: o.version ?? '1' });
  await app.register(
    async (api) => {
      // JSON only (other media types are 415), with our own parser: an empty body is no body, and
      // bad JSON is a 400 in our error shape.
      api.removeAllContentTypeParsers();
      api.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, text, done) => {
        const s = String(text);
        if (s.trim() === '') return done(null, undefined);
        try {
          done(null, JSON.parse(s));
        } catch (e) {
          const err = Object.assign(new Error(`body is not valid JSON: ${(e as Error).message}`), { statusCode: 400 });
          done(err, undefined);
        }
      });

      api.setErrorHandler((err: FastifyError | Error, req, reply) => {
        if (err instanceof AccessError) {
          if (err.status === 401) reply.header('www-authenticate', 'Bearer realm="derms"');
          return sendError(reply, err.status, err.status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN', err.message);
        }
        if (isDermsError(err)) return sendError(reply, httpStatusOf[err.code], err.code, err.message, err.issues);
        const status = (err as FastifyError).statusCode;
        if (status !== undefined && status >= 400 && status < 500) return sendError(reply, status, 'INVALID_INPUT', err.message);
        if (o.onInternalError) o.onInternalError(err, req);
        else req.log.error(err);
        return sendError(reply, 500, 'INTERNAL', 'internal error; the request was not carried out');
      });
      api.setNotFoundHandler((req, reply) => sendError(reply, 404, 'NOT_FOUND', `no operation ${req.method} ${req.url.split('?')[0]}`));

      api.get('/openapi.json', async () => document);

      const authenticate = async (req: FastifyRequest): Promise<Actor> => {
        const token = bearer(req);
        if (!token) throw new AccessError(401, 'an Authorization: Bearer <token> header is required');
        const actor = await deps.store.users.resolveToken(token);
        if (!actor) throw new AccessError(401, 'unknown or revoked token');
        return actor;
      };

      for (const r of routes) {
        api.route({
          method: r.method,
          url: r.path,
          handler: async (req, reply) => {
            const actor = await authenticate(req);
            // The role is checked before the body is read: a caller who may not act learns nothing from validation.
            authorize(actor, r.action);
            const what = `${r.operationId} body`;
            const body = r.body ? parseWith(r.body, req.body ?? {}, what) : undefined;
            const query = r.query ? parseWith(r.query, req.query ?? {}, `${r.operationId} query`) : undefined;
            const params = req.params as Record<string, string>;
            const result = await r.handle(services, actor, { params, body, query });
            return reply.code(r.status).send(result ?? null);
          },
        });
      }
    },
    { prefix: '/api' },
  );
  return services;
}
