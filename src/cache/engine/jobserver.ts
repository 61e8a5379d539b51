import { fstatSync } from "node:fs";

/**
 * cargo hands its jobserver to rustc as two inherited file descriptors named in CARGO_MAKEFLAGS;
 * a wrapper must pass them on, or rustc warns and runs without the build's parallelism limits.
 * make names them in MAKEFLAGS but leaves them closed for commands it does not mark as recursive
 * (a compile under CMake's launcher): only descriptors that are open are passed.
 */
export function jobserverFds(env: Record<string, string | undefined>): number[] {
  const flags = `${env.CARGO_MAKEFLAGS ?? ""} ${env.MAKEFLAGS ?? ""}`;
  const m = /--jobserver-(?:fds|auth)=(\d+),(\d+)/.exec(flags);
  return m ? [Number(m[1]), Number(m[2])].filter((fd) => fd > 2 && isOpen(fd)) : [];
}

function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

/** A Bun.spawn stdio array that also passes the jobserver descriptors through. */
export function stdioWithJobserver<T extends string>(
  env: Record<string, string | undefined>,
  std: [T, T, T],
): (T | number | "ignore")[] {
  const fds = jobserverFds(env);
  if (fds.length === 0) return std;
  const stdio: (T | number | "ignore")[] = [...std];
  const max = Math.max(...fds);
  for (let fd = 3; fd <= max; fd++) stdio[fd] = fds.includes(fd) ? fd : "ignore";
  return stdio;
}
