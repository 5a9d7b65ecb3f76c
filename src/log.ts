import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs. Anything that could carry a credential is redacted by path, and the
 * code never logs tokens, API keys or request headers in the first place. Errors are logged as
 * objects under `err` (or `error`): pino's error serializer keeps their type, message, stack,
 * causes and own fields, so a log line says where an error came from, not only what it said.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'donedone' },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
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
