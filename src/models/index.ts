export * from './types.js';
export * from './density.js';
export { predictMoE, inputRange, rowsOutside, type MoEPrediction } from './predict.js';
export { predictiveCdf, predictiveInterval, predictiveQuantile } from './predictive-quantile.js';
export * from './presets.js';
export * from './sample.js';
export { getGate, registerGate, activeSet, topKMask, logSoftmaxRows, slopeScores } from './gates/index.js';
export type { Gate, GateSymmetries } from './gates/index.js';
export { ValidationError, validateModel, parseGateSpec, formatValue } from './validate.js';
export {
  parseModel,
  modelToJSON,
  readModelFile,
  writeModelFile,
  resolveModel,
  MODEL_FORMAT,
  MODEL_VERSION,
} from './io.js';
export {
  readDatasetCsv,
  writeDatasetCsv,
  parseDatasetCsv,
  readInputsCsv,
  parseInputsCsv,
  datasetCsvChunks,
  validateDataset,
  type CsvDataset,
  type CsvColumnOptions,
  type CsvRead,
  type CsvInputs,
  type InputsCsvOptions,
} from './dataset-io.js';
