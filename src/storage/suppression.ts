/**
 * Which card drafts to hold back, decided in memory so the hook path does no I/O:
 *  Both work within one client scope (JWT issuer, tenant and FHIR server: src/storage/scope.ts).
 *  1. acknowledged override — after an override whose reason acknowledges the card, the same rule for the same
 *     patient and the same drug pair is held back until the suppression expires. A critical card is held back
 *     only when the reason explicitly covers critical cards (no shipped reason does).
 *  2. order-select → order-sign — at order-sign an INFO card is dropped when the same rule already showed a
 *     card for the same patient and the same draft order at order-select within the window. Warnings and
 *     criticals always show again at signing.
 * The index is fed by this process's own writes at once and refreshed from the database periodically
 * (suppression-sync.ts), so other instances' overrides and order-select cards arrive within STORAGE_SYNC_INTERVAL_S.
 */
import type { CardDraft } from '../model/cards.js';
import type { Logger } from '../observability/logger.js';
import type { AuditEntry } from './audit.js';
import { scopeKey, type ClientScope } from './scope.js';

export interface SuppressionContext {
  serviceId: string;
  hook: string;
  patientHash: string;
  /** The calling client and FHIR server: only overrides and order-select cards of the same scope count. */
  scope: ClientScope;
  now: Date;
}

/** A card draft with the keys suppression matches on (computed by the engine). */
export interface SuppressionCandidate {
  draft: CardDraft;
  drugKey: string;
  orderKeys: readonly string[];
}

export interface Suppression {
  /** The same candidates, in order, minus the ones held back. No I/O. */
  filter<T extends SuppressionCandidate>(candidates: T[], ctx: SuppressionContext): T[];
}

/** An acknowledging override, as stored. */
export interface AcknowledgedOverride {
  ruleId: string;
  patientHash: string;
  drugKey: string;
  /** The scope of the card overridden. */
  scope: ClientScope;
  coversCritical: boolean;
  expiresAt: Date;
}

export interface SuppressionSettings {
  suppression: boolean;
  orderSignDedup: boolean;
  orderSignDedupWindowMs: number;
}

interface HeldBack {
  /** Until when non-critical cards are held back (ms since epoch). */
  untilMs: number;
  /** Until when critical cards are held back too (0: never). */
  criticalUntilMs: number;
}

const SELECT_HOOK = 'order-select';
const SIGN_HOOK = 'order-sign';

export class SuppressionIndex implements Suppression {
  private readonly acknowledged = new Map<string, HeldBack>();
  /** rule|patient|order → when a card was last shown for it at order-select (ms). */
  private readonly shownAtSelect = new Map<string, number>();

  constructor(
    private readonly settings: SuppressionSettings,
    private readonly logger: Logger,
  ) {}

  filter<T extends SuppressionCandidate>(candidates: T[], ctx: SuppressionContext): T[] {
    const now = ctx.now.getTime();
    const scope = scopeKey(ctx.scope);
    return candidates.filter((c) => {
      const why = this.holdBackReason(c, scope, ctx.patientHash, ctx.hook, now);
      if (why) this.logger.debug({ serviceId: ctx.serviceId, hook: ctx.hook, ruleId: c.draft.ruleId, indicator: c.draft.indicator, why }, 'card held back');
      return !why;
    });
  }

  /** Remember acknowledging overrides (after their feedback committed, or loaded from the database). */
  noteAcknowledged(overrides: readonly AcknowledgedOverride[]): void {
    for (const o of overrides) {
      const key = cardKey(scopeKey(o.scope), o.ruleId, o.patientHash, o.drugKey);
      const held = this.acknowledged.get(key) ?? { untilMs: 0, criticalUntilMs: 0 };
      const until = o.expiresAt.getTime();
      held.untilMs = Math.max(held.untilMs, until);
      if (o.coversCritical) held.criticalUntilMs = Math.max(held.criticalUntilMs, until);
      this.acknowledged.set(key, held);
    }
  }

  /** Remember cards shown at order-select (as they are audited, or loaded from the database). */
  noteShown(entries: readonly Pick<AuditEntry, 'hook' | 'ruleId' | 'patientHash' | 'orderKeys' | 'shownAt' | 'scope'>[]): void {
    if (!this.settings.orderSignDedup) return;
    for (const e of entries) {
      if (e.hook !== SELECT_HOOK) continue;
      const scope = scopeKey(e.scope);
      const shownAt = e.shownAt.getTime();
      for (const orderKey of e.orderKeys) {
        const key = cardKey(scope, e.ruleId, e.patientHash, orderKey);
        const known = this.shownAtSelect.get(key);
        if (known !== undefined && known >= shownAt) continue;
        // Re-inserted at the end: the map stays in the order entries were last renewed, which prune() relies on.
        if (known !== undefined) this.shownAtSelect.delete(key);
        this.shownAtSelect.set(key, shownAt);
      }
    }
  }

  /** Forget everything held back for these patients (the playground's reset). */
  forgetPatients(patientHashes: ReadonlySet<string>): void {
    for (const key of this.acknowledged.keys()) if (patientHashes.has(patientOfKey(key))) this.acknowledged.delete(key);
    for (const key of this.shownAtSelect.keys()) if (patientHashes.has(patientOfKey(key))) this.shownAtSelect.delete(key);
  }

  /**
   * Forget what can no longer hold anything back. Order-select entries are visited oldest-renewed first and only
   * until the first one still inside the window, so a refresh does not walk the whole window (1M rows: 500k
   * entries). An expired entry renewed out of order (a late row with an old shown_at) waits for its turn; it holds
   * nothing back meanwhile (holdBackReason checks the window itself).
   */
  prune(now: Date): void {
    const t = now.getTime();
    for (const [key, held] of this.acknowledged) if (held.untilMs <= t) this.acknowledged.delete(key);
    for (const [key, shownAt] of this.shownAtSelect) {
      if (t - shownAt <= this.settings.orderSignDedupWindowMs) break;
      this.shownAtSelect.delete(key);
    }
  }

  private holdBackReason(c: SuppressionCandidate, scope: string, patientHash: string, hook: string, now: number): string | undefined {
    const { draft } = c;
    if (this.settings.suppression) {
      const held = this.acknowledged.get(cardKey(scope, draft.ruleId, patientHash, c.drugKey));
      if (held && now < (draft.indicator === 'critical' ? held.criticalUntilMs : held.untilMs)) return 'acknowledged-override';
    }
    if (this.settings.orderSignDedup && hook === SIGN_HOOK && draft.indicator === 'info') {
      const shownAtSelect = c.orderKeys.some((orderKey) => {
        const shownAt = this.shownAtSelect.get(cardKey(scope, draft.ruleId, patientHash, orderKey));
        return shownAt !== undefined && now - shownAt <= this.settings.orderSignDedupWindowMs;
      });
      if (shownAtSelect) return 'shown-at-order-select';
    }
    return undefined;
  }
}

/**
 * The index key of a card for a client scope, rule and patient; `about` is the drug pair (acknowledged overrides) or
 * a draft-order key (order-select showings). The scope has \u0000 separators of its own, so \u0001 ends it.
 */
const cardKey = (scope: string, ruleId: string, patientHash: string, about: string): string => `${scope}\u0001${ruleId}\u0000${patientHash}\u0000${about}`;
/** The patient hash of a cardKey. */
const patientOfKey = (key: string): string => key.slice(key.indexOf('\u0001') + 1).split('\u0000')[1] ?? '';

/** The scope stored in a row's client_issuer, client_tenant and fhir_server columns. */
export const scopeOfRow = (r: { client_issuer: string; client_tenant: string; fhir_server: string }): ClientScope => ({ issuer: r.client_issuer, tenant: r.client_tenant, fhirServer: r.fhir_server });
