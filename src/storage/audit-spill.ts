/**
 * The audit queue's overflow file: while the database cannot be written and the in-memory queue is past
 * AUDIT_QUEUE_MAX_BYTES, its oldest entries are appended here (one JSON object a line) instead of being dropped,
 * and replayed into the database once it answers again. Exactly once: a replayed row whose card uuid is already
 * in card_audit is skipped (INSERT … ON CONFLICT DO NOTHING), so a replay cut short is simply run again from
 * where it had got to (or from the start, after a restart). The file is bounded too (AUDIT_SPILL_MAX_BYTES):
 * what does not fit is dropped and counted, exactly.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { appendFile, mkdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { AuditEntry } from './audit-entry.js';

interface StoredEntry extends Omit<AuditEntry, 'shownAt'> {
  shownAt: string;
}

export class AuditSpill {
  /** Appends, one after the other (a write error loses only that append's entries, counted). */
  private writing: Promise<void> = Promise.resolve();
  /** Bytes in the file being appended to (written or about to be). */
  private activeBytes: number;
  /** Bytes of the file being replayed not yet committed to the database. */
  private replayBytes: number;
  /** How far the replay file has been committed (bytes), so a failed replay resumes there. */
  private replayOffset = 0;
  private lostTotal = 0;

  constructor(
    private readonly file: string,
    private readonly maxBytes: number,
    private readonly onLost: (count: number, why: string) => void,
  ) {
    // Left by an earlier run (an outage, then a stop): replayed like any other spill.
    this.activeBytes = sizeOf(file);
    this.replayBytes = sizeOf(this.replayFile);
  }

  private get replayFile(): string {
    return `${this.file}.replay`;
  }

  /** Bytes waiting in the file(s) for the database. */
  get bytes(): number {
    return this.activeBytes + this.replayBytes;
  }

  get lost(): number {
    return this.lostTotal;
  }

  /** Append entries (oldest first); those past the file bound are dropped and counted. Never throws. */
  append(entries: readonly AuditEntry[]): void {
    const lines: string[] = [];
    let bytes = 0;
    let refused = 0;
    for (const e of entries) {
      const line = `${JSON.stringify(e)}\n`;
      const size = Buffer.byteLength(line);
      if (this.bytes + bytes + size > this.maxBytes) {
        refused += 1;
        continue;
      }
      lines.push(line);
      bytes += size;
    }
    if (refused) this.lose(refused, 'spill file full');
    if (!lines.length) return;
    this.activeBytes += bytes;
    const text = lines.join('');
    this.writing = this.writing.then(async () => {
      try {
        await mkdir(path.dirname(this.file), { recursive: true });
        await appendFile(this.file, text, { mode: 0o600 });
      } catch {
        this.activeBytes -= bytes;
        this.lose(lines.length, 'spill file not writable');
      }
    });
  }

  /** Wait for appends under way. */
  settled(): Promise<void> {
    return this.writing;
  }

  /**
   * Write everything spilled so far to the database, in batches, oldest first. Rejects with the write's error
   * (what was committed stays committed; the next replay resumes after it).
   */
  async replay(write: (batch: AuditEntry[]) => Promise<void>, batchSize: number): Promise<void> {
    await this.writing;
    for (;;) {
      if (!existsSync(this.replayFile)) {
        if (this.activeBytes === 0) return;
        await this.writing;
        await rename(this.file, this.replayFile); // new spills start a new file while this one is replayed
        this.replayBytes = this.activeBytes;
        this.activeBytes = 0;
        this.replayOffset = 0;
      }
      await this.replayFileOnce(write, batchSize);
    }
  }

  private async replayFileOnce(write: (batch: AuditEntry[]) => Promise<void>, batchSize: number): Promise<void> {
    const lines = createInterface({ input: createReadStream(this.replayFile, { start: this.replayOffset }), crlfDelay: Infinity });
    let batch: AuditEntry[] = [];
    let batchBytes = 0;
    const commit = async (): Promise<void> => {
      if (batch.length) await write(batch);
      this.replayOffset += batchBytes;
      this.replayBytes = Math.max(0, this.replayBytes - batchBytes);
      batch = [];
      batchBytes = 0;
    };
    try {
      for await (const line of lines) {
        batchBytes += Buffer.byteLength(line) + 1;
        if (!line.trim()) continue;
        const entry = parseLine(line);
        if (entry) batch.push(entry);
        else this.lose(1, 'spill line unreadable'); // a line cut by a crash mid-append
        if (batch.length >= batchSize) await commit();
      }
      await commit();
    } finally {
      lines.close();
    }
    await unlink(this.replayFile);
    this.replayBytes = 0;
    this.replayOffset = 0;
  }

  private lose(count: number, why: string): void {
    this.lostTotal += count;
    this.onLost(count, why);
  }
}

function parseLine(line: string): AuditEntry | undefined {
  try {
    const stored = JSON.parse(line) as StoredEntry;
    return { ...stored, shownAt: new Date(stored.shownAt) };
  } catch {
    return undefined;
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
