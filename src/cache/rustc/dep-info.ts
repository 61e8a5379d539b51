/** rustc's dep-info (`.d`) files: the sources it read and the env vars it looked at. */

export interface DepInfo {
  files: string[];
  /** `# env-dep:NAME` lines: the variables `env!`/`option_env!` read. */
  env: string[];
}

export function parseDepInfo(text: string): DepInfo {
  const files = new Set<string>();
  const env = new Set<string>();
  for (const line of text.split("\n")) {
    if (line.startsWith("# env-dep:")) {
      const body = line.slice("# env-dep:".length);
      const eq = body.indexOf("=");
      env.add(eq === -1 ? body : body.slice(0, eq));
      continue;
    }
    // "path:" lines (one per source, no dependencies after the colon) list every file read.
    const m = /^(.*[^\\]):\s*$/.exec(line);
    if (m && !line.startsWith("#")) files.add(unescapeMake(m[1]!));
  }
  return { files: [...files].sort(), env: [...env].sort() };
}

function unescapeMake(p: string): string {
  return p.replace(/\\ /g, " ").replace(/\\#/g, "#").replace(/\$\$/g, "$");
}
