/**
 * A deadline checked every `tickMs` rather than a timer per deadline: the parent's kill
 * timer of last resort for the task running in a sandbox process. Arming and disarming set a
 * field, so a task's path creates and clears no timer (a timer per task cost about 0.05 ms on
 * the 2-vCPU test VM; Node's http server checks its request timeouts on an interval for the
 * same reason). The price is precision: a deadline fires up to `tickMs` late.
 *
 * One deadline at a time: the runtimes run one task at a time. The check runs while a
 * deadline is armed and stops one tick after, so an idle runtime holds no timer and does not
 * keep the process alive, while a running task does.
 */
export class Watchdog {
  readonly #tickMs: number;
  #timer: NodeJS.Timeout | undefined;
  #armed: { deadline: number; fire: () => void; tick?: () => void } | undefined;

  constructor(tickMs: number) {
    this.#tickMs = tickMs;
  }

  /** Calls `fire` once `ms` have passed, unless the returned disarm comes first; replaces the
   * deadline armed before. `tick`, if given, is called on every check before that (a guard
   * that watches something else than time). */
  arm(ms: number, fire: () => void, tick?: () => void): () => void {
    const armed = { deadline: performance.now() + ms, fire, tick };
    this.#armed = armed;
    this.#timer ??= setTimeout(this.#check, this.#tickMs);
    return () => {
      if (this.#armed === armed) this.#armed = undefined;
    };
  }

  /** Disarms, and drops the timer. */
  stop(): void {
    this.#armed = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #check = (): void => {
    const armed = this.#armed;
    if (armed && performance.now() < armed.deadline) {
      this.#timer?.refresh();
      armed.tick?.();
      return;
    }
    this.#timer = undefined;
    if (!armed) return;
    this.#armed = undefined;
    armed.fire();
  };
}
