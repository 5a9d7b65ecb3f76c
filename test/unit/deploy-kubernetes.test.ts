import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import {
  DEPLOY,
  kubernetesErrors,
  kubernetesValidators,
  type Manifest,
  readYaml,
  renderKustomization,
} from '../support/deploy-files';

const validators = kubernetesValidators();
const rendered = renderKustomization(join(DEPLOY, 'kubernetes'));
const docs = rendered.map((r) => r.doc);
const secretExample = readYaml(join(DEPLOY, 'kubernetes', 'secret.example.yaml'))[0]!;
const argo = [
  'analysistemplate-feature-gate.yaml',
  'analysistemplate-canary.yaml',
  'rollout.example.yaml',
].flatMap((f) => readYaml(join(DEPLOY, 'argo', f)));

function one(kind: string, name: string): Manifest {
  const found = docs.filter((d) => d.kind === kind && d.metadata.name === name);
  expect(found).toHaveLength(1);
  return found[0]!;
}

const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('the Kubernetes base, schema-checked offline', () => {
  it('renders the kinds a platform engineer expects', () => {
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual([
      'ConfigMap/donedone-config',
      'Deployment/donedone-bot',
      'Deployment/donedone-worker',
      'PodDisruptionBudget/donedone-bot',
      'Service/donedone',
      'Service/donedone-worker',
      'ServiceAccount/donedone',
      'ServiceMonitor/donedone',
    ]);
  });

  it.each(rendered.map((r) => [r.file, r.doc] as const))(
    '%s is valid against its pinned schema',
    (_file, doc) => {
      expect(kubernetesErrors(validators, doc)).toEqual([]);
    },
  );

  it('the example Secret and the Argo Rollouts objects are valid too', () => {
    for (const doc of [secretExample, ...argo]) expect(kubernetesErrors(validators, doc)).toEqual([]);
  });

  it('the schemas refuse a misspelt field, a wrong type and a missing required field', () => {
    const bot = structuredClone(one('Deployment', 'donedone-bot'));
    bot.spec.template.spec.containers[0].livenesProbe = bot.spec.template.spec.containers[0].livenessProbe;
    expect(kubernetesErrors(validators, bot).join('\n')).toMatch(/additionalProperty.*livenesProbe/);
    const port = structuredClone(one('Deployment', 'donedone-bot'));
    port.spec.template.spec.containers[0].ports[0].containerPort = 'three thousand';
    expect(kubernetesErrors(validators, port).join('\n')).toMatch(/containerPort must be integer/);
    const noSelector = structuredClone(one('Deployment', 'donedone-bot'));
    delete noSelector.spec.selector;
    expect(kubernetesErrors(validators, noSelector).join('\n')).toMatch(/required.*selector/);
    const monitor = structuredClone(one('ServiceMonitor', 'donedone'));
    monitor.spec.endpoints[0].intervall = '30s';
    expect(kubernetesErrors(validators, monitor).join('\n')).toMatch(/intervall/);
    const template = structuredClone(argo.find((d) => d.kind === 'AnalysisTemplate')!);
    template.spec.metrics[0].provider.web.timeoutSecond = 90;
    expect(kubernetesErrors(validators, template).join('\n')).toMatch(/timeoutSecond/);
  });

  it('probes: liveness on /livez, readiness on /readyz, on the named port the Service targets', () => {
    for (const name of ['donedone-bot', 'donedone-worker']) {
      const c = one('Deployment', name).spec.template.spec.containers[0];
      expect(c.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'http' });
      expect(c.startupProbe.httpGet).toEqual({ path: '/livez', port: 'http' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(c.ports).toEqual([{ name: 'http', containerPort: 3000, protocol: 'TCP' }]);
      expect(c.resources.requests.memory).toBeDefined();
      expect(c.resources.limits.memory).toBeDefined();
    }
  });

  it('one bot in role all today; the worker is prepared but has no replicas until DONEDONE_ROLE exists', () => {
    const role = (d: Manifest) =>
      d.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'DONEDONE_ROLE').value;
    expect(role(one('Deployment', 'donedone-bot'))).toBe('all');
    expect(one('Deployment', 'donedone-bot').spec.replicas).toBeGreaterThanOrEqual(2);
    expect(role(one('Deployment', 'donedone-worker'))).toBe('worker');
    expect(one('Deployment', 'donedone-worker').spec.replicas).toBe(0);
  });

  it('selectors line up: Services, the PodDisruptionBudget and the ServiceMonitor find the pods they mean', () => {
    const bot = one('Deployment', 'donedone-bot');
    const worker = one('Deployment', 'donedone-worker');
    for (const d of [bot, worker])
      expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
    const botLabels = bot.spec.template.metadata.labels;
    const workerLabels = worker.spec.template.metadata.labels;
    expect(matches(one('Service', 'donedone').spec.selector, botLabels)).toBe(true);
    expect(matches(one('Service', 'donedone').spec.selector, workerLabels)).toBe(false);
    expect(matches(one('Service', 'donedone-worker').spec.selector, workerLabels)).toBe(true);
    const pdb = one('PodDisruptionBudget', 'donedone-bot');
    expect(matches(pdb.spec.selector.matchLabels, botLabels)).toBe(true);
    // minAvailable below the replicas, or a drain could never evict a bot pod.
    expect(pdb.spec.minAvailable).toBeLessThan(bot.spec.replicas);
    const monitor = one('ServiceMonitor', 'donedone');
    const services = docs.filter((d) => d.kind === 'Service');
    for (const s of services) {
      expect(matches(monitor.spec.selector.matchLabels, s.metadata.labels)).toBe(true);
      expect(s.spec.ports.map((p: { name: string }) => p.name)).toContain(monitor.spec.endpoints[0].port);
    }
    expect(monitor.spec.endpoints[0].path).toBe('/metrics');
  });

  it('settings come from the ConfigMap and the Secret, and together they make a configuration the bot accepts', () => {
    for (const name of ['donedone-bot', 'donedone-worker']) {
      const spec = one('Deployment', name).spec.template.spec;
      expect(spec.containers[0].envFrom).toEqual([
        { configMapRef: { name: 'donedone-config' } },
        { secretRef: { name: secretExample.metadata.name } },
      ]);
      expect(spec.serviceAccountName).toBe('donedone');
    }
    const config = loadConfig({ ...one('ConfigMap', 'donedone-config').data, ...secretExample.stringData });
    expect(config.port).toBe(3000);
    expect(config.grafana?.url).toBe(secretExample.stringData.GRAFANA_URL);
    // Nothing secret is in the ConfigMap.
    expect(
      Object.keys(one('ConfigMap', 'donedone-config').data).filter((k) =>
        /TOKEN|SECRET|KEY|REDIS_URL/.test(k),
      ),
    ).toEqual([]);
    // The example Secret is not applied by the kustomization.
    expect(docs.some((d) => d.kind === 'Secret')).toBe(false);
  });
});

describe('the optional Redis (deploy/kubernetes/redis)', () => {
  const redis = renderKustomization(join(DEPLOY, 'kubernetes', 'redis')).map((r) => r.doc);
  const set = redis.find((d) => d.kind === 'StatefulSet')!;
  const service = redis.find((d) => d.kind === 'Service')!;

  it('is valid against the pinned schemas', () => {
    expect(redis.map((d) => d.kind).sort()).toEqual(['Service', 'StatefulSet']);
    for (const doc of redis) expect(kubernetesErrors(validators, doc)).toEqual([]);
  });

  it('keeps every change on a volume, never evicts, and is where the example REDIS_URL points', () => {
    const c = set.spec.template.spec.containers[0];
    const flag = (name: string) => c.args[c.args.indexOf(name) + 1];
    expect(flag('--appendonly')).toBe('yes');
    expect(flag('--maxmemory-policy')).toBe('noeviction');
    expect(flag('--requirepass')).toBe('$(REDIS_PASSWORD)');
    expect(c.volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }]);
    expect(set.spec.volumeClaimTemplates[0].metadata.name).toBe('data');
    expect(matches(service.spec.selector, set.spec.template.metadata.labels)).toBe(true);
    const url = new URL(secretExample.stringData.REDIS_URL);
    expect([url.hostname, url.port]).toEqual([service.metadata.name, String(service.spec.ports[0].port)]);
  });
});

describe('Argo Rollouts: the AnalysisTemplates and the sample Rollout', () => {
  const templates = argo.filter((d) => d.kind === 'AnalysisTemplate');
  const byName = new Map(templates.map((t) => [t.metadata.name as string, t]));
  const gate = byName.get('donedone-feature-gate')!;
  const canary = byName.get('donedone-canary')!;

  it('the gate reads {$.data} with the product contract’s conditions, the token from a Secret', () => {
    const m = gate.spec.metrics[0];
    expect(m.successCondition).toBe('result.ok');
    expect(m.failureCondition).toBe('!result.ok && !result.inconclusive');
    expect(m.provider.web.jsonPath).toBe('{$.data}');
    expect(m.provider.web.url).toBe('{{args.donedone-url}}/api/features/{{args.feature}}/gate');
    expect(m.provider.web.headers).toEqual([{ key: 'Authorization', value: 'Bearer {{args.api-token}}' }]);
    expect(gate.spec.args.find((a: Manifest) => a.name === 'api-token').valueFrom.secretKeyRef).toEqual({
      name: 'donedone-api',
      key: 'token',
    });
  });

  it('the canary reads {$.data}: ok passes, a hold fails, and errors are counted apart', () => {
    const m = canary.spec.metrics[0];
    expect(m.successCondition).toBe('result.ok');
    expect(m.failureCondition).toBe('!result.ok');
    expect(m.provider.web.jsonPath).toBe('{$.data}');
    expect(new URL(m.provider.web.url.replace('{{args.donedone-url}}', 'http://x')).pathname).toBe(
      '/api/canary',
    );
  });

  it('time-outs sit above the bot’s slowest answer; error limits are set, not left to the default', () => {
    // One Prometheus query: 3 attempts of 10 s and two back-offs (src/app.ts, resilient-fetch).
    const prometheusWorstSeconds = 3 * 10 + (0.5 + 1);
    // PostHog: 4 attempts of 10 s and three back-offs.
    const posthogWorstSeconds = 4 * 10 + (0.5 + 1 + 2);
    expect(gate.spec.metrics[0].provider.web.timeoutSeconds).toBeGreaterThan(posthogWorstSeconds);
    expect(canary.spec.metrics[0].provider.web.timeoutSeconds).toBeGreaterThan(prometheusWorstSeconds);
    for (const t of templates) expect(t.spec.metrics[0].consecutiveErrorLimit).toBeGreaterThan(0);
  });

  it('every {{args.x}} a template uses is declared', () => {
    for (const t of templates) {
      const declared = new Set(t.spec.args.map((a: Manifest) => a.name));
      const used = [...JSON.stringify(t.spec.metrics).matchAll(/\{\{args\.([\w-]+)\}\}/g)].map((m) => m[1]);
      expect(used.length).toBeGreaterThan(0);
      for (const name of used) expect(declared).toContain(name);
    }
  });

  it('the sample Rollout names existing templates and gives every argument that has no default', () => {
    const rollout = argo.find((d) => d.kind === 'Rollout')!;
    const steps = rollout.spec.strategy.canary.steps.filter((s: Manifest) => s.analysis);
    expect(steps.map((s: Manifest) => s.analysis.templates[0].templateName)).toEqual([
      'donedone-canary',
      'donedone-feature-gate',
    ]);
    for (const s of steps) {
      const t = byName.get(s.analysis.templates[0].templateName)!;
      const given = new Set((s.analysis.args ?? []).map((a: Manifest) => a.name));
      const needed = t.spec.args
        .filter((a: Manifest) => a.value === undefined && !a.valueFrom)
        .map((a: Manifest) => a.name);
      for (const name of needed) expect(given).toContain(name);
    }
    expect(
      kubernetesErrors(validators, {
        ...rollout,
        spec: { ...rollout.spec, strategy: { canary: { stepz: [] } } },
      }),
    ).not.toEqual([]);
  });
});
