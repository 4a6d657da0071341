/**
 * engine.call(serviceId, document): the one composition of "find the endpoint, validate the hook request, evaluate"
 * that the HTTP route, the CLI and the scenario tests share.
 */
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config/index.js';
import { createEngine } from '../../src/engine/index.js';
import { loadKnowledge } from '../../src/engine/knowledge.js';
import { JsonDocument } from '../../src/model/json-document.js';
import { scanJson } from '../../src/model/json-scan.js';
import { OutcomeError } from '../../src/model/outcomes.js';
import { createLogger } from '../../src/observability/logger.js';
import { orderSelect, searchset, statement } from '../helpers/app.js';

const config = testConfig();
const knowledge = loadKnowledge(config.cdsServicesDir);
const now = new Date('2026-06-01T12:00:00Z');
const engine = createEngine(knowledge, { config, logger: createLogger('silent'), now: () => now, memoChars: 0 });

const ldnOrder = () => {
  const body = orderSelect();
  const context = body.context as { draftOrders: { entry: { resource: Record<string, unknown> }[] } };
  context.draftOrders.entry[0]!.resource.medicationCodeableConcept = { text: 'naltrexone 4.5 mg capsule' };
  (body.prefetch as Record<string, unknown>).medications = searchset([statement('s1', { medicationCodeableConcept: { text: 'oxycodone 5 mg tablet' } })]);
  return body;
};

async function outcomeOf(p: Promise<unknown>): Promise<OutcomeError> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(OutcomeError);
  return error as OutcomeError;
}

describe('engine.call', () => {
  it('answers 404 for an unknown service id, before reading the body', async () => {
    const seen: string[] = [];
    const error = await outcomeOf(engine.call('nope', 'not even an object', { onEndpoint: (id) => seen.push(id) }));
    expect(error.outcome.status).toBe(404);
    expect(seen).toEqual([]);
  });

  it('validates the request against the endpoint (400) after naming the endpoint', async () => {
    const seen: string[] = [];
    const error = await outcomeOf(engine.call('ldn-order-select', { ...ldnOrder(), hook: 'order-sign' }, { onEndpoint: (id) => seen.push(id) }));
    expect(error.outcome.status).toBe(400);
    expect(seen).toEqual(['ldn-order-select']);
  });

  it('routes a former id by the request hook', async () => {
    const sign = await engine.call('ldn-order-check', { ...ldnOrder(), hook: 'order-sign' });
    const select = await engine.call('ldn-order-check', ldnOrder());
    expect([sign.service.hook, select.service.hook]).toEqual(['order-sign', 'order-select']);
  });

  it('gives the same cards for a parsed value and for the body as received', async () => {
    const value = ldnOrder();
    const bytes = Buffer.from(JSON.stringify(value));
    const fromValue = await engine.call('ldn-order-select', value);
    const fromBytes = await engine.call('ldn-order-select', new JsonDocument(bytes, scanJson(bytes, 64).members));
    expect(fromValue.evaluation.cards.length).toBeGreaterThan(0);
    expect(fromBytes.evaluation.cards.map((c) => c.ruleId)).toEqual(fromValue.evaluation.cards.map((c) => c.ruleId));
  });
});
