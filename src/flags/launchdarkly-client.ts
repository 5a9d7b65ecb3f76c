import createClient from 'openapi-fetch';
import type { paths } from '../telemetry/generated/launchdarkly';
import {
  describeFailure,
  type FlagClientOptions,
  type FlagOutcome,
  type FlagProvider,
  timedFetch,
  unreachable,
} from './flag-provider';

/** LaunchDarkly's semantic patch needs this content type; plain JSON would be read as a JSON patch. */
export const SEMANTIC_PATCH = 'application/json; domain-model=launchdarkly.semanticpatch';

/** LaunchDarkly: `PATCH /api/v2/flags/{project}/{flag}` with the `turnFlagOff` instruction. */
export class LaunchDarklyClient implements FlagProvider {
  readonly name = 'launchdarkly' as const;
  readonly label = 'LaunchDarkly';
  readonly environment: string;
  private readonly client;

  constructor(private readonly opts: FlagClientOptions) {
    this.environment = opts.environment;
    this.client = createClient<paths>({
      baseUrl: opts.url,
      // LaunchDarkly takes the access token itself, without a scheme.
      headers: { Authorization: opts.token },
      fetch: timedFetch(opts.fetch, opts.timeoutMs ?? 10_000),
    });
  }

  async turnOff(flagKey: string, comment: string): Promise<FlagOutcome> {
    try {
      const { error, response } = await this.client.PATCH('/api/v2/flags/{projectKey}/{featureFlagKey}', {
        params: { path: { projectKey: this.opts.project ?? 'default', featureFlagKey: flagKey } },
        headers: { 'Content-Type': SEMANTIC_PATCH },
        body: { environmentKey: this.environment, comment, instructions: [{ kind: 'turnFlagOff' }] },
      });
      if (response.ok) return { ok: true, status: response.status, answer: `HTTP ${response.status}` };
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
