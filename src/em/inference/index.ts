/**
 * Inference after a fit: model-selection criteria (AIC, BIC, ICL as flexmix defines them), and the
 * observed log-likelihood's gradient, Hessian and standard errors.
 */
export { parameterCount, informationCriteria, modelCriteria, type ParameterCount, type InformationCriteria } from './criteria.js';
