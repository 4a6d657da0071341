/**
 * Start the service: load config and knowledge (fail fast with a message naming the file and field), listen,
 * and on SIGTERM/SIGINT stop accepting connections and let in-flight requests finish before exiting.
 */
import type { Server } from 'node:http';
import { ConfigError, loadConfig } from './config.js';
import { createApp } from './app.js';
import { KnowledgeError } from './knowledge/errors.js';
import { AuthConfigError } from './auth/index.js';
import { createLogger } from './observability/logger.js';

const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger(config.logLevel);
  let handle;
  try {
    handle = await createApp(config, { logger });
  } catch (e) {
    if (e instanceof KnowledgeError || e instanceof ConfigError || e instanceof AuthConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const server: Server = handle.app.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info({ port, baseUrl: config.publicBaseUrls[0], authMode: config.authMode }, 'ldn-cds listening');
    if (config.authMode === 'off') logger.warn('AUTH_MODE=off: CDS client JWTs are NOT verified. Development only.');
  });
  server.keepAliveTimeout = 65_000;

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    const force = setTimeout(() => {
      logger.warn('shutdown grace period over; closing remaining connections');
      server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    server.close(() => {
      void handle.close().finally(() => {
        logger.info('stopped');
        process.exit(0);
      });
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
