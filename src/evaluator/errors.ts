import { MeshError, type MeshErrorOptions } from '../errors/index.ts';

export interface ConditionErrorOptions extends Omit<MeshErrorOptions, 'retryable'> {
  /** The condition's source text, quoted (shortened) in the message so a user finds it. */
  source?: string;
  /** 0-based character index of the problem in the source, when the parser knows it. */
  position?: number;
  /** Advice shown after the position, e.g. what the author probably meant. */
  hint?: string;
}

/** Longest stretch of source quoted back into a chat message. */
const QUOTE_MAX = 80;

/**
 * A condition that cannot be compiled or evaluated. Never retryable: the same condition on
 * the same value fails the same way, so only the author (or the data) can fix it.
 */
export class ConditionError extends MeshError {
  /** What is wrong, without the source prefix; used to re-wrap with the source later. */
  readonly problem: string;
  readonly source: string | undefined;
  readonly position: number | undefined;
  readonly hint: string | undefined;

  constructor(problem: string, opts: ConditionErrorOptions = {}) {
    const message = formatConditionMessage(problem, opts);
    super('BAD_CONDITION', message, { ...opts, retryable: false });
    this.problem = problem;
    this.source = opts.source;
    this.position = opts.position;
    this.hint = opts.hint;
  }
}

/** `condition "len(x": expected ")" at character 5` */
export function formatConditionMessage(
  problem: string,
  { source, position, hint }: ConditionErrorOptions,
): string {
  const where = position === undefined ? '' : ` at character ${position}`;
  const text = `${problem}${where}${hint === undefined ? '' : ` (${hint})`}`;
  if (source === undefined) return text;
  const quoted = source.length > QUOTE_MAX ? `${source.slice(0, QUOTE_MAX)}…` : source;
  return `condition ${JSON.stringify(quoted)}: ${text}`;
}

/** Attaches the condition's source to an error raised without it (by a helper, say). */
export function withSource(err: ConditionError, source: string): ConditionError {
  if (err.source !== undefined) return err;
  const { position, hint } = err;
  // The original cause (a helper's TypeError, say) is what a log reader needs, not our wrapper.
  return new ConditionError(err.problem, { source, position, hint, cause: err.cause ?? err });
}
