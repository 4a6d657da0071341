import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config/index.js';

/** Whether git ignores `file` (absolute or relative to the project root). A git failure is an error, never "not ignored". */
export function gitIgnored(file: string): boolean {
  try {
    execFileSync('git', ['check-ignore', '-q', '--no-index', path.isAbsolute(file) ? path.relative(PROJECT_ROOT, file) : file], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    return true;
  } catch (e) {
    if ((e as { status?: number }).status === 1) return false; // exit 1: not ignored
    throw e;
  }
}
