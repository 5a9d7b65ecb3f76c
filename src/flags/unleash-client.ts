import createClient from 'openapi-fetch';
import type { paths } from '../telemetry/generated/unleash';
import {
  describeFailure,
  type FlagClientOptions,
  type FlagOutcome,
  type FlagProvider,
  timedFetch,
  unreachable,
} from './flag-provider';

/** Unleash: `POST /api/admin/projects/{project}/features/{feature}/environments/{env}/off`. */
export class UnleashClient implements FlagProvider {
  readonly name = 'unleash' as const;
  readonly label = 'Unleash';
  readonly environment: string;
  private readonly client;

  constructor(private readonly opts: FlagClientOptions) {
    this.environment = opts.environment;
    this.client = createClient<paths>({
      baseUrl: opts.url,
      // Unleash's admin and personal tokens go in the Authorization header as they are.
      headers: { Authorization: opts.token },
      fetch: timedFetch(opts.fetch, opts.timeoutMs ?? 10_000),
    });
  }

  async turnOff(flagKey: string): Promise<FlagOutcome> {
    try {
      const { error, response } = await this.client.POST(
        '/api/admin/projects/{projectId}/features/{featureName}/environments/{environment}/off',
        {
          params: {
            path: {
              projectId: this.opts.project ?? 'default',
              featureName: flagKey,
              environment: this.environment,
            },
          },
          // The answer has no body.
          parseAs: 'text',
        },
      );
      if (response.ok) return { ok: true, status: response.status, answer: `HTTP ${response.status}` };
      let body: unknown = error;
      try {
        body = typeof error === 'string' && error ? JSON.parse(error) : error;
      } catch {
        // keep the text
      }
      return describeFailure(this.label, response.status, body, {
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
