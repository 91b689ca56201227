/**
 * Inference after a fit: model-selection criteria (AIC, BIC, ICL as flexmix defines them), and the
 * observed log-likelihood's gradient, Hessian and standard errors.
 */
export {
  parameterCount,
  informationCriteria,
  modelCriteria,
  type ParameterCount,
  type InformationCriteria,
} from './criteria.js';
export {
  paramLayout,
  packParams,
  unpackParams,
  type ParamLayout,
  type ParamLayoutOptions,
  type Scale,
} from './params.js';
export { logLikDerivatives, activateSecondDeriv, type LogLikDerivatives } from './hessian.js';
export {
  standardErrors,
  formatStandardErrors,
  type StandardErrors,
  type StandardErrorRow,
  type StandardErrorOptions,
  type StandardErrorStatus,
} from './se.js';
export { logLikObjective, type LogLikObjective } from './objective.js';
