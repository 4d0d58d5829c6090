import type { ESSPoint, ESSPointStatus, SolarPoint, SolarPointStatus } from './messages.js';

/**
 * The DER functions SolarPoint and ESSPoint share, field for field (same names, same types): what
 * a control sets. Power and voltage values are absolute — W, var, V — and ramp rates kW/min:
 *
 *   wOperation        {modEna, wParameter.wSpt W}            active-power setpoint (generation +)
 *   limitWOperation   {maxLimParameter.modEna, wMaxSptVal W} active-power limit
 *   vArOperation      {modEna, varParameter.varTgtSpt var}   constant reactive power (inject +)
 *   pFOperation       {ctlVal, pFParameter {modEna, pFExtSet (true = over-excited, injecting), pFGnTgtMxVal}}
 *   voltVarOperation  {crvPts [{voltVal V, varVal var}], vVarParameter {modEna, VRef V}}
 *   voltWOperation    {crvPts [{voltVal V, wVal W}], voltWParameter.modEna}
 *   rampRates         {positiveRealPowerKWPerMin, negativeRealPowerKWPerMin} (0 = no ramp limit)
 *   state             {value: StateKind on | off | standby}
 */
export type DerPoint = Pick<
  SolarPoint & ESSPoint,
  'wOperation' | 'limitWOperation' | 'vArOperation' | 'pFOperation' | 'voltVarOperation' | 'voltWOperation' | 'rampRates' | 'state'
>;

/** What a status reports of the same functions (SolarPointStatus and ESSPointStatus share these). */
export type DerPointStatus = Pick<
  SolarPointStatus & ESSPointStatus,
  | 'realPwrSetPointEnabled'
  | 'reactivePwrSetPointEnabled'
  | 'limitWOperation'
  | 'vArOperation'
  | 'pFOperation'
  | 'voltVarOperation'
  | 'voltWOperation'
  | 'rampRates'
  | 'state'
>;

/** kW/min on the wire; W/s inside. */
export const wPerSToKwPerMin = (wPerS: number): number => (wPerS * 60) / 1000;
export const kwPerMinToWPerS = (kwPerMin: number): number => (kwPerMin * 1000) / 60;
