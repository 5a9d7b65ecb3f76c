import { Writable } from 'node:stream';
import { createLogger } from '../../src/log';
import { TelemetryUnavailableError } from '../../src/telemetry/types';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger('info', stream), lines };
}

describe('createLogger', () => {
  it('logs an error object with its type, message, stack and own fields', () => {
    const { log, lines } = capture();
    const err = new TelemetryUnavailableError('posthog', 'rate limit reached', 42_000);
    log.warn({ err }, 'check could not measure');
    const logged = lines[0]?.err as Record<string, unknown>;
    expect(logged.type).toBe('TelemetryUnavailableError');
    expect(logged.message).toBe('posthog: rate limit reached');
    expect(String(logged.stack)).toContain('log.test.ts');
    expect(logged.retryAfterMs).toBe(42_000);
  });

  it('keeps the cause, and still redacts headers an error carries', () => {
    const { log, lines } = capture();
    const err = Object.assign(new Error('upload failed', { cause: new Error('socket hang up') }), {
      headers: { authorization: 'Bearer xoxb-SECRET' },
    });
    log.error({ error: err }, 'chart upload failed');
    const logged = lines[0]?.error as Record<string, unknown>;
    expect(String(logged.stack)).toContain('socket hang up');
    expect(JSON.stringify(lines[0])).not.toContain('xoxb-SECRET');
  });
});
