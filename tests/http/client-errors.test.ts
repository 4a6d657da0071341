/**
 * Errors raised by express, the router or body reading that carry a 4xx status keep it (issue 12 §9): a
 * malformed percent-encoding in the path was answered 500 because only body-parser errors marked `expose` kept
 * their status. Every answer is an OperationOutcome that does not echo the request bytes.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AppHandle } from '../../src/app.js';
import { testApp } from '../helpers/app.js';

describe('client errors keep their 4xx status', () => {
  let h: AppHandle;
  beforeAll(async () => {
    h = await testApp();
  });
  afterAll(() => h.close());

  test.each([
    ['GET', '/cds-services/%ZZ'],
    ['POST', '/cds-services/%ZZ'],
    ['POST', '/cds-services/%E0%A4%A/feedback'],
    ['GET', '/evidence/%'],
  ])('%s %s answers 400 with an OperationOutcome', async (method, path) => {
    const res = await request(h.app)[method.toLowerCase() as 'get' | 'post'](path).set('Origin', 'http://ehr.example');
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].details.text).toBe('Malformed percent-encoding in the request URL');
    expect(JSON.stringify(res.body)).not.toContain('%');
  });
});
