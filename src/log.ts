import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs. Anything that could carry a credential is redacted by path, and the
 * code never logs tokens, API keys or request headers in the first place.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'donedone' },
      redact: {
        paths: [
          'token',
          'apiKey',
          'authorization',
          '*.token',
          '*.apiKey',
          '*.authorization',
          'headers',
          '*.headers',
        ],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
