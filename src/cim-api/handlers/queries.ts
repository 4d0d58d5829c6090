import { isDermsError } from '../../core/errors.js';
import type { DerGroup } from '../../core/model/group.js';
import { ReplyCode, fault } from '../codes.js';
import { fixedIntervalMs } from '../enums.js';
import { derGroupForecastsEl, derGroupStatusesEl, forecastEl, statusGroupEl, type ForecastParameter, type ForecastSchedule } from '../payloads.js';
import { forecastQueriesSchema, groupQueriesSchema, parseProfile } from '../schema.js';
import type { El } from '../tree.js';
import { attempt, refId, requestDoc, resolveGroup, tooMany, type HandlerContext, type HandlerResult, type Outcome } from './context.js';

/** get DERGroupStatuses: each group's live status from the aggregator (every group when none is named). */
export function getStatuses(ctx: HandlerContext): HandlerResult {
  const q = parseProfile(groupQueriesSchema, requestDoc(ctx, 'DERGroupStatusQueries'), 'Request/DERGroupStatusQueries');
  tooMany(ctx, q.EndDeviceGroup.length, 'EndDeviceGroup');
  const agg = ctx.system.aggregator;
  const els: El[] = [];
  const add = (g: DerGroup): void => {
    const s = agg.status(g.mRID);
    if (s) els.push(statusGroupEl(ctx.render, g, s));
  };
  const outcomes: Outcome[] = q.EndDeviceGroup.map((ref) =>
    attempt(ctx, refId(ref, 'DERGroup'), () => {
      add(resolveGroup(ctx, ref));
      return { ok: true };
    }),
  );
  if (q.EndDeviceGroup.length === 0) for (const g of ctx.registry.allGroups()) add(g);
  return { outcomes, payload: els.length ? [derGroupStatusesEl(ctx.render, els)] : undefined };
}

const forecastable = new Set(['activePower', 'reactivePower']);

/**
 * get DERGroupForecasts: one DERGroupForecast per group, one DERMonitorableParameter per
 * requested parameter (activePower, reactivePower), one DispatchSchedule per requested schedule
 * with numberOfIntervals DERCurveData. A parameter the DERMS cannot forecast is one 5.7 Error.
 */
export function getForecasts(ctx: HandlerContext): HandlerResult {
  const q = parseProfile(forecastQueriesSchema, requestDoc(ctx, 'DERGroupForecastQueries'), 'Request/DERGroupForecastQueries');
  tooMany(ctx, q.EndDeviceGroup.length, 'EndDeviceGroup');
  const forecaster = ctx.system.forecaster;
  if (!forecaster) throw fault(ReplyCode.unavailable, 'this DERMS has no forecaster configured');
  const outcomes: Outcome[] = [];
  const parameters: ForecastParameter[] = [];
  for (const p of q.DERMonitorableParameter) {
    if (forecastable.has(p.DERParameter)) {
      const k = p.DERParameter as ForecastParameter;
      if (!parameters.includes(k)) parameters.push(k);
    } else {
      outcomes.push({ ok: false, error: { code: ReplyCode.unavailable, level: 'FATAL', reason: `no forecast of ${p.DERParameter} is available (forecast: activePower, reactivePower)` } });
    }
  }
  const schedules = q.DispatchSchedule.map((s, i) => {
    const intervalMs = fixedIntervalMs(s.timeIntervalUnit, s.timeIntervalDuration);
    if (intervalMs === undefined) throw fault(ReplyCode.businessRule, `DispatchSchedule[${i + 1}]: forecasts take intervals of s, m, h or D, not calendar ${s.timeIntervalUnit === 'M' ? 'months' : 'years'}`);
    if (s.numberOfIntervals > ctx.maxForecastIntervals) throw fault(ReplyCode.tooMany, `DispatchSchedule[${i + 1}]: ${s.numberOfIntervals} intervals; at most ${ctx.maxForecastIntervals}`);
    return { s, intervalMs };
  });
  const now = ctx.system.clock.now();
  const els: El[] = [];
  if (parameters.length > 0) {
    for (const ref of q.EndDeviceGroup) {
      outcomes.push(
        attempt(ctx, refId(ref, 'DERGroup'), () => {
          const g = resolveGroup(ctx, ref);
          const runs: ForecastSchedule[] = schedules.map(({ s, intervalMs }) => {
            try {
              const forecast = forecaster.forecast(g, s.startTime, intervalMs, s.numberOfIntervals, now);
              return { start: s.startTime, intervalDuration: s.timeIntervalDuration, intervalUnit: s.timeIntervalUnit, curveStyle: s.curveStyleKind, forecast };
            } catch (e) {
              if (isDermsError(e) && e.code === 'UNAVAILABLE') throw fault(ReplyCode.unavailable, e.message, { id: refId(ref, 'DERGroup') });
              throw e;
            }
          });
          els.push(forecastEl(ctx.render, g, parameters, runs, ctx.newId(), now));
          return { ok: true };
        }),
      );
    }
  }
  return { outcomes, payload: els.length ? [derGroupForecastsEl(ctx.render, els)] : undefined };
}
