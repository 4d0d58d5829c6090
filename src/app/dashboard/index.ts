import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { DermsError, httpStatusOf } from '../../core/errors.js';
import { parseWith } from '../../core/model/validate.js';
import { DashboardActions, errorBody } from './actions.js';
import { loadAssets } from './assets.js';
import { applicationActions, type DashboardDeps } from './deps.js';
import { LiveFeed } from './live.js';
import { deviceRows, feederViews, fleetCounts, groupDetail, groupSummaries } from './views.js';

export type { ApplicationAction, ApplicationSummary, DashboardCore, DashboardDeps, DashboardOptions, DashboardServices, MembershipEntry } from './deps.js';

const decisionBody = z.object({ action: z.enum(applicationActions), reason: z.string().max(1024).default('') }).strict();
const membershipQuery = z.object({ groupId: z.string().min(1).max(128).optional() });

/**
 * The operator dashboard on `app`: the page at `/`, its files under `/ui/`, its JSON API under
 * `/ui/api/` and a live stream of server-sent events at `/ui/api/stream`. Errors answer
 * `{ error: { code, message, issues } }` with 400 for bad input (issues name the fields),
 * 404 for unknown ids and 409 for clashes. The stream ends when the app closes.
 */
export async function registerDashboard(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const assets = loadAssets();
  const live = new LiveFeed(deps.core, deps.protocolOf, deps.options);
  const actions = new DashboardActions(deps.core);
  const { services } = deps;

  const sendAsset = (reply: FastifyReply, name: string): FastifyReply => {
    const a = assets.get(name);
    if (!a) return reply.code(404).send(errorBody(new DermsError('NOT_FOUND', `no dashboard file ${JSON.stringify(name)}`)));
    return reply.type(a.type).header('cache-control', 'no-cache').send(a.body);
  };

  await app.register(async (ui) => {
    ui.setErrorHandler((err, _req, reply) => {
      if (err instanceof DermsError) return reply.code(httpStatusOf[err.code]).send(errorBody(err));
      // Fastify's own refusals (unparsable JSON, wrong content type, body too large).
      const status = (err as { statusCode?: number }).statusCode;
      if (status !== undefined && status >= 400 && status < 500) {
        return reply.code(status).send(errorBody(new DermsError('INVALID_INPUT', err instanceof Error ? err.message : String(err))));
      }
      ui.log.error(err);
      return reply.code(500).send({ error: { code: 'INTERNAL', message: 'internal error', issues: [] } });
    });

    ui.get('/', (_req, reply) => sendAsset(reply, 'index.html'));
    ui.get('/ui/*', (req, reply) => sendAsset(reply, (req.params as { '*': string })['*']));

    ui.get('/ui/api/fleet', () => ({ now: deps.core.clock.now(), ...fleetCounts(deps.core, deps.protocolOf), devices: deviceRows(deps) }));
    ui.get('/ui/api/feeders', () => feederViews(deps));
    ui.get('/ui/api/groups', () => ({ now: deps.core.clock.now(), groups: groupSummaries(deps, live) }));
    ui.get('/ui/api/groups/:id', (req) => groupDetail(deps, live, (req.params as { id: string }).id));

    ui.post('/ui/api/groups', (req, reply) => reply.code(201).send({ group: actions.createGroup(req.body) }));
    const dispatchRoute = (path: string, act: (groupId: string, body: unknown) => unknown): void => {
      ui.post(path, (req, reply) => reply.code(201).send({ dispatch: act((req.params as { id: string }).id, req.body) }));
    };
    dispatchRoute('/ui/api/groups/:id/dispatch', (g, b) => actions.dispatch(g, b));
    dispatchRoute('/ui/api/groups/:id/volt-var', (g, b) => actions.voltVar(g, b));
    dispatchRoute('/ui/api/groups/:id/connect', (g, b) => actions.connect(g, b));
    ui.post('/ui/api/dispatches/:id/cancel', (req) => ({ dispatch: actions.cancel((req.params as { id: string }).id, req.body) }));

    const needServices = (): NonNullable<DashboardDeps['services']> => {
      if (!services) throw new DermsError('UNAVAILABLE', 'customer services are not enabled in this process');
      return services;
    };
    ui.get('/ui/api/services', () => ({ enabled: services !== undefined }));
    ui.get('/ui/api/services/applications', async () => ({ applications: await needServices().listApplications() }));
    ui.post('/ui/api/services/applications/:id/decision', async (req) => {
      const s = needServices();
      const b = parseWith(decisionBody, req.body ?? {}, 'decision');
      return { application: await s.decide((req.params as { id: string }).id, b.action, b.reason) };
    });
    ui.get('/ui/api/services/memberships', async (req) => {
      const s = needServices();
      const q = parseWith(membershipQuery, req.query, 'membership query');
      return { entries: await s.membershipHistory(q.groupId) };
    });

    ui.get('/ui/api/stream', (req, reply) => {
      reply.hijack();
      live.addClient(reply.raw);
      req.raw.on('close', () => reply.raw.end());
    });
  });

  // Streams never end on their own: close them before the server waits for its connections.
  app.addHook('preClose', async () => live.close());
}
