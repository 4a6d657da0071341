/**
 * Debian's chromium for the browser suites (playwright-core, never `playwright install`). CI (CI set) requires it:
 * `.ci/run` installs it, and a missing browser FAILS the run; elsewhere the suites skip with a visible warning.
 */
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { expect, test } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Register the "chromium is installed" test of a browser suite (and warn when it will skip). Call at module top. */
export function requireChromiumInCi(): void {
  if (!HAVE_CHROMIUM && !process.env.CI) {
    console.warn(`\n⚠  Browser tests SKIPPED: ${CHROMIUM} not found. Install it with: apt-get update && apt-get install -y chromium\n`);
  }
  test('chromium is installed (required in CI)', (ctx) => {
    if (!HAVE_CHROMIUM && !process.env.CI) ctx.skip();
    expect(HAVE_CHROMIUM, `${CHROMIUM} is missing: .ci/run installs it with apt-get install -y chromium`).toBe(true);
  });
}

/** Headless Debian chromium. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}
