/** A bad service file stops the start with a message naming the file and the field. */
import { describe, expect, test } from 'vitest';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadKnowledge } from '../../src/engine/knowledge.js';
import { KnowledgeError } from '../../src/model/problems.js';
import { SERVICES_DIR } from '../helpers/app.js';

function packWith(file: string, yaml: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ldn-pack-'));
  cpSync(SERVICES_DIR, dir, { recursive: true });
  writeFileSync(path.join(dir, 'services', file), yaml);
  return dir;
}

const valid = `hooks:
  order-sign: extra
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

  test('a file with several hooks gives each its own id and shares its rule list; a former id answers by hook', () => {
    const k = loadKnowledge(SERVICES_DIR);
    const entries = k.services.discovery().filter((d) => d.id.startsWith('ldn-order'));
    expect(entries.map((d) => `${d.id}:${d.hook}`)).toEqual(['ldn-order-select:order-select', 'ldn-order-sign:order-sign']);
    const select = k.services.get('ldn-order-select')!;
    const sign = k.services.get('ldn-order-sign')!;
    expect(k.rulesFor(select).map((r) => r.id)).toEqual(expect.arrayContaining(['ldn-with-opioid', 'ldn-dosing-guidance']));
    expect(k.rulesFor(sign).map((r) => r.id)).toEqual(k.rulesFor(select).map((r) => r.id).filter((id) => k.rules.get(id)!.hooks.includes('order-sign')));
    const former = k.services.endpoint('ldn-order-check')!;
    expect(former.listed).toBe(false);
    expect([...former.hooks].sort()).toEqual(['order-select', 'order-sign']);
    expect(former.forHook('order-sign')).toMatchObject({ id: 'ldn-order-check', hook: 'order-sign', file: sign.file });
    expect(k.rulesFor(former.forHook('order-select')!)).toEqual(k.rulesFor(select));
    expect(former.forHook('patient-view')).toBeUndefined();
    expect(k.services.get('ldn-order-check')).toBeUndefined();
  });

  test.each([
    ['an unknown hook', valid.replace('order-sign: extra', 'order-dispatch: extra'), /services\/bad\.yaml: hooks/],
    ['a missing description', valid.replace('description: An extra service\n', ''), /services\/bad\.yaml: description/],
    ['an unknown field', `${valid}owner: pharmacy\n`, /services\/bad\.yaml: .*owner|Unrecognized key.*owner/],
    ['a token that is not a 2.0 prefetch token', valid.replace('{{context.patientId}}', '{{context.draftOrders.id}}'), /services\/bad\.yaml: prefetch\.medications: "\{\{context\.draftOrders\.id\}\}" is not a CDS Hooks 2\.0 prefetch token/],
    ['an absolute prefetch URL', valid.replace('MedicationStatement?', 'https://evil.example.com/MedicationStatement?'), /services\/bad\.yaml: prefetch\.medications: must be a relative FHIR query/],
    ['an unknown rule', valid.replace('[ldn-with-opioid]', '[no-such-rule]'), /services\/bad\.yaml: rules\[0\]: no rule "no-such-rule"/],
    ['an id already used by another file', valid.replace('order-sign: extra', 'order-sign: ldn-patient-view'), /services\/ldn-patient-view\.yaml: hooks\.patient-view: "ldn-patient-view" is already used by services\/bad\.yaml \(hooks\.order-sign\); each hook needs its own service id/],
    ['one id for two hooks in one file', valid.replace('order-sign: extra', 'order-sign: extra\n  order-select: extra'), /services\/bad\.yaml: hooks\.order-select: "extra" is already used by services\/bad\.yaml \(hooks\.order-sign\)/],
    ['a former id that is a current id', `${valid}formerIds: [ldn-order-select]\n`, /"ldn-order-select" is already used by services\/bad\.yaml \(formerIds\[0\]\)|services\/bad\.yaml: formerIds\[0\]: "ldn-order-select" is already used/],
    ['the old single-id form', valid.replace('hooks:\n  order-sign: extra', 'id: extra\nhooks: [order-sign]'), /services\/bad\.yaml: hooks: Expected object, received array/],
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
