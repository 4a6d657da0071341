/**
 * Answers from templates (src/cards/answer.ts): the bytes are exactly JSON.stringify of what renderCards makes,
 * every call gets fresh uuids in the right places, and a marker uuid that the card text happens to contain never
 * ends up cutting the text.
 */
import { describe, expect, it } from 'vitest';
import { AnswerTemplate } from '../../src/cards/answer.js';
import { renderCards, type RenderDeps } from '../../src/cards/render.js';
import type { CardDraft, CdsResponse } from '../../src/model/cards.js';
import { timeOrderedUuid } from '../../src/cards/uuid.js';

const deps: RenderDeps = {
  sourceLabel: 'LDN CDS knowledge base 1.0.0',
  evidenceLinks: (ids) => ids.map((id) => ({ label: `Evidence ${id} – “quoted” \\ back`, url: `https://example.org/${id}`, type: 'absolute' as const })),
  evidencePageUrl: (ruleId) => `https://cds.example.org/evidence/${ruleId}`,
};

const remove = { type: 'delete' as const, description: 'Remove the draft', resourceId: 'MedicationRequest/draft-1' };

const drafts: CardDraft[] = [
  { ruleId: 'dosing', ruleVersion: '1.0.0', concern: 'dosing', indicator: 'info', summary: 'Check the LDN 4.5 mg/day order…', detail: 'Titrate: 1.5 → 3 → 4.5 mg', evidence: ['e1'], subjects: [] },
  {
    ruleId: 'opioid',
    ruleVersion: '1.2.0',
    concern: 'opioid',
    indicator: 'critical',
    summary: 'Contraindicated: LDN with opioid "oxycodone"',
    detail: '**Why.** Naltrexone blocks opioid receptors.\n\n- Ünïcödé and emoji 💊 stay intact',
    evidence: ['e1', 'e2'],
    subjects: ['MedicationRequest/draft-1'],
    suggestions: [
      { label: 'Remove the draft', isRecommended: true, actions: [remove] },
      { label: 'Keep it, lower the dose', actions: [{ type: 'update', description: 'Lower the dose', resource: { resourceType: 'MedicationRequest', id: 'draft-1' } as never }] },
    ],
    overrideReasons: [{ system: 'http://example.org/reasons', code: 'aware', display: 'Aware of the risk' }],
  },
  { ruleId: 'interferon', ruleVersion: '1.0.0', concern: 'interferon', indicator: 'warning', summary: 'LDN with interferon beta-1a', evidence: [], subjects: [], suggestions: [{ label: 'Remove', actions: [remove] }] },
];

/** The rendered response with every uuid replaced by its position, for comparing structure and text. */
function withoutUuids(response: CdsResponse): unknown {
  return response.cards.map((c, i) => ({ ...c, uuid: `card-${i}`, suggestions: c.suggestions?.map((s, j) => ({ ...s, uuid: `suggestion-${i}-${j}` })) }));
}

describe('AnswerTemplate', () => {
  it('sends exactly JSON.stringify of the rendered cards, with the call uuids in their places', () => {
    const template = AnswerTemplate.build(drafts, deps);
    const answer = template.instantiate();
    const text = answer.body.toString('utf8');
    const response = JSON.parse(text) as CdsResponse;
    expect(text).toBe(JSON.stringify(response));
    expect(answer.body.length).toBe(Buffer.byteLength(JSON.stringify(response)));
    const direct = { cards: renderCards(drafts, deps).map((r) => r.card) };
    expect(withoutUuids(response)).toEqual(withoutUuids(direct));
    // The answer's own record of its cards matches the bytes.
    expect(answer.cards.map((c) => c.draft.ruleId)).toEqual(['opioid', 'interferon', 'dosing']);
    response.cards.forEach((card, i) => {
      expect(answer.cards[i]!.uuid).toBe(card.uuid);
      expect(answer.cards[i]!.suggestionUuids).toEqual((card.suggestions ?? []).map((s) => s.uuid));
    });
    expect(answer.response).toEqual(response);
    expect(answer.rendered.map((r) => [r.draft.ruleId, r.card.uuid])).toEqual(response.cards.map((c, i) => [answer.cards[i]!.draft.ruleId, c.uuid]));
  });

  it('gives every call new uuids, all distinct, and never the template markers', () => {
    const markers: string[] = [];
    const template = AnswerTemplate.build(drafts, { ...deps, uuid: () => (markers.push(timeOrderedUuid()), markers.at(-1)!) });
    const seen = new Set<string>();
    const texts = new Set<string>();
    for (let call = 0; call < 50; call++) {
      const answer = template.instantiate();
      for (const c of answer.cards) for (const u of [c.uuid, ...c.suggestionUuids]) seen.add(u);
      texts.add(answer.body.toString('utf8'));
    }
    expect(seen.size).toBe(50 * (3 + 3)); // three cards, three suggestions
    for (const m of markers) expect(seen.has(m)).toBe(false);
    expect(texts.size).toBe(50);
  });

  it('uses the uuid function it is given, and refuses one that is not a plain uuid', () => {
    const template = AnswerTemplate.build(drafts.slice(0, 1), deps);
    const fixed = '00000000-0000-7000-8000-000000000001';
    expect(template.instantiate(() => fixed).response.cards[0]!.uuid).toBe(fixed);
    expect(() => template.instantiate(() => 'ünïcödé-is-not-a-uuid-at-all-ok-ok!!')).toThrow(/uuid/);
  });

  it('answers no cards as {"cards":[]}', () => {
    const answer = AnswerTemplate.build([], deps).instantiate();
    expect(answer.body.toString()).toBe('{"cards":[]}');
    expect(answer.cards).toEqual([]);
  });

  it('finds markers only as whole JSON strings: quotes inside card text are escaped', () => {
    const inText = '01890000-0000-7000-8000-00000000c1a5';
    const template = AnswerTemplate.build([{ ...drafts[0]!, detail: `Order note: "${inText}"` }], { ...deps, uuid: () => inText });
    const response = JSON.parse(template.instantiate().body.toString()) as CdsResponse;
    expect(response.cards[0]!.detail).toBe(`Order note: "${inText}"`);
    expect(response.cards[0]!.uuid).not.toBe(inText);
  });

  it('makes the template again when a marker uuid is also a whole string of the card (a code, an id)', () => {
    const clash = '01890000-0000-7000-8000-00000000c1a5';
    const tricky: CardDraft = { ...drafts[0]!, overrideReasons: [{ system: 'http://example.org/reasons', code: clash }] };
    let n = 0;
    // The first marker is the very uuid the text contains; later ones are fresh.
    const template = AnswerTemplate.build([tricky], { ...deps, uuid: () => (n++ === 0 ? clash : timeOrderedUuid()) });
    const answer = template.instantiate();
    const response = JSON.parse(answer.body.toString()) as CdsResponse;
    expect(response.cards[0]!.overrideReasons).toEqual([{ system: 'http://example.org/reasons', code: clash }]);
    expect(response.cards[0]!.uuid).toBe(answer.cards[0]!.uuid);
    expect(response.cards[0]!.uuid).not.toBe(clash);
    expect(n).toBeGreaterThan(1);
  });

  it('gives up, loudly, when every marker clashes', () => {
    const clash = '01890000-0000-7000-8000-00000000c1a5';
    const tricky: CardDraft = { ...drafts[0]!, overrideReasons: [{ system: 'http://example.org/reasons', code: clash }] };
    expect(() => AnswerTemplate.build([tricky], { ...deps, uuid: () => clash })).toThrow(/could not place/);
  });
});
