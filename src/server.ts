/**
 * Start the service: load config and knowledge (fail fast with a message naming the file and field), listen
 * (a port in use is a one-line error naming PORT/HOST and exit 1; /metrics on METRICS_PORT when set),
 * and on SIGTERM/SIGINT stop accepting connections and let in-flight requests finish before exiting.
 * Traces (src/observability/tracing.ts): when the OTEL_* variables ask for them, the OpenTelemetry SDK starts
 * first and the service is imported after it, so express, pg, ioredis and pino load instrumented.
 */
import { register } from 'node:module';
import { startTracing, tracingRequested, type Tracing } from './observability/tracing.js';

const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let tracing: Tracing | undefined;
  if (tracingRequested(process.env)) {
    // ESM imports are instrumented through import-in-the-middle's loader hook, registered before they happen.
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
    tracing = await startTracing();
  }
  const { ConfigError, loadConfig } = await import('./config/index.js');
  const { createApp } = await import('./app.js');
  const { KnowledgeError } = await import('./model/problems.js');
  const { AuthConfigError } = await import('./auth/index.js');
  const { createLogger } = await import('./observability/logger.js');
  const { createHttpServer, listen, ListenError } = await import('./http/listen.js');

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
  const server = createHttpServer(handle.app, config.httpTimeouts);
  const metricsServer = handle.metricsApp ? createHttpServer(handle.metricsApp, config.httpTimeouts) : undefined;
  try {
    const port = await listen(server, config.port, config.host);
    const metricsPort = metricsServer ? await listen(metricsServer, config.metrics.port!, config.host, { port: 'METRICS_PORT', host: 'HOST' }) : undefined;
    logger.info({ port, ...(metricsPort !== undefined ? { metricsPort } : {}), baseUrl: config.publicBaseUrls[0], authMode: config.authMode }, 'ldn-cds listening');
  } catch (e) {
    if (!(e instanceof ListenError)) throw e;
    console.error(e.message);
    server.close();
    await handle.close();
    process.exit(1);
  }
  if (config.authMode === 'off') logger.warn('AUTH_MODE=off: CDS client JWTs are NOT verified. Development only.');

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
    metricsServer?.close();
    metricsServer?.closeAllConnections();
    server.close(() => {
      void handle
        .close()
        .then(() => tracing?.shutdown())
        .finally(() => {
          logger.info('stopped');
          process.exit(0);
        });
    });
    // A keep-alive connection whose in-flight request finishes after close() would otherwise idle until the grace
    // period: close each one as soon as it is idle.
    server.closeIdleConnections();
    setInterval(() => server.closeIdleConnections(), 100).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
