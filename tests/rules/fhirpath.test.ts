import { describe, expect, test } from 'vitest';
import { compileExpression, ExpressionError, isTrue } from '../../src/rules/fhirpath.js';
import { opioid, orderFacts, pastOpioid } from '../helpers/facts.js';

const current = opioid('tramadol 50 mg');
const stopped = pastOpioid('oxycodone 5 mg', 5);
const facts = orderFacts({ focus: [], medications: [current, stopped] });
const variables = { focus: facts.focus, orders: facts.orders, medications: facts.medications, conditions: facts.conditions, now: facts.now, hook: facts.hook };
const run = (expression: string): unknown[] => compileExpression(expression, new Set())(facts, variables);

describe('compileExpression', () => {
  test('returns the fact objects themselves, so cards can name and reference them', () => {
    expect(run('%medications.where(isOpioid and current)')).toEqual([current]);
  });

  test('a bare boolean field in where() is false when the field is false (fhirpath.js alone keeps it)', () => {
    expect(run('%medications.where(past)')).toEqual([stopped]);
    expect(run('%medications.where(current)')).toEqual([current]);
  });

  test('exists(criterion) with a bare boolean field', () => {
    expect(run("%medications.where(name = 'tramadol 50 mg').exists(past)")).toEqual([false]);
    expect(run('%medications.exists(past)')).toEqual([true]);
  });

  test('a missing field compares as empty, so the item is not selected', () => {
    expect(run('%medications.where(daysSinceLastUse <= 14)')).toEqual([stopped]);
  });

  test.each([
    ['%medications.where(', /FHIRPath syntax error/],
    ['%washoutDays > 3', /unknown variable %washoutDays/],
    ['%medications.where(isOpiod)', /unknown field isOpiod/],
  ])('rejects %s', (expression, message) => {
    expect(() => compileExpression(expression, new Set())).toThrow(ExpressionError);
    expect(() => compileExpression(expression, new Set())).toThrow(message);
  });

  test('allows the variables it is given', () => {
    expect(compileExpression('%washoutDays > 3', new Set(['washoutDays']))(facts, { ...variables, washoutDays: 14 })).toEqual([true]);
  });
});

test('isTrue: empty or only false does not hold; true or any other value does', () => {
  expect(isTrue([])).toBe(false);
  expect(isTrue([false])).toBe(false);
  expect(isTrue([false, false])).toBe(false);
  expect(isTrue([true])).toBe(true);
  expect(isTrue(['x'])).toBe(true);
  expect(isTrue([false, true])).toBe(true);
});
