import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  composeValidator,
  describe as describeErrors,
  type Manifest,
  ROOT,
  readYaml,
} from '../support/deploy-files';

const compose = readYaml(join(ROOT, 'compose.yaml'))[0]!;
const services = compose.services as Record<string, Manifest>;
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

/** A setting whose value must never be written in the file. */
const SECRET_NAME = /TOKEN|SECRET|KEY|PASSWORD/i;

describe('compose.yaml', () => {
  it('is valid against the Compose specification’s schema', () => {
    const validate = composeValidator();
    expect(validate(compose) ? [] : describeErrors(validate.errors ?? [])).toEqual([]);
    const misspelt = structuredClone(compose);
    misspelt.services.redis.healtcheck = misspelt.services.redis.healthcheck;
    expect(validate(misspelt)).toBe(false);
  });

  it('Redis keeps everything: append-only file on a named volume, and it never evicts', () => {
    const redis = services.redis!;
    const args = redis.command as string[];
    const flag = (name: string) => args[args.indexOf(name) + 1];
    expect(args[0]).toBe('redis-server');
    expect(flag('--appendonly')).toBe('yes');
    expect(flag('--maxmemory-policy')).toBe('noeviction');
    expect(redis.volumes).toEqual(['redis-data:/data']);
    expect(Object.keys(compose.volumes)).toContain('redis-data');
  });

  it('every service has a health check, and the bot starts only once Redis is healthy', () => {
    for (const [name, s] of Object.entries(services)) {
      expect([name, Array.isArray(s.healthcheck?.test)]).toEqual([name, true]);
    }
    expect(services.bot!.depends_on.redis.condition).toBe('service_healthy');
    expect(services.bot!.healthcheck.test.join(' ')).toContain('/readyz');
    expect(services.bot!.environment.REDIS_URL).toBe('redis://redis:6379');
  });

  it('no secret is written inline: they come from .env or a $VAR', () => {
    for (const [name, s] of Object.entries(services)) {
      const env = (s.environment ?? {}) as Record<string, string>;
      for (const [key, value] of Object.entries(env))
        if (SECRET_NAME.test(key))
          expect([name, key, value]).toEqual([name, key, expect.stringMatching(/^\$\{\w+/)]);
      if (name !== 'redis') expect(s.env_file).toBe('.env');
    }
    const text = readFileSync(join(ROOT, 'compose.yaml'), 'utf8');
    expect(text).not.toMatch(/xox[bpa]-|xapp-|glsa_|phx_/);
  });

  it('one bot in role all by default; the worker waits behind the split profile', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own ${VAR:-default} syntax.
    expect(services.bot!.environment.DONEDONE_ROLE).toBe('${DONEDONE_BOT_ROLE:-all}');
    expect(services.bot!.profiles).toBeUndefined();
    expect(services.worker!.profiles).toEqual(['split']);
    expect(services.worker!.environment.DONEDONE_ROLE).toBe('worker');
  });
});

describe('Dockerfile', () => {
  it('runs on a supported Node LTS (22 or 24) while package.json and CI stay on Node 20', () => {
    const version = /^ARG NODE_VERSION=(\d+)$/m.exec(dockerfile)?.[1];
    expect(['22', '24']).toContain(version);
    const froms = dockerfile.match(/^FROM .*$/gm) ?? [];
    expect(froms.length).toBe(2);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own ${ARG} syntax.
    for (const from of froms) expect(from).toContain('node:${NODE_VERSION}-');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.engines.node).toBe('>=20');
  });

  it('starts node itself on dist/main.js with npm start’s flags, with source maps on and the maps built', () => {
    const cmd = /^CMD \[(.*)\]$/m.exec(dockerfile)?.[1];
    expect(cmd).toBeDefined();
    const args = JSON.parse(`[${cmd}]`) as string[];
    // The image runs what `npm start` runs (the benchmarks take their flags from there), without npm.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(args.join(' ')).toBe(pkg.scripts.start);
    expect(args.at(-1)).toBe('dist/main.js');
    expect(dockerfile).toMatch(/^ENV NODE_OPTIONS=--enable-source-maps$/m);
    const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8'));
    expect(build.compilerOptions.sourceMap).toBe(true);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\/readyz/m);
  });
});
