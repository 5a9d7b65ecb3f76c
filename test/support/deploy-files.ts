/**
 * Reads deploy/ as Kubernetes and Compose would, and validates it against the JSON schemas
 * pinned in deploy/schemas/ (offline; deploy/schemas/README.md says where each came from).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';

export const ROOT = join(__dirname, '..', '..');
export const DEPLOY = join(ROOT, 'deploy');

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML, checked by schema.
export type Manifest = Record<string, any>;

/** Every YAML document of a file, parse errors thrown. */
export function readYaml(path: string): Manifest[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'));
  return docs.map((d) => {
    if (d.errors.length > 0) throw new Error(`${path}: ${d.errors[0]!.message}`);
    return d.toJSON() as Manifest;
  });
}

/**
 * `kubectl kustomize <dir>` for a plain base: the documents of its `resources`, in order. Anything
 * else in the kustomization (patches, generators, transformers) is refused, so this stays exact.
 */
export function renderKustomization(dir: string): { file: string; doc: Manifest }[] {
  const [k] = readYaml(join(dir, 'kustomization.yaml'));
  const extra = Object.keys(k!).filter((key) => !['apiVersion', 'kind', 'resources'].includes(key));
  if (extra.length > 0)
    throw new Error(`kustomization.yaml uses ${extra.join(', ')}: teach renderKustomization`);
  return (k!.resources as string[]).flatMap((file) =>
    readYaml(join(dir, file)).map((doc) => ({ file, doc })),
  );
}

function gvk(apiVersion: string, kind: string): string {
  return `${apiVersion}/${kind}`;
}

/** Validators for the kinds in deploy/schemas, by `apiVersion/kind`. */
export function kubernetesValidators(): Map<string, ValidateFunction> {
  // Kubernetes schemas use OpenAPI formats (int32, int-or-string) and x-kubernetes-* keywords:
  // types, enums, required fields and unknown fields are what is checked.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const validators = new Map<string, ValidateFunction>();
  const dir = join(DEPLOY, 'schemas');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'compose-spec.json')) {
    const { $schema: _ignored, ...schema } = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const kinds = schema['x-kubernetes-group-version-kind'] as {
      group: string;
      version: string;
      kind: string;
    }[];
    const validate = ajv.compile(schema);
    for (const k of kinds)
      validators.set(gvk(k.group ? `${k.group}/${k.version}` : k.version, k.kind), validate);
  }
  return validators;
}

/** The schema errors of one manifest, as readable lines; [] when valid. */
export function kubernetesErrors(validators: Map<string, ValidateFunction>, doc: Manifest): string[] {
  const validate = validators.get(gvk(doc.apiVersion, doc.kind));
  if (!validate) return [`no pinned schema for ${doc.apiVersion} ${doc.kind}`];
  return validate(doc) ? [] : describe(validate.errors ?? []);
}

export function composeValidator(): ValidateFunction {
  // The spec names draft-07 by an https URL Ajv does not know; Ajv's default meta-schema is draft-07.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const { $schema: _draft07, ...schema } = JSON.parse(
    readFileSync(join(DEPLOY, 'schemas', 'compose-spec.json'), 'utf8'),
  );
  return ajv.compile(schema);
}

export function describe(errors: ErrorObject[]): string[] {
  return errors.map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
