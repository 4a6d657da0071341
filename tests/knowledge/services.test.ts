/** A bad service file stops the start with a message naming the file and the field. */
import { describe, expect, test } from 'vitest';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadKnowledge } from '../../src/knowledge/load.js';
import { KnowledgeError } from '../../src/knowledge/errors.js';
import { SERVICES_DIR } from '../helpers/app.js';

function packWith(file: string, yaml: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ldn-pack-'));
  cpSync(SERVICES_DIR, dir, { recursive: true });
  writeFileSync(path.join(dir, 'services', file), yaml);
  return dir;
}

const valid = `id: extra
hooks: [order-sign]
title: Extra
description: An extra service
prefetch:
  medications: MedicationStatement?patient={{context.patientId}}
rules: [ldn-with-opioid]
`;

describe('service files', () => {
  test('a valid extra service file loads and appears in discovery', () => {
    const k = loadKnowledge(packWith('extra.yaml', valid));
    expect(k.services.discovery().some((d) => d.id === 'extra' && d.hook === 'order-sign')).toBe(true);
  });

  test.each([
    ['an unknown hook', valid.replace('[order-sign]', '[order-dispatch]'), /services\/bad\.yaml: hooks\[0\]/],
    ['a missing description', valid.replace('description: An extra service\n', ''), /services\/bad\.yaml: description/],
    ['an unknown field', `${valid}owner: pharmacy\n`, /services\/bad\.yaml: .*owner|Unrecognized key.*owner/],
    ['a token that is not a 2.0 prefetch token', valid.replace('{{context.patientId}}', '{{context.draftOrders.id}}'), /services\/bad\.yaml: prefetch\.medications: "\{\{context\.draftOrders\.id\}\}" is not a CDS Hooks 2\.0 prefetch token/],
    ['an absolute prefetch URL', valid.replace('MedicationStatement?', 'https://evil.example.com/MedicationStatement?'), /services\/bad\.yaml: prefetch\.medications: must be a relative FHIR query/],
    ['an unknown rule', valid.replace('[ldn-with-opioid]', '[no-such-rule]'), /services\/bad\.yaml: rules\[0\]: no rule "no-such-rule"/],
    ['an id already used by another file', valid.replace('id: extra', 'id: ldn-patient-view'), /services\/ldn-patient-view\.yaml: id: "ldn-patient-view" is already defined in services\/bad\.yaml/],
    ['YAML that does not parse', 'id: [unclosed', /services\/bad\.yaml/],
  ])('refuses %s, naming the file and the field', (_what, yaml, message) => {
    let error: unknown;
    try {
      loadKnowledge(packWith('bad.yaml', yaml));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KnowledgeError);
    expect((error as Error).message).toMatch(message);
  });
});
