/**
 * A benchmark server process: `ours` (the real app, AUTH_MODE=off, logs at warn) or `floor` (express 5 parsing
 * the same JSON body and answering {"cards":[]}). Prints `listening <port>` when ready.
 */
import express from 'express';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';

const kind = process.argv[2];
const extraEnv = JSON.parse(process.argv[3] ?? '{}') as Record<string, string>;

async function main(): Promise<void> {
  let app: express.Express;
  if (kind === 'floor') {
    app = express();
    app.use(express.json({ limit: '5mb' }));
    app.post('/cds-services/:id', (_req, res) => {
      res.json({ cards: [] });
    });
  } else {
    const config = loadConfig({ NODE_ENV: 'development', AUTH_MODE: 'off', LOG_LEVEL: 'warn', ...extraEnv });
    app = (await createApp(config)).app;
  }
  const server = app.listen(0, '127.0.0.1', () => {
    console.log(`listening ${(server.address() as AddressInfo).port}`);
  });
  server.keepAliveTimeout = 65_000;
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

void main();
