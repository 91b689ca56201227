import { mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatJSON, writeFileAtomic } from '../../src/io/index.js';
import {
  MODEL_FORMAT,
  modelToJSON,
  parseModel,
  readModelFile,
  resolveModel,
  writeModelFile,
} from '../../src/models/io.js';
import { listTruthPresets, truthPreset } from '../../src/models/presets.js';
import { cloneModel, type Model } from '../../src/models/types.js';
import { ValidationError, validateModel } from '../../src/models/validate.js';
import { allGateSpecs, createRng, gateLabel, randomModel } from './helpers.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('io');

function expectSameModel(a: Model, b: Model): void {
  expect(b.gate).toEqual(a.gate);
  expect([b.k, b.d]).toEqual([a.k, a.d]);
  // bitwise: Object.is per entry (toEqual would accept −0 for 0)
  for (const key of ['beta0', 'beta1', 'a', 'b', 'nu'] as const) {
    expect(b[key].length).toBe(a[key].length);
    for (let t = 0; t < a[key].length; t++) expect(Object.is(b[key][t], a[key][t]), `${key}[${t}]`).toBe(true);
  }
  if (a.gate.kind === 'temperature' || a.gate.kind === 'activation') expect(b.tau).toBe(a.tau);
}

/** The demy model file, as a fresh mutable object. */
const demyJSON = (): any => JSON.parse(JSON.stringify(modelToJSON(truthPreset('demy'))));

describe('model files: round trip', () => {
  it('the format of the common brief', () => {
    expect(modelToJSON(truthPreset('topk1'))).toEqual({
      format: 'gmoe-model',
      version: 1,
      gate: { kind: 'topk', K: 1, selectOn: 'logit' },
      k: 2,
      d: 1,
      gating: { beta0: [-8, 0], beta1: [[25], [0]] },
      experts: { a: [[-20], [20]], b: [15, -5], nu: [0.09, 0.16] },
    });
    expect((modelToJSON(truthPreset('temp')) as any).gating.tau).toBe(1);
  });

  for (const p of listTruthPresets()) {
    it(`preset ${p.name}: write → read gives the identical model`, () => {
      const path = join(dir, `${p.name}.json`);
      writeModelFile(path, p.model());
      expectSameModel(p.model(), readModelFile(path));
    });
  }

  it('random models of every gate round-trip bit for bit (shortest round-trip numbers)', () => {
    const rng = createRng(5);
    for (const spec of allGateSpecs(3)) {
      const m = randomModel(spec, 3, 2, rng);
      m.b[0] = -0;
      m.a[1] = 5e-324;
      m.beta0[2] = 1.7976931348623157e308;
      m.nu[1] = Number.MIN_VALUE;
      const text = formatJSON(modelToJSON(m));
      expectSameModel(m, parseModel(JSON.parse(text)));
    }
  });

  it('keeps extra top-level fields on write and ignores them on read', () => {
    const path = join(dir, 'fit.json');
    const fit = { logLik: -123.5, trace: [1, 2, 3], options: { k: 2 } };
    writeModelFile(path, truthPreset('demy'), { fit });
    const json = JSON.parse(readFileSync(path, 'utf8'));
    expect(json.fit).toEqual(fit);
    expectSameModel(truthPreset('demy'), readModelFile(path));
    expect(() => modelToJSON(truthPreset('demy'), { experts: {} })).toThrow(
      /extra field "experts" would overwrite a core field/,
    );
  });

  it('fills in the defaults: topk selectOn "slope", activation bias "outside"', () => {
    const j = demyJSON();
    j.gate = { kind: 'topk', K: 1 };
    expect(parseModel(j).gate).toEqual({ kind: 'topk', K: 1, selectOn: 'slope' });
    j.gate = { kind: 'activation', activation: 'tanh' };
    j.gating.tau = 2;
    const m = parseModel(j);
    expect(m.gate).toEqual({ kind: 'activation', activation: 'tanh', bias: 'outside' });
    expect(m.tau).toBe(2);
  });

  it('the file is readable: one line per short object or numeric array', () => {
    const text = formatJSON(modelToJSON(truthPreset('topk1')));
    expect(text).toContain('"gate": { "kind": "topk", "K": 1, "selectOn": "logit" }');
    expect(text).toContain('"beta1": [[25], [0]]');
    expect(text.startsWith(`{\n  "format": "${MODEL_FORMAT}",`)).toBe(true);
  });
});

describe('model files: invalid input names the field', () => {
  const cases: [string, (j: any) => void, RegExp][] = [
    [
      'not an object',
      (j) => {
        j.__replace = [1, 2];
      },
      /model must be a JSON object. Value: \[1,2\]/,
    ],
    [
      'wrong format',
      (j) => {
        j.format = 'gmoe';
      },
      /format must be "gmoe-model". Value: "gmoe"/,
    ],
    [
      'wrong version',
      (j) => {
        j.version = 2;
      },
      /version must be 1 .*Value: 2/,
    ],
    [
      'k = 0',
      (j) => {
        j.k = 0;
      },
      /^k must be an integer ≥ 1. Value: 0$/,
    ],
    [
      'd not an integer',
      (j) => {
        j.d = 1.5;
      },
      /^d must be an integer ≥ 1. Value: 1.5$/,
    ],
    [
      'unknown gate',
      (j) => {
        j.gate = { kind: 'gumbel' };
      },
      /gate.kind must be one of softmax, topk, temperature, activation. Value: "gumbel"/,
    ],
    [
      'missing gate',
      (j) => {
        delete j.gate;
      },
      /gate must be an object with a "kind" field. Value: missing/,
    ],
    [
      'K > k',
      (j) => {
        j.gate = { kind: 'topk', K: 3 };
      },
      /^gate.K must be an integer in \[1, 2\] \(k = 2\). Value: 3$/,
    ],
    [
      'K = 0',
      (j) => {
        j.gate = { kind: 'topk', K: 0 };
      },
      /gate.K must be an integer in \[1, 2\] \(k = 2\). Value: 0/,
    ],
    [
      'K not an integer',
      (j) => {
        j.gate = { kind: 'topk', K: 1.5 };
      },
      /gate.K must be an integer .* Value: 1.5/,
    ],
    [
      'K a string',
      (j) => {
        j.gate = { kind: 'topk', K: '1' };
      },
      /gate.K must be an integer .* Value: "1"/,
    ],
    [
      'bad selectOn',
      (j) => {
        j.gate = { kind: 'topk', K: 1, selectOn: 'score' };
      },
      /gate.selectOn must be one of slope, logit. Value: "score"/,
    ],
    [
      'typo in a gate option',
      (j) => {
        j.gate = { kind: 'topk', K: 1, selecton: 'logit' };
      },
      /gate.selecton is not a field of the topk gate \(allowed: kind, K, selectOn\)/,
    ],
    [
      'unknown activation',
      (j) => {
        j.gate = { kind: 'activation', activation: 'swish' };
        j.gating.tau = 1;
      },
      /gate.activation must be one of tanh, sigmoid, gelu, relu, identity, softplus. Value: "swish"/,
    ],
    [
      'bad bias',
      (j) => {
        j.gate = { kind: 'activation', activation: 'tanh', bias: 'middle' };
        j.gating.tau = 1;
      },
      /gate.bias must be one of outside, inside. Value: "middle"/,
    ],
    [
      'NaN (as a JS object)',
      (j) => {
        j.experts.b[1] = NaN;
      },
      /^experts.b\[1\] must be a finite number. Value: NaN$/,
    ],
    [
      'NaN written by JSON.stringify (null)',
      (j) => {
        j.gating.beta0[0] = null;
      },
      /^gating.beta0\[0\] must be a finite number. Value: null$/,
    ],
    [
      'Infinity',
      (j) => {
        j.experts.a[1][0] = Infinity;
      },
      /^experts.a\[1\]\[0\] must be a finite number. Value: Infinity$/,
    ],
    [
      'a number as a string',
      (j) => {
        j.experts.nu[0] = '0.1';
      },
      /experts.nu\[0\] must be a finite number. Value: "0.1"/,
    ],
    [
      'ν = 0',
      (j) => {
        j.experts.nu[1] = 0;
      },
      /^experts.nu\[1\] must be > 0 \(a variance\). Value: 0$/,
    ],
    [
      'ν < 0',
      (j) => {
        j.experts.nu[1] = -1;
      },
      /^experts.nu\[1\] must be > 0 \(a variance\). Value: -1$/,
    ],
    [
      'too few β0',
      (j) => {
        j.gating.beta0 = [1];
      },
      /gating.beta0 must have k = 2 numbers, not 1/,
    ],
    [
      'β1 with a missing row',
      (j) => {
        j.gating.beta1 = [[25]];
      },
      /gating.beta1 must have k = 2 rows, not 1/,
    ],
    [
      'β1 row of the wrong length',
      (j) => {
        j.gating.beta1 = [[25, 1], [0]];
      },
      /gating.beta1\[0\] must have d = 1 number, not 2/,
    ],
    [
      'a not a matrix',
      (j) => {
        j.experts.a = [-20, 20];
      },
      /experts.a\[0\] must be an array of d = 1 number. Value: -20/,
    ],
    [
      'nu missing',
      (j) => {
        delete j.experts.nu;
      },
      /experts.nu must be an array of k = 2 numbers. Value: missing/,
    ],
    [
      'unknown expert field',
      (j) => {
        j.experts.sigma = [1, 1];
      },
      /experts.sigma is not a field of experts \(allowed: a, b, nu\)/,
    ],
    [
      'τ on a softmax gate',
      (j) => {
        j.gating.tau = 1;
      },
      /gating.tau is not a field of gating for the softmax gate/,
    ],
    [
      'τ missing for temperature',
      (j) => {
        j.gate = { kind: 'temperature' };
      },
      /gating.tau is required for the temperature gate/,
    ],
    [
      'τ = 0',
      (j) => {
        j.gate = { kind: 'temperature' };
        j.gating.tau = 0;
      },
      /^gating.tau must be a finite number > 0. Value: 0$/,
    ],
    [
      'τ < 0',
      (j) => {
        j.gate = { kind: 'temperature' };
        j.gating.tau = -2;
      },
      /gating.tau must be a finite number > 0. Value: -2/,
    ],
    [
      'gating missing',
      (j) => {
        delete j.gating;
      },
      /gating must be an object with beta0 and beta1. Value: missing/,
    ],
  ];
  for (const [what, mutate, message] of cases) {
    it(what, () => {
      const j = demyJSON();
      mutate(j);
      const input = j.__replace ?? j;
      let error: unknown;
      try {
        parseModel(input);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('\n');
    });
  }

  it('validateModel checks in-memory models the same way', () => {
    const bad = (f: (m: Model) => void) => {
      const m = cloneModel(truthPreset('d2'));
      f(m);
      return () => validateModel(m);
    };
    expect(bad(() => {})).not.toThrow();
    expect(
      bad((m) => {
        m.beta1[3] = NaN;
      }),
    ).toThrow(/^gating.beta1\[1\]\[1\] must be a finite number. Value: NaN$/);
    expect(
      bad((m) => {
        m.a = new Float64Array(3);
      }),
    ).toThrow(/experts.a must have length 4 \(k × d, row-major\). Value: 3/);
    expect(
      bad((m) => {
        m.nu = [1, 1] as unknown as Float64Array;
      }),
    ).toThrow(/experts.nu must be a Float64Array/);
    expect(
      bad((m) => {
        m.nu[0] = -0.5;
      }),
    ).toThrow(/experts.nu\[0\] must be > 0/);
    expect(
      bad((m) => {
        m.gate = { kind: 'topk', K: 3, selectOn: 'slope' };
      }),
    ).toThrow(/gate.K must be an integer in \[1, 2\] \(k = 2\). Value: 3/);
    expect(
      bad((m) => {
        m.gate = { kind: 'topk', K: 1 } as never;
      }),
    ).toThrow(/gate.selectOn must be one of slope, logit. Value: missing/);
    expect(
      bad((m) => {
        m.gate = { kind: 'temperature' };
        m.tau = NaN;
      }),
    ).toThrow(/gating.tau must be a finite number > 0. Value: NaN/);
    expect(
      bad((m) => {
        m.k = 3;
      }),
    ).toThrow(/gating.beta0 must have length 3/);
  });
});

describe('model files on disk', () => {
  it('writes atomically: nothing (not even a temp file) is left for an invalid model', () => {
    const sub = mkdtempSync(join(dir, 'atomic-'));
    const path = join(sub, 'bad.json');
    const m = truthPreset('demy');
    m.nu[0] = NaN;
    expect(() => writeModelFile(path, m)).toThrow(/experts.nu\[0\] must be a finite number/);
    expect(readdirSync(sub)).toEqual([]);
    writeModelFile(path, truthPreset('demy'));
    writeModelFile(path, truthPreset('k3')); // replaces
    expect(readdirSync(sub)).toEqual(['bad.json']);
    expect(readModelFile(path).k).toBe(3);
  });

  it('a missing directory is reported with the path, and leaves nothing behind', () => {
    expect(() => writeFileAtomic(join(dir, 'no', 'such', 'x.json'), 'x')).toThrow(
      /cannot write .*x.json: directory .*such does not exist/,
    );
    const sub = mkdtempSync(join(dir, 'dir-'));
    expect(() => writeFileAtomic(sub, 'x')).toThrow(/cannot write .*: it is a directory/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reading names the file: invalid JSON, a bad field, a missing file', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{ "format": "gmoe-model", ');
    expect(() => readModelFile(path)).toThrow(new RegExp(`^${path}: not valid JSON`));
    const j = demyJSON();
    j.experts.nu[1] = -1;
    writeFileSync(path, JSON.stringify(j));
    expect(() => readModelFile(path)).toThrow(
      new RegExp(`^${path}: experts.nu\\[1\\] must be > 0 \\(a variance\\). Value: -1$`),
    );
    expect(() => readModelFile(join(dir, 'nope.json'))).toThrow(/cannot read model file .*nope.json/);
  });

  it('resolveModel takes a preset name or a model file path', () => {
    expectSameModel(truthPreset('k3'), resolveModel('k3'));
    const path = join(dir, 'k3-file.json');
    writeModelFile(path, truthPreset('k3'));
    expectSameModel(truthPreset('k3'), resolveModel(path));
    expect(() => resolveModel('demyy', 'truth')).toThrow(
      /^truth must be a truth preset \(demy, topk1, .*\) or a path to a model file. Value: demyy \(no such preset or file\)$/,
    );
    expect(existsSync('demyy')).toBe(false);
  });

  for (const spec of allGateSpecs(2)) {
    it(`${gateLabel(spec)}: every gate configuration survives a file round trip`, () => {
      const m = randomModel(spec, 2, 3, createRng(9));
      const path = join(dir, 'gate.json');
      writeModelFile(path, m);
      expectSameModel(m, readModelFile(path));
    });
  }
});
