import { stageChain } from "../../parse.ts";
import { runsAsNonRoot } from "../images.ts";
import type { Rule } from "../types.ts";

export const rule: Rule = {
  id: "GL201",
  name: "root-user",
  severity: "warning",
  summary: "the final stage runs as root",
  why:
    "Without a USER (or with `USER root` / `USER 0`), the container's process runs as uid 0. A bug in " +
    "the application then hands an attacker root inside the container, with write access to the " +
    "whole image's filesystem and a much shorter way out through any kernel or runtime flaw. (A final " +
    "`scratch` stage without ENTRYPOINT or CMD is taken to be an export stage and not reported.)",
  fix:
    "Create an unprivileged user in the runtime stage and switch to it: `RUN useradd --uid 10001 " +
    "--no-create-home app` then `USER 10001` (numeric ids also work where there is no /etc/passwd).",
  example: {
    bad: 'FROM debian:trixie-slim\nCOPY --from=build /app/app /usr/local/bin/app\nENTRYPOINT ["/usr/local/bin/app"]',
    good: 'FROM debian:trixie-slim\nRUN useradd --uid 10001 --no-create-home app\nCOPY --from=build /app/app /usr/local/bin/app\nUSER 10001\nENTRYPOINT ["/usr/local/bin/app"]',
  },
  check({ facts }) {
    const final = facts.finalStage();
    const user = final.final.user;
    const chain = stageChain(final);
    const instructions = chain.flatMap((s) => s.instructions);
    if (user !== undefined) {
      if (user.includes("$")) return [];
      const name = user.split(":")[0]!.trim();
      if (name !== "root" && name !== "0") return [];
      const last = [...instructions].reverse().find((i) => i.keyword === "USER")!;
      return [
        {
          inst: last,
          span: last.span,
          message: `the final stage runs as ${user}: switch to an unprivileged user`,
        },
      ];
    }
    const base = facts.baseImage(final);
    if (runsAsNonRoot(base)) return [];
    const runs = instructions.some((i) => i.keyword === "ENTRYPOINT" || i.keyword === "CMD");
    if (base.name === "scratch" && !runs) return [];
    return [
      {
        inst: final.from,
        span: final.baseSpan,
        message:
          "the final stage sets no USER, so it runs as root: add USER with an unprivileged (numeric) uid",
      },
    ];
  },
};
