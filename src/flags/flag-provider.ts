import type { FlagProviderName } from '../config';

/** What a flag tool answered to "turn this flag off". Never holds the token. */
export type FlagOutcome =
  | { ok: true; status: number; answer: string }
  | { ok: false; status?: number; reason: string };

/**
 * A flag tool that **Pause rollout** turns a flag off in (LaunchDarkly, Unleash, GrowthBook),
 * each typed from the vendor's OpenAPI document (openapi/) with openapi-fetch.
 */
export interface FlagProvider {
  readonly name: FlagProviderName;
  /** The vendor's name, for people: `LaunchDarkly`. */
  readonly label: string;
  /** The environment flags are turned off in (FLAGS_ENVIRONMENT). */
  readonly environment: string;
  /** Turns `flagKey` off in the environment; failures are answered, never thrown. */
  turnOff(flagKey: string, comment: string): Promise<FlagOutcome>;
}

export interface FlagClientOptions {
  url: string;
  token: string;
  project?: string;
  environment: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/** A fetch with a time-out, so a person pressing Pause hears back within seconds. */
export function timedFetch(base: typeof fetch | undefined, timeoutMs: number): typeof fetch {
  const inner = base ?? fetch;
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    inner(input, { ...init, signal: AbortSignal.timeout(timeoutMs) })) as typeof fetch;
}

/** The vendor's own message from an error body, cut short and with the token removed. */
function vendorMessage(body: unknown, token: string): string {
  const b = body as { message?: unknown; error?: unknown; details?: { message?: unknown }[] } | undefined;
  const raw =
    typeof b?.message === 'string'
      ? b.message
      : typeof b?.error === 'string'
        ? b.error
        : typeof b?.details?.[0]?.message === 'string'
          ? (b.details[0].message as string)
          : typeof body === 'string'
            ? body
            : '';
  const scrubbed = token ? raw.split(token).join('***') : raw;
  const oneLine = scrubbed.replace(/\s+/g, ' ').trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 199)}…` : oneLine;
}

/** A failed answer in words a person can act on, with the status and the vendor's message. */
export function describeFailure(
  label: string,
  status: number,
  body: unknown,
  ctx: { flag: string; environment: string; token: string; retryAfter?: string | null },
): FlagOutcome {
  const said = vendorMessage(body, ctx.token);
  const quoted = said ? ` ("${said}")` : '';
  let reason: string;
  if (status === 401) reason = `${label} refused the token (HTTP 401${quoted}): check FLAGS_TOKEN.`;
  else if (status === 403)
    reason = `${label} does not let this token change flags in ${ctx.environment} (HTTP 403${quoted}).`;
  else if (status === 404)
    reason = `${label} has no flag \`${ctx.flag}\` there (HTTP 404${quoted}): check the key linked with \`/donedone flag\`, FLAGS_PROJECT and FLAGS_ENVIRONMENT.`;
  else if (status === 429) {
    const wait = ctx.retryAfter && /^\d+$/.test(ctx.retryAfter) ? ` in ${ctx.retryAfter} s` : ' in a minute';
    reason = `${label} is rate limiting (HTTP 429${quoted}): press again${wait}.`;
  } else if (status >= 500)
    reason = `${label} had an error (HTTP ${status}${quoted}): press again in a minute.`;
  else reason = `${label} refused the change (HTTP ${status}${quoted}).`;
  return { ok: false, status, reason };
}

/** A network failure or time-out, in words. */
export function unreachable(label: string, err: unknown, token: string): FlagOutcome {
  const message =
    err instanceof Error ? (err.name === 'TimeoutError' ? 'timed out' : err.message) : String(err);
  return {
    ok: false,
    reason: `${label} could not be reached (${message.split(token).join('***')}): press again in a minute.`,
  };
}
