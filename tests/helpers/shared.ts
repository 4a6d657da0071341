/**
 * Read-only material from ../shared (sandbox captures, curated terminology). CI always has it; on a laptop
 * without it, suites that need it skip with a visible message.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config/index.js';

export const SHARED_DIR = path.resolve(PROJECT_ROOT, '..', 'shared');
export const CAPTURES_DIR = path.join(SHARED_DIR, 'sandbox-captures');
export const hasShared = existsSync(CAPTURES_DIR);

if (!hasShared) console.warn(`[ldn-cds tests] ${SHARED_DIR} not found: sandbox-capture and terminology-provenance suites are SKIPPED`);

export interface Capture {
  file: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Record<string, unknown> | null;
  capture: { hook: string; url: string; jwt?: { claims: { iat: number } }; responseStatus: number };
}

export function loadCaptures(): Capture[] {
  if (!hasShared) return [];
  return readdirSync(CAPTURES_DIR)
    .filter((f) => /^\d\d[a-z]?-.*\.json$/.test(f))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(readFileSync(path.join(CAPTURES_DIR, file), 'utf8')) as Omit<Capture, 'file'>) }));
}

export function readShared(relative: string): string {
  return readFileSync(path.join(SHARED_DIR, relative), 'utf8');
}
