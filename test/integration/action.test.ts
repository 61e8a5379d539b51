/**
 * action.yml, run as GitHub would run its shell steps (the same bash scripts, the runner's files
 * for PATH, env and outputs), on a real build: the wiring around galley's own commands.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copyFixture, GALLEY, ok, REPO, removeDir, run, tempDir } from "../helpers.ts";

interface Step {
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
const action = Bun.YAML.parse(readFileSync(join(REPO, "action.yml"), "utf8")) as {
  inputs: Record<string, { default: string }>;
  runs: { using: string; steps: Step[] };
};
const steps = (phase: string) => action.runs.steps.filter((s) => s.if === `inputs.step == '${phase}'`);

const work = tempDir("galley-action-");
const project = copyFixture("cache-ws", join(work, "project"));
afterAll(() => removeDir(work));

/** The runner's files: what steps append to GITHUB_ENV / GITHUB_PATH / GITHUB_OUTPUT. */
const files = {
  GITHUB_ENV: join(work, "env"),
  GITHUB_PATH: join(work, "path"),
  GITHUB_OUTPUT: join(work, "output"),
  GITHUB_STEP_SUMMARY: join(work, "summary.md"),
};
for (const f of Object.values(files)) writeFileSync(f, "");

function stepEnv(): Record<string, string> {
  const env: Record<string, string> = {
    ...files,
    RUNNER_TEMP: work,
    GITHUB_ACTION_PATH: REPO,
    GITHUB_JOB: "build",
  };
  for (const line of readFileSync(files.GITHUB_ENV, "utf8").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  const path = readFileSync(files.GITHUB_PATH, "utf8").trim().split("\n").filter(Boolean);
  env.PATH = [...path, process.env.PATH].join(":");
  return env;
}

function runStep(step: Step, inputs: Record<string, string>): void {
  const env = stepEnv();
  for (const [name, expr] of Object.entries(step.env ?? {})) {
    const input = /^\$\{\{ inputs\.([\w-]+) \}\}$/.exec(expr)?.[1];
    env[name] = input ? (inputs[input] ?? action.inputs[input]?.default ?? "") : expr;
  }
  ok(run(["bash", "-e", "-c", step.run!], { cwd: project, env }), `action step ${step.id ?? step.run}`);
}

test("setup puts galley on PATH, sets the wrapper and keys actions/cache with galley ci key", () => {
  expect(action.runs.using).toBe("composite");
  const setup = steps("setup");
  const cache = setup.find((s) => s.uses?.startsWith("actions/cache@"))!;
  const keyStep = setup.find((s) => s.id === "key")!;
  // GitHub Actions expressions, `${{ … }}`
  const gh = (expr: string) => `\${{ ${expr} }}`;
  expect(cache.with).toEqual({
    path: gh("env.GALLEY_DIR"),
    key: gh("steps.key.outputs.key"),
    "restore-keys": gh("steps.key.outputs.restore-keys"),
  });
  expect(setup.indexOf(keyStep)).toBeLessThan(setup.indexOf(cache));
  for (const step of setup.filter((s) => s.run)) runStep(step, { galley: GALLEY, prefix: "ci-test" });

  const env = stepEnv();
  expect(env.RUSTC_WRAPPER).toBe(join(work, "galley-bin", "sccache"));
  expect(existsSync(env.RUSTC_WRAPPER!)).toBe(true);
  expect(env.GALLEY_DIR).toBe(join(work, "galley"));
  expect(env.GALLEY_CACHE_SIZE).toBe(action.inputs["cache-size"]!.default);
  const output = readFileSync(files.GITHUB_OUTPUT, "utf8");
  expect(output).toMatch(/^key=ci-test-[0-9a-f]{16}-build-[0-9a-f]{16}\nrestore-keys<<GALLEY_RESTORE_KEYS\n/);
  expect(ok(run(["galley", "--version"], { cwd: project, env })).stdout).toStartWith("galley ");
});

test("a build, then summary writes the job summary", () => {
  const env = stepEnv();
  ok(run(["cargo", "build"], { cwd: project, env }), "cargo build in the job");
  for (const step of steps("summary")) runStep(step, {});
  const md = readFileSync(files.GITHUB_STEP_SUMMARY, "utf8");
  expect(md).toStartWith("### galley: compiler cache");
  expect(md).toContain("**0 hits**, **6 misses**");
  expect(md).toContain("| corelib |");
});
