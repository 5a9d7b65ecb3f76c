import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Node's flags as donedone is deployed with them: read from `npm start` in package.json (the one
 * place they are written; the Dockerfile and scripts/start.sh run the same command), so the
 * benchmarks measure the bot's CPU and memory as it runs in production.
 */
export function deployedNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const m = /^node\s+((?:--\S+\s+)*)dist\/main\.js$/.exec(pkg.scripts.start ?? '');
  if (!m)
    throw new Error(`package.json's start script is not \`node [flags] dist/main.js\`: ${pkg.scripts.start}`);
  return m[1]!.trim().split(/\s+/).filter(Boolean);
}
