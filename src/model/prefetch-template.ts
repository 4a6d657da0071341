/**
 * Prefetch templates (CDS Hooks 2.0 §3): `{{context.<field>}}` for root-level primitive context fields and the
 * four user tokens derived from context.userId. Values are URL-encoded so a context value cannot change the query.
 */
const TOKEN = /\{\{\s*([^{}\s]+)\s*\}\}/g;

export function templateTokens(template: string): string[] {
  return [...template.matchAll(TOKEN)].map((m) => m[1]!);
}

const LONE_SURROGATE = /\p{Cs}/u;

/** False when the string holds a lone surrogate (which encodeURIComponent cannot encode: it throws). */
export function isWellFormedUnicode(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

export type RenderResult = { ok: true; query: string } | { ok: false; missing: string[] };

/** Render a template; tokens with no value (e.g. an absent encounterId) make it unrenderable. */
export function renderPrefetchTemplate(template: string, context: Record<string, unknown>, user: Record<string, string>): RenderResult {
  const missing: string[] = [];
  const query = template.replace(TOKEN, (_all, token: string) => {
    let value: unknown;
    if (token.startsWith('context.')) value = context[token.slice('context.'.length)];
    else value = user[token];
    if (typeof value === 'number' || typeof value === 'boolean') value = String(value);
    if (typeof value !== 'string' || value.length === 0) {
      missing.push(token);
      return '';
    }
    if (!isWellFormedUnicode(value)) {
      // A lone surrogate cannot be URL-encoded (encodeURIComponent throws): the value is unusable, as if absent.
      missing.push(token);
      return '';
    }
    // context.userId is validated as "Type/id" (one slash); keep that slash so it works as a reference.
    return token === 'context.userId' ? encodeURIComponent(value).replace('%2F', '/') : encodeURIComponent(value);
  });
  return missing.length ? { ok: false, missing } : { ok: true, query };
}
