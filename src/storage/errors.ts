/**
 * Database failures as values callers can act on (503 and retry), described without secrets, and one tracker
 * that logs only when the database goes down or comes back, so an outage produces two log lines, not thousands.
 */
import type { Logger } from '../observability/logger.js';
import { scrubSecrets } from '../observability/logger.js';

/** The database could not do what was asked (unreachable, locked, timed out, failed); the caller may retry. */
export class StorageUnavailableError extends Error {
  constructor(operation: string, cause: unknown) {
    super(`storage unavailable during ${operation}: ${describeDbError(cause)}`, { cause });
    this.name = 'StorageUnavailableError';
  }
}

/** A short, secret-free description of a driver error: its code (ECONNREFUSED, SQLITE_BUSY, 57P01 …) and message. */
export function describeDbError(err: unknown): string {
  if (err instanceof StorageUnavailableError) return err.message;
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = scrubSecrets(String(e?.message ?? err)).replace(/postgres(ql)?:\/\/\S+/gi, 'postgres://[redacted]');
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/** Up/down state of the database as seen by the last operation, with transition logging and a failure count. */
export class DatabaseHealth {
  private up = true;
  private failures = 0;
  private lastProblem = '';

  private readonly recoveredListeners: Array<() => void> = [];

  constructor(private readonly logger: Logger) {}

  /** Called each time an outage ends (any operation succeeded after a failure). */
  onRecovered(listener: () => void): void {
    this.recoveredListeners.push(listener);
  }

  /** Record a failed operation; logs an error when this starts an outage. `write` failures are counted for stats. */
  failed(operation: string, err: unknown, kind: 'read' | 'write'): void {
    if (kind === 'write') this.failures += 1;
    this.lastProblem = describeDbError(err);
    if (!this.up) return;
    this.up = false;
    this.logger.error({ operation, problem: this.lastProblem }, 'database unavailable: audit entries are queued, feedback answers 503');
  }

  /** Record a successful operation; logs when this ends an outage. */
  succeeded(): void {
    if (this.up) return;
    this.up = true;
    this.logger.info({ lastProblem: this.lastProblem }, 'database available again');
    for (const listener of this.recoveredListeners) listener();
  }

  get isUp(): boolean {
    return this.up;
  }

  get writeFailures(): number {
    return this.failures;
  }
}
