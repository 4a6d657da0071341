/**
 * Structured logs (pino). Secrets never reach a log line: request headers are not logged,
 * known secret paths are redacted, and raw patient ids are replaced by a keyed hash (patientHash).
 */
import { pino, type Logger, type DestinationStream } from 'pino';
import { createHmac } from 'node:crypto';

export type { Logger };

/** Paths censored wherever they appear; a defence in depth: code must not log these in the first place. */
export const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'access_token',
  '*.access_token',
  'fhirAuthorization',
  '*.fhirAuthorization',
  'token',
  '*.token',
  'jwt',
  '*.jwt',
  'patientId',
  '*.patientId',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'ldn-cds' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** Keyed hash of a patient id: stable for joins (audit, suppression), not reversible without the key. */
export function patientHash(key: string, patientId: string): string {
  return createHmac('sha256', key).update(patientId).digest('hex').slice(0, 32);
}

/**
 * Strip anything that looks like a JWT, a bearer token or a URL's credentials from free text (an upstream error
 * message, a stack trace).
 */
export function scrubSecrets(text: string): string {
  return text
    .replace(/Bearer\s+[A-Za-z0-9\-._~+/]+=*/gi, 'Bearer [redacted]')
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1[redacted]@')
    .replace(/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '[jwt redacted]');
}
