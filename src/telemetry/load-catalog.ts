import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { type CatalogEntry, validateCatalog } from '../domain/catalog';

/** The catalog file could not be read or is invalid; `problems` lists each one. */
export class CatalogError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`DONEDONE_METRICS_FILE ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'CatalogError';
  }
}

/** Reads and validates a YAML metric catalog. Throws `CatalogError` listing every problem. */
export async function loadCatalog(file: string): Promise<CatalogEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : `cannot be read (${code})`;
    throw new CatalogError(file, [`${why}; set DONEDONE_METRICS_FILE to the path of a YAML metric catalog`]);
  }
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: true });
  } catch (err) {
    throw new CatalogError(file, [`not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  const result = validateCatalog(doc);
  if ('errors' in result) throw new CatalogError(file, result.errors);
  return result.entries;
}

/** The catalog named by `DONEDONE_METRICS_FILE`, or an empty catalog when it is unset. */
export async function loadCatalogFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<CatalogEntry[]> {
  const file = env.DONEDONE_METRICS_FILE?.trim();
  return file ? loadCatalog(file) : [];
}
