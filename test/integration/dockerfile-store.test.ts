/** galley dockerfile --store: the build steps use the shared store, credentials only as a BuildKit secret. */
import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { copyFixture, galley, ok, removeDir, tempDir } from "../helpers.ts";

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) removeDir(r);
});

test("--store: the store's URL in the builder, its credentials mounted as a secret in every compiling RUN", () => {
  const dir = copyFixture("docker-app", join(tempDir("galley-dockerfile-store-"), "docker-app"));
  roots.push(join(dir, ".."));
  const r = ok(galley(["dockerfile", "--write", "--store", "s3://ci-cache/rust"], { cwd: dir }));
  const d = readFileSync(join(dir, "Dockerfile"), "utf8");
  expect(d).toContain("ENV GALLEY_STORE=s3://ci-cache/rust\n");
  const compiling = d.split(/\n(?=RUN |FROM |COPY )/).filter((i) => /galley cook|cargo build/.test(i));
  expect(compiling.length).toBe(2);
  for (const step of compiling) expect(step).toContain("--mount=type=secret,id=galley-store");
  expect(d).not.toMatch(/^ARG .*(AWS|SECRET|PASSWORD)/m);
  expect(d).toContain("--secret id=galley-store,src=galley-store.env");
  expect(r.stderr).toContain(
    "build it with: docker build --build-context galley=.galley --secret id=galley-store,src=galley-store.env",
  );
  // The secrets file is never sent with the context.
  expect(readFileSync(join(dir, ".dockerignore"), "utf8")).toContain("\ngalley-store.env\n");
  // What it writes lints clean.
  ok(galley(["lint", join(dir, "Dockerfile")], { cwd: dir }));
});

test("--store with a password in the URL is refused: it would be written into the Dockerfile", () => {
  const dir = copyFixture("docker-app", join(tempDir("galley-dockerfile-store-"), "docker-app"));
  roots.push(join(dir, ".."));
  const r = galley(["dockerfile", "--store", "redis://:hunter2@cache:6379"], { cwd: dir });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("the URL carries a password");
  expect(r.stderr).not.toContain("hunter2");
});
