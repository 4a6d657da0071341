import { describe, expect, test } from 'vitest';
import { renderPrefetchTemplate, templateTokens } from '../../src/model/prefetch-template.js';
import { userTokens } from '../../src/hooks/request.js';
import { isAllowedFhirServer } from '../../src/data/fhir-access.js';

describe('prefetch templates (CDS Hooks 2.0 tokens)', () => {
  test('derives the user token from context.userId', () => {
    expect(userTokens('PractitionerRole/123')).toEqual({ userPractitionerRoleId: '123' });
    expect(userTokens('Practitioner/abc')).toEqual({ userPractitionerId: 'abc' });
    expect(userTokens('Patient/p1')).toEqual({ userPatientId: 'p1' });
    expect(userTokens('RelatedPerson/r')).toEqual({ userRelatedPersonId: 'r' });
    expect(userTokens('nonsense')).toEqual({});
  });

  test('renders context and user tokens', () => {
    const r = renderPrefetchTemplate('PractitionerRole/{{userPractitionerRoleId}}?x={{context.patientId}}', { patientId: 'p 1' }, userTokens('PractitionerRole/123'));
    expect(r).toEqual({ ok: true, query: 'PractitionerRole/123?x=p%201' });
  });

  test('reports tokens it cannot fill (absent encounterId)', () => {
    expect(renderPrefetchTemplate('Encounter/{{context.encounterId}}', { patientId: 'p' }, {})).toEqual({ ok: false, missing: ['context.encounterId'] });
  });

  test('lists tokens with or without inner spaces', () => {
    expect(templateTokens('A?b={{ context.patientId }}&c={{userPatientId}}')).toEqual(['context.patientId', 'userPatientId']);
  });
});

describe('FHIR server allow-list', () => {
  const list = ['https://fhir.example.org/r4', 'http://127.0.0.1:8090/fhir'];
  test.each([
    ['https://fhir.example.org/r4', true],
    ['https://fhir.example.org/r4/', true],
    ['https://fhir.example.org/r4/tenant-a', true],
    ['https://fhir.example.org/r4x', false],
    ['https://fhir.example.org', false],
    ['https://fhir.example.org.evil.com/r4', false],
    ['http://fhir.example.org/r4', false],
    ['https://user:pw@fhir.example.org/r4', false],
    ['http://127.0.0.1:8090/fhir', true],
    ['http://127.0.0.1:8091/fhir', false],
    ['not a url', false],
  ])('%s → %s', (url, allowed) => {
    expect(isAllowedFhirServer(url, list)).toBe(allowed);
  });

  test('an empty allow-list allows nothing', () => {
    expect(isAllowedFhirServer('https://fhir.example.org/r4', [])).toBe(false);
  });
});
