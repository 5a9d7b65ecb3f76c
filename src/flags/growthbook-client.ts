import createClient from 'openapi-fetch';
import type { paths } from '../telemetry/generated/growthbook';
import {
  describeFailure,
  type FlagClientOptions,
  type FlagOutcome,
  type FlagProvider,
  timedFetch,
  unreachable,
} from './flag-provider';

/** GrowthBook: `POST /api/v1/features/{id}/toggle` with `{environments: {<env>: false}}`. */
export class GrowthBookClient implements FlagProvider {
  readonly name = 'growthbook' as const;
  readonly label = 'GrowthBook';
  readonly environment: string;
  private readonly client;

  constructor(private readonly opts: FlagClientOptions) {
    this.environment = opts.environment;
    this.client = createClient<paths>({
      baseUrl: opts.url,
      headers: { Authorization: `Bearer ${opts.token}` },
      fetch: timedFetch(opts.fetch, opts.timeoutMs ?? 10_000),
    });
  }

  async turnOff(flagKey: string, comment: string): Promise<FlagOutcome> {
    try {
      const { data, error, response } = await this.client.POST('/api/v1/features/{id}/toggle', {
        params: { path: { id: flagKey } },
        body: { reason: comment, environments: { [this.environment]: false } },
      });
      if (response.ok) {
        const enabled = data?.feature.environments?.[this.environment]?.enabled;
        return {
          ok: true,
          status: response.status,
          answer: `HTTP ${response.status}${enabled === false ? `, ${this.environment} disabled` : ''}`,
        };
      }
      return describeFailure(this.label, response.status, error, {
        flag: flagKey,
        environment: this.environment,
        token: this.opts.token,
        retryAfter: response.headers.get('retry-after'),
      });
    } catch (err) {
      return unreachable(this.label, err, this.opts.token);
    }
  }
}
