/** Terminal output: colour only for a TTY and never under NO_COLOR (https://no-color.org). */
import { writeAllSync } from "./write-sync.ts";

const useColor = (): boolean =>
  !("NO_COLOR" in process.env && process.env.NO_COLOR !== "") &&
  process.env.TERM !== "dumb" &&
  Boolean(process.stderr.isTTY);

const paint =
  (open: number, close: number) =>
  (s: string): string =>
    useColor() ? `\x1b[${open}m${s}\x1b[${close}m` : s;

export const bold = paint(1, 22);
export const red = paint(31, 39);
export const yellow = paint(33, 39);
export const dim = paint(2, 22);

export const isDebug = (): boolean => process.env.GALLEY_LOG === "debug";

/** Progress and notes go to stderr so that stdout stays machine-readable. */
export function note(message: string): void {
  process.stderr.write(`${bold("galley:")} ${message}\n`);
}

export function warn(message: string): void {
  process.stderr.write(`${yellow("galley: warning:")} ${message}\n`);
}

export function debug(message: string): void {
  // Synchronous: the wrapper exits at once when it is done.
  if (isDebug()) writeAllSync(2, `${dim(`galley: debug: ${message}`)}\n`);
}
