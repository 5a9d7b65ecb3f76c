#!/usr/bin/env node
// Regenerates src/telemetry/generated/<name>.ts from every openapi/<name>.yaml, with the
// openapi-typescript CLI, so that adding a vendor is adding its YAML file.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const specDir = join(root, 'openapi');
const outDir = join(root, 'src', 'telemetry', 'generated');
const cli = join(root, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');

const specs = readdirSync(specDir)
  .filter((file) => /\.ya?ml$/.test(file))
  .sort();
if (specs.length === 0) {
  console.error(`no OpenAPI documents in ${specDir}`);
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });

let failed = 0;
for (const file of specs) {
  const name = basename(file).replace(/\.ya?ml$/, '');
  const out = join(outDir, `${name}.ts`);
  const run = spawnSync(process.execPath, [cli, join(specDir, file), '-o', out], { stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(`failed: openapi/${file}`);
    failed += 1;
  }
}
process.exit(failed === 0 ? 0 : 1);
