/** Temperature gate [TEMP]: s_j(x) = β1_j·x / τ + β0_j, the activation gate with σ = identity, bias outside. */
import type { Gate, GateActivation } from './gate.js';
import { denseGateOps } from './dense.js';
import { SOFTMAX_TABLE } from './exponents.js';
import { rejectUnknownFields } from './parse.js';
import { activation } from '../../math/activations.js';

const IDENTITY: GateActivation = Object.freeze({ act: activation('identity'), inside: false });

export const temperatureGate: Gate = {
  kind: 'temperature',
  form: 'activation',
  hasTau: true,
  // the softmax pattern: the temperature gate is the softmax gate with β1/τ
  exponents: SOFTMAX_TABLE,
  parse(raw, ctx) {
    rejectUnknownFields(raw, ['kind'], ctx, 'the temperature gate');
    return { kind: 'temperature' };
  },
  toJSON: () => ({ kind: 'temperature' }),
  cliSyntax: 'temperature',
  cliField: (key) => `--gate temperature ${key}`,
  fromCli: (args) => (args.length === 0 ? { kind: 'temperature' } : undefined),
  cliString: () => 'temperature',
  describe: () => 'temperature',
  family: () => 'temperature',
  lossTopK: () => false,
  activation: () => IDENTITY,
  biasIsLogWeight: () => true,
  ...denseGateOps(() => IDENTITY),
};
