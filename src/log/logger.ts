/** A small structured logger: one JSON line per record, secrets redacted by key name. */
export type Level = 'debug' | 'info' | 'warn' | 'error';
export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /token|secret|password|authorization/i;

export interface LoggerOptions {
  /** Lowest level written. Default `info`, or `MESHBOT_LOG_LEVEL`. */
  level?: Level;
  /** Where lines go. Default: standard error. */
  write?: (line: string) => void;
}

export function createLogger(opts: LoggerOptions = {}, base: Fields = {}): Logger {
  const level = opts.level ?? (process.env.MESHBOT_LOG_LEVEL as Level | undefined) ?? 'info';
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (lvl: Level, msg: string, fields?: Fields) => {
    if (ORDER[lvl] < (ORDER[level] ?? 20)) return;
    const record = { t: new Date().toISOString(), level: lvl, msg, ...base, ...fields };
    write(JSON.stringify(record, redact));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (f) => createLogger(opts, { ...base, ...f }),
  };
}

function redact(key: string, value: unknown): unknown {
  if (SECRET_KEY.test(key) && typeof value === 'string') return '[redacted]';
  if (value instanceof Error) {
    const e = value as Error & { code?: string; id?: string };
    return { name: e.name, message: e.message, code: e.code, id: e.id };
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** A logger that drops everything, for unit tests. */
export const silentLogger: Logger = createLogger({ write: () => {} });
