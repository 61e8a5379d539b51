import { expand, isWithin, type RunInst, resolvePath } from "../../parse.ts";
import type { Rule, RuleHit } from "../types.ts";

export const rule: Rule = {
  id: "GL103",
  name: "copy-from-cache-mount",
  severity: "error",
  summary: "COPY --from copies a path that was only ever in a cache mount (it copies nothing)",
  why:
    "A cache mount exists only while its RUN runs; it is not part of the stage's filesystem. A binary " +
    "that `cargo build` wrote into a `target` cache mount is therefore not in the stage, and " +
    "`COPY --from=builder /app/target/release/app` fails (or copies a stale file an earlier layer left).",
  fix:
    "Copy the binary out of the mount in the same RUN (`cargo build --release --locked && cp " +
    "target/release/app /usr/local/bin/app`) and `COPY --from` that path instead.",
  example: {
    bad:
      "FROM rust:1.90 AS build\nWORKDIR /app\nCOPY . .\nRUN --mount=type=cache,target=/app/target cargo build --release --locked\n\n" +
      "FROM debian:trixie-slim\nCOPY --from=build /app/target/release/app /usr/local/bin/app",
    good:
      "FROM rust:1.90 AS build\nWORKDIR /app\nCOPY . .\nRUN --mount=type=cache,target=/app/target \\\n    cargo build --release --locked && cp target/release/app /usr/local/bin/app\n\n" +
      "FROM debian:trixie-slim\nCOPY --from=build /usr/local/bin/app /usr/local/bin/app",
  },
  check({ facts }) {
    const hits: RuleHit[] = [];
    for (const copy of facts.copies()) {
      const source = facts.copySource(copy);
      if (!source) continue;
      const runs = facts
        .chainInstructions(source)
        .filter((i): i is RunInst => i.keyword === "RUN" && "mounts" in i);
      for (const word of copy.sources) {
        const path = resolvePath("/", expand(word.value, copy.env).value);
        const run = runs.find((r) => r.mounts.some((m) => cacheHolds(m, path)));
        if (!run) continue;
        const mount = run.mounts.find((m) => cacheHolds(m, path))!;
        hits.push({
          inst: copy,
          span: word.span,
          message: `${path} is inside the cache mount ${mount.target} (line ${mount.span.start.line}), which is not part of stage ${source.name ?? source.index}: this COPY copies nothing`,
        });
      }
    }
    return hits;
  },
};

function cacheHolds(m: { type: string; target: string | undefined }, path: string): boolean {
  return m.type === "cache" && m.target !== undefined && m.target !== "/" && isWithin(path, m.target);
}
