/**
 * Replay cache for JWT `jti`s: a key is stored the first time it is seen and refused until it expires.
 *
 * In-memory (bounded, expiring) by default; Redis when REDIS_URL is set, so that several instances share it.
 * Both fail closed: an unreachable Redis (or a full memory cache) makes `checkAndStore` throw, and the
 * caller refuses the request.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../observability/logger.js';
import { scrubSecrets } from '../observability/logger.js';

export interface ReplayCache {
  /** Store `key` for `ttlMs`; true the first time, false if it is already stored. Throws when the cache cannot answer. */
  checkAndStore(key: string, ttlMs: number): Promise<boolean>;
  /** For /readyz: can the cache answer right now? */
  ready(): Promise<{ ok: boolean; detail: string }>;
  close(): Promise<void>;
}

/** Every Redis key written by the replay cache starts with this. */
export const REDIS_KEY_PREFIX = 'ldn-cds:jti:';

/** Per-process cache: a Map of key → expiry (ms), swept when full. Not shared between instances. */
export class MemoryReplayCache implements ReplayCache {
  private readonly expiries = new Map<string, number>();
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(options: { now?: () => number; maxEntries?: number } = {}) {
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 200_000;
  }

  async checkAndStore(key: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const expiry = this.expiries.get(key);
    if (expiry !== undefined && expiry > now) return false;
    if (expiry === undefined && this.expiries.size >= this.maxEntries) {
      this.sweep(now);
      // Evicting a live entry would let its token be replayed: refuse instead.
      if (this.expiries.size >= this.maxEntries) throw new Error('memory replay cache is full');
    }
    this.expiries.set(key, now + ttlMs);
    return true;
  }

  async ready(): Promise<{ ok: boolean; detail: string }> {
    return { ok: true, detail: `memory replay cache (${this.expiries.size} entries, this instance only)` };
  }

  async close(): Promise<void> {
    this.expiries.clear();
  }

  private sweep(now: number): void {
    for (const [key, expiry] of this.expiries) if (expiry <= now) this.expiries.delete(key);
  }
}

export interface RedisReplayCacheOptions {
  url: string;
  logger: Logger;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
}

/** Shared cache: `SET ldn-cds:jti:<key> 1 NX PX <ttl>`. No offline queue, so a down Redis fails fast. */
export class RedisReplayCache implements ReplayCache {
  private readonly redis: Redis;
  private readonly logger: Logger;
  private reportedDown = false;

  constructor(options: RedisReplayCacheOptions) {
    this.logger = options.logger;
    this.redis = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: options.connectTimeoutMs ?? 1000,
      commandTimeout: options.commandTimeoutMs ?? 500,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    // The URL may hold a password: log neither it nor raw driver messages unscrubbed.
    this.redis.on('error', (error: Error) => {
      if (this.reportedDown) return;
      this.reportedDown = true;
      this.logger.error({ error: scrubSecrets(error.message) }, 'replay cache (redis) unreachable: authenticated requests are refused');
    });
    this.redis.on('ready', () => {
      if (this.reportedDown) this.logger.info('replay cache (redis) reachable again');
      this.reportedDown = false;
    });
  }

  /** Open the connection; a failure is logged, not thrown (the client keeps retrying, readiness reports it). */
  async connect(): Promise<void> {
    try {
      await this.redis.connect();
    } catch {
      // Reported by the 'error' handler above.
    }
  }

  async checkAndStore(key: string, ttlMs: number): Promise<boolean> {
    const reply = await this.redis.set(REDIS_KEY_PREFIX + key, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    return reply === 'OK';
  }

  async ready(): Promise<{ ok: boolean; detail: string }> {
    try {
      await this.redis.ping();
      return { ok: true, detail: 'redis replay cache reachable' };
    } catch {
      return { ok: false, detail: 'redis replay cache unreachable' };
    }
  }

  async close(): Promise<void> {
    if (this.redis.status === 'ready') {
      await this.redis.quit().catch(() => this.redis.disconnect());
    } else {
      this.redis.disconnect();
    }
  }
}
