import { describe, expect, test } from 'vitest';
import {
  escapeMarkdown,
  formatList,
  formatNumber,
  parseTemplate,
  renderSummary,
  renderCardText,
  TemplateError,
  truncateAtWord,
  unwrapSoftBreaks,
  type Placeholder,
} from '../../src/rules/card-text.js';
import { SUMMARY_MAX_LENGTH } from '../../src/model/cards.js';

describe('formatList', () => {
  test('writes lists as prose', () => {
    expect(formatList(['oxycodone'])).toBe('oxycodone');
    expect(formatList(['oxycodone', 'codeine'])).toBe('oxycodone and codeine');
    expect(formatList(['A', 'B', 'C'])).toBe('A, B and C');
  });

  test('says how many items it leaves out', () => {
    expect(formatList(['A', 'B', 'C', 'D'], 2)).toBe('A, B and 2 more');
    expect(formatList(['A', 'B', 'C'], 1)).toBe('A and 2 more');
  });

  test('an empty list reads "not recorded"', () => {
    expect(formatList([])).toBe('not recorded');
  });
});

test('numbers lose trailing zeros and float noise', () => {
  expect(formatNumber(4.5)).toBe('4.5');
  expect(formatNumber(3)).toBe('3');
  expect(formatNumber(0.1 + 0.2)).toBe('0.3');
});

describe('parseTemplate', () => {
  test('finds {{binding}} and {{binding.field}} placeholders', () => {
    const parts = parseTemplate('Naltrexone {{ naltrexone.name }} with {{opioids}}.');
    expect(parts).toEqual([
      { literal: 'Naltrexone ' },
      { placeholder: { name: 'naltrexone', field: 'name' } },
      { literal: ' with ' },
      { placeholder: { name: 'opioids' } },
      { literal: '.' },
    ]);
  });

  test.each(['{{opioids.name', 'dose {{ 3 mg }}', '{{a.b.c}}'])('rejects a malformed placeholder: %s', (text) => {
    expect(() => parseTemplate(text)).toThrow(TemplateError);
  });
});

test('renderCardText writes every item of a list', () => {
  const values: Record<string, string[]> = { opioids: ['oxycodone', 'codeine', 'tramadol'] };
  expect(renderCardText(parseTemplate('Taking {{opioids}}.'), (p) => values[p.name] ?? [])).toBe('Taking oxycodone, codeine and tramadol.');
});

describe('truncateAtWord', () => {
  test('cuts at a word boundary and marks the cut', () => {
    expect(truncateAtWord('oxycodone hydrochloride 5 mg oral tablet', 20)).toBe('oxycodone…');
  });

  test('refuses to cut inside the first word', () => {
    expect(truncateAtWord('oxycodone/acetaminophen tablet', 10)).toBeUndefined();
  });
});

describe('renderSummary', () => {
  const longNames = [
    'oxycodone hydrochloride 5 MG / acetaminophen 325 MG Oral Tablet',
    'codeine phosphate 2 MG/ML / promethazine hydrochloride 1.25 MG/ML Oral Solution',
    'hydrocodone bitartrate 10 MG / acetaminophen 325 MG Oral Tablet',
    '12 HR chlorpheniramine polistirex 8 MG / hydrocodone polistirex 10 MG Extended Release Oral Capsule',
    'buprenorphine 8 MG / naloxone 2 MG Sublingual Film',
  ];
  const template = parseTemplate('Contraindicated: {{naltrexone}} with current opioid {{opioids}} (withdrawal risk)');
  const valueOf =
    (naltrexone: string[], opioids: string[]) =>
    (p: Placeholder): string[] =>
      p.name === 'naltrexone' ? naltrexone : opioids;

  test('leaves a short summary untouched', () => {
    expect(renderSummary(template, valueOf(['LDN 4.5 mg'], ['oxycodone']))).toBe('Contraindicated: LDN 4.5 mg with current opioid oxycodone (withdrawal risk)');
  });

  test('many long names: stays within 139 characters, lists fewer items, never cuts mid-word', () => {
    const naltrexone = ['Naltrexone hydrochloride 4.5 mg oral capsule, compounded by the hospital outpatient pharmacy'];
    const summary = renderSummary(template, valueOf(naltrexone, longNames));

    expect(summary.length).toBeLessThanOrEqual(SUMMARY_MAX_LENGTH);
    expect(summary).toMatch(/ and 4 more/);
    const fullText = `Contraindicated: ${naltrexone[0]} with current opioid ${longNames.join(' ')} and 4 more (withdrawal risk)`;
    const words = new Set(fullText.split(/\s+/));
    for (const word of summary.split(/\s+/)) expect(words.has(word.replace(/…$/, ''))).toBe(true);
  });

  test('a single huge template still ends within the limit at a word boundary', () => {
    const huge = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    const summary = renderSummary(parseTemplate(`${huge} {{x}}`), () => ['y']);
    expect(summary.length).toBeLessThanOrEqual(SUMMARY_MAX_LENGTH);
    expect(summary).toMatch(/ word\d+…$/);
  });
});

test('unwrapSoftBreaks joins wrapped lines but keeps paragraphs, list items and placeholder lines', () => {
  const markdown = '**Why.** Naltrexone blocks\nopioid receptors.\n\n**What to do.**\n- Do not give\n  both together.\n- Check.\n{{findings}}\n';
  expect(unwrapSoftBreaks(markdown)).toBe(
    '**Why.** Naltrexone blocks opioid receptors.\n\n**What to do.**\n- Do not give both together.\n- Check.\n{{findings}}\n',
  );
});

test('escapeMarkdown neutralises links, images, HTML and emphasis', () => {
  expect(escapeMarkdown('![x](https://evil.test) <b>*bold*</b> a_b')).toBe('\\!\\[x\\](https://evil.test) \\<b\\>\\*bold\\*\\</b\\> a\\_b');
  expect(escapeMarkdown('Naltrexone 4.5 mg capsule (compounded)')).toBe('Naltrexone 4.5 mg capsule (compounded)');
});
