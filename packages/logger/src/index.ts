/**
 * The one logger: pino, structured, with secrets redacted wherever they sit.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Paths pino censors in every log object (bot token, webhook URLs, admin token, auth headers). */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'botToken',
  '*.botToken',
  'adminToken',
  '*.adminToken',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'url',
  '*.url',
  'webhookUrl',
  '*.webhookUrl',
  'DISCORD_BOT_TOKEN',
  'ADMIN_TOKEN',
];

const WEBHOOK_URL = /(\/webhooks\/\d+\/)[\w-]+/g;
const BOT_HEADER = /(Bot|Bearer)\s+[\w.\-~+/]+=*/g;

/** Masks webhook tokens and Authorization values inside free text (error messages). */
export function scrubSecrets(text: string): string {
  return text.replace(WEBHOOK_URL, '$1***').replace(BOT_HEADER, '$1 ***');
}

export interface CreateLoggerOptions {
  name: string;
  level?: string;
  /** Human-readable single-line output (development). */
  pretty?: boolean;
  /**
   * ANSI colours in pretty output. Default false: log files and pipes get
   * plain text; entry points pass {@link shouldColorize} of their stdout.
   */
  colorize?: boolean;
  /** Extra literal secrets (the bot token value, say) to censor wherever they appear in messages. */
  secrets?: readonly string[];
  destination?: NodeJS.WritableStream;
}

/**
 * Whether output to `stream` should carry ANSI colours, by the usual
 * conventions: `NO_COLOR` (any value) turns them off, `FORCE_COLOR` (other
 * than `0`) on, else only a terminal gets them. `env` is passed in
 * (`process.env` at the entry point), so this module reads no environment.
 */
export function shouldColorize(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0';
  return stream.isTTY === true;
}

/** Creates a pino logger whose output never carries a secret. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 8);
  const scrub = (value: string): string => {
    let out = scrubSecrets(value);
    for (const secret of secrets) out = out.split(secret).join('***');
    return out;
  };
  const config: LoggerOptions = {
    name: options.name,
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((a) => (typeof a === 'string' ? scrub(a) : a));
        method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
    serializers: {
      err: (err: unknown) => {
        const s = pino.stdSerializers.err(err as Error);
        if (typeof s.message === 'string') s.message = scrub(s.message);
        if (typeof s.stack === 'string') s.stack = scrub(s.stack);
        return s;
      },
    },
  };
  if (options.pretty && !options.destination) {
    return pino({
      ...config,
      transport: {
        target: 'pino-pretty',
        options: { colorize: options.colorize ?? false, singleLine: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return options.destination ? pino(config, options.destination) : pino(config);
}
