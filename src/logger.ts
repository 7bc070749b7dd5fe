import { pino, type Logger } from 'pino';

export type { Logger };

/** `json`: one JSON object per line (log shippers); `pretty`: one readable line per entry (a terminal). */
export type LogFormat = 'json' | 'pretty';

const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/**
 * `LOG_FORMAT` when set, else `pretty` on a terminal and `json` otherwise (a pipe, a file, a
 * container log driver). Throws on a value that is neither, naming the variable.
 */
export function resolveLogFormat(environment: NodeJS.ProcessEnv, isTTY: boolean): LogFormat {
  const value = environment['LOG_FORMAT'];
  if (value === undefined || value === '') return isTTY ? 'pretty' : 'json';
  const format = LOG_FORMATS.find((candidate) => candidate === value);
  if (!format) throw new TypeError(`LOG_FORMAT: must be "json" or "pretty", got "${value}"`);
  return format;
}

/**
 * One logger for the process; modules take children of it (`logger.child({ module })`). Both
 * formats carry the same fields: `pretty` only renders them for a person (local time, level,
 * module, message, then the other fields as key=value), synchronously and without a worker thread.
 */
export function createLogger(level: string, format: LogFormat | boolean = 'json'): Logger {
  const pretty = format === true || format === 'pretty';
  const options = {
    level,
    base: { service: 'pulse' },
    redact: { paths: ['req.headers.authorization', 'password', '*.password'], censor: '[redacted]' },
  };
  if (!pretty) return pino(options);
  const colors = Boolean(process.stdout.isTTY) && !process.env['NO_COLOR'];
  return pino(options, { write: (line: string) => void process.stdout.write(formatLogLine(line, colors)) });
}

const LEVELS: Record<number, { name: string; color: string }> = {
  10: { name: 'TRACE', color: '90' },
  20: { name: 'DEBUG', color: '36' },
  30: { name: 'INFO', color: '32' },
  40: { name: 'WARN', color: '33' },
  50: { name: 'ERROR', color: '31' },
  60: { name: 'FATAL', color: '35' },
};

/** Fields every line has or that the line's layout already shows. */
const LAYOUT_KEYS = new Set(['level', 'time', 'msg', 'service', 'module', 'pid', 'hostname', 'err']);

const paint = (colors: boolean, code: string, text: string) => (colors ? `\u001b[${code}m${text}\u001b[0m` : text);

function clock(epochMs: unknown): string {
  const date = typeof epochMs === 'number' ? new Date(epochMs) : new Date();
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function fieldValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string' || typeof item === 'number')) return value.join(',');
  return JSON.stringify(value);
}

/**
 * Renders one pino JSON line for a terminal: `14:02:03.481 INFO  [mqtt-broker] message key=value`.
 * An error's message follows the line and its stack is indented below it.
 */
export function formatLogLine(line: string, colors = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = LEVELS[Number(entry['level'])] ?? { name: String(entry['level']), color: '37' };
  const parts = [paint(colors, '90', clock(entry['time'])), paint(colors, level.color, level.name.padEnd(5))];
  if (typeof entry['module'] === 'string') parts.push(paint(colors, '36', `[${entry['module']}]`));
  if (entry['msg'] !== undefined) parts.push(String(entry['msg']));
  const fields = Object.entries(entry)
    .filter(([key, value]) => !LAYOUT_KEYS.has(key) && value !== undefined)
    .map(([key, value]) => `${paint(colors, '90', `${key}=`)}${fieldValue(value)}`);
  if (fields.length > 0) parts.push(fields.join(' '));
  let text = parts.join(' ');
  const err = entry['err'] as { type?: string; message?: string; stack?: string } | undefined;
  if (err && typeof err === 'object') {
    text += ` ${paint(colors, level.color, `${err.type ?? 'Error'}: ${err.message ?? ''}`)}`;
    const frames = (err.stack ?? '').split('\n').filter((frame) => frame.trimStart().startsWith('at '));
    if (frames.length > 0) text += `\n${paint(colors, '90', frames.map((frame) => `    ${frame.trim()}`).join('\n'))}`;
  }
  return `${text}\n`;
}
