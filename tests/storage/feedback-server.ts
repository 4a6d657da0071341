/**
 * Child process for the durability test: serves the storage test app on an ephemeral port, prints
 * "listening <port>", and is then killed with SIGKILL by the test (no shutdown, no flush, no close).
 * The database comes from SQLITE_PATH or DATABASE_URL in its environment.
 */
import type { AddressInfo } from 'node:net';
import { testConfig } from '../../src/config/index.js';
import { openStorage } from './backends.js';
import { buildApp } from './harness.js';

const storage = await openStorage(testConfig({ SQLITE_PATH: process.env.SQLITE_PATH, DATABASE_URL: process.env.DATABASE_URL }));
const server = buildApp(storage).listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
