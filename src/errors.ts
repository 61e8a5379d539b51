/**
 * Typed errors: every failure a user can cause ends as one clear line (what, where, what to do)
 * and a documented exit code. Anything else is a bug and is reported as such.
 */

/** Exit codes, documented in README.md ("Exit codes"). */
export const ExitCode = {
  ok: 0,
  /** A failure of the work itself that is not one of the below. */
  failure: 1,
  /** The command line is wrong: unknown flag, missing value, conflicting flags. */
  usage: 2,
  /** The input is wrong: unreadable or invalid Cargo.toml, Cargo.lock, recipe, ... */
  input: 3,
  /** galley refused to do something that would lose user data (use --force). */
  refused: 4,
  /** A bug in galley. */
  internal: 70,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class GalleyError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.failure,
    /** What the user can do about it; printed on its own line. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = "GalleyError";
  }
}

export class UsageError extends GalleyError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.usage, hint);
    this.name = "UsageError";
  }
}

export class InputError extends GalleyError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.input, hint);
    this.name = "InputError";
  }
}

export class RefusedError extends GalleyError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.refused, hint);
    this.name = "RefusedError";
  }
}

/** A child process (cargo) failed: galley exits with its code; its messages were already shown. */
export class ChildFailed extends GalleyError {
  constructor(what: string, code: number) {
    super(`${what} failed with exit code ${code}`, code === 0 ? ExitCode.failure : code);
    this.name = "ChildFailed";
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
