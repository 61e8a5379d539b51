import { execForm, type Inst, stageChain } from "../../parse.ts";
import type { Rule, RuleHit } from "../types.ts";

export const rule: Rule = {
  id: "GL203",
  name: "shell-form-entrypoint",
  severity: "warning",
  summary: "ENTRYPOINT or CMD of the final stage is in shell form",
  why:
    "`ENTRYPOINT /usr/local/bin/app` runs as `/bin/sh -c '/usr/local/bin/app'`: the shell is PID 1, " +
    "the application never receives the SIGTERM of `docker stop` or a Kubernetes rollout and is killed " +
    "after the grace period, without a clean shutdown. In an image without a shell (`scratch`, " +
    "distroless) it does not start at all. A shell-form CMD after an exec-form ENTRYPOINT is passed to " +
    "it as `/bin/sh -c ...` arguments.",
  fix:
    'Use the exec (JSON) form: `ENTRYPOINT ["/usr/local/bin/app"]`, `CMD ["--port", "8080"]`. Where a ' +
    "shell is needed, end it with `exec` so the application replaces it.",
  example: {
    bad: "ENTRYPOINT /usr/local/bin/app --port 8080",
    good: 'ENTRYPOINT ["/usr/local/bin/app", "--port", "8080"]',
  },
  check({ facts, file }) {
    const hits: RuleHit[] = [];
    const instructions = stageChain(facts.finalStage()).flatMap((s) => s.instructions);
    for (const keyword of ["ENTRYPOINT", "CMD"]) {
      const last = [...instructions].reverse().find((i) => i.keyword === keyword);
      if (!last) continue;
      const args = last.node.getArguments();
      if (args.length === 0) continue;
      const start = toPos(args[0]!.getRange().start);
      if (execForm(file, start, last.span.end)) continue;
      const text = (last.node.getArgumentsContent() ?? "").trim();
      if (/^exec\s/.test(text)) continue;
      const looksJson = text.startsWith("[");
      hits.push({
        inst: last,
        span: { start, end: last.span.end },
        message: looksJson
          ? `${keyword} is not valid JSON, so Docker runs it in shell form: fix the JSON array`
          : `${keyword} in shell form runs under /bin/sh -c: the app does not get SIGTERM; use the exec form ${suggest(last)}`,
      });
    }
    return hits;
  },
};

const toPos = (p: { line: number; character: number }) => ({ line: p.line + 1, column: p.character + 1 });

function suggest(inst: Inst): string {
  const words = (inst.node.getArgumentsContent() ?? "").trim().split(/\s+/);
  if (words.some((w) => /["'$|&;<>()`\\]/.test(w))) return '["..."]';
  const json = JSON.stringify(words).replace(/","/g, '", "');
  return json.length <= 60 ? json : '["..."]';
}
