// The one small logger: levelled, structured context, one line per record on stderr.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogContext = Record<string, string | number | boolean | undefined>;

export interface Logger {
  debug(msg: string, ctx?: LogContext): void;
  info(msg: string, ctx?: LogContext): void;
  warn(msg: string, ctx?: LogContext): void;
  error(msg: string, ctx?: LogContext): void;
  child(ctx: LogContext): Logger;
}

let threshold = LEVELS[(process.env.TSSWARM_LOG_LEVEL as LogLevel) ?? 'info'] ?? LEVELS.info;

export function setLogLevel(level: LogLevel): void {
  threshold = LEVELS[level];
}

function format(ctx: LogContext): string {
  let out = '';
  for (const [k, v] of Object.entries(ctx)) if (v !== undefined) out += ` ${k}=${JSON.stringify(v)}`;
  return out;
}

export function createLogger(
  base: LogContext = {},
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  const emit = (level: LogLevel, msg: string, ctx?: LogContext): void => {
    if (LEVELS[level] < threshold) return;
    write(`${new Date().toISOString()} ${level.toUpperCase()} ${msg}${format({ ...base, ...ctx })}\n`);
  };
  return {
    debug: (m, c) => emit('debug', m, c),
    info: (m, c) => emit('info', m, c),
    warn: (m, c) => emit('warn', m, c),
    error: (m, c) => emit('error', m, c),
    child: (c) => createLogger({ ...base, ...c }, write),
  };
}

/** Message of any thrown value, for logs and API errors. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
