import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  bool,
  checkKeys,
  definedFields,
  fieldPath,
  integerAtLeast,
  nonNegativeNumber,
  oneOf,
  parseFields,
  parseWith,
  positiveInteger,
  strictObject,
} from '../../src/models/schema.js';
import { ValidationError } from '../../src/models/validate.js';

/** The ValidationError thrown by parseWith, as [message, field, value]. */
function rejection(schema: z.ZodType, value: unknown, prefix = '', root = 'value'): [string, string, unknown] {
  try {
    parseWith(schema, value, prefix, root);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    const v = e as ValidationError;
    return [v.message, v.field, v.value];
  }
  throw new Error('accepted');
}

const em = strictObject(
  {
    tol: nonNegativeNumber().optional(),
    runs: z.array(positiveInteger(10)).optional(),
    inner: strictObject({ on: bool() }, 'inner', 'must be an object { on }').optional(),
  },
  'em',
  'must be an object { tol?, runs?, inner? }',
);

describe('parseWith: zod issues read "<field path> <requirement>. Value: <value>"', () => {
  it('names the path under the prefix, array entries in brackets, and the value', () => {
    expect(rejection(em, { tol: -1 }, 'models[0].em')).toEqual([
      'models[0].em.tol must be a finite number ≥ 0. Value: -1',
      'models[0].em.tol',
      -1,
    ]);
    expect(rejection(em, { runs: [1, 11] }, 'em')[0]).toBe('em.runs[1] must be a positive integer ≤ 10. Value: 11');
    expect(rejection(em, { inner: { on: 1 } }, 'em')[0]).toBe('em.inner.on must be true or false. Value: 1');
    expect(rejection(em, { tol: NaN }, 'em')[0]).toBe('em.tol must be a finite number ≥ 0. Value: NaN');
    expect(rejection(integerAtLeast(1), 1.5, 'restarts')[0]).toBe('restarts must be an integer ≥ 1. Value: 1.5');
  });

  it('a missing field reads "missing"; the root itself takes the root name', () => {
    expect(rejection(strictObject({ k: integerAtLeast(1) }, 'the options', 'must be an object'), {}, '')[0]).toBe(
      'k must be an integer ≥ 1. Value: missing',
    );
    expect(rejection(em, 3, '', 'em')).toEqual(['em must be an object { tol?, runs?, inner? }. Value: 3', 'em', 3]);
    expect(rejection(oneOf(['log', 'linear']), 'cubic', 'n.spacing')[0]).toBe(
      'n.spacing must be one of log, linear. Value: "cubic"',
    );
  });

  it('an unknown field names the object and the allowed ones, before the errors it may have caused', () => {
    expect(rejection(em, { tol: 1, tols: 2 }, 'em')).toEqual([
      'em.tols is not a field of em (allowed: tol, runs, inner)',
      'em.tols',
      2,
    ]);
    // a typo at the top is reported before a bad value deeper in
    expect(rejection(em, { tol: -1, inner: { on: true }, x: 1 }, 'em')[0]).toBe(
      'em.x is not a field of em (allowed: tol, runs, inner)',
    );
    expect(rejection(em, { inner: { on: 2, of: 1 } }, 'em')[0]).toBe(
      'em.inner.of is not a field of inner (allowed: on)',
    );
    // but a bad value in an earlier field comes before a typo in a later object
    expect(rejection(em, { tol: -1, inner: { on: true, of: 1 } }, 'em')[0]).toBe(
      'em.tol must be a finite number ≥ 0. Value: -1',
    );
  });

  it('returns the parsed value; definedFields drops fields given as undefined', () => {
    expect(parseWith(em, { tol: 0, runs: [2] })).toEqual({ tol: 0, runs: [2] });
    expect(Object.keys(definedFields(parseWith(em, { tol: undefined, runs: [2] })))).toEqual(['runs']);
    expect(fieldPath('', ['models', 0, 'gate', 'K'])).toBe('models[0].gate.K');
  });
});

describe('checkKeys and parseFields: the fields in the order the caller checks them', () => {
  const opts = strictObject(
    { k: integerAtLeast(1), tol: nonNegativeNumber().optional() },
    'the options',
    'must be an object',
  );
  it('checkKeys reports only an unknown field', () => {
    expect(() => checkKeys(opts, { k: 0, tol: -1 })).not.toThrow();
    expect(() => checkKeys(opts, { k: 0, kk: 1 })).toThrow(/^kk is not a field of the options \(allowed: k, tol\)$/);
  });
  it('parseFields checks the named fields, in that order, under the prefix', () => {
    expect(parseFields(opts, { k: 2, tol: -1 }, ['k'])).toEqual({ k: 2 });
    expect(() => parseFields(opts, { k: 0, tol: -1 }, ['tol', 'k'], 'fit')).toThrow(
      /^fit\.tol must be a finite number ≥ 0\. Value: -1$/,
    );
    expect(() => parseFields(opts, { tol: 1 }, ['tol', 'k'])).toThrow(/^k must be an integer ≥ 1\. Value: missing$/);
  });
});
