/**
 * Traces (OpenTelemetry). Off unless the standard variables ask for them (tracingRequested): then src/server.ts
 * starts the Node SDK before the rest of the service loads, with the http, express, undici (fetch), pg, ioredis and
 * pino instrumentations; the EHR's `traceparent` continues through the call into its FHIR fetches (W3C trace
 * context). The pipeline's stages open spans with stageSpan(): with no SDK started, @opentelemetry/api is a no-op.
 *
 * Never a token, patient id or card text in a span: stage spans carry only service, hook and counts; outgoing
 * URLs are cut to origin and resource type (a FHIR path or query names the patient); query strings of incoming
 * requests are dropped; Redis commands are named without their arguments (a replay-cache key); SQL is recorded
 * with placeholders only (the pg instrumentation's default); an error is recorded by its class name, never its
 * message. tests/observability/tracing.test.ts checks it on an in-memory exporter.
 */
import { SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';

const tracer = trace.getTracer('ldn-cds');

/**
 * Run `fn` inside a span `ldn-cds.<stage>`; `attributes` must never hold a token, patient id or free text.
 * Works for synchronous and promise-returning functions; a failure sets the span's status to its class name.
 */
export function stageSpan<T>(stage: string, attributes: Attributes, fn: (span: Span) => T): T {
  return tracer.startActiveSpan(`ldn-cds.${stage}`, { attributes }, (span) => {
    try {
      const out = fn(span);
      if (out instanceof Promise) {
        return out.then(
          (value: unknown) => {
            span.end();
            return value;
          },
          (err: unknown) => {
            failed(span, err);
            throw err;
          },
        ) as T;
      }
      span.end();
      return out;
    } catch (err) {
      failed(span, err);
      throw err;
    }
  });
}

function failed(span: Span, err: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
  span.end();
}

/** Do the OTEL_* variables ask for traces? (OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none say no.) */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (exporters.includes('none')) return false;
  return exporters.length > 0 || Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/** An outgoing URL as a span may show it: origin and path with every segment after a resource type as `{id}`, no query. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const segments = u.pathname.split('/');
    let afterType = false;
    const path = segments
      .map((s) => {
        const replaced = afterType && s !== '' && !s.startsWith('_') ? '{id}' : s;
        afterType = /^[A-Z][A-Za-z]+$/.test(s);
        return replaced;
      })
      .join('/');
    return `${u.origin}${path}${u.search ? '?{query}' : ''}`;
  } catch {
    return '{unparsable url}';
  }
}

export interface Tracing {
  /** Export what is left and stop (at shutdown). */
  shutdown(): Promise<void>;
}

export interface StartTracingOptions {
  /** Instead of the exporters the OTEL_* variables name (tests: an in-memory exporter). */
  spanProcessors?: SpanProcessor[];
}

/**
 * Start the Node SDK with the instrumentations, configured so that no token or patient id reaches a span.
 * Call before express, pg, ioredis or pino are loaded (src/server.ts imports the service afterwards).
 */
export async function startTracing(options: StartTracingOptions = {}): Promise<Tracing> {
  const [{ NodeSDK }, { HttpInstrumentation }, { ExpressInstrumentation }, { UndiciInstrumentation }, { PgInstrumentation }, { IORedisInstrumentation }, { PinoInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-express'),
    import('@opentelemetry/instrumentation-undici'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('@opentelemetry/instrumentation-pino'),
  ]);
  const quiet = new Set(['/healthz', '/readyz', '/metrics']);
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME || 'ldn-cds',
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors } : {}),
    // Metrics stay with Prometheus (/metrics), logs with pino: the SDK exports traces only.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => quiet.has((req.url ?? '').split('?')[0] ?? ''),
        requestHook: (span, req) => {
          // Incoming: keep the path (routes hold no patient data), drop any query string.
          if ('url' in req && typeof req.url === 'string' && req.url.includes('?')) {
            const path = req.url.split('?')[0]!;
            span.setAttribute('http.target', path);
            span.setAttribute('url.path', path);
            span.setAttribute('url.query', '{query}');
          }
        },
      }),
      new ExpressInstrumentation(),
      new UndiciInstrumentation({
        requestHook: (span, request) => {
          const full = redactUrl(`${request.origin}${request.path}`);
          const u = new URL(full.replace('?{query}', ''));
          span.setAttribute('url.full', full);
          span.setAttribute('url.path', u.pathname);
          span.setAttribute('url.query', full.endsWith('?{query}') ? '{query}' : '');
        },
      }),
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
      new IORedisInstrumentation({ dbStatementSerializer: (command) => command }),
      new PinoInstrumentation({ disableLogSending: true }),
    ],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
