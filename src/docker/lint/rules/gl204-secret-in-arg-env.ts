import { declarations } from "../../parse.ts";
import type { Rule, RuleHit } from "../types.ts";

export const rule: Rule = {
  id: "GL204",
  name: "secret-in-arg-env",
  severity: "error",
  summary: "an ARG or ENV looks like it carries a secret (TOKEN, SECRET, PASSWORD, *_KEY)",
  why:
    "ENV values are stored in the image's configuration, readable by anyone who can pull it " +
    "(`docker inspect`). Build arguments are recorded too: in the image history of the layers that " +
    "use them and in the build's provenance. A registry token or password passed this way leaks with " +
    "the image. (Names that only point at a secret, such as `*_FILE`, `*_PATH`, `*_ID` and public or " +
    "GPG keys, are not reported.)",
  fix:
    "Pass secrets with BuildKit secret mounts, which never reach a layer: `docker build --secret " +
    "id=cargo_token,env=CARGO_REGISTRY_TOKEN` and `RUN --mount=type=secret,id=cargo_token,env=CARGO_REGISTRY_TOKEN " +
    "cargo build ...`; give runtime secrets to the container when it starts, not to the image.",
  example: {
    bad: "ARG CARGO_REGISTRY_TOKEN\nRUN cargo build --release --locked",
    good: "RUN --mount=type=secret,id=cargo_token,env=CARGO_REGISTRY_TOKEN cargo build --release --locked",
  },
  check({ file }) {
    const hits: RuleHit[] = [];
    for (const inst of file.instructions) {
      if (inst.keyword !== "ARG" && inst.keyword !== "ENV") continue;
      for (const d of declarations(inst.node)) {
        const name = d.name;
        if (!looksSecret(name)) continue;
        hits.push({
          inst,
          span: d.nameSpan,
          message: `${inst.keyword} ${name} looks like a secret, and ${inst.keyword} values are kept in the image's metadata: use RUN --mount=type=secret`,
        });
      }
    }
    return hits;
  },
};

const SECRET_WORDS = new Set([
  "TOKEN",
  "TOKENS",
  "SECRET",
  "SECRETS",
  "PASSWORD",
  "PASSWORDS",
  "PASSWD",
  "PASSPHRASE",
  "CREDENTIAL",
  "CREDENTIALS",
  "APIKEY",
  "PRIVATEKEY",
]);
const POINTERS = new Set([
  "FILE",
  "PATH",
  "DIR",
  "ID",
  "NAME",
  "URL",
  "ENDPOINT",
  "HEADER",
  "TYPE",
  "LENGTH",
  "SIZE",
]);
const NOT_SECRET_KEYS = new Set(["PUBLIC", "PUB", "GPG", "PGP"]);

/** Whether a variable name looks like it holds a secret: TOKEN, SECRET, PASSWORD, ... or ends in _KEY. */
export function looksSecret(name: string): boolean {
  const words = name
    .toUpperCase()
    .split(/[_-]+/)
    .filter((w) => w !== "");
  const last = words[words.length - 1];
  if (!last || POINTERS.has(last)) return false;
  if (words.some((w) => SECRET_WORDS.has(w))) return true;
  if (last === "KEY" && words.length > 1)
    return words.includes("PRIVATE") || !words.some((w) => NOT_SECRET_KEYS.has(w));
  return false;
}
