import { relative } from "node:path";
import { isInside } from "../../../cargo/paths.ts";
import type { RunInst } from "../../parse.ts";
import type { Rule } from "../types.ts";

export const rule: Rule = {
  id: "GL117",
  name: "path-dependency-outside-context",
  severity: "error",
  summary: "the project has path dependencies outside the build context, so the planner cannot see them",
  why:
    "A Docker build sees only its build context. A package that depends on a crate beside the project " +
    '(`path = "../../shared-lib"`, common in monorepos) points outside it when the context is the ' +
    "project's own directory: `COPY . .` cannot bring that crate in, `galley prepare` and `cargo chef " +
    "prepare` fail on the missing manifest, and so would cargo. (Checked when lint knows the project: " +
    "`--project`, else the nearest Cargo workspace above the Dockerfile.)",
  fix:
    "Build from a context that holds the project and its path dependencies (their nearest common " +
    "directory), copy the project and each such crate to the same places below the WORKDIR's parent, " +
    "and give the Dockerfile its own `<Dockerfile>.dockerignore` so that only those directories are " +
    "sent. `galley dockerfile` writes all of it and prints the `docker build` line to use.",
  example: {
    bad: '# crates/app/Cargo.toml: shared-lib = { path = "../../../shared-lib" }\n# docker build .\nFROM rust:1.90 AS planner\nWORKDIR /app\nCOPY . .\nRUN galley prepare --recipe-path recipe.json',
    good: "# docker build -f Dockerfile ..\nFROM rust:1.90 AS planner\nWORKDIR /app/ws\nCOPY ws/ /app/ws/\nCOPY shared-lib/ /app/shared-lib/\nRUN galley prepare --recipe-path recipe.json",
  },
  check({ facts, context, project }) {
    if (!context || !project) return [];
    const outside = project.outside.filter((dir) => !isInside(dir, context.dir));
    if (outside.length === 0) return [];
    // The planner when there is one, else the first step that builds the project.
    const calls = facts
      .runs()
      .flatMap((run: RunInst) => facts.calls(run).map((call) => ({ run, call })))
      .filter(({ call }) => ["prepare", "cook", "build", "compile"].includes(call.action));
    const at = calls.find(({ call }) => call.action === "prepare") ?? calls[0];
    if (!at) return [];
    const names = outside.map((d) => relative(project.root, d)).join(", ");
    return [
      {
        inst: at.run,
        span: at.call.span,
        message: `${at.call.label} cannot see the project's path dependencies ${names}: they are outside the build context ${context.dir}`,
      },
    ];
  },
};
