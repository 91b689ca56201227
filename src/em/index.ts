/**
 * Public API of src/em: EM / maximum-likelihood fitters for every gate kind.
 */
export { fitMoE } from './fit.js';
export type {
  FitOptions,
  FitResult,
  InitOption,
  NearTruthInit,
  ResolvedFitOptions,
  RestartResult,
  StopReason,
  IterationInfo,
  TrustRegionStepInfo,
  IdentifiabilityDiagnostic,
  FlatDirection,
} from './types.js';
export { diagnoseIdentifiability, type DiagnosticOptions } from './diagnostics.js';
export { FIT_DEFAULTS, resolveFitOptions, checkFitData, describeInit } from './options.js';
export {
  parseBounds,
  describeBounds,
  projectToBounds,
  withinBounds,
  gateBox,
  boxProjection,
  boundsReached,
  BOUNDS_SCHEMA,
  type Bounds,
  type Box,
} from './bounds.js';
export { eStep } from './estep.js';
export {
  createBackend,
  createCpuBackend,
  type Backend,
  type BackendName,
  type GateLayout,
  type ExpertMoments,
  type MaskMode,
} from './backend/index.js';
export {
  createGpuBackend,
  probeGpu,
  autoBackendName,
  GpuUnavailableError,
  AUTO_GPU_MIN_VALUES,
  type GpuBackend,
  type GpuBackendOptions,
  type GpuBackendStats,
  type GpuJsMode,
  type GpuProbe,
} from './backend/index.js';
export { gateLayout, layoutLabels, GateQObjective, gateMStepFor, registerGateMStep } from './gates/index.js';
export type {
  GateMStep,
  GateMStepContext,
  GateMStepInfo,
  GateMStepResult,
  GateMStepFactory,
  GateLayoutInfo,
} from './gates/index.js';
export { createExpertsMStep, type ExpertsMStep, type ExpertsMStepInfo } from './experts.js';
export { nearTruthModel, nearTruthNoise, assignAtoms, kmeans, standardizedXY, modelFromLabels } from './init/index.js';
export {
  newtonMaximize,
  newtonWorkspace,
  type NewtonObjective,
  type NewtonOptions,
  type NewtonResult,
} from './optim/newton.js';
export { cholesky, choleskySolve, ridgeSolve, symmetrize } from './optim/linalg.js';
export { WarningLog } from './warnings.js';
export { createWorkspace, type Workspace } from './workspace.js';
export * from './inference/index.js';
export {
  selectK,
  SELECT_CRITERIA,
  type SelectCriterion,
  type SelectOptions,
  type SelectResult,
  type SelectRow,
} from './select.js';
export {
  bootstrapLRT,
  bootPValue,
  lrtStatistic,
  sequentialTests,
  bootSeed,
  checkBootOptions,
  BOOT_MIN,
  BOOT_ALPHA,
  type BootLrtOptions,
  type BootLrtResult,
  type BootTest,
  type BootProgress,
} from './boot-lrt.js';
export { drawResponse } from './boot-draw.js';
export { bootstrapLRTParallel, bootstrapStandardErrorsParallel, type WorkersOption } from './boot-parallel.js';
