/**
 * Paths a bearer token may be sent to. A FHIR server decodes its request path, so what the service compares
 * (the WHATWG-parsed URL) must be what the server resolves: an encoded slash or backslash (`/fhir/..%2fadmin`),
 * a raw backslash, a dot segment (`.`, `..`, or their `%2e` spellings) or an encoded percent sign (`%252f`,
 * decoded twice by some servers) could make the server read a path other than the one allow-listed.
 * None of them is ever needed in a FHIR REST path (ids are [A-Za-z0-9\-.]{1,64}), so they are refused, not normalised.
 */

const ENCODED_SEPARATOR = /%(?:2f|5c|25)/i;
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/** Why the path of `raw` (an absolute URL or a relative reference; query and fragment ignored) is unsafe, or undefined. */
export function unsafePathReason(raw: string): string | undefined {
  const withoutQuery = raw.split(/[?#]/, 1)[0]!;
  if (withoutQuery.includes('\\')) return 'a backslash';
  if (ENCODED_SEPARATOR.test(withoutQuery)) return 'an encoded slash, backslash or percent sign';
  const path = withoutQuery.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  if (path.split('/').some((segment) => DOT_SEGMENT.test(segment))) return 'a dot segment';
  return undefined;
}
