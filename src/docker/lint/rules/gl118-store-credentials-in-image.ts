import { declarations, type LogicalText } from "../../parse.ts";
import type { Rule, RuleHit } from "../types.ts";
import { looksSecret } from "./gl204-secret-in-arg-env.ts";

export const rule: Rule = {
  id: "GL118",
  name: "store-credentials-in-image",
  severity: "error",
  summary:
    "credentials of a shared compiler cache (S3, Redis, WebDAV) passed by ARG, ENV, a RUN's text or a COPY",
  why:
    "A shared cache store (galley's GALLEY_STORE, sccache's SCCACHE_BUCKET or SCCACHE_REDIS) needs " +
    "credentials that can write to it. Given as an ARG or ENV (AWS_ACCESS_KEY_ID, a redis:// URL with " +
    "a password), set in a RUN's command text, or copied in as a file (~/.aws/credentials), they are " +
    "kept in the image's metadata, history or layers: whoever can pull the image can write to the " +
    "cache, and so put their own outputs into everyone's builds.",
  fix:
    "Pass them as a BuildKit secret: `RUN --mount=type=secret,id=galley-store cargo build …` with " +
    "`docker build --secret id=galley-store,src=galley-store.env` (KEY=VALUE lines that galley reads " +
    "from /run/secrets/galley-store), or `--mount=type=secret,id=aws,target=/root/.aws/credentials`. " +
    "`galley dockerfile --store URL` writes such a Dockerfile.",
  example: {
    bad: "ENV GALLEY_STORE=redis://:hunter2@cache:6379\nRUN cargo build --release --locked",
    good: "ENV GALLEY_STORE=redis://cache:6379\nRUN --mount=type=secret,id=galley-store cargo build --release --locked",
  },
  check({ file, facts }) {
    const hits: RuleHit[] = [];
    for (const inst of file.instructions) {
      if (inst.keyword !== "ARG" && inst.keyword !== "ENV") continue;
      for (const d of declarations(inst.node)) {
        const problem = declarationProblem(d.name, d.value);
        if (problem)
          hits.push({
            inst,
            span: d.nameSpan,
            message: `${inst.keyword} ${d.name} ${problem}, kept in the image's metadata: pass it with RUN --mount=type=secret`,
          });
      }
    }
    for (const run of facts.runs()) {
      for (const text of [run.script, ...run.heredocScripts]) {
        if (!text) continue;
        for (const m of INLINE.flatMap((re) => [...text.text.matchAll(re)])) {
          const at = m.index + m[0].indexOf(m[1]!);
          hits.push({
            inst: run,
            span: spanOf(text, at, m[1]!.length),
            message: `RUN sets ${m[1]} in its command text, which is kept in the image's history: pass it with RUN --mount=type=secret`,
          });
        }
      }
    }
    for (const copy of facts.copies()) {
      for (const src of copy.sources) {
        if (!CREDENTIAL_FILE.test(src.value)) continue;
        hits.push({
          inst: copy,
          span: src.span,
          message: `${copy.keyword} ${src.value} puts store credentials in a layer: mount them with RUN --mount=type=secret`,
        });
      }
    }
    return hits;
  },
};

/** Credentials of the stores galley and sccache use whose names GL204 does not already report. */
const CREDENTIAL_NAMES = new Set(["AWS_ACCESS_KEY_ID", "SCCACHE_REDIS_USERNAME", "SCCACHE_WEBDAV_USERNAME"]);
/** Variables that hold a store's URL, which may carry a password. */
const URL_NAMES = new Set([
  "GALLEY_STORE",
  "SCCACHE_REDIS",
  "SCCACHE_REDIS_ENDPOINT",
  "SCCACHE_WEBDAV_ENDPOINT",
  "SCCACHE_ENDPOINT",
]);
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]+@/i;
/** `NAME=literal` in a RUN for a store credential (a `$VAR` comes from an ARG, reported there). */
const INLINE = [
  /(?:^|[\s;&|(])(?:export\s+)?(AWS_(?:ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)|GALLEY_STORE_(?:SECRET|PASSWORD|TOKEN)|SCCACHE_(?:REDIS_PASSWORD|WEBDAV_PASSWORD|WEBDAV_TOKEN))=(?!["']?\$)[^\s;&|]/g,
  /(?:^|[\s;&|(])(?:export\s+)?(GALLEY_STORE|SCCACHE_REDIS(?:_ENDPOINT)?|SCCACHE_WEBDAV_ENDPOINT)=["']?[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s$]+@/gi,
];
const CREDENTIAL_FILE = /(^|\/)(\.aws\/credentials|galley-store\.env)$/;

function declarationProblem(name: string, value: string | undefined): string | undefined {
  const upper = name.toUpperCase();
  if (CREDENTIAL_NAMES.has(upper) && !looksSecret(upper)) return "is a store credential";
  if (URL_NAMES.has(upper) && value !== undefined && URL_WITH_PASSWORD.test(value))
    return "holds a store URL with a password";
  return undefined;
}

function spanOf(text: LogicalText, at: number, length: number) {
  return { start: text.positions[at]!, end: text.positions[at + length]! };
}
