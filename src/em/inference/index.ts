/**
 * Inference after a fit: model-selection criteria (AIC, BIC, ICL as flexmix defines them), and the
 * observed log-likelihood's gradient, Hessian and standard errors (observed information, parametric bootstrap).
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
export {
  bootstrapStandardErrors,
  bootSeSeed,
  BOOT_SE_MIN,
  BOOT_SE_LEVEL,
  type BootSeOptions,
  type BootSeRow,
  type BootstrapStandardErrors,
  type RefitOptions,
} from './boot-se.js';
export { formatBootstrapStandardErrors } from './boot-se-format.js';
export {
  alignExperts,
  bestPermutation,
  relabelExperts,
  alignmentCost,
  alignScales,
  type AlignScales,
} from './boot-align.js';
export { logLikObjective, type LogLikObjective } from './objective.js';
