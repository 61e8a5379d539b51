/** True for the `bun build --compile` executable (false when run from source by bun). */
export function isCompiled(): boolean {
  return Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:\\~BUN\\");
}
