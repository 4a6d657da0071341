/**
 * The answer to a hook call, as the bytes sent, made from a template.
 *
 * An EHR calls order-select on every keystroke and gets the same cards each time, differing only in their uuids
 * (every card and suggestion needs a new one). So the cards of an evaluation are rendered and serialised once, into
 * a template: the JSON text cut at each uuid, kept as UTF-8 bytes. Each call then costs fresh uuids and one copy of
 * the bytes, not rendering the cards, JSON.stringify and a string-to-bytes conversion of ~11 KB (together ~12% of
 * the service's CPU under load). The bytes are exactly JSON.stringify of the rendered response; the objects are
 * parsed back from them only when something asks for them (the CLI, tests).
 *
 * The template's own uuids mark where the per-call ones go. They are fresh random uuids, made after the card text
 * is fixed, so a chart's text cannot contain them; each must still be found exactly once in the text, else the
 * template is made again with others.
 */
import type { CardDraft, CdsResponse } from '../model/cards.js';
import { renderCards, type RenderDeps, type RenderedCard } from './render.js';
import { timeOrderedUuid } from './uuid.js';
import { stageSpan } from '../observability/tracing.js';

/** Where a uuid goes: card `card`'s own uuid, or the uuid of its suggestion `suggestion`. */
interface UuidSlot {
  card: number;
  suggestion?: number;
}

/** One card of an answer: its draft, and the uuids it was sent with. */
export interface AnsweredCard {
  draft: CardDraft;
  uuid: string;
  suggestionUuids: string[];
}

export class Answer {
  #response: CdsResponse | undefined;

  constructor(
    /** The CDS Hooks response, UTF-8 JSON. */
    readonly body: Buffer,
    /** The cards in answer order. */
    readonly cards: readonly AnsweredCard[],
  ) {}

  /** The response as objects (parsed from `body` on first read). */
  get response(): CdsResponse {
    return (this.#response ??= JSON.parse(this.body.toString('utf8')) as CdsResponse);
  }

  /** Each card with its draft, in answer order. */
  get rendered(): RenderedCard[] {
    return this.response.cards.map((card, i) => ({ card, draft: this.cards[i]!.draft }));
  }
}

const MAX_ATTEMPTS = 5;
const UUID_TEXT = /^[0-9a-f-]{36}$/;

function checkedUuid(u: string): string {
  if (!UUID_TEXT.test(u)) throw new Error('a card uuid must be 36 lower-case hex digits and hyphens');
  return u;
}

export class AnswerTemplate {
  private constructor(
    /** Drafts in answer order (most urgent first). */
    private readonly drafts: readonly CardDraft[],
    /** Suggestions per card. */
    private readonly suggestionCounts: readonly number[],
    /** The text between uuids: parts.length === slots.length + 1. */
    private readonly parts: readonly Buffer[],
    /** The uuids' places, in text order. */
    private readonly slots: readonly UuidSlot[],
  ) {}

  /** Render `drafts` once (renderCards) and cut the response text at its uuids. `deps.uuid` makes the markers. */
  static build(drafts: readonly CardDraft[], deps: RenderDeps): AnswerTemplate {
    return stageSpan('render', { 'ldn_cds.cards': drafts.length }, () => AnswerTemplate.render(drafts, deps));
  }

  private static render(drafts: readonly CardDraft[], deps: RenderDeps): AnswerTemplate {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const rendered = renderCards(drafts, deps);
      const marked: { slot: UuidSlot; uuid: string }[] = [];
      rendered.forEach(({ card }, i) => {
        marked.push({ slot: { card: i }, uuid: card.uuid });
        (card.suggestions ?? []).forEach((s, j) => marked.push({ slot: { card: i, suggestion: j }, uuid: s.uuid }));
      });
      const text = JSON.stringify({ cards: rendered.map((r) => r.card) } satisfies CdsResponse);
      const placed = marked.map((m) => ({ ...m, at: text.indexOf(`"${m.uuid}"`) + 1 }));
      if (placed.some((p) => p.at === 0 || text.indexOf(`"${p.uuid}"`, p.at) !== -1)) continue;
      placed.sort((a, b) => a.at - b.at);
      const parts: Buffer[] = [];
      let from = 0;
      for (const p of placed) {
        parts.push(Buffer.from(text.slice(from, p.at), 'utf8'));
        from = p.at + p.uuid.length;
      }
      parts.push(Buffer.from(text.slice(from), 'utf8'));
      return new AnswerTemplate(
        rendered.map((r) => r.draft),
        rendered.map((r) => r.card.suggestions?.length ?? 0),
        parts,
        placed.map((p) => p.slot),
      );
    }
    throw new Error(`could not place the card uuids in the answer text after ${MAX_ATTEMPTS} attempts`);
  }

  /**
   * An answer with a fresh uuid for every card and suggestion: time-ordered ones, or `uuid`'s (each checked to be
   * plain uuid text, since it is written into the bytes as one byte per character).
   */
  instantiate(uuid?: () => string): Answer {
    const make = uuid ? () => checkedUuid(uuid()) : timeOrderedUuid;
    const cards: AnsweredCard[] = this.drafts.map((draft, i) => ({ draft, uuid: '', suggestionUuids: new Array<string>(this.suggestionCounts[i]!) }));
    const uuids = this.slots.map((slot) => {
      const u = make();
      const card = cards[slot.card]!;
      if (slot.suggestion === undefined) card.uuid = u;
      else card.suggestionUuids[slot.suggestion] = u;
      return u;
    });
    let size = 36 * uuids.length;
    for (const p of this.parts) size += p.length;
    const body = Buffer.allocUnsafe(size);
    let at = this.parts[0]!.copy(body, 0);
    for (let k = 0; k < uuids.length; k++) {
      at += body.write(uuids[k]!, at, 'latin1');
      at += this.parts[k + 1]!.copy(body, at);
    }
    return new Answer(body, cards);
  }
}
