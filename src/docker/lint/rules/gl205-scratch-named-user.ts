import { expand, rootBase, stageChain } from "../../parse.ts";
import type { Rule, RuleHit } from "../types.ts";

export const rule: Rule = {
  id: "GL205",
  name: "scratch-named-user",
  severity: "error",
  summary: "USER names a user (not a numeric id) in a stage built FROM scratch",
  why:
    "A `scratch` image has no /etc/passwd or /etc/group, so the runtime cannot look a user name up " +
    "and the container fails to start (`unable to find user app`). Numeric ids need no lookup. (A " +
    "stage that copies an /etc/passwd in is not reported.)",
  fix: "Use numeric ids (`USER 10001:10001`), or copy /etc/passwd (and /etc/group) from the builder.",
  example: {
    bad: 'FROM scratch\nCOPY --from=build /app/app /app\nUSER app\nENTRYPOINT ["/app"]',
    good: 'FROM scratch\nCOPY --from=build /app/app /app\nUSER 10001:10001\nENTRYPOINT ["/app"]',
  },
  check({ file }) {
    const hits: RuleHit[] = [];
    for (const stage of file.stages) {
      if (rootBase(stage).base.toLowerCase() !== "scratch") continue;
      const chain = stageChain(stage).flatMap((s) => s.instructions);
      for (const inst of stage.instructions) {
        if (inst.keyword !== "USER") continue;
        const raw = (inst.node.getArgumentsContent() ?? "").trim();
        const value = expand(raw, inst.env);
        if (value.unknown.length > 0 || value.value === "") continue;
        const [user, group] = value.value.split(":");
        const named = [user, group].filter((p) => p !== undefined && p !== "" && !/^\d+$/.test(p));
        if (named.length === 0) continue;
        const before = chain.slice(0, chain.indexOf(inst));
        const passwd = before.some(
          (i) =>
            (i.keyword === "COPY" || i.keyword === "ADD") &&
            /\/etc\/passwd/.test(i.node.getArgumentsContent() ?? ""),
        );
        if (passwd) continue;
        hits.push({
          inst,
          span: inst.span,
          message: `USER ${value.value} in a scratch stage, which has no /etc/passwd to look ${named.join(" and ")} up: use numeric ids`,
        });
      }
    }
    return hits;
  },
};
