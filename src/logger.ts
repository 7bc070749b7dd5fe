import { pino, type Logger } from 'pino';

export type { Logger };

/** One structured JSON logger for the process; modules take children of it (`logger.child({ module })`). */
export function createLogger(level: string, pretty = false): Logger {
  return pino({
    level,
    base: { service: 'pulse' },
    redact: { paths: ['req.headers.authorization', 'password', '*.password'], censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}
