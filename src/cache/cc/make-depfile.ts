/** Make-style dependency files (`-MD`): the prerequisites of the first rule. */

export function parseMakeDepfile(text: string): string[] {
  const joined = text.replace(/\\\r?\n/g, " ");
  const firstRule = joined.split(/\r?\n/).find((l) => l.includes(":")) ?? "";
  // The target ends at the first ": " (a Windows drive letter has no space after its colon).
  const colon = firstRule.search(/:(\s|$)/);
  if (colon === -1) return [];
  const deps: string[] = [];
  let current = "";
  const body = firstRule.slice(colon + 1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === "\\" && body[i + 1] === " ") {
      current += " ";
      i++;
    } else if (c === "$" && body[i + 1] === "$") {
      current += "$";
      i++;
    } else if (/\s/.test(c)) {
      if (current) deps.push(current);
      current = "";
    } else current += c;
  }
  if (current) deps.push(current);
  return [...new Set(deps)];
}
