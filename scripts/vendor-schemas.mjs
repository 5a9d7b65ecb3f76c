// Copies the JSON schemas that test/unit/deploy-*.test.ts validate deploy/ against into
// deploy/schemas/, trimmed of their descriptions (most of their size) and nothing else.
// Run by hand when moving to a newer Kubernetes, Argo Rollouts, prometheus-operator or
// Compose spec; deploy/schemas/README.md says where each came from.
//
//   node scripts/vendor-schemas.mjs json <source.json> <dest.json>
//       a JSON schema as it is (yannh/kubernetes-json-schema's *-standalone-strict files)
//   node scripts/vendor-schemas.mjs crd <crd.yaml> <version> <dest.json>
//       a CustomResourceDefinition's openAPIV3Schema for one version, made strict: every
//       object that lists its properties refuses others (as kubeconform -strict does), unless
//       it keeps unknown fields (x-kubernetes-preserve-unknown-fields)
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';

/** Drops `description` texts; a property that happens to be named description is an object and stays. */
function trim(node) {
  if (Array.isArray(node)) return node.map(trim);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'description' && typeof value === 'string') continue;
    out[key] = trim(value);
  }
  return out;
}

function strict(node) {
  if (Array.isArray(node)) return node.map(strict);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    // Inside `properties` the keys are field names, not keywords: recurse into each.
    out[key] =
      key === 'properties' && value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strict(v)]))
        : strict(value);
  }
  if (
    out.properties &&
    out.additionalProperties === undefined &&
    out['x-kubernetes-preserve-unknown-fields'] !== true
  )
    out.additionalProperties = false;
  return out;
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'json' && args.length === 2) {
  const schema = JSON.parse(readFileSync(args[0], 'utf8'));
  writeFileSync(args[1], `${JSON.stringify(trim(schema))}\n`);
} else if (mode === 'crd' && args.length === 3) {
  const crd = parse(readFileSync(args[0], 'utf8'));
  const version = crd.spec.versions.find((v) => v.name === args[1]);
  if (!version) throw new Error(`${args[0]} has no version ${args[1]}`);
  const schema = strict(trim(version.schema.openAPIV3Schema));
  schema['x-kubernetes-group-version-kind'] = [
    { group: crd.spec.group, kind: crd.spec.names.kind, version: args[1] },
  ];
  writeFileSync(args[2], `${JSON.stringify(schema)}\n`);
} else {
  process.stderr.write(
    'usage: vendor-schemas.mjs json <source.json> <dest.json> | crd <crd.yaml> <version> <dest.json>\n',
  );
  process.exit(2);
}
