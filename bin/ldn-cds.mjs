#!/usr/bin/env node
// Runs the TypeScript source through tsx when it is present (a checkout: never a stale build),
// otherwise the compiled CLI (an image that ships only dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'src', 'cli.ts');
let cli;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(pathToFileURL(source).href);
} else {
  cli = await import(pathToFileURL(path.join(root, 'dist', 'src', 'cli.js')).href);
}
process.exitCode = await cli.main(process.argv.slice(2));
