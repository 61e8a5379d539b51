import type { CopyInst, Inst, RunInst, Span } from "../../parse.ts";
import { copiesWholeContext } from "../facts.ts";
import type { Rule } from "../types.ts";

export const rule: Rule = {
  id: "GL114",
  name: "dockerignore-target",
  severity: "warning",
  summary: "the build context sends target/ (no .dockerignore, or one that does not exclude it)",
  why:
    "`COPY . .` copies the whole build context, and without a `.dockerignore` that includes your local " +
    "`target/` directory: often gigabytes to send to the builder on every build, copied into the " +
    "image, and a changed file in it invalidates the COPY layer and everything after it even when no " +
    "source changed. (Checked only when the build context is known: the Dockerfile's directory, or " +
    "the nearest one above it with a Cargo.toml, or `--context`.)",
  fix:
    "Add a `.dockerignore` beside the build context with at least `target/` (and `.git/`); " +
    "`galley dockerfile` writes one.",
  example: {
    bad: "# .dockerignore is missing\nCOPY . .",
    good: "# .dockerignore:\n#   target/\n#   .git/\nCOPY . .",
  },
  check({ facts, context }) {
    if (!context) return [];
    let anchor: { inst: Inst; span: Span } | undefined;
    for (const inst of facts.file.instructions) {
      if (
        (inst.keyword === "COPY" || inst.keyword === "ADD") &&
        "sources" in inst &&
        copiesWholeContext(inst as CopyInst)
      ) {
        anchor = { inst, span: inst.span };
        break;
      }
      if (inst.keyword === "RUN" && "mounts" in inst) {
        const m = (inst as RunInst).mounts.find(
          (x) => x.type === "bind" && x.from === undefined && /^(\.|\.\/|)$/.test(x.source ?? ""),
        );
        if (m) {
          anchor = { inst, span: m.span };
          break;
        }
      }
    }
    if (!anchor) return [];
    const ignore = context.dockerignore;
    if (!ignore) {
      return [
        {
          ...anchor,
          message: `the build context ${context.dir} has no .dockerignore: target/ is sent and copied too`,
        },
      ];
    }
    if (excludes(ignore.text, "target/release/app")) return [];
    return [
      {
        ...anchor,
        message: `${ignore.path} does not exclude target/: the build output is sent and copied too`,
      },
    ];
  },
};

/** Whether a .dockerignore excludes a path (BuildKit's rules: last match wins, `!` re-includes, `**`). */
export function excludes(text: string, path: string): boolean {
  let excluded = false;
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const negate = line.startsWith("!");
    if (negate) line = line.slice(1).trim();
    line = line.replace(/^\/+/, "").replace(/^\.\//, "").replace(/\/+$/, "");
    if (line === "" || line === ".") continue;
    const re = patternRegex(line);
    const parts = path.split("/");
    const matched = parts.some((_, i) => re.test(parts.slice(0, i + 1).join("/")));
    if (matched) excluded = !negate;
  }
  return excluded;
}

function patternRegex(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        if (pattern[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const close = pattern.indexOf("]", i);
      if (close === -1) re += "\\[";
      else {
        re += `[${pattern.slice(i + 1, close).replace(/^!/, "^")}]`;
        i = close;
      }
    } else if (c === "\\" && i + 1 < pattern.length) {
      i++;
      re += pattern[i]!.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}
