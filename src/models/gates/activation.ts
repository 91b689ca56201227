/**
 * Activation dense-to-sparse gate [TEMP]:
 *   bias outside: s_j(x) = σ(β1_j·x) / τ + β0_j      (default; exp(β0) stay the mixing weights)
 *   bias inside:  s_j(x) = σ(β1_j·x + β0_j) / τ
 * for any registered activation σ (src/math/activations.ts).
 */
import type { Gate, GateActivation } from './gate.js';
import { denseGateOps } from './dense.js';
import { ACTIVATION_TABLE } from './exponents.js';
import { choiceField, rejectUnknownFields } from './parse.js';
import type { ActivationGateSpec, GateSpec } from '../types.js';
import { fail } from '../validate.js';
import { ACTIVATIONS, activation, isActivation } from '../../math/activations.js';

const BIAS = ['outside', 'inside'] as const;

function spec(g: GateSpec): ActivationGateSpec {
  if (g.kind !== 'activation') throw new Error(`activation gate used with gate.kind "${g.kind}"`);
  return g;
}

function config(g: GateSpec): GateActivation {
  const s = spec(g);
  return { act: activation(s.activation), inside: s.bias === 'inside' };
}

export const activationGate: Gate = {
  kind: 'activation',
  form: 'activation',
  hasTau: true,
  userActivation: true,
  exponents: ACTIVATION_TABLE,
  parse(raw, ctx) {
    rejectUnknownFields(raw, ['kind', 'activation', 'bias'], ctx, 'the activation gate');
    const act = raw.activation;
    if (!isActivation(act)) fail(ctx.field('activation'), `must be one of ${ACTIVATIONS.join(', ')}`, act);
    return { kind: 'activation', activation: act, bias: choiceField(raw, 'bias', BIAS, 'outside', ctx) };
  },
  toJSON(g) {
    const { activation: act, bias } = spec(g);
    return { kind: 'activation', activation: act, bias };
  },
  get cliSyntax() {
    return `activation:<${ACTIVATIONS.join('|')}>`;
  },
  cliField: (key) => (key === 'bias' ? '--bias' : `--gate activation:<${key}>`),
  fromCli: (args, ctx) =>
    args.length === 1 && isActivation(args[0])
      ? { kind: 'activation', activation: args[0], bias: ctx.bias }
      : undefined,
  cliString(g) {
    const { activation: act, bias } = spec(g);
    return `activation:${act} (bias ${bias})`;
  },
  describe(g) {
    const { activation: act, bias } = spec(g);
    return `activation ${act} (bias ${bias})`;
  },
  family(g) {
    const { activation: act, bias } = spec(g);
    return `activation(${act}, bias ${bias})`;
  },
  lossTopK: () => false,
  activation: config,
  biasIsLogWeight: (g) => spec(g).bias !== 'inside',
  ...denseGateOps(config),
};
